package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A recorded `go test -json` stream: one package passing with three skips
// (two for root, one for tracefs), one failing test, one build failure.
const stream = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestRoot1"}
{"Action":"output","Package":"a","Test":"TestRoot1","Output":"=== RUN   TestRoot1\n"}
{"Action":"output","Package":"a","Test":"TestRoot1","Output":"    a_test.go:12: needs root: mount: operation not permitted\n"}
{"Action":"output","Package":"a","Test":"TestRoot1","Output":"--- SKIP: TestRoot1 (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestRoot1"}
{"Action":"run","Package":"a","Test":"TestRoot2/sub"}
{"Action":"output","Package":"a","Test":"TestRoot2/sub","Output":"    a_test.go:40: needs root: writing nr_hugepages: permission denied\n"}
{"Action":"skip","Package":"a","Test":"TestRoot2/sub"}
{"Action":"output","Package":"a","Test":"TestTrace","Output":"    a_test.go:50: no tracefs\n"}
{"Action":"skip","Package":"a","Test":"TestTrace"}
{"Action":"output","Package":"a","Test":"TestOK","Output":"    a_test.go:60: chatter of a passing test\n"}
{"Action":"pass","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Output":"PASS\n"}
{"Action":"output","Package":"a","Output":"ok  \ta\t0.012s\n"}
{"Action":"pass","Package":"a"}
{"Action":"output","Package":"b","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"b","Test":"TestBad","Output":"    b_test.go:9: got 1, want 2\n"}
{"Action":"output","Package":"b","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"b","Test":"TestBad"}
{"Action":"output","Package":"b","Output":"FAIL\n"}
{"Action":"output","Package":"b","Output":"FAIL\tb\t0.010s\n"}
{"Action":"fail","Package":"b"}
{"ImportPath":"c","Action":"build-output","Output":"# c\n"}
{"ImportPath":"c","Action":"build-output","Output":"c/c.go:3:1: syntax error\n"}
{"ImportPath":"c","Action":"build-fail"}
`

func TestSummarise(t *testing.T) {
	var out strings.Builder
	failed, err := summarise(strings.NewReader(stream), &out)
	if err != nil || !failed {
		t.Fatalf("summarise = %v, %v; want failed", failed, err)
	}
	want := `ok  	a	0.012s
    b_test.go:9: got 1, want 2
--- FAIL: TestBad (0.00s)
FAIL
FAIL	b	0.010s
# c
c/c.go:3:1: syntax error
skipped 3 test(s), by reason:
     2  needs root
     1  no tracefs
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output mismatch (-want +got):\n%s", diff)
	}
}

func TestSummarisePassingRunHasNoFailure(t *testing.T) {
	in := `{"Action":"output","Package":"a","Output":"ok  \ta\t0.1s\n"}
{"Action":"pass","Package":"a"}
`
	var out strings.Builder
	failed, err := summarise(strings.NewReader(in), &out)
	if err != nil || failed || out.String() != "ok  \ta\t0.1s\n" {
		t.Errorf("summarise = %v, %v, %q", failed, err, out.String())
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"    x_test.go:1: needs root\n", "--- SKIP: T (0.00s)\n"}, "needs root"},
		{[]string{"    x_test.go:1: first\n", "    x_test.go:2: strace not installed (apt-get install -y strace)\n"}, "strace not installed (apt-get install -y strace)"},
		{[]string{"=== RUN   T\n"}, "no reason given"},
	}
	for _, tt := range tests {
		if got := reason(tt.lines); got != tt.want {
			t.Errorf("reason(%q) = %q, want %q", tt.lines, got, tt.want)
		}
	}
}
