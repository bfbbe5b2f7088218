package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
)

// ErrMixedSizes is matched when a generator is asked for a frame-size mix
// it cannot send.
var ErrMixedSizes = errors.New("generator sends one frame size per run")

// FCS is the 4 B frame check sequence: rxprobe gen's --size leaves it out,
// the harness's frame sizes count it (RFC 2544).
const FCS = 4

// genSlack bounds a trial beyond its duration: a generator slower than the
// rate keeps sending for a while, and its achieved rate tells.
func genSlack(d time.Duration) time.Duration { return d + d/10 + 500*time.Millisecond }

// ServeGen drives one long-lived `rxprobe gen --serve` process per frame
// size: the rate changes per trial without a restart, the process is
// restarted only when the frame size changes.
type ServeGen struct {
	// Exe is the rxprobe binary, Config the config with the generator
	// section, NetNS the namespace to run it in ("": this one).
	Exe, Config, NetNS string
	// Stderr receives the generator's diagnostics (nil: discarded).
	Stderr io.Writer
	// Latency stamps every trial's frames (gen --serve's "latency").
	Latency bool

	size  int
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	done  chan error
}

// serveReply is the part of `rxprobe gen --serve`'s reply line the runner
// reads (rx.GenReport and an error).
type serveReply struct {
	Sent        uint64  `json:"sent"`
	TXDropped   uint64  `json:"tx_dropped"`
	DurationS   float64 `json:"duration_s"`
	AchievedPPS float64 `json:"achieved_pps"`
	Error       string  `json:"error"`
	// Clock is the generator host's clock (latency trials), handed to
	// the trial API's stop so it can judge the latency valid.
	Clock json.RawMessage `json:"clock"`
}

// Prepare starts the generator of size unless it runs already: the
// process is restarted only when the frame size changes.
func (g *ServeGen) Prepare(ctx context.Context, size ndr.FrameSize) error {
	if len(size.Mix) != 1 {
		return fmt.Errorf("live: frame size %s: rxprobe gen: %w: use an external generator for mixes", size, ErrMixedSizes)
	}
	if b := size.Mix[0].Bytes; g.cmd == nil || g.size != b {
		return g.start(ctx, b)
	}
	return nil
}

// Send runs one trial on the prepared generator.
func (g *ServeGen) Send(ctx context.Context, s Send) (Sent, error) {
	if err := g.Prepare(ctx, s.Size); err != nil {
		return Sent{}, err
	}
	return g.trial(ctx, s.RatePPS, s.Count, genSlack(s.Duration))
}

func (g *ServeGen) start(ctx context.Context, size int) error {
	if err := g.Close(); err != nil {
		return err
	}
	args := []string{g.Exe, "gen", "--config", g.Config, "--serve", "--size", strconv.Itoa(size - FCS)}
	if g.NetNS != "" {
		args = append([]string{"ip", "netns", "exec", g.NetNS}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = childAttr()
	cmd.Stderr = g.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("live: rxprobe gen: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("live: rxprobe gen: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("live: starting rxprobe gen: %w", err)
	}
	g.cmd, g.in, g.size = cmd, in, size
	g.lines, g.done = make(chan string, 1), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			g.lines <- sc.Text()
		}
		close(g.lines)
		g.done <- cmd.Wait()
	}()
	// A first one-frame trial: the generator's start-up (EAL, port) is
	// over before a measured trial begins.
	if _, err := g.trial(ctx, 1000, 1, 60*time.Second); err != nil {
		return fmt.Errorf("live: rxprobe gen (%d B frames) did not come up: %w", size, err)
	}
	return nil
}

func (g *ServeGen) trial(ctx context.Context, rate float64, count uint64, bound time.Duration) (Sent, error) {
	line := map[string]any{"rate_pps": rate, "count": count, "duration": bound.String()}
	if g.Latency {
		line["latency"] = true
	}
	req, _ := json.Marshal(line)
	if _, err := g.in.Write(append(req, '\n')); err != nil {
		return Sent{}, fmt.Errorf("live: rxprobe gen: sending a trial: %w", err)
	}
	select {
	case line, ok := <-g.lines:
		if !ok {
			err := <-g.done
			g.done <- err // for Close
			return Sent{}, fmt.Errorf("live: rxprobe gen exited: %v: %w", err, ErrGenerator)
		}
		var r serveReply
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return Sent{}, fmt.Errorf("live: rxprobe gen replied %q: %w", line, err)
		}
		if r.Error != "" {
			return Sent{}, fmt.Errorf("live: rxprobe gen: %s: %w", r.Error, ErrGenerator)
		}
		return Sent{Packets: r.Sent, Elapsed: time.Duration(r.DurationS * float64(time.Second)), Clock: r.Clock}, nil
	case <-ctx.Done():
		return Sent{}, fmt.Errorf("live: %w", ctx.Err())
	}
}

