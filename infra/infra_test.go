package infra

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// cfn-lint finds nothing in template.yaml or in its SAM transform,
// informational rules included (the ignored findings are justified in the
// template). Machines without cfn-lint (CI's) skip this loudly; a finding
// is never skipped.
func TestTemplateLints(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is NOT installed, so template.yaml was NOT linted here: install cfn-lint 1.x (pip install cfn-lint) and run make lint-template")
	}
	root := repoRoot()
	run := func(name string, args ...string) []byte {
		cmd := exec.Command(name, args...)
		cmd.Dir = root
		out, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, ee.Stderr)
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	run(lint, "--include-checks", "I", "--non-zero-exit-code", "informational", "--format", "parseable", "template.yaml")
	transformed := run(filepath.Join(root, "infra", "sam-transform"), "template.yaml")
	var doc map[string]any
	if err := json.Unmarshal(transformed, &doc); err != nil || doc["Resources"] == nil {
		t.Fatalf("infra/sam-transform printed no template: %v", err)
	}
	if _, ok := doc["Transform"]; ok {
		t.Fatal("infra/sam-transform left the Transform in: the SAM resources were not transformed")
	}
	path := filepath.Join(t.TempDir(), "transformed.json")
	if err := os.WriteFile(path, transformed, 0o644); err != nil {
		t.Fatal(err)
	}
	run(lint, "--include-checks", "I", "--non-zero-exit-code", "informational", "--format", "parseable", path)
	if sam, err := exec.LookPath("sam"); err == nil {
		run(sam, "validate", "--lint")
	} else {
		t.Log("sam is not installed: sam validate --lint not run (cfn-lint ran on the same transform)")
	}
}

// settings.yaml parses, and names every field it sets correctly.
func TestDefaults(t *testing.T) {
	c, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Workstreams) != 4 || len(c.Widgets) != 4 || c.AgentDefaults == nil || c.AgentDefaults.Capacity != 3 {
		t.Fatalf("defaults = %+v", c)
	}
	for i := range c.Widgets {
		c.Widgets[i].Issuer, c.Widgets[i].JWKSURL = "https://site.example", "https://site.example/jwks.json"
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseConfig([]byte("workstreams:\n  - id: x\n    mdoe: live\n")); err == nil || !strings.Contains(err.Error(), "mdoe") {
		t.Errorf("a misspelt field = %v; want an error naming it", err)
	}
}

// fakeAWS puts an `aws` on PATH that answers describe-stacks from a canned
// stack (or fails, as for a stack that does not exist) and records every
// call, with the config.json it was given.
func fakeAWS(t *testing.T, stackExists bool) (dir, calls string) {
	dir = t.TempDir()
	calls = filepath.Join(dir, "calls")
	outputs := "WebBucketName\tparley-webbucket-1\nWebDistributionId\tE123\nWebSocketURL\twss://abc.execute-api.eu-north-1.amazonaws.com/prod\n" +
		"AgentAuthority\thttps://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_Abc\nAgentUserPoolClientId\tclient123\nAgentAppURL\thttps://d1.cloudfront.net/agent/\n"
	script := `#!/usr/bin/env bash
echo "$*" >> "` + calls + `"
case "$1 $2" in
"cloudformation describe-stacks")
  ` + map[bool]string{true: `printf '` + strings.ReplaceAll(outputs, "\t", `\t`) + `'`, false: `echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id parley does not exist" >&2; exit 254`}[stackExists] + `
  ;;
"s3 cp")
  case "$4" in */config.json) cp "$3" "` + dir + `/config.json";; esac
  ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, calls
}

// deployWeb runs infra/deploy-web in a copy of the layout it needs (built
// apps), with PATH set as given.
func deployWeb(t *testing.T, path string, built bool) (string, error) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(), "infra", "deploy-web"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "infra", "deploy-web"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if built {
		for _, f := range []string{"web/agent/dist/index.html", "web/agent/dist/assets/app-1a2b.js", "web/widget/dist/widget.js"} {
			p := filepath.Join(root, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command("bash", filepath.Join(root, "infra", "deploy-web"))
	cmd.Env = []string{"PATH=" + path, "STACK=parley", "REGION=eu-north-1", "HOME=" + root}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// make deploy-web says what is missing when there is no AWS CLI or no
// stack, and otherwise uploads both apps with a config.json made from the
// stack's outputs and invalidates CloudFront.
func TestDeployWeb(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed for infra/deploy-web")
	}
	sys := filepath.Dir(bash) + string(os.PathListSeparator) + "/usr/bin" + string(os.PathListSeparator) + "/bin"

	empty := t.TempDir()
	if out, err := deployWeb(t, empty+string(os.PathListSeparator)+sys, true); err == nil || !strings.Contains(out, "the AWS CLI (aws) is not installed") {
		if _, lookErr := exec.LookPath("aws"); lookErr != nil || !strings.Contains(out, "stack parley not found") {
			t.Errorf("deploy-web without the AWS CLI = %v %q", err, out)
		}
	}

	dir, _ := fakeAWS(t, false)
	if out, err := deployWeb(t, dir+string(os.PathListSeparator)+sys, true); err == nil || !strings.Contains(out, "stack parley not found in eu-north-1") || !strings.Contains(out, "does not exist") {
		t.Errorf("deploy-web without the stack = %v %q", err, out)
	}

	dir, _ = fakeAWS(t, true)
	if out, err := deployWeb(t, dir+string(os.PathListSeparator)+sys, false); err == nil || !strings.Contains(out, "make web") {
		t.Errorf("deploy-web without built apps = %v %q", err, out)
	}

	dir, calls := fakeAWS(t, true)
	out, err := deployWeb(t, dir+string(os.PathListSeparator)+sys, true)
	if err != nil {
		t.Fatalf("deploy-web = %v %q", err, out)
	}
	if !strings.Contains(out, "agent app: https://d1.cloudfront.net/agent/") {
		t.Errorf("deploy-web printed %q", out)
	}
	var cfg map[string]string
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.json %q: %v", b, err)
	}
	want := map[string]string{"websocketUrl": "wss://abc.execute-api.eu-north-1.amazonaws.com/prod",
		"authority": "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_Abc", "clientId": "client123"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("config.json %s = %q; want %q", k, cfg[k], v)
		}
	}
	log, _ := os.ReadFile(calls)
	for _, w := range []string{
		"s3 sync web/agent/dist/assets s3://parley-webbucket-1/agent/assets --cache-control public, max-age=31536000, immutable",
		"s3://parley-webbucket-1/agent/config.json",
		"s3 cp web/widget/dist/widget.js s3://parley-webbucket-1/widget.js",
		"cloudfront create-invalidation --distribution-id E123 --paths /agent/* /widget.js",
	} {
		if !strings.Contains(string(log), w) {
			t.Errorf("deploy-web did not run %q; it ran:\n%s", w, log)
		}
	}
}
