package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// prompt is what testpmd's cmdline writes when it is ready for a command.
// cmdline writes it with write(2), unbuffered, so it arrives in order even
// though printf output (the statistics) is buffered while stdout is a pipe.
var prompt = []byte("testpmd> ")

// nicStats is one "show port stats" block.
type nicStats struct {
	RXPackets uint64
	RXMissed  uint64
	RXNoMbuf  uint64
	RXPPS     uint64 // Rx-pps "since last show": 0 on the first block
}

var (
	nicHeaderRe = regexp.MustCompile(`#+ NIC statistics for port (\d+)\s+#+`)
	rxPacketsRe = regexp.MustCompile(`RX-packets:\s+(\d+)\s+RX-missed:\s+(\d+)`)
	rxNoMbufRe  = regexp.MustCompile(`RX-nombuf:\s+(\d+)`)
	rxPPSRe     = regexp.MustCompile(`Rx-pps:\s+(\d+)`)
	blockEndRe  = regexp.MustCompile(`\n\s*#{40,}\s*\n`)
)

// errNoStats means the output holds fewer complete statistics blocks than
// asked for: testpmd died, or its output was cut.
var errNoStats = errors.New("testpmd output: statistics block missing or incomplete")

// parseNICStats returns every complete "NIC statistics" block of out, in
// order. A block is complete when its closing line of '#' is present and it
// holds the RX-packets, RX-nombuf and Rx-pps lines.
func parseNICStats(out []byte) ([]nicStats, error) {
	var blocks []nicStats
	for _, loc := range nicHeaderRe.FindAllIndex(out, -1) {
		rest := out[loc[1]:]
		end := blockEndRe.FindIndex(rest)
		if end == nil {
			return blocks, fmt.Errorf("%w: block %d has no end line", errNoStats, len(blocks)+1)
		}
		body := rest[:end[0]]
		var s nicStats
		m := rxPacketsRe.FindSubmatch(body)
		n := rxNoMbufRe.FindSubmatch(body)
		p := rxPPSRe.FindSubmatch(body)
		if m == nil || n == nil || p == nil {
			return blocks, fmt.Errorf("%w: block %d lacks RX-packets, RX-nombuf or Rx-pps", errNoStats, len(blocks)+1)
		}
		var err error
		for _, f := range []struct {
			dst *uint64
			src []byte
		}{{&s.RXPackets, m[1]}, {&s.RXMissed, m[2]}, {&s.RXNoMbuf, n[1]}, {&s.RXPPS, p[1]}} {
			if *f.dst, err = strconv.ParseUint(string(f.src), 10, 64); err != nil {
				return blocks, fmt.Errorf("testpmd output: block %d: %w", len(blocks)+1, err)
			}
		}
		blocks = append(blocks, s)
	}
	return blocks, nil
}

// testpmdResult is one testpmd measurement.
type testpmdResult struct {
	Mpps      float64       // Rx-pps of the window, timed by testpmd itself
	Packets   uint64        // RX-packets at the end of the window minus at its start
	Window    time.Duration // the window as timed by this program (cross-check)
	CheckMpps float64       // Packets / Window
	Drops     uint64        // RX-missed + RX-nombuf during the window
	// CPUShare is the fraction of the window the forwarding lcore's
	// thread was on a CPU (/proc/PID/task/TID/schedstat); 0: unknown.
	CPUShare float64
}

// measureFromStats turns the two "show port stats" blocks that open and
// close the window into a result.
func measureFromStats(blocks []nicStats, window time.Duration) (testpmdResult, error) {
	if len(blocks) < 2 {
		return testpmdResult{}, fmt.Errorf("%w: want 2 blocks, got %d", errNoStats, len(blocks))
	}
	a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
	if b.RXPackets < a.RXPackets {
		return testpmdResult{}, fmt.Errorf("testpmd output: RX-packets went down (%d → %d)", a.RXPackets, b.RXPackets)
	}
	r := testpmdResult{Mpps: float64(b.RXPPS) / 1e6, Packets: b.RXPackets - a.RXPackets, Window: window,
		Drops: (b.RXMissed - a.RXMissed) + (b.RXNoMbuf - a.RXNoMbuf)}
	if window > 0 {
		r.CheckMpps = float64(r.Packets) / window.Seconds() / 1e6
	}
	return r, nil
}

// promptWriter collects testpmd's output and counts prompts as they arrive.
type promptWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	prompts int
	changed chan struct{} // closed and replaced on every write
}

func newPromptWriter() *promptWriter { return &promptWriter{changed: make(chan struct{})} }

func (w *promptWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Count over the tail that may hold a prompt split across writes.
	from := max(0, w.buf.Len()-len(prompt)+1)
	w.buf.Write(p)
	w.prompts += bytes.Count(w.buf.Bytes()[from:], prompt)
	close(w.changed)
	w.changed = make(chan struct{})
	return len(p), nil
}

