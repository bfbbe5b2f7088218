package run

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

// capture.on_file runs in `rxprobe capture-hook`, a child started before
// the loops launch: fork or exec in the RX process would mark its
// hugepage-backed memory copy-on-write and send TLB shootdowns to the RX
// CPUs. The RX process's capture I/O threads write one line per finished
// file ("port queue path") into a pipe whose write end is non-blocking (a
// full pipe is a counted drop, never a wait); the child reads the other
// end, runs the command once per line in order, and at EOF (the run
// stopped its captures and closed the pipe) finishes its queue and exits.

// HookWait is how long a run waits, after its captures stopped, for the
// hook process to finish its queue before killing it.
const HookWait = 30 * time.Second

// hookPipeBytes is the pipe size asked for (about 6000 lines).
const hookPipeBytes = 1 << 20

// HookFD is the file descriptor on which `rxprobe capture-hook` reads
// the finished files.
const HookFD = 3

// HookTally is what the hook process did; it rewrites its tally file
// after every command, so a killed hook still leaves its count.
type HookTally struct {
	Run    uint64 `json:"run"`
	Failed uint64 `json:"failed"`
}

// captureHook is the running hook process and the write end of its pipe.
type captureHook struct {
	*child
	wait      time.Duration // HookWait
	command   string
	wfd       int // -1 once closed
	tallyPath string
	result    *report.CaptureHook
}

// startCaptureHook starts the hook process when capture.on_file is set
// and hands the pipe's write end to the engine's captures. Call it
// before the loops launch. A hook that cannot start fails the run: the
// user asked for the command on every file.
func startCaptureHook(cfg *config.Config, eng *rx.Engine) (*captureHook, error) {
	onFile := cfg.Capture.OnFile
	if !cfg.Capture.Enabled || onFile == "" {
		return nil, nil
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("capture.on_file: pipe: %w", err)
	}
	rfile := os.NewFile(uintptr(p[0]), "capture-hook-pipe")
	defer rfile.Close() // the child has its copy
	if err := unix.SetNonblock(p[1], true); err != nil {
		unix.Close(p[1])
		return nil, fmt.Errorf("capture.on_file: pipe: %w", err)
	}
	// room for a backlog of lines while a command runs long (best effort:
	// fs.pipe-max-size bounds it; 64 KiB, ~400 lines, otherwise)
	_, _ = unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, hookPipeBytes)
	tally := filepath.Join(os.TempDir(), fmt.Sprintf("rxprobe-hook-%d.json", os.Getpid()))
	_ = os.Remove(tally)
	c, err := startChildWith(func(cmd *exec.Cmd) {
		cmd.ExtraFiles = []*os.File{rfile} // fd 3 (HookFD)
		// its own process group: a terminal's ^C goes to the run, which
		// stops and closes the pipe; the hook then finishes its queue
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}, "capture-hook", "--command="+onFile, "--tally="+tally)
	if err != nil {
		unix.Close(p[1])
		return nil, fmt.Errorf("capture.on_file: start the hook process: %w", err)
	}
	eng.SetCaptureHook(p[1])
	return &captureHook{child: c, wait: HookWait, command: onFile, wfd: p[1], tallyPath: tally}, nil
}

// finish closes the pipe (call it once the captures stopped: nothing
// writes to it any more), waits up to h.wait for the hook process to run
// what is queued, kills it and its command after that, and keeps the
// tally with the engine's announced and dropped counts. Nil-safe; once
// only.
func (h *captureHook) finish(log io.Writer, eng *rx.Engine) {
	if h == nil || h.wfd < 0 {
		return
	}
	h.result = h.end(log)
	var c rx.CaptureCounters
	for i := range eng.Queues {
		if eng.ReadCapture(i, &c) {
			h.result.Announced += c.HookSent
			h.result.Dropped += c.HookDropped
		}
	}
}

