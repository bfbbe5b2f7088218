package run

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRunCaptureHookInOrder: every line runs the command once, in order,
// {file} quoted (a path with a space and a quote arrives as one word),
// the environment set; a failing command gives one stderr line with its
// exit status and counts; the tally file holds the final figures.
func TestRunCaptureHookInOrder(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list")
	tally := filepath.Join(dir, "tally.json")
	files := []string{"/cap/a.pcapng", "/cap/b c.pcapng", "/cap/it's.pcapng"}
	in := "0 0 " + files[0] + "\n1 2 " + files[1] + "\nnot a line\n0 1 " + files[2] + "\n"
	// the second file fails with exit 3
	cmd := `printf '%s|%s|%s|%s\n' {file} "$RXPROBE_CAPTURE_FILE" "$RXPROBE_CAPTURE_PORT" "$RXPROBE_CAPTURE_QUEUE" >> ` + shellQuote(list) +
		`; case {file} in *" "*) exit 3;; esac`
	var stdout, stderr bytes.Buffer
	got, err := RunCaptureHook(strings.NewReader(in), cmd, tally, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if want := (HookTally{Run: 3, Failed: 1}); got != want {
		t.Errorf("tally %+v, want %+v", got, want)
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	want := files[0] + "|" + files[0] + "|0|0\n" + files[1] + "|" + files[1] + "|1|2\n" + files[2] + "|" + files[2] + "|0|1\n"
	if string(b) != want {
		t.Errorf("commands saw:\n%s\nwant:\n%s", b, want)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 || lines[0] != "rxprobe: capture.on_file: /cap/b c.pcapng: exit 3" ||
		lines[1] != `rxprobe: capture.on_file: bad line from the capture "not a line" (skipped)` {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	var onDisk HookTally
	if b, err := os.ReadFile(tally); err != nil || json.Unmarshal(b, &onDisk) != nil || onDisk != got {
		t.Errorf("tally file %q (err %v), want %+v", b, err, got)
	}
}

// TestRunCaptureHookCannotStart: a command the shell cannot run counts
// as failed with its exit status (127), and nothing is left running.
func TestRunCaptureHookCannotStart(t *testing.T) {
	var stderr bytes.Buffer
	got, err := RunCaptureHook(strings.NewReader("0 0 /x.pcapng\n"), "/nonexistent/cmd {file}", "", &bytes.Buffer{}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if got != (HookTally{Run: 1, Failed: 1}) || !strings.Contains(stderr.String(), "rxprobe: capture.on_file: /x.pcapng: exit 127\n") {
		t.Errorf("tally %+v, stderr %q", got, stderr.String())
	}
}

// TestCaptureHookEndKillsAfterWait: a hook whose command outlives the
// wait is killed with its command (its process group), the run says so
// in one line, and the tally it had written is kept.
func TestCaptureHookEndKillsAfterWait(t *testing.T) {
	dir := t.TempDir()
	tally := filepath.Join(dir, "tally.json")
	if err := writeTally(tally, HookTally{Run: 2, Failed: 1}); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "cmd.pid")
	// the hook stand-in: a shell in its own process group running a
	// long command, as capture-hook runs one
	sh := exec.Command("/bin/sh", "-c", "sleep 600 & echo $! > "+shellQuote(pidFile)+"; wait")
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c, err := startProcess(sh)
	if err != nil {
		t.Fatal(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[0])
	h := &captureHook{child: c, wait: 200 * time.Millisecond, command: "sleep 600", wfd: p[1], tallyPath: tally}
	for i := 0; i < 500 && countBytes(pidFile) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := os.ReadFile(pidFile)
	cmdPID, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("the long command's pid: %q", b)
	}
	var log bytes.Buffer
	res := h.end(&log)
	if !res.Killed || res.Run != 2 || res.Failed != 1 || res.Command != "sleep 600" {
		t.Errorf("result %+v", *res)
	}
	if !strings.HasPrefix(log.String(), "rxprobe: capture.on_file: commands still running 200ms after the run stopped: killed the hook process") ||
		strings.Count(log.String(), "\n") != 1 {
		t.Errorf("log %q", log.String())
	}
	// the command was killed with the hook (reaped by init or gone)
	for i := 0; i < 500 && unix.Kill(cmdPID, 0) == nil && !zombie(cmdPID); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if unix.Kill(cmdPID, 0) == nil && !zombie(cmdPID) {
		t.Errorf("the hook's command (pid %d) outlived the kill", cmdPID)
	}
	if _, err := os.Stat(tally); !os.IsNotExist(err) {
		t.Errorf("tally file left: %v", err)
	}
}

func countBytes(path string) int {
	b, _ := os.ReadFile(path)
	return len(b)
}

// zombie says whether pid has exited but is not reaped yet.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
