package benchkit

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestEnvRejectsGarbage(t *testing.T) {
	t.Setenv("BK_INT", "12")
	t.Setenv("BK_BAD", "x1")
	var e Env
	if e.Int("BK_INT", 3) != 12 || e.Int("BK_UNSET", 3) != 3 || e.Float("BK_INT", 0) != 12 {
		t.Error("defaults or values wrong")
	}
	if e.Int("BK_BAD", 5) != 5 || len(e.Errs) != 1 {
		t.Errorf("garbage accepted: %v", e.Errs)
	}
}

func TestParsers(t *testing.T) {
	if m := LscpuModel("Architecture: x86_64\nModel name:   Intel(R) Xeon(R) Processor\n"); m != "Intel(R) Xeon(R) Processor" {
		t.Errorf("model %q", m)
	}
	if ns, err := ParseSchedstat([]byte("123 45 6\n")); err != nil || ns != 123 {
		t.Errorf("schedstat %d %v", ns, err)
	}
	for _, bad := range []string{"", "1 2\n", "x 2 3\n"} {
		if _, err := ParseSchedstat([]byte(bad)); err == nil {
			t.Errorf("schedstat %q accepted", bad)
		}
	}
	t0 := time.Unix(0, 0)
	if s := Share(CPUSample{t0, 0}, CPUSample{t0.Add(time.Second), 5e8}); s != 0.5 {
		t.Errorf("share %v", s)
	}
	if s := Share(CPUSample{t0, 9}, CPUSample{t0.Add(time.Second), 5}); s != 0 {
		t.Errorf("share of a counter going back: %v, want 0 (unknown)", s)
	}
}

func TestStatistics(t *testing.T) {
	if Median([]float64{3, 1, 2}) != 2 || Median([]float64{1, 2, 3, 4}) != 2.5 || Median[float64](nil) != 0 {
		t.Error("median of floats")
	}
	if Median([]uint64{5, 1, 3}) != 3 || Median([]int{4, 5}) != 4.5 {
		t.Error("median of integers")
	}
	xs := []float64{0.91, 1.2, 0.85, 1.46, 1.03}
	before := append([]float64(nil), xs...)
	s := SpreadOf(xs)
	if s != (Spread{Min: 0.85, Median: 1.03, Max: 1.46, N: 5}) {
		t.Errorf("spread %+v", s)
	}
	if !reflect.DeepEqual(xs, before) {
		t.Error("SpreadOf sorted its argument")
	}
	if got := s.Format("%.2f"); got != "1.03 (0.85–1.46)" {
		t.Errorf("format %q", got)
	}
	if SpreadOf[float64](nil) != (Spread{}) {
		t.Error("spread of nothing")
	}
	r := Ratios([]float64{2, 0, 3, 1}, []float64{4, 0, 0})
	if len(r) != 3 || r[0] != 0.5 || r[1] != 1 || !math.IsInf(r[2], 1) {
		t.Errorf("ratios %v: want [0.5 1 +Inf] (0/0 is the same, a/0 infinite, rounds only both have)", r)
	}
}

func TestOrderAlternates(t *testing.T) {
	for round, want := range map[int][]int{1: {0, 1}, 2: {1, 0}, 3: {0, 1}, 4: {1, 0}} {
		if got := Order(round, 2); !reflect.DeepEqual(got, want) {
			t.Errorf("Order(%d, 2) = %v, want %v", round, got, want)
		}
	}
	if got := Order(2, 3); !reflect.DeepEqual(got, []int{2, 1, 0}) {
		t.Errorf("Order(2, 3) = %v", got)
	}
	// Over five rounds each of two tools runs first at least twice.
	first := map[int]int{}
	for round := 1; round <= MinRounds; round++ {
		first[Order(round, 2)[0]]++
	}
	if first[0] < 2 || first[1] < 2 {
		t.Errorf("who ran first over %d rounds: %v", MinRounds, first)
	}
}