// Close ends the generator process: EOF on its input, SIGTERM after 5 s,
// SIGKILL after 10 s.
func (g *ServeGen) Close() error {
	if g.cmd == nil {
		return nil
	}
	cmd := g.cmd
	g.cmd = nil
	_ = g.in.Close()
	go func() {
		for range g.lines { // drain so that the reader can finish
		}
	}()
	select {
	case <-g.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-g.done
	return fmt.Errorf("live: rxprobe gen (pid %d) had to be killed: %w", cmd.Process.Pid, ErrGenerator)
}

// Placeholders an external generator's start command may use.
var Placeholders = []string{"rate", "count", "duration", "size", "gen_config", "rxprobe"}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// CheckStart validates an external start command: known placeholders
// only, and {rate} or {count} among them (a sender that ignores both
// cannot follow the search).
func CheckStart(cmd string) error {
	if strings.TrimSpace(cmd) == "" {
		return invalid("external.start is empty: give the command that sends one trial, e.g. `my-sender --pps {rate} --count {count}`")
	}
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllString(cmd, -1) {
		name := strings.Trim(m, "{}")
		known := false
		for _, p := range Placeholders {
			known = known || p == name
		}
		if !known {
			return invalid("external.start: unknown placeholder %s: use {%s}", m, strings.Join(Placeholders, "}, {"))
		}
		seen[name] = true
	}
	if !seen["rate"] && !seen["count"] {
		return invalid("external.start uses neither {rate} nor {count}: the sender must send what each trial asks for")
	}
	return nil
}

// External is a generator described by a command run once per trial. The
// command's placeholders are replaced ({rate} pps, {count} packets,
// {duration} as a Go duration like 3s, {size} the frame size with FCS or
// "imix", {gen_config} the generator config, {rxprobe} the rxprobe
// binary); it runs with sh -c (in NetNS when set), must exit once it
// sent, and prints the number of packets it sent on its last stdout line.
// The achieved rate counts that number over the trial's duration.
type External struct {
	Start string
	NetNS string
	Vars  map[string]string
	// Stderr receives the command's stderr (nil: discarded).
	Stderr io.Writer
	mu     sync.Mutex
}

// Expand returns the start command for s.
func (e *External) Expand(s Send) string {
	vals := map[string]string{
		"rate": strconv.FormatFloat(s.RatePPS, 'f', 0, 64), "count": strconv.FormatUint(s.Count, 10),
		"duration": s.Duration.String(), "size": s.Size.Name,
	}
	for k, v := range e.Vars {
		vals[k] = v
	}
	return placeholderRE.ReplaceAllStringFunc(e.Start, func(m string) string {
		if v, ok := vals[strings.Trim(m, "{}")]; ok {
			return v
		}
		return m
	})
}

// Send runs the start command for one trial and reads its count.
func (e *External) Send(ctx context.Context, s Send) (Sent, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	line := e.Expand(s)
	args := []string{"sh", "-c", line}
	if e.NetNS != "" {
		args = append([]string{"ip", "netns", "exec", e.NetNS}, args...)
	}
	tctx, cancel := context.WithTimeout(ctx, genSlack(s.Duration)+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(tctx, args[0], args[1:]...)
	cmd.Stderr = e.Stderr
	cmd.Env = os.Environ()
	// The command and whatever it starts form a process group, killed
	// whole when the trial is cancelled or overruns.
	cmd.SysProcAttr = childAttr()
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return Sent{}, fmt.Errorf("live: %w", ctx.Err())
	}
	if err != nil {
		return Sent{}, fmt.Errorf("live: external generator %q: %v: %w", line, err, ErrGenerator)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	n, err := strconv.ParseUint(last, 10, 64)
	if err != nil {
		return Sent{}, fmt.Errorf("live: external generator %q: last stdout line %q is not the number of packets sent: %w", line, last, ErrGenerator)
	}
	return Sent{Packets: n}, nil
}

// Prepare does nothing: every trial runs the command afresh.
func (e *External) Prepare(context.Context, ndr.FrameSize) error { return nil }

// Close does nothing: every trial's command has exited.
func (e *External) Close() error { return nil }

// checkSizes refuses a mix unless the generator is external.
func checkSizes(sizes []ndr.FrameSize, external bool) error {
	for _, f := range sizes {
		if len(f.Mix) != 1 && !external {
			return invalid("frame size %s: rxprobe gen sends one frame size per run and cannot send a mix: drop %s from frame_sizes or use generator: external", f, f)
		}
	}
	return nil
}