// end closes the pipe, waits for the hook process (killing its process
// group after h.wait) and returns its tally.
func (h *captureHook) end(log io.Writer) *report.CaptureHook {
	unix.Close(h.wfd)
	h.wfd = -1
	res := &report.CaptureHook{Command: h.command}
	pid := h.cmd.Process.Pid
	select {
	case <-h.exited:
		if h.err != nil {
			fmt.Fprintf(log, "rxprobe: capture.on_file: the hook process (pid %d) ended: %v\n", pid, h.err)
		}
	case <-time.After(h.wait):
		// its own process group (Setpgid): the running command goes too
		_ = unix.Kill(-pid, unix.SIGKILL)
		<-h.exited
		res.Killed = true
		fmt.Fprintf(log, "rxprobe: capture.on_file: commands still running %v after the run stopped: killed the hook process (pid %d)\n",
			h.wait, pid)
	}
	if b, err := os.ReadFile(h.tallyPath); err == nil {
		var t HookTally
		if json.Unmarshal(b, &t) == nil {
			res.Run, res.Failed = t.Run, t.Failed
		}
	}
	_ = os.Remove(h.tallyPath)
	return res
}

// RunCaptureHook is `rxprobe capture-hook`: it reads "port queue path"
// lines from in and runs command with /bin/sh -c for each, one at a
// time, in order, {file} replaced by the path quoted for the shell and
// RXPROBE_CAPTURE_FILE, RXPROBE_CAPTURE_PORT and RXPROBE_CAPTURE_QUEUE
// in the environment. The commands' output goes to stdout and stderr; a
// command that fails or exits non-zero gives one line on stderr. At EOF
// it returns. After every command it rewrites tallyPath ("" for none)
// with a HookTally.
func RunCaptureHook(in io.Reader, command, tallyPath string, stdout, stderr io.Writer) (HookTally, error) {
	var t HookTally
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 8192), 1<<16)
	for sc.Scan() {
		port, queue, path, ok := parseHookLine(sc.Text())
		if !ok {
			fmt.Fprintf(stderr, "rxprobe: capture.on_file: bad line from the capture %q (skipped)\n", sc.Text())
			continue
		}
		cmd := exec.Command("/bin/sh", "-c", strings.ReplaceAll(command, "{file}", shellQuote(path)))
		cmd.Env = append(os.Environ(), "RXPROBE_CAPTURE_FILE="+path, "RXPROBE_CAPTURE_PORT="+port, "RXPROBE_CAPTURE_QUEUE="+queue)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		err := cmd.Run()
		t.Run++
		var xe *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &xe) && xe.Exited():
			t.Failed++
			fmt.Fprintf(stderr, "rxprobe: capture.on_file: %s: exit %d\n", path, xe.ExitCode())
		default:
			t.Failed++
			fmt.Fprintf(stderr, "rxprobe: capture.on_file: %s: %v\n", path, err)
		}
		if err := writeTally(tallyPath, t); err != nil {
			fmt.Fprintf(stderr, "rxprobe: capture.on_file: tally: %v\n", err)
		}
	}
	if err := writeTally(tallyPath, t); err != nil {
		return t, err
	}
	return t, sc.Err()
}

// parseHookLine splits "port queue path" (the path may hold spaces).
func parseHookLine(l string) (port, queue, path string, ok bool) {
	f := strings.SplitN(l, " ", 3)
	if len(f) != 3 || f[2] == "" {
		return "", "", "", false
	}
	if _, err := strconv.ParseUint(f[0], 10, 16); err != nil {
		return "", "", "", false
	}
	if _, err := strconv.ParseUint(f[1], 10, 16); err != nil {
		return "", "", "", false
	}
	return f[0], f[1], f[2], true
}

// shellQuote quotes s for /bin/sh: one word, nothing expanded.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// writeTally replaces path with t's JSON (a temporary file renamed).
func writeTally(path string, t HookTally) error {
	if path == "" {
		return nil
	}
	b, _ := json.Marshal(t)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tally is the hook's figures for the report (nil: no hook).
func (h *captureHook) tally() *report.CaptureHook {
	if h == nil {
		return nil
	}
	return h.result
}