func TestGate(t *testing.T) {
	quiet := func() *Gate {
		g := NewGate(2)
		g.Before(0.1)
		for _, l := range []string{"round 1 testpmd", "round 1 rxprobe"} {
			g.Run(l, 1.2, 0.999) // 1.2: the bench's own loop, within 0.5 + 1
		}
		g.During("after", 1.3)
		g.Rounds(5)
		return g
	}
	if g := quiet(); !g.Result() || g.Loaded() || g.Refusal() != "" {
		t.Fatalf("quiet run refused: %q", g.Refusal())
	}
	for name, spoil := range map[string]func(g *Gate){
		"busy before":    func(g *Gate) { g.Before(0.6) },
		"busy during":    func(g *Gate) { g.Run("round 2 rxprobe", 1.6, 1) },
		"busy after":     func(g *Gate) { g.During("after", 2.4) },
		"loop preempted": func(g *Gate) { g.Run("round 2 oslat", 0.2, 0.97) },
		"share unknown":  func(g *Gate) { g.Run("round 2 rxprobe", 0.2, 0) },
		"no loadavg":     func(g *Gate) { g.Before(-1) },
	} {
		g := quiet()
		spoil(g)
		if g.Result() || !g.Loaded() || !strings.HasPrefix(g.Refusal(), "LOADED: rerun") {
			t.Errorf("%s: result %v, refusal %q", name, g.Result(), g.Refusal())
		}
	}
	g := quiet()
	g.Rounds(2)
	if g.Result() || g.Loaded() || !strings.HasPrefix(g.Refusal(), "TOO FEW ROUNDS") || g.Tag() != "TOO FEW ROUNDS: rerun with -rounds 5 or more" {
		t.Errorf("2 rounds: result %v, refusal %q", g.Result(), g.Refusal())
	}
}

func TestGoal(t *testing.T) {
	if got := Goal("rxprobe ≥1.00× testpmd", false, "0.91×"); got != "goal rxprobe ≥1.00× testpmd: NOT MET (0.91×)" {
		t.Error(got)
	}
	if got := Goal("≥1.00×", true, "1.22×"); got != "goal ≥1.00×: met (1.22×)" {
		t.Error(got)
	}
	g := NewGate(2)
	g.Before(0.1)
	g.Rounds(5)
	if got := g.Goal("≥1.00×", true, "1.22×"); got != "goal ≥1.00×: met (1.22×)" {
		t.Error(got)
	}
	g.Run("round 1 rxprobe", 3, 1)
	if got := g.Goal("≥1.00×", true, "1.22×"); got != "goal ≥1.00×: not judged (NOT A RESULT)" {
		t.Errorf("LOADED goal: %s", got)
	}
}

// TestLoadedIsRefused: a LOADED run prints a block marked NOT A RESULT
// with no verdict, writes no -markdown file and exits ExitNotResult,
// even with its -require met; the same figures on a quiet machine are a
// result.
func TestLoadedIsRefused(t *testing.T) {
	h := Host{Date: "2030-01-02 03:04 UTC", Model: "Test CPU", CPUs: 2, Kernel: "6.1", Binary: "bin/rxprobe",
		Version: "rxprobe v9 (commit abc1234, go1.26.8, DPDK 22.11.11)", LoadBefore: "1.70 1.00 0.50", LoadAfter: "1.90 1.10 0.60"}
	render := func(g *Gate, file string) Outcome {
		md := Heading("benchx", h, g, ", DPDK 22.11.11", []string{"-rounds", "5"}) + "\n| table |\n\n" + Verdict(g, "rxprobe 1.22× testpmd")
		return Outcome{Summary: "median ratio 1.22×", Markdown: md, Gate: g, MarkdownFile: file}
	}
	dir := t.TempDir()

	loaded := NewGate(2)
	loaded.Before(1.7)
	loaded.Rounds(5)
	file := filepath.Join(dir, "loaded.md")
	var out, errb bytes.Buffer
	if code := render(loaded, file).finish("benchx", &out, &errb); code != ExitNotResult {
		t.Errorf("exit %d, want %d", code, ExitNotResult)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a LOADED run wrote %s (%v)", file, err)
	}
	for _, w := range []string{"### NOT A RESULT (LOADED: rerun) — 2030-01-02 03:04 UTC — rxprobe v9 (commit abc1234", "1-min load 1.70 before the first run", "**No verdict: NOT A RESULT (LOADED: rerun;", "(LOADED; limit 0.50 before"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, out.String())
		}
	}
	for _, never := range []string{"Verdict:", "median ratio", "commit abc1234)`\n\n### "} {
		if strings.Contains(out.String(), never) {
			t.Errorf("a LOADED run printed %q:\n%s", never, out.String())
		}
	}
	if !strings.Contains(errb.String(), "benchx: NOT A RESULT: LOADED: rerun") || !strings.Contains(errb.String(), "loaded.md not written") {
		t.Errorf("stderr %q", errb.String())
	}

	quiet := NewGate(2)
	quiet.Before(0.1)
	quiet.Rounds(5)
	file = filepath.Join(dir, "quiet.md")
	out.Reset()
	errb.Reset()
	o := render(quiet, file)
	if code := o.finish("benchx", &out, &errb); code != ExitResult {
		t.Errorf("quiet: exit %d (%s)", code, errb.String())
	}
	if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), "### 2030-01-02 03:04 UTC — rxprobe v9") || !strings.Contains(string(b), "**Verdict: rxprobe 1.22× testpmd.**") {
		t.Errorf("quiet block: %q, %v", b, err)
	}
	o.RequireFailed = "ratio below 1.3"
	if code := o.finish("benchx", &out, &errb); code != ExitRequire {
		t.Errorf("require failed: exit %d", code)
	}
}

