package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
)

// benchConfig is a DUT config with a 10 Gbit/s port (never opened by --sim).
func benchConfig(t *testing.T, lineRate string) string {
	return writeConfig(t, `ports:
  - name: dut
    device: net_null0
    rx_cpus: "`+strconv.Itoa(rxCPU())+`"
`+lineRate+`run:
  allow_unisolated: true
`)
}

func TestBenchNDRFlagErrors(t *testing.T) {
	cfg := benchConfig(t, "    line_rate_gbps: 10\n")
	noRate := benchConfig(t, "")
	out := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown frame size", []string{"--frame-sizes", "64,jumbo"}, `frame size "jumbo"`},
		{"frame size too small", []string{"--frame-sizes", "32"}, `frame size "32"`},
		{"precision zero", []string{"--precision", "0%"}, "--precision 0%: want a width above 0"},
		{"precision negative", []string{"--precision", "-1%"}, "--precision -1%: want a width above 0"},
		{"precision garbage", []string{"--precision", "fine"}, "--precision"},
		{"pdr loss 100%", []string{"--pdr-loss", "100%"}, "--pdr-loss 100%: want above 0 and below 100%"},
		{"pdr loss negative", []string{"--pdr-loss", "-0.1%"}, "--pdr-loss -0.1%"},
		{"unknown search", []string{"--search", "golden"}, `search "golden": want mlr or binary`},
		{"short above trial", []string{"--trial", "1s", "--short", "2s"}, "short trial 2s"},
		{"bad sim", []string{"--sim", "cliff:1Mpps"}, `--sim "cliff:1Mpps"`},
		{"no line rate", []string{"--config", noRate, "--sim", "knee:1Mpps"}, "ports[0].line_rate_gbps is 0"},
		{"missing out", []string{"--out", ""}, "--out is missing"},
		{"bad max rate", []string{"--max-rate", "fast", "--sim", "knee:1Mpps"}, "--max-rate"},
		{"confirm too many", []string{"--confirm", "101", "--sim", "knee:1Mpps"}, "confirm 101: want 0 to 100"},
		{"veth without a generator", nil, "has no generator section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bench", "ndr", "--config", cfg, "--out", out}, tc.args...)
			res := runRxprobe(t, args...)
			msg := strings.TrimSpace(res.stderr)
			if res.code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line with %q", res.code, msg, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a rejected command wrote %d files to --out", len(entries))
	}
	// --max-rate stands in for a missing line rate
	res := runRxprobe(t, "bench", "ndr", "--config", noRate, "--out", out, "--frame-sizes", "64", "--sim", "knee:1Mpps", "--max-rate", "2Mpps", "--trial", "10s")
	if r, err := ndr.ReadJSON(filepath.Join(out, ndr.ResultsFile)); res.code != 0 || err != nil || r.Settings.MaxRatePPS != 2e6 {
		t.Errorf("--max-rate without a line rate: exit %d, %v: %s", res.code, err, res.stderr)
	}
}

func TestBenchNDRSimAndCompare(t *testing.T) {
	cfg := benchConfig(t, "    line_rate_gbps: 10\n")
	a, b := t.TempDir(), t.TempDir()
	for dir, knee := range map[string]string{a: "knee:1.2Mpps", b: "gen:0.5Mpps:1.2Mpps"} {
		res := runRxprobe(t, "bench", "ndr", "--config", cfg, "--out", dir, "--frame-sizes", "64,imix", "--sim", knee, "--search", "binary", "--trial", "10s", "--confirm", "2")
		if res.code != 0 {
			t.Fatalf("%s: exit %d: %s", knee, res.code, res.stderr)
		}
		r, err := ndr.ReadJSON(filepath.Join(dir, ndr.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(res.stderr, "\n"); lines != len(r.Trials) {
			t.Errorf("%d progress lines for %d trials", lines, len(r.Trials))
		}
		if !r.Complete || len(r.Sizes) != 2 || r.Settings.Algorithm != ndr.Binary || r.Simulated != knee || !strings.Contains(r.ConfigText, "line_rate_gbps: 10") {
			t.Errorf("%s: results %+v", knee, r.Sizes)
		}
		if c := r.Sizes[0].Confirm; !c.Held() || len(c.Trials) != 2 {
			t.Errorf("%s: --confirm 2: %+v", knee, c)
		}
		for _, f := range []string{ndr.ReportFile, ndr.IndexFile, "loss-64.svg", "drops-imix.svg", "latency-64.svg"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Error(err)
			}
		}
	}
	res := runRxprobe(t, "bench", "compare", a, filepath.Join(b, ndr.ResultsFile))
	if res.code != 0 || !strings.Contains(res.stdout, "simulated:") || !strings.Contains(res.stdout, "0.0000 → 0.5000 Mpps (new)") ||
		!strings.Contains(res.stdout, "limiting layer:      host_too_slow → none") {
		t.Errorf("compare: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// report writes the same files again from results.json alone
	c := t.TempDir()
	if res := runRxprobe(t, "bench", "report", a, "--out", c); res.code != 0 {
		t.Fatalf("report: exit %d: %s", res.code, res.stderr)
	}
	for _, f := range []string{ndr.ReportFile, ndr.IndexFile, "loss-64.svg", "drops-imix.svg", "latency-64.svg"} {
		want, _ := os.ReadFile(filepath.Join(a, f))
		got, err := os.ReadFile(filepath.Join(c, f))
		if err != nil || len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("report: %s differs from the bench's (%d vs %d bytes, %v)", f, len(got), len(want), err)
		}
	}
	if res := runRxprobe(t, "bench", "report", filepath.Join(b, "nothing.json"), "--out", c); res.code != exitUsage || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("report of a missing file: exit %d, %q", res.code, res.stderr)
	}
	res = runRxprobe(t, "bench", "compare", a, filepath.Join(b, "nothing.json"))
	if res.code != exitUsage || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("compare with a missing file: exit %d, %q", res.code, res.stderr)
	}
}

// cancelAfter cancels its context when the n-th progress line is written:
// a Ctrl-C in the middle of a benchmark, at a known trial.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if c.n -= bytes.Count(p, []byte("\n")); c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

func TestBenchNDRInterruptedWritesIncomplete(t *testing.T) {
	out := t.TempDir()
	f := benchNDRFlags{config: benchConfig(t, "    line_rate_gbps: 10\n"), frameSizes: "64,1518", out: out, search: ndr.MLR,
		precision: "0.5%", pdrLoss: "0.5%", sim: "knee:1.2Mpps", hostRoot: "/", trial: 30 * time.Second, short: 2 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := f.run(ctx, io.Discard, &cancelAfter{n: 3, cancel: cancel})
	var ee *exitError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ee) || ee.Code != exitFailure {
		t.Fatalf("err %v: want context.Canceled, exit 1", err)
	}
	r, err := ndr.ReadJSON(filepath.Join(out, ndr.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Trials) != 3 || len(r.Sizes) != 1 || r.Sizes[0].Complete {
		t.Errorf("complete %v, %d trials, %d sizes: want incomplete after 3 trials of the first size", r.Complete, len(r.Trials), len(r.Sizes))
	}
	for _, name := range []string{ndr.ReportFile, ndr.IndexFile, "loss-64.svg"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}
