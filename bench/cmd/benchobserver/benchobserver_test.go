package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInterruptsOneCPU(t *testing.T) {
	a, err := interruptColumn(fixture(t, "interrupts-a.txt"), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := irqCounts{"24": 0, "36": 120825, "38": 6617, "NMI": 0, "LOC": 4218549, "SPU": 0, "IWI": 0,
		"RES": 676210, "CAL": 2210044, "TLB": 75251, "HYP": 2}
	if len(a) != len(want) {
		t.Errorf("got %d rows %v, want %d (ERR and MIS are not per CPU)", len(a), a, len(want))
	}
	for id, v := range want {
		if a[id] != v {
			t.Errorf("row %s: got %d, want %d", id, a[id], v)
		}
	}
	c0, err := interruptColumn(fixture(t, "interrupts-a.txt"), 0)
	if err != nil || c0["TLB"] != 75840 || c0["LOC"] != 4506350 {
		t.Errorf("CPU 0: TLB %d LOC %d (%v)", c0["TLB"], c0["LOC"], err)
	}
}

func TestParseInterruptsSparseHeader(t *testing.T) {
	c, err := interruptColumn(fixture(t, "interrupts-sparse.txt"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if c["TLB"] != 20 || c["LOC"] != 2000 || c["0"] != 0 {
		t.Errorf("CPU 2 (second column): %v", c)
	}
	if _, err := interruptColumn(fixture(t, "interrupts-sparse.txt"), 1); err == nil {
		t.Error("CPU 1 is not in the header: want an error")
	}
	for _, bad := range []string{"", "garbage\n", "           CPU0\nTLB 3\n", "           CPU0\n"} {
		if _, err := interruptColumn([]byte(bad), 0); err == nil {
			t.Errorf("interruptColumn(%q): want an error", bad)
		}
	}
}

func TestInterruptsDeltaAndRates(t *testing.T) {
	a, _ := interruptColumn(fixture(t, "interrupts-a.txt"), 1)
	b, _ := interruptColumn(fixture(t, "interrupts-b.txt"), 1)
	d := irqDelta(a, b)
	for id, v := range map[string]uint64{"TLB": 40, "CAL": 60, "RES": 30, "LOC": 3000, "36": 75, "38": 0, "44": 7, "HYP": 0} {
		if d[id] != v {
			t.Errorf("delta %s: got %d, want %d", id, d[id], v)
		}
	}
	if got := d.sum(); got != 40+60+30+3000+75+7 {
		t.Errorf("sum of all rows: %d", got)
	}
	r := result{IRQ: d, Window: 30 * time.Second}
	if r.perMin("TLB") != 80 || r.perMin("LOC") != 6000 {
		t.Errorf("per minute: TLB %v LOC %v", r.perMin("TLB"), r.perMin("LOC"))
	}
	// A 32-bit counter that wrapped, and a device IRQ that was freed and
	// allocated again (its count restarted from 0).
	w := irqDelta(irqCounts{"TLB": 1<<32 - 10, "50": 1000}, irqCounts{"TLB": 5, "50": 3})
	if w["TLB"] != 15 || w["50"] != 3 {
		t.Errorf("wrap/reset: %v", w)
	}
}

func TestParseRunReport(t *testing.T) {
	f, err := parseRunReport(fixture(t, "report.json"), 1, 10*time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	want := runFigures{Mpps: 90, MaxGap: 2500 * time.Microsecond, Above: 3 + 2 + 1, AboveNs: 16384, Mallocs: 12, Prefix: "rxprobe-run-42"}
	if f != want {
		t.Errorf("got %+v, want %+v", f, want)
	}
	// A threshold on a bound counts from that bound.
	if f, _ := parseRunReport(fixture(t, "report.json"), 1, 8192*time.Nanosecond); f.Above != 7+3+2+1 || f.AboveNs != 8192 {
		t.Errorf("threshold 8192 ns: %d above %s", f.Above, f.AboveNs)
	}
	if _, err := parseRunReport(fixture(t, "report.json"), 2, 10*time.Microsecond); err == nil || !strings.Contains(err.Error(), "CPU 1") {
		t.Errorf("wrong CPU: %v", err)
	}
	noSteady := bytes.Replace(fixture(t, "report.json"), []byte(`"steady_state"`), []byte(`"other"`), 1)
	if _, err := parseRunReport(noSteady, 1, 10*time.Microsecond); err == nil {
		t.Error("no steady_state: want an error")
	}
	if _, err := parseRunReport([]byte(`{"rx_packets": 0, "ports": [{"queues": [{"cpu": 1}]}]}`), 1, 10*time.Microsecond); err == nil {
		t.Error("no packets: want an error")
	}
}

func TestParseTLBTrace(t *testing.T) {
	c, err := parseTLBTrace(fixture(t, "trace.txt"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sent != 3 || c.FromRX != 1 || c.Senders["rxp-stats"] != 2 || c.Senders["my task name-with-dash"] != 1 {
		t.Errorf("got %+v", c)
	}
	if _, err := parseTLBTrace([]byte("x-1 [001] tlb_flush: something else\n"), 1); err == nil {
		t.Error("unparsable tlb_flush line: want an error")
	}
}

func TestCPUMask(t *testing.T) {
	for cpu, want := range map[int]string{0: "00000001", 1: "00000002", 31: "80000000", 33: "00000002,00000000"} {
		if got := cpuMask(cpu); got != want {
			t.Errorf("cpuMask(%d) = %s, want %s", cpu, got, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, k := range []string{"BENCH_DURATION", "BENCH_ROUNDS", "BENCH_RX_CPU", "BENCH_HK_CPU", "RXPROBE"} {
		t.Setenv(k, "")
	}
	s, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Duration != time.Minute || s.Rounds != 5 || s.CPU != 1 || len(s.Scenarios) != 4 || s.Scenarios[0].Name != "baseline" {
		t.Errorf("defaults: %+v", s)
	}
	t.Setenv("BENCH_DURATION", "20s")
	if s, err := parseFlags(nil, &bytes.Buffer{}); err != nil || s.Duration != 20*time.Second {
		t.Errorf("BENCH_DURATION=20s: %v %v", s.Duration, err)
	}
	t.Setenv("BENCH_DURATION", "twenty")
	if _, err := parseFlags(nil, &bytes.Buffer{}); err == nil {
		t.Error("BENCH_DURATION=twenty: want an error")
	}
	t.Setenv("BENCH_DURATION", "")
	for _, args := range [][]string{
		{"-scenarios", "rxprobe,stdio"}, {"-scenarios", "baseline,bogus"}, {"-duration", "5s"},
		{"-cpu", "0"}, {"-rounds", "0"}, {"-warmup", "1s"}, {"extra"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q): want an error", args)
		}
	}
}

func TestSummaryVerdict(t *testing.T) {
	s, _ := parseFlags(nil, &bytes.Buffer{})
	mk := func(name string, round int, tlb, rx uint64) result {
		return result{Scenario: name, Round: round, Window: time.Minute, IRQ: irqCounts{"TLB": tlb},
			Trace: &tlbCounts{Sent: rx}}
	}
	rs := []result{
		mk("baseline", 1, 10, 0), mk("rxprobe", 1, 11, 0), mk("stdio", 1, 2410, 2400), mk("inprocess", 1, 70, 60),
		mk("baseline", 2, 12, 0), mk("rxprobe", 2, 12, 0), mk("stdio", 2, 2412, 2400), mk("inprocess", 2, 72, 60),
	}
	sum := summarize(s, rs)
	if !sum.Pass {
		t.Errorf("want a pass: %s\n%v", sum.Failure, sum.Checks)
	}
	want := "rxprobe adds +0.5 TLB shootdowns/min over baseline; stdio adds +2400.0; in-process adds +60.0"
	if !strings.HasPrefix(sum.Verdict, want) {
		t.Errorf("verdict %q, want prefix %q", sum.Verdict, want)
	}
	if want := "baseline 0.0; rxprobe 0.0; stdio 2400.0; in-process 60.0"; !strings.HasSuffix(sum.Attributed, want) {
		t.Errorf("attributed %q, want suffix %q", sum.Attributed, want)
	}
	// The controls must be able to fail: no effect is a failure, and so is
	// an rxprobe run that shot down the RX address space.
	rs[3], rs[7] = mk("inprocess", 1, 10, 0), mk("inprocess", 2, 12, 0)
	rs[1] = mk("rxprobe", 1, 11, 1)
	sum = summarize(s, rs)
	for _, w := range []string{"rxprobe's threads sent TLB flushes (tracefs)", "inprocess shows no effect (/proc/interrupts)", "inprocess shows no effect (tracefs)"} {
		if sum.Pass || !strings.Contains(sum.Failure, w) {
			t.Errorf("want failure %q, got pass=%v %q", w, sum.Pass, sum.Failure)
		}
	}
	if strings.Contains(sum.Failure, "rxprobe adds TLB shootdowns (/proc/interrupts)") || strings.Contains(sum.Failure, "stdio") {
		t.Errorf("unexpected failure: %q", sum.Failure)
	}
	g := benchkit.NewGate(2)
	g.Before(0.1)
	g.Rounds(5)
	md := markdown(s, hostInfo{Host: benchkit.Host{Date: "d", Version: "rxprobe v9", CPUs: 2, LoadBefore: "0.1 0.1 0.1"}}, g, rs, sum, nil)
	for _, w := range []string{"### d — rxprobe v9", "| 1 | baseline |", "**Verdict: rxprobe adds", "NO effect above the noise floor", "(quiet;",
		"| inprocess | 2 | 11.0 (10.0–12.0) | 0.0 | 0.0, 0.0 |",
		"goal rxprobe adds no TLB shootdowns, stdio and in-process show their effect: NOT MET (rxprobe's threads sent TLB flushes (tracefs)"} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
}

func TestOverBaselinePerRound(t *testing.T) {
	mk := func(name string, round int, tlb uint64) result {
		return result{Scenario: name, Round: round, Window: time.Minute, IRQ: irqCounts{"TLB": tlb}}
	}
	rs := []result{mk("baseline", 1, 10), mk("rxprobe", 1, 14), mk("rxprobe", 2, 30), mk("baseline", 2, 31), mk("rxprobe", 3, 5)}
	got := overBaseline(rs, "rxprobe")
	if len(got) != 2 || got[0] != 4 || got[1] != -1 {
		t.Errorf("per round over baseline %v, want [4 -1] (round 3 has no baseline)", got)
	}
}