func TestBinaryVersion(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "rxprobe")
	if err := os.WriteFile(good, []byte("#!/bin/sh\n[ \"$1\" = version ] && echo 'rxprobe v9 (commit abc1234, go1.26.8, DPDK 22.11.11)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v, err := BinaryVersion(good); err != nil || v != "rxprobe v9 (commit abc1234, go1.26.8, DPDK 22.11.11)" {
		t.Errorf("%q, %v", v, err)
	}
	bad := filepath.Join(dir, "notrxprobe")
	if err := os.WriteFile(bad, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := BinaryVersion(bad); err == nil {
		t.Error("a binary that cannot say its version was accepted")
	}
	if _, err := BinaryVersion(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing binary was accepted")
	}
}

func TestParseRunReport(t *testing.T) {
	good := `{"duration_s": 5.0, "rx_packets": 300, "rx_mpps": 60.0, "steady_state": {"mallocs": 0},
	  "ports": [{"imissed": 1, "queues": [{"cpu": 1, "polls": 7, "max_gap_ns": 4000, "gap_histogram": [{"le_ns": 64, "count": 6}, {"le_ns": null, "count": 0}]}]}]}`
	r, err := ParseRunReport([]byte(good), 1)
	if err != nil {
		t.Fatal(err)
	}
	if q := r.Queue(); r.RXMpps != 60 || q.Polls != 7 || q.MaxGapNs != 4000 || len(q.GapHistogram) != 2 || q.GapHistogram[1].LeNs != nil || r.SteadyState == nil {
		t.Errorf("%+v", r)
	}
	for name, bad := range map[string]string{
		"other cpu":  strings.Replace(good, `"cpu": 1`, `"cpu": 0`, 1),
		"no packets": strings.Replace(good, `"rx_packets": 300`, `"rx_packets": 0`, 1),
		"no time":    strings.Replace(good, `"duration_s": 5.0`, `"duration_s": 0`, 1),
		"no queue":   `{"duration_s": 5, "rx_packets": 1, "ports": [{"queues": []}]}`,
		"not json":   `rxprobe: error`,
	} {
		if _, err := ParseRunReport([]byte(bad), 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFindWorker(t *testing.T) {
	if _, err := FindWorker(os.Getpid()); err == nil {
		t.Fatal("found an EAL worker in the test process")
	}
	// The detector works: a thread named as EAL names its workers is found.
	// The goroutine ends locked, so its renamed thread exits with it.
	type res struct {
		tid, found int
		err        error
	}
	c := make(chan res)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		name := []byte("rte-worker-9\x00")
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0); err != nil {
			c <- res{err: err}
			return
		}
		found, err := FindWorker(os.Getpid())
		c <- res{unix.Gettid(), found, err}
		<-release
	}()
	r := <-c
	close(release)
	if r.err != nil || r.found != r.tid {
		t.Errorf("FindWorker = %d, %v; want the renamed thread %d", r.found, r.err, r.tid)
	}
}

func TestFlags(t *testing.T) {
	for _, k := range []string{"BENCH_ROUNDS", "BENCH_RX_CPU", "BENCH_HK_CPU", "RXPROBE"} {
		t.Setenv(k, "")
	}
	var c Common
	f := NewFlags("benchx", &bytes.Buffer{}, &c, 7)
	if err := f.Parse(nil, &c); err != nil || c.Rounds != 7 || c.CPU != 1 || c.Housekeeping != 0 || c.Rxprobe != "bin/rxprobe" {
		t.Errorf("defaults %+v, %v", c, err)
	}
	for _, args := range [][]string{{"-rounds", "0"}, {"-cpu", "0"}, {"extra"}} {
		var c Common
		if err := NewFlags("benchx", &bytes.Buffer{}, &c, 5).Parse(args, &c); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	t.Setenv("BENCH_ROUNDS", "five")
	if err := NewFlags("benchx", &bytes.Buffer{}, &c, 5).Parse(nil, &c); err == nil {
		t.Error("BENCH_ROUNDS=five accepted")
	}
}

// TestBusyShare: the stop of the loop inside a sampling interval and the
// idle tail after it do not lower the share; sharing the CPU does.
func TestBusyShare(t *testing.T) {
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * 100 * time.Millisecond) }
	var b Busy
	// Busy for 1 s (samples every 100 ms), then it stops 10 ms into the
	// next interval and is sampled idle twice more.
	for i := 0; i <= 10; i++ {
		b.Add(CPUSample{At: ms(i), RunNs: uint64(i) * 100e6})
	}
	b.Add(CPUSample{At: ms(11), RunNs: 1010e6})
	b.Add(CPUSample{At: ms(12), RunNs: 1010e6})
	b.Add(CPUSample{At: ms(13), RunNs: 1010e6})
	if s := b.Share(); s != 1 {
		t.Errorf("share %v, want 1: the stop and the idle tail counted", s)
	}
	if b.Ran() != 1010e6 {
		t.Errorf("ran %d", b.Ran())
	}
	// The same loop on a shared CPU: 90 ms of every 100.
	var c Busy
	for i := 0; i <= 10; i++ {
		c.Add(CPUSample{At: ms(i), RunNs: uint64(i) * 90e6})
	}
	if s := c.Share(); s < 0.899 || s > 0.901 {
		t.Errorf("shared CPU: share %v, want 0.9", s)
	}
	var d Busy
	d.Add(CPUSample{At: t0, RunNs: 5})
	if d.Share() != 0 {
		t.Error("one sample gave a share")
	}
}

// TestGateOwnLoops: a bench with two busy loops of its own may run at a
// 1-minute load of a quarter of the CPUs + 2, not more; the load before
// the first run is judged as before.
func TestGateOwnLoops(t *testing.T) {
	one, two := NewGate(2), NewGate(2).OwnLoops(2)
	for _, g := range []*Gate{one, two} {
		g.Before(0.3)
		g.During("round 1", 2.2)
		g.Rounds(5)
	}
	if !one.Loaded() || two.Loaded() {
		t.Errorf("load 2.2 with one own loop loaded=%v (want true), with two loaded=%v (want false)", one.Loaded(), two.Loaded())
	}
	two.During("round 2", 2.6)
	if !two.Loaded() || !strings.Contains(two.Refusal(), "own 2 busy loops") {
		t.Errorf("load 2.6 with two own loops: loaded=%v, %q", two.Loaded(), two.Refusal())
	}
	busy := NewGate(2).OwnLoops(2)
	if busy.Before(0.8); !busy.Loaded() {
		t.Error("load 0.8 before the first run must be LOADED whatever the bench's own loops")
	}
}

// TestForeignSeesOtherProcessesOnly: a busy process outside this test's
// tree shows as foreign CPU, a busy child of it does not.
func TestForeignSeesOtherProcessesOnly(t *testing.T) {
	if p, ok := parseStat([]byte("123 (a b) c) R 77 1 1 0 -1 0 0 0 0 0 40 2 0 0 20 0 1 0")); !ok || p.ppid != 77 || p.ticks != 42 {
		t.Fatalf("parseStat: %+v %v", p, ok)
	}
	busy := func() *exec.Cmd { return exec.Command("sh", "-c", "while :; do :; done") }
	own := busy()
	if err := own.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = own.Process.Kill(); _ = own.Wait() }()
	f := &Foreign{}
	f.Start()
	time.Sleep(700 * time.Millisecond)
	if share, top := f.Stop(); share > 0.3 {
		t.Errorf("own busy child counted as foreign: %.2f of a CPU (%s)", share, top)
	}
	// setsid: a process whose parent chain does not lead to this test
	other := exec.Command("setsid", "-f", "sh", "-c", "timeout 2 sh -c 'while :; do :; done'")
	f = &Foreign{Root: own.Process.Pid} // this test itself now counts as foreign too, so use the child as root
	f.Start()
	if err := other.Run(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	if share, top := f.Stop(); share < 0.3 {
		t.Errorf("a busy foreign process shows %.2f of a CPU (%s), want most of one", share, top)
	}
}
