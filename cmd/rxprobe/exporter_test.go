package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// exporterWriter is a synthetic RX process: a segment with a packet
// counter, published like the stats thread publishes it.
type exporterWriter struct {
	w       *shm.Writer
	vals    []uint64
	packets int
}

func newExporterWriter(t *testing.T, dir, prefix string, interval time.Duration) *exporterWriter {
	t.Helper()
	b := snapshot.NewBuilder(prefix, os.Getpid(), int64(interval), map[string]string{"version": "test"})
	pk := b.Add("rxprobe_rx_packets_total", snapshot.Counter, 0, snapshot.L("port", "p0"), snapshot.L("queue", "0"))
	b.Help("rxprobe_rx_packets_total", "Packets received by the RX loop.")
	l, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		t.Fatal(err)
	}
	w, err := shm.Create(dir, prefix, l.PayloadSize())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	p := w.Begin()
	l.WriteSchema(p)
	ew := &exporterWriter{w: w, vals: l.Values(p), packets: pk}
	w.Commit(time.Now().UnixNano())
	return ew
}

// add counts n more packets and publishes a sample. One goroutine at a time.
func (e *exporterWriter) add(n uint64) {
	e.w.Begin()
	e.vals[e.packets] += n
	e.w.Commit(time.Now().UnixNano())
}

// lockedBuffer collects a subprocess's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// exporterProc is a running `rxprobe exporter`.
type exporterProc struct {
	cmd    *exec.Cmd
	done   chan error
	addr   string // from the serving line
	stderr *lockedBuffer
}

// spawnExporter starts `rxprobe exporter args...` and waits for its
// serving line. The process gets SIGTERM when the test ends, if still
// running.
func spawnExporter(t *testing.T, args ...string) *exporterProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	cmd := rxprobeCmd(ctx, append([]string{"exporter"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &exporterProc{cmd: cmd, done: make(chan error, 1), stderr: &lockedBuffer{}}
	first := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pr)
		line, _ := br.ReadString('\n')
		p.stderr.Write([]byte(line))
		first <- line
		io.Copy(p.stderr, br)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	line := <-first
	const pre = "rxprobe exporter: serving http://"
	rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), pre)
	addr, _, ok2 := strings.Cut(rest, "/metrics for ")
	if !ok || !ok2 {
		t.Fatalf("exporter %v: first stderr line %q, want %q...", args, line, pre)
	}
	p.addr = addr
	return p
}

// exitCode waits for the process and returns its exit code.
func (p *exporterProc) exitCode(t *testing.T) int {
	t.Helper()
	err := <-p.done
	p.done <- err // for the cleanup
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		return xe.ExitCode()
	}
	if err != nil {
		t.Fatalf("exporter: %v", err)
	}
	return 0
}

func TestExporterCmdNoSegment(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"any segment", nil, "no rxprobe segment in " + dir},
		{"named segment", []string{"--attach", "absent"}, "rxprobe-absent not found in " + dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"exporter", "--shm-dir", dir, "--wait", "200ms", "--metrics-addr", "127.0.0.1:0"}, tc.args...)
			r := runRxprobe(t, args...)
			if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line containing %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestExporterCmdSeveralSegments(t *testing.T) {
	dir := t.TempDir()
	newExporterWriter(t, dir, "one", time.Second)
	newExporterWriter(t, dir, "two", time.Second)
	r := runRxprobe(t, "exporter", "--shm-dir", dir, "--wait", "0s", "--metrics-addr", "127.0.0.1:0")
	if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "(one, two)") ||
		!strings.Contains(r.stderr, "--attach") {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line naming one and two", r.code, r.stderr)
	}
}

func TestExporterCmdBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--wait", "-1s"}, {"--parent-pid", "-5"}, {"extra"}} {
		r := runRxprobe(t, append([]string{"exporter", "--shm-dir", t.TempDir()}, args...)...)
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("exporter %v: exit %d, stderr %q; want exit 2 and one line", args, r.code, r.stderr)
		}
	}
}

