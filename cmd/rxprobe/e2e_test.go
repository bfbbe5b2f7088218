package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx"
)

// The test binary doubles as the rxprobe binary: with RXPROBE_AS_MAIN=1 it
// runs main's command line instead of the tests, so end-to-end tests start
// real rxprobe processes (one EAL each) without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("RXPROBE_AS_MAIN") == "1" {
		os.Exit(execute(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// rxprobeCmd returns an rxprobe process for args.
func rxprobeCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RXPROBE_AS_MAIN=1")
	return cmd
}

type result struct {
	stdout, stderr string
	code           int
}

func runRxprobe(t *testing.T, args ...string) result {
	t.Helper()
	// 3 minutes: the shipped quick bench scenario (under 2 minutes on a
	// quiet machine) must not be killed halfway on a busy one.
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	cmd := rxprobeCmd(ctx, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		t.Fatalf("rxprobe %v: %v", args, err)
	}
	return result{o.String(), e.String(), code}
}

// writeConfig writes body to a temp config file.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rxprobe.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("rxpt-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
}

// assertNoLeftovers fails when the run left DPDK files behind.
func assertNoLeftovers(t *testing.T, prefix string) {
	t.Helper()
	for _, d := range []string{"/var/run/dpdk/" + prefix, filepath.Join(os.TempDir(), "dpdk", prefix)} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("runtime directory %s left behind", d)
		}
	}
	mounts, _ := hugepages.New("/").Mounts()
	for _, m := range mounts {
		if files, _ := filepath.Glob(filepath.Join(m.Path, prefix+"*")); len(files) > 0 {
			t.Errorf("hugepage files left behind: %v", files)
		}
	}
}

func readReport(t *testing.T, path string) report.Report {
	t.Helper()
	var r report.Report
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report: %v", err)
	}
	return r
}

func nullConfig(prefix string, noHuge bool, extra string) string {
	return fmt.Sprintf(`eal:
  file_prefix: %s
  no_huge: %v
  log_level: error
ports:
  - name: null0
    device: net_null0
    rx_cpus: "%d"
%srun:
  allow_unisolated: true
`, prefix, noHuge, rxCPU(), extra)
}

// rxCPU is CPU 1 where the host has it (the RX CPU of the shipped configs).
func rxCPU() int {
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil && strings.TrimSpace(string(b)) != "0" {
		return 1
	}
	return 0
}

func checkReport(t *testing.T, r report.Report) {
	t.Helper()
	if r.RXPackets == 0 || r.DurationS <= 0 || r.RXMpps <= 0 {
		t.Fatalf("report shows no traffic: packets %d duration %.2f mpps %.3f", r.RXPackets, r.DurationS, r.RXMpps)
	}
	if len(r.Ports) != 1 || len(r.Ports[0].Queues) != 1 {
		t.Fatalf("report has %d ports", len(r.Ports))
	}
	q := r.Ports[0].Queues[0]
	if q.RXPackets != r.RXPackets || q.CPU != rxCPU() {
		t.Errorf("queue: %d packets on CPU %d, total %d", q.RXPackets, q.CPU, r.RXPackets)
	}
	if len(q.GapHistogram) != rx.GapBuckets {
		t.Fatalf("gap histogram has %d buckets, want %d", len(q.GapHistogram), rx.GapBuckets)
	}
	var sum uint64
	for i, b := range q.GapHistogram {
		sum += b.Count
		if (b.LeNs == nil) != (i == rx.GapBuckets-1) {
			t.Errorf("bucket %d: le_ns %v (only the last is unbounded)", i, b.LeNs)
		}
	}
	if sum != q.Polls || q.Polls == 0 {
		t.Errorf("histogram holds %d gaps for %d polls", sum, q.Polls)
	}
	if r.Ports[0].XStats["rx_good_packets"] < r.RXPackets {
		t.Errorf("xstat rx_good_packets %d < loop packets %d", r.Ports[0].XStats["rx_good_packets"], r.RXPackets)
	}
	if r.SteadyState == nil {
		t.Fatal("no steady-state measurement in the report")
	}
	if r.SteadyState.Mallocs != 0 || r.SteadyState.GCCycles != 0 {
		t.Errorf("steady state allocated: %+v", *r.SteadyState)
	}
}

// runNull runs the net_null config (noHuge: without hugepages) for 3 s
// with a report, fails the test on a non-zero exit, and returns the
// checked report and the command's result.
func runNull(t *testing.T, prefix string, noHuge bool) (report.Report, result) {
	t.Helper()
	cfg := writeConfig(t, nullConfig(prefix, noHuge, ""))
	rep := filepath.Join(t.TempDir(), "r.json")
	res := runRxprobe(t, "run", "--config", cfg, "--duration", "3s", "--report", rep)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r := readReport(t, rep)
	checkReport(t, r)
	return r, res
}

func TestRunNetNullWithoutHugepages(t *testing.T) {
	prefix := uniquePrefix(t)
	r, res := runNull(t, prefix, true)
	if !strings.Contains(strings.Join(r.Degraded, ";"), "no hugepages") {
		t.Errorf("degraded %q does not say no hugepages", r.Degraded)
	}
	for _, w := range []string{"rxprobe run:", "null0", "degraded: no hugepages"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("summary lacks %q:\n%s", w, res.stdout)
		}
	}
	assertNoLeftovers(t, prefix)
}

