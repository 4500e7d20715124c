package main

import (
	"encoding/xml"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestQuantiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	q := quantilesOf(d)
	if q.N != 100 || q.P50 != 50 || q.P95 != 95 || q.P99 != 99 || q.Max != 100 || q.Mean != 50.5 {
		t.Errorf("quantiles of 1..100 ms = %+v", q)
	}
	if q := quantilesOf(nil); q.N != 0 {
		t.Errorf("quantiles of nothing = %+v", q)
	}
}

func TestSentAt(t *testing.T) {
	at, ok := sentAt(map[string]any{"text": "t=1700000000123456789 message 3 from c1"})
	if !ok || at.UnixNano() != 1700000000123456789 {
		t.Errorf("sentAt = %v, %v", at, ok)
	}
	if _, ok := sentAt(map[string]any{"text": "hello"}); ok {
		t.Error("sentAt of a text without a timestamp succeeded")
	}
}

func TestPackageOf(t *testing.T) {
	for sym, want := range map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).Query":                "github.com/aws/aws-sdk-go-v2/service/dynamodb",
		"github.com/aws/aws-sdk-go-v2/service/dynamodb/types.(*AttributeValueMemberS)": "github.com/aws/aws-sdk-go-v2/service/dynamodb",
		"github.com/aws/smithy-go/middleware.(*Stack).String":                          "github.com/aws/smithy-go",
		"github.com/parley-chat/parley/shared/store.(*Store).Apply":                    "github.com/parley-chat/parley/shared/store",
		"runtime.mallocgc":                 "runtime",
		"crypto/tls.(*Conn).Handshake":     "crypto",
		"type:*net/http.Request":           "net",
		"go:itab.*os.File,io.Reader":       "os",
		"golang.org/x/net/http2.(*Framer)": "golang.org/x/net",
	} {
		if got := packageOf(sym); got != want {
			t.Errorf("packageOf(%q) = %q; want %q", sym, got, want)
		}
	}
}

// The model prices exactly the units it is given.
func TestModel(t *testing.T) {
	m := model(rates{FramesIn: 1, FrameUnits: 1, AllPushes: 2, AllInvocations: 1, AllWrite: 4, AllRead: 2})
	lambda := (priceLambdaRequest + lambdaMemoryGB*lambdaBilledMs/1000*priceLambdaGBSecondArm) * 1e6
	want := 1 + 2 + connectionMinutesPerMessage*0.25 + lambda + 4*0.625 + 2*0.125
	if math.Abs(m.Total-want) > 1e-9 {
		t.Errorf("model total = %v; want %v", m.Total, want)
	}
	if math.Abs(m.VsConnect-4000/want) > 1e-9 {
		t.Errorf("times below Amazon Connect = %v; want %v", m.VsConnect, 4000/want)
	}
}

func TestPlotIsSVG(t *testing.T) {
	p := plot{Title: "a <title>", XLabel: "x", YLabel: "y", LogX: true,
		Series: []series{{"one", []float64{10, 1000, 10000}, []float64{1, 2, 3}, "#000"}}}
	p.HLine.Name, p.HLine.Y = "target", 5
	out := p.svg()
	var doc struct {
		XMLName xml.Name `xml:"svg"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("plot is not well-formed XML: %v", err)
	}
	for _, s := range []string{"a &lt;title&gt;", "polyline", ">10k<", "target"} {
		if !strings.Contains(out, s) {
			t.Errorf("plot lacks %q", s)
		}
	}
}

func TestSweepTicks(t *testing.T) {
	out := "goos: linux\n" +
		"BenchmarkAssign/agents=1-2 \t 100 \t 2000 ns/op \t 5.000 dynamodb-req/op \t 3.000 rcu/op\n" +
		"BenchmarkSweep/open=10-2         \t       5\t   2772631 ns/op\t        16.00 dynamodb-req/op\t         0 pushes/op\t         8.500 rcu/op\t         0 wcu/op\n" +
		"BenchmarkSweep/open=1000-2       \t       5\t   2784499 ns/op\t        16.00 dynamodb-req/op\t         0 pushes/op\t        22.50 rcu/op\t         0 wcu/op\n"
	got := sweepTicks(out)
	want := []sweepTick{{Open: 10, Requests: 16, ReadUnits: 8.5}, {Open: 1000, Requests: 16, ReadUnits: 22.5}}
	if !slices.Equal(got, want) {
		t.Errorf("sweepTicks = %+v; want %+v", got, want)
	}
}