func TestExporterCmdAddressInUse(t *testing.T) {
	dir := t.TempDir()
	newExporterWriter(t, dir, "t", time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runRxprobe(t, "exporter", "--shm-dir", dir, "--attach", "t", "--metrics-addr", ln.Addr().String())
	if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "address already in use: "+ln.Addr().String()) {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line naming the address", r.code, r.stderr)
	}
}

// TestExporterCmdServesAndStopsOnSIGTERM: the serving line is the only
// output, /metrics shows the writer's counter, SIGTERM exits 0.
func TestExporterCmdServesAndStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	w := newExporterWriter(t, dir, "t", time.Second)
	w.add(1234)
	// No --attach: the only segment.
	p := spawnExporter(t, "--shm-dir", dir, "--metrics-addr", "127.0.0.1:0")
	body := httpGet(t, "http://"+p.addr+"/metrics")
	for _, want := range []string{`rxprobe_rx_packets_total{port="p0",queue="0"} 1234`, "rxprobe_snapshot_up 1", `prefix="t"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.exitCode(t); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	if out := p.stderr.String(); strings.Count(out, "\n") != 1 {
		t.Errorf("stderr %q, want only the serving line", out)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestExporterCmdParentGone(t *testing.T) {
	t.Run("dead from the start", func(t *testing.T) {
		dir := t.TempDir()
		newExporterWriter(t, dir, "t", time.Second)
		r := runRxprobe(t, "exporter", "--shm-dir", dir, "--attach", "t", "--metrics-addr", "127.0.0.1:0", "--parent-pid", strconv.Itoa(deadPID(t)))
		if r.code != 0 || !strings.Contains(r.stderr, "is gone, exiting") {
			t.Errorf("exit %d, stderr %q; want exit 0 saying the parent is gone", r.code, r.stderr)
		}
	})
	t.Run("dead while waiting for the segment", func(t *testing.T) {
		// Without the parent check this would wait the full hour.
		r := runRxprobe(t, "exporter", "--shm-dir", t.TempDir(), "--wait", "1h", "--metrics-addr", "127.0.0.1:0", "--parent-pid", strconv.Itoa(deadPID(t)))
		if r.code != 0 || !strings.Contains(r.stderr, "is gone, exiting") {
			t.Errorf("exit %d, stderr %q; want exit 0 saying the parent is gone", r.code, r.stderr)
		}
	})
	t.Run("dies while serving", func(t *testing.T) {
		dir := t.TempDir()
		newExporterWriter(t, dir, "t", time.Second)
		parent := exec.Command("sleep", "3600")
		if err := parent.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })
		p := spawnExporter(t, "--shm-dir", dir, "--attach", "t", "--metrics-addr", "127.0.0.1:0", "--parent-pid", strconv.Itoa(parent.Process.Pid))
		httpGet(t, "http://"+p.addr+"/metrics") // serving while the parent lives
		parent.Process.Kill()
		parent.Wait() // reaped: kill(pid, 0) now fails with ESRCH
		if code := p.exitCode(t); code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		if out := p.stderr.String(); !strings.Contains(out, "is gone, exiting") {
			t.Errorf("stderr %q, want the parent-gone line", out)
		}
	})
}

// TestExporterCmdParentZombie: the parent is killed but nobody reaps it,
// so kill(pid, 0) still succeeds on the zombie; the exporter, its child,
// must notice through being reparented.
func TestExporterCmdParentZombie(t *testing.T) {
	dir := t.TempDir()
	newExporterWriter(t, dir, "t", time.Second)
	log := filepath.Join(t.TempDir(), "exporter.log")
	// sh starts the exporter with --parent-pid of itself, then waits.
	sh := exec.Command("sh", "-c", `"$0" exporter --shm-dir "$1" --attach t --metrics-addr 127.0.0.1:0 --parent-pid $$ 2>"$2" & wait`,
		os.Args[0], dir, log)
	sh.Env = append(os.Environ(), "RXPROBE_AS_MAIN=1")
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			sh.Process.Kill()
			sh.Wait()
		}
	})
	waitLog := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, _ := os.ReadFile(log)
			if strings.Contains(string(b), want) {
				return string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("exporter log %q after 30s, want %q", b, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("serving http://")
	if err := sh.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// sh is now a zombie (not reaped until the cleanup).
	waitLog("is gone, exiting")
	sh.Wait()
	reaped = true
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return string(b)
}

// freeLoopbackPort returns a loopback address whose port was free a moment
// ago (for Prometheus, which cannot report the port it chose).
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestIntegrationExporterPrometheus: a real Prometheus scrapes a real
// exporter process every second while the synthetic writer counts
// packets; the query API must show the counter increasing.
func TestIntegrationExporterPrometheus(t *testing.T) {
	const promBin = "/usr/bin/prometheus"
	if _, err := os.Stat(promBin); err != nil {
		t.Skipf("Prometheus server is not installed (%s: Debian package prometheus): %v", promBin, err)
	}
	shmDir := t.TempDir()
	w := newExporterWriter(t, shmDir, "integ", 100*time.Millisecond)
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				w.add(1000)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-writerDone })

	exp := spawnExporter(t, "--attach", "integ", "--shm-dir", shmDir, "--metrics-addr", "127.0.0.1:0")

	promDir := t.TempDir() // removed after the cleanup below has stopped Prometheus
	cfg := filepath.Join(promDir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rxprobe
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: [%q]
`, exp.addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freeLoopbackPort(t)
	prom := exec.Command(promBin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(promDir, "data"),
		"--web.listen-address="+promAddr)
	promOut := &lockedBuffer{}
	prom.Stdout, prom.Stderr = promOut, promOut
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	promDone := make(chan error, 1)
	go func() { promDone <- prom.Wait() }()
	t.Cleanup(func() {
		prom.Process.Kill()
		<-promDone
	})

	query := "http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape("rxprobe_rx_packets_total")
	first, last := waitForIncrease(t, query, promDone, nil, func() string {
		return "exporter stderr: " + exp.stderr.String() + "\nprometheus log tail:\n" + tail(promOut.String(), 20)
	})
	t.Logf("Prometheus saw rxprobe_rx_packets_total go from %v to %v", first, last)
}