// needHugepages skips when the host has no free 2 MiB pages mounted.
func needHugepages(t *testing.T, pages uint64) {
	t.Helper()
	fs := hugepages.New("/")
	free, err := fs.Free(0, hugepages.Size2M)
	if err != nil || free < pages {
		t.Skipf("needs %d free 2 MiB hugepages on node 0 (have %d, %v): run `rxprobe hugepages reserve --size 2M --pages %d`", pages, free, err, pages)
	}
	mounts, err := fs.Mounts()
	if err != nil {
		t.Skipf("no hugetlbfs mount: %v", err)
	}
	for _, m := range mounts {
		if m.Size == hugepages.Size2M && unix.Access(m.Path, unix.W_OK) != nil {
			t.Skipf("needs root: hugetlbfs at %s is not writable (DPDK creates its page files there)", m.Path)
		}
	}
}

func TestRunNetNullOnHugepages(t *testing.T) {
	needHugepages(t, 64)
	prefix := uniquePrefix(t)
	r, _ := runNull(t, prefix, false)
	for _, d := range r.Degraded {
		if strings.Contains(d, "no hugepages") {
			t.Errorf("run on hugepages reported %q", d)
		}
	}
	if !strings.Contains(strings.Join(r.EALArgs, " "), "--socket-mem") {
		t.Errorf("memory not preallocated: %v", r.EALArgs)
	}
	assertNoLeftovers(t, prefix)
}

func TestRunStopsOnSIGTERM(t *testing.T) {
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, true, ""))
	dir := t.TempDir()
	rep, ready := filepath.Join(dir, "r.json"), filepath.Join(dir, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := rxprobeCmd(ctx, "run", "--config", cfg, "--report", rep, "--ready-file", ready)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, ready, cmd)
	time.Sleep(2500 * time.Millisecond) // past warm-up, so the steady state is measured
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	stop := time.Since(sent)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	t.Logf("stopped %v after SIGTERM", stop)
	if stop > time.Second {
		t.Errorf("took %v to stop after SIGTERM; the contract is 1 s", stop)
	}
	checkReport(t, readReport(t, rep))
	if _, err := os.Stat(ready); err == nil {
		t.Error("ready file left behind")
	}
	assertNoLeftovers(t, prefix)
}

func waitFile(t *testing.T, path string, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if cmd.ProcessState != nil {
			t.Fatalf("process exited before %s appeared", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}

func TestRunInsufficientHugepages(t *testing.T) {
	mounts, err := hugepages.New("/").Mounts()
	if err != nil || len(mounts) == 0 {
		t.Skip("no hugetlbfs mounted: the shortfall check needs a mount to compare with")
	}
	prefix := uniquePrefix(t)
	// 8 M mbufs need ~18 GiB: more than the host has free.
	cfg := writeConfig(t, nullConfig(prefix, false, "    mbufs: 8000000\n"))
	res := runRxprobe(t, "run", "--config", cfg, "--duration", "2s")
	if res.code != 2 {
		t.Fatalf("exit %d, want 2; stderr: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if len(lines) != 1 {
		t.Errorf("want one line, got %d:\n%s", len(lines), res.stderr)
	}
	for _, w := range []string{"need ", "× 2 MiB hugepages on node 0", "free: run `rxprobe hugepages reserve --node 0 --size 2M --pages "} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("message lacks %q: %s", w, res.stderr)
		}
	}
	assertNoLeftovers(t, prefix)
}

func TestBadInputIsOneLineExit2(t *testing.T) {
	cases := map[string]struct{ args []string }{
		"missing file":   {[]string{"run", "--config", "/nonexistent/rxprobe.yaml"}},
		"no config":      {[]string{"run"}},
		"unknown key":    {[]string{"run", "--config", writeConfig(t, "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\n    burts: 3\n")}},
		"cpu missing":    {[]string{"run", "--config", writeConfig(t, "ports:\n  - device: net_null0\n    rx_cpus: \"999\"\n")}},
		"burst zero":     {[]string{"run", "--config", writeConfig(t, "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\n    burst: 0\n")}},
		"yaml syntax":    {[]string{"run", "--config", writeConfig(t, "ports: [\n")}},
		"unknown flag":   {[]string{"run", "--bogus"}},
		"bad status":     {[]string{"run", "--config", "x", "--status", "sometimes"}},
		"gen no gen":     {[]string{"gen", "--config", writeConfig(t, nullConfig("x", true, ""))}},
		"gen both":       {[]string{"gen", "--config", "x", "--count", "1", "--duration", "1s"}},
		"demo too short": {[]string{"demo", "--duration", "1s"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := runRxprobe(t, tc.args...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", res.code, res.stderr)
			}
			msg := strings.TrimSpace(res.stderr)
			if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "rxprobe: ") {
				t.Errorf("want one line starting 'rxprobe: ', got %q", msg)
			}
		})
	}
}

func TestConfigPrintMergesEnvironment(t *testing.T) {
	cfg := writeConfig(t, nullConfig("pp", false, ""))
	cmd := rxprobeCmd(context.Background(), "config", "print", "--config", cfg)
	cmd.Env = append(cmd.Env, "RXPROBE_EAL_NO_HUGE=true", "RXPROBE_STATS_INTERVAL=250ms")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"no_huge: true", "interval: 250ms", "rx_ring: 1024", "housekeeping_cpus:"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("config print lacks %q:\n%s", w, out)
		}
	}
}
