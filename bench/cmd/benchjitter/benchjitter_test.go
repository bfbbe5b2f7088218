package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"bytes"
	"os"
	"strings"
	"testing"
)

// testdata/oslat-b1024-2s.json is the --json output of a real run,
// `taskset -c 0 oslat --cpu-list 1 --cpu-main-thread 0 --duration 2
// --bucket-size 1024 --quiet --json FILE` (rt-tests 2.4, on a loaded VM).
func TestParseOslat(t *testing.T) {
	data, err := os.ReadFile("testdata/oslat-b1024-2s.json")
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOslat(data, 1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := o.Dist
	if d.Samples != 22618392 || o.Seconds != 2.0 || o.FreqMHz != 2000 || o.MinUpper != 1 {
		t.Errorf("samples %d, seconds %g, freq %g, min %d", d.Samples, o.Seconds, o.FreqMHz, o.MinUpper)
	}
	if d.MaxLo != 12653000 || d.MaxHi != 12654000 {
		t.Errorf("max %d..%d, want 12653000..12654000", d.MaxLo, d.MaxHi)
	}
	// Key "1" (sub-µs) holds 22616724 of 22618392: p99 and p99.9 are "< 1 µs".
	if p := d.quantile(0.99); p != 1000 {
		t.Errorf("p99 = %d, want 1000", p)
	}
	if p := d.quantile(0.999); p != 1000 {
		t.Errorf("p99.9 = %d, want 1000", p)
	}
	// 1668 latencies are ≥ 1 µs; the top one is the overflow bucket (228).
	if p := d.quantile(1 - 1668.0/22618392); p != 1000 {
		t.Errorf("quantile at the last sub-µs sample = %d, want 1000", p)
	}
	if p := d.quantile(1 - 1667.0/22618392); p != 2000 {
		t.Errorf("quantile at the first ≥1 µs sample = %d, want 2000", p)
	}
	if p := d.quantile(1 - 100.0/22618392); p != d.MaxHi {
		t.Errorf("quantile in the overflow bucket = %d, want the max %d", p, d.MaxHi)
	}
	for _, tc := range []struct{ t, eff, n uint64 }{
		{1024, 1000, 1668},      // 1.024 µs rounds down to oslat's 1 µs
		{16384, 16000, 1017},    // keys 17 and up
		{1048576, 1023000, 228}, // capped at the overflow bucket
		{0, 0, 22618392},        // everything
	} {
		n, eff := d.over(tc.t)
		if eff != tc.eff || n != tc.n {
			t.Errorf("over(%d) = %d samples ≥ %d, want %d ≥ %d", tc.t, n, eff, tc.n, tc.eff)
		}
	}

	if _, err := parseOslat(data, 1024, 2); err == nil || !strings.Contains(err.Error(), "CPU 1, want 2") {
		t.Errorf("wrong CPU: err = %v", err)
	}
	if _, err := parseOslat(data, 64, 1); err == nil || !strings.Contains(err.Error(), "--bucket-size 64") {
		t.Errorf("wrong bucket size: err = %v", err)
	}
}

func TestParseOslatBroken(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":    "oslat V 2.40",
		"no rc":       `{"num_threads": 1, "thread": {}}`,
		"failed":      `{"return_code": 1, "num_threads": 1, "thread": {}}`,
		"two threads": `{"return_code": 0, "num_threads": 2, "thread": {"0": {"cpu": 1}, "1": {"cpu": 2}}}`,
		"empty":       `{"return_code": 0, "num_threads": 1, "thread": {"0": {"cpu": 1, "duration": 1, "max": 3, "histogram": {}}}}`,
		"bad key":     `{"return_code": 0, "num_threads": 1, "thread": {"0": {"cpu": 1, "duration": 1, "max": 3, "histogram": {"x": 1}}}}`,
		"no duration": `{"return_code": 0, "num_threads": 1, "thread": {"0": {"cpu": 1, "max": 3, "histogram": {"1": 1}}}}`,
	} {
		if _, err := parseOslat([]byte(doc), 32, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// testdata/rxprobe-null-3s.json is the report of a real
// `rxprobe run --config configs/null.yaml --duration 3s --no-exporter
// --report FILE` on a loaded VM (other work shared CPU 1).
func TestParseReport(t *testing.T) {
	data, err := os.ReadFile("testdata/rxprobe-null-3s.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseReport(data, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Dist
	if len(d.Counts) != 26 || d.Hi[0] != 64 || d.Lo[1] != 64 || d.Hi[24] != 64<<24 || d.Hi[25] != 0 || d.Lo[25] != 64<<24 {
		t.Fatalf("buckets: lo %v hi %v", d.Lo, d.Hi)
	}
	if r.Polls != 2864635 || d.MaxLo != 40054617 || d.MaxHi != d.MaxLo || r.Seconds != 3.008953917 {
		t.Errorf("polls %d, max %d..%d, seconds %g", r.Polls, d.MaxLo, d.MaxHi, r.Seconds)
	}
	// Every poll after the first closes one gap.
	if d.Samples != 2864635 && d.Samples != 2864634 {
		t.Errorf("samples %d, polls %d", d.Samples, r.Polls)
	}
	// Histogram: 1 ≤128, 75795 ≤256, 2765710 ≤512, 20597 ≤1024, then 2532
	// above 1024 ns of which 1 + 100 + 141 + 32 + 2 + 1 = 277 above 1 ms.
	if p := d.quantile(0.99); p != 512 {
		t.Errorf("p99 = %d, want 512", p)
	}
	if p := d.quantile(0.999); p != 1024 {
		t.Errorf("p99.9 = %d, want 1024 (2532 of 2864635 gaps are above it: 0.088 %%)", p)
	}
	// p99.99 is rank 2864349; 281 gaps lie above the bucket ≤262144 ns,
	// so it still holds that rank.
	if p := d.quantile(0.9999); p != 262144 {
		t.Errorf("p99.99 = %d, want 262144", p)
	}
	for _, tc := range []struct{ t, n uint64 }{{1024, 2532}, {16384, 712}, {1 << 20, 277}} {
		n, eff := d.over(tc.t)
		if n != tc.n || eff != tc.t {
			t.Errorf("over(%d) = %d ≥ %d, want %d", tc.t, n, eff, tc.n)
		}
	}
	if _, err := parseReport(data, 0); err == nil {
		t.Error("loop on CPU 1 accepted for -cpu 0")
	}
}

func TestParseReportBroken(t *testing.T) {
	q := func(hist string) string {
		return `{"duration_s": 1, "rx_packets": 9, "ports": [{"queues": [{"cpu": 1, "polls": 5, "max_gap_ns": 100, "gap_histogram": [` + hist + `]}]}]}`
	}
	for name, doc := range map[string]string{
		"no ports":     `{"duration_s": 1, "ports": []}`,
		"bounded last": q(`{"le_ns": 64, "count": 1}, {"le_ns": 128, "count": 1}`),
		"not rising":   q(`{"le_ns": 128, "count": 1}, {"le_ns": 64, "count": 1}, {"le_ns": null, "count": 0}`),
		"empty":        q(`{"le_ns": 64, "count": 0}, {"le_ns": null, "count": 0}`),
	} {
		if _, err := parseReport([]byte(doc), 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	r, err := parseReport([]byte(q(`{"le_ns": 64, "count": 3}, {"le_ns": 128, "count": 1}, {"le_ns": null, "count": 0}`)), 1)
	if err != nil || r.Dist.Samples != 4 || r.Dist.quantile(0.75) != 64 || r.Dist.quantile(0.76) != 100 {
		t.Errorf("small report: %+v, %v (p76 is in the bucket ≤128 ns but the max is 100 ns)", r, err)
	}
}

func TestGrid(t *testing.T) {
	for _, tc := range []struct {
		ns         uint64
		log2, grid int
	}{
		{0, 0, 4}, {64, 0, 4}, {65, 1, 4}, {512, 3, 4}, {1000, 4, 4}, {1024, 4, 4},
		{1025, 5, 5}, {2000, 5, 5}, {3000, 6, 6}, {64 << 24, 24, 24}, {64<<24 + 1, 25, 25},
	} {
		if l, g := log2Bucket(tc.ns), gridBucket(tc.ns); l != tc.log2 || g != tc.grid {
			t.Errorf("%d ns: log2 bucket %d, grid %d; want %d, %d", tc.ns, l, g, tc.log2, tc.grid)
		}
	}
	if s := gridRatio(6, 4); s != "2 bucket(s) higher (4×)" {
		t.Error(s)
	}
	if medianI([]int{4, 5}) != 5 || medianU([]uint64{3, 1, 2}) != 2 || medianU(nil) != 0 {
		t.Error("medians")
	}
}

func TestParseFlags(t *testing.T) {
	for _, k := range []string{"BENCH_ROUNDS", "BENCH_SECONDS", "BENCH_RX_CPU", "BENCH_HK_CPU", "RXPROBE", "OSLAT"} {
		t.Setenv(k, "")
	}
	s, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil || s.Rounds != 5 || s.Seconds != 30 || s.CPU != 1 || s.Housekeeping != 0 || !s.Observe || s.RTPrio != 0 {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	got := strings.Join(oslatArgs(s, "F"), " ")
	if want := "--cpu-list 1 --cpu-main-thread 0 --duration 30 --bucket-size 1024 --quiet --zero-omit --json=F"; got != want {
		t.Errorf("oslat args %q, want %q", got, want)
	}
	t.Setenv("BENCH_SECONDS", "10s")
	if _, err := parseFlags(nil, &bytes.Buffer{}); err == nil {
		t.Error("BENCH_SECONDS=10s accepted")
	}
	t.Setenv("BENCH_SECONDS", "")
	for _, args := range [][]string{{"-cpu", "0"}, {"-oslat-buckets", "2000"}, {"-rtprio", "100"}, {"-rounds", "0"}, {"extra"}} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if s, _ := parseFlags([]string{"-rtprio", "1"}, &bytes.Buffer{}); !strings.HasSuffix(strings.Join(oslatArgs(s, "F"), " "), "--rtprio 1") {
		t.Error("-rtprio not passed to oslat")
	}
}

func TestHelpers(t *testing.T) {
	if v := oslatVersion("oslat V 2.40\n"); v != "2.40" {
		t.Errorf("oslatVersion = %q", v)
	}
	for ns, want := range map[uint64]string{512: "512ns", 1024: "1.02µs", 16384: "16.4µs", 131072: "131µs", 12654000: "12.7ms", 2_500_000_000: "2.50s"} {
		if got := fmtNs(ns); got != want {
			t.Errorf("fmtNs(%d) = %q, want %q", ns, got, want)
		}
	}
}

// mkRun is a run of tool with a histogram on rxprobe's grid: gaps[k] in
// bucket k (≤ 64<<k ns), maximum max ns, over one second.
func mkRun(tool string, max uint64, gaps map[int]uint64) runRec {
	d := dist{MaxLo: max, MaxHi: max}
	var lo uint64
	for k := 0; k <= 25; k++ {
		var hi uint64
		if k < 25 {
			hi = 64 << k
		}
		d.Lo, d.Hi, d.Counts = append(d.Lo, lo), append(d.Hi, hi), append(d.Counts, gaps[k])
		d.Samples += gaps[k]
		lo = hi
	}
	return runRec{Tool: tool, D: d, Seconds: 1, CPUShare: 1}
}

// TestVerdictUsesEveryRow: a worst gap within target is not enough; each
// gap rate the method names decides too, and both-zero rates are met.
func TestVerdictUsesEveryRow(t *testing.T) {
	// Bucket 3 (≤512 ns) holds the bulk; 4 is ≤1.02 µs, 8 ≤16.4 µs, 11
	// ≤131 µs, 14 ≤1.05 ms, 15 above it.
	osl := mkRun("oslat", 100_000, map[int]uint64{3: 1_000_000, 5: 100, 9: 10})
	rx := mkRun("rxprobe", 105_000, map[int]uint64{3: 1_000_000, 5: 100, 9: 10})
	rounds := func(o, r runRec) []round {
		var rs []round
		for i := range 5 {
			rs = append(rs, round{First: []string{"oslat", "rxprobe"}[i%2], Oslat: o, Rxprobe: r})
		}
		return rs
	}
	sum := summarize(rounds(osl, rx))
	if len(sum.Checks) != 3+len(thresholds) {
		t.Fatalf("%d verdict rows, want worst gap, 2 grid percentiles and %d rates", len(sum.Checks), len(thresholds))
	}
	for _, c := range sum.Checks {
		if !c.Met {
			t.Errorf("equal runs: %s NOT MET (%s)", c.Name, c.Figure)
		}
	}
	// Same worst gap, but twice the gaps ≥16.4 µs per second.
	rx2 := mkRun("rxprobe", 105_000, map[int]uint64{3: 1_000_000, 5: 100, 9: 20})
	sum = summarize(rounds(osl, rx2))
	var failed []string
	for _, c := range sum.Checks {
		if !c.Met {
			failed = append(failed, c.Name)
		}
	}
	if strings.Join(failed, ",") != "gaps ≥16.4µs per s" {
		t.Errorf("failed rows %q, want the rate that doubled (worst gap 1.05× and gaps ≥1.02µs 1.09× are met)", failed)
	}
	if sum.Checks[0].Name != "worst gap" || !sum.Checks[0].Met {
		t.Errorf("worst gap row: %+v", sum.Checks[0])
	}
	if len(sum.PerRound) != 5 || sum.PerRound[0][0] != 1.05 || sum.PerRound[0][2] != 2 {
		t.Errorf("per-round ratios %v", sum.PerRound)
	}
	// The block states it plainly and the verdict carries the failures.
	h := hostInfo{Host: benchkit.Host{Date: "2030-01-02 03:04 UTC", CPUs: 2, Binary: "bin/rxprobe", Version: "rxprobe v9 (commit abc1234)", LoadBefore: "0.1 0.1 0.1"}, Oslat: "2.40"}
	g := benchkit.NewGate(2)
	g.Before(0.1)
	g.Rounds(5)
	s, _ := parseFlags([]string{"-observed=false"}, &bytes.Buffer{})
	md := markdown(s, h, g, rounds(osl, rx2), sum, nil)
	for _, w := range []string{
		"### 2030-01-02 03:04 UTC — rxprobe v9 (commit abc1234)",
		"- goal worst gap ≤1.1× oslat: met (1.05×)",
		"- goal gaps ≥16.4µs per s ≤1.1× oslat: NOT MET (2.00× (20 vs 10))",
		"| 2 | rxprobe | 1.05 |",
		"| min / median / max | | 1.05 / 1.05 / 1.05 |",
		"**Verdict: rxprobe vs oslat: goal every row ≤1.1× oslat: NOT MET (gaps ≥16.4µs per s 2.00× (20 vs 10)).**",
		"- goal gaps ≥131µs per s ≤1.1× oslat: met (1.00× (0 vs 0))",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
}