// waitForIncrease polls an instant query every 500 ms for 30 s until its
// value grows, and returns the first and the grown value. It fails the
// test when Prometheus or the process behind the target exits first, or
// time runs out (with the answers seen and more context from why).
func waitForIncrease(t *testing.T, query string, promDone, targetDone <-chan error, why func() string) (first, last float64) {
	t.Helper()
	var seen []string
	haveFirst := false
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, ok, err := promValue(query)
		switch {
		case err != nil:
			seen = append(seen, err.Error())
		case !ok:
			seen = append(seen, "empty")
		case !haveFirst:
			first, haveFirst = v, true
			seen = append(seen, fmt.Sprint(v))
		case v > first:
			return first, v
		default:
			seen = append(seen, fmt.Sprint(v))
		}
		select {
		case err := <-promDone:
			t.Fatalf("prometheus exited: %v\n%s", err, why())
		case err := <-targetDone:
			t.Fatalf("the scraped process exited: %v\n%s", err, why())
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no increase within 30s of %s; answers: %s\n%s", query, strings.Join(dedupRuns(seen), ", "), why())
		}
	}
}

// promValue runs an instant query that must return at most one series and
// returns its value.
func promValue(query string) (float64, bool, error) {
	resp, err := http.Get(query)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, false, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return 0, false, fmt.Errorf("query status %s: %s", r.Status, r.Error)
	}
	switch len(r.Data.Result) {
	case 0:
		return 0, false, nil
	case 1:
	default:
		return 0, false, fmt.Errorf("%d series, want 1", len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, fmt.Errorf("value %q: %w", s, err)
	}
	return v, true, nil
}

// dedupRuns collapses repeated neighbours: a, a, b → "a ×2", b.
func dedupRuns(s []string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", s[i], j-i))
		} else {
			out = append(out, s[i])
		}
		i = j
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