// waitPrompts waits until at least n prompts were written.
func (w *promptWriter) waitPrompts(ctx context.Context, n int, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		w.mu.Lock()
		got, ch := w.prompts, w.changed
		w.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("testpmd: no prompt #%d after %s", n, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *promptWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// testpmdArgs is the full testpmd command line for one run.
func testpmdArgs(s settings, prefix string) []string {
	return []string{
		"-l", fmt.Sprintf("%d,%d", s.Housekeeping, s.CPU), "--main-lcore", strconv.Itoa(s.Housekeeping),
		"--no-pci", "--vdev", s.Device, "--file-prefix", prefix,
		"--",
		"-i", "--forward-mode=rxonly", "--nb-cores=1", "--rxq=1", "--txq=1",
		"--burst=" + strconv.Itoa(s.Burst), "--rxd=" + strconv.Itoa(s.Ring),
		"--mbcache=" + strconv.Itoa(s.MbufCache), "--total-num-mbufs=" + strconv.Itoa(s.Mbufs),
		"--mbuf-size=" + strconv.Itoa(s.DataRoom),
		// Without this, "start" first drains the queue for up to 2 × 1 s on
		// the main lcore: net_null is never empty.
		"--no-flush-rx",
	}
}

// runTestpmd starts testpmd interactively, starts forwarding, waits
// s.Warmup, then takes "show port stats" at the start and the end of a
// window of s.Seconds; Rx-pps of the second block is packets over the
// window as testpmd timed it (clock_gettime around its own stats reads).
func runTestpmd(ctx context.Context, s settings, prefix, logPath string) (res testpmdResult, err error) {
	defer cleanupPrefix(prefix)
	out := newPromptWriter()
	cmd := exec.Command(s.Testpmd, testpmdArgs(s, prefix)...)
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("testpmd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = stdin.Close()
		select {
		case werr := <-done:
			if err == nil && werr != nil {
				err = fmt.Errorf("testpmd: %w", werr)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if err == nil {
				err = errors.New("testpmd: did not quit within 10 s")
			}
		}
		if werr := os.WriteFile(logPath, out.bytes(), 0o644); werr != nil && err == nil {
			err = werr
		}
		if err != nil {
			err = fmt.Errorf("%w (output: %s)", err, logPath)
		}
	}()

	prompts := 1
	send := func(line string, timeout time.Duration) error {
		if _, err := io.WriteString(stdin, line+"\n"); err != nil {
			return fmt.Errorf("testpmd: %q: %w", line, err)
		}
		prompts++
		return out.waitPrompts(ctx, prompts, timeout)
	}
	if err := out.waitPrompts(ctx, 1, 60*time.Second); err != nil {
		return res, err
	}
	if err := send("start", 10*time.Second); err != nil {
		return res, err
	}
	if err := sleepCtx(ctx, s.Warmup); err != nil {
		return res, err
	}
	show := "show port stats 0"
	tid, _ := benchkit.FindWorker(cmd.Process.Pid)
	if err := send(show, 10*time.Second); err != nil {
		return res, err
	}
	t0 := time.Now()
	var c0, c1 benchkit.CPUSample
	if tid != 0 {
		c0, _ = benchkit.SampleThread(cmd.Process.Pid, tid)
	}
	if err := sleepCtx(ctx, time.Duration(s.Seconds*float64(time.Second))); err != nil {
		return res, err
	}
	if err := send(show, 10*time.Second); err != nil {
		return res, err
	}
	window := time.Since(t0)
	if tid != 0 {
		c1, _ = benchkit.SampleThread(cmd.Process.Pid, tid)
	}
	if err := send("stop", 10*time.Second); err != nil {
		return res, err
	}
	if _, err := io.WriteString(stdin, "quit\n"); err != nil {
		return res, fmt.Errorf("testpmd: quit: %w", err)
	}
	// The statistics are printf output: complete only once testpmd exits.
	select {
	case werr := <-done:
		done <- werr
	case <-time.After(10 * time.Second):
		return res, errors.New("testpmd: did not quit within 10 s")
	}
	blocks, err := parseNICStats(out.bytes())
	if err != nil {
		return res, err
	}
	res, err = measureFromStats(blocks, window)
	if !c0.At.IsZero() && !c1.At.IsZero() {
		res.CPUShare = benchkit.Share(c0, c1)
	}
	return res, err
}

// cleanupPrefix removes what a testpmd run with this file prefix may leave
// behind: its runtime directory and, if it died, its hugepage files.
func cleanupPrefix(prefix string) {
	_ = os.RemoveAll(filepath.Join("/var/run/dpdk", prefix))
	if files, err := filepath.Glob(filepath.Join("/dev/hugepages", prefix+"map_*")); err == nil {
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
