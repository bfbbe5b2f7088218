package run

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
