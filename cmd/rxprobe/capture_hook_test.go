package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/run"
)

// onFileEdit is the captureConfig edit that sets capture.on_file.
func onFileEdit(command string) []string {
	return []string{`# cpus: "0"`, "on_file: " + strconv.Quote(command) + "\n  # cpus: \"0\""}
}

// TestCaptureOnFileThroughRun: with 1 MB files rotating and the oldest
// deleted beyond 3, the on_file command gets every finished file exactly
// once (never a NAME.part, never the name of one deleted), as
// {file} and in RXPROBE_CAPTURE_FILE; it runs as a child of one hook
// process (`rxprobe capture-hook`), itself a child of the run: never a
// child of the RX process; and never on the RX CPU. The report's tally
// agrees.
func TestCaptureOnFileThroughRun(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	list := filepath.Join(t.TempDir(), "list")
	// $PPID is the process that started this shell
	cmd := `printf '%s\t%s\t%s\t%s\t%s\t%s\n' {file} "$RXPROBE_CAPTURE_FILE" $PPID "$(tr '\0' ' ' </proc/$PPID/cmdline)" ` +
		`"$(tr '\0' ' ' </proc/$(cut -d' ' -f4 /proc/$PPID/stat)/cmdline)" "$(grep Cpus_allowed_list /proc/self/status | cut -f2)" >> '` + list + `'`
	r, _, q := runCaptureIn(t, dir, "not ip", "2s", "5ms", append([]string{
		"rotate_mb: 256 ", smallBlocks + "rotate_mb: 1 ", "max_files: 8 ", "max_files: 3 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 "}, onFileEdit(cmd)...)...)
	c := q.Capture
	if c.Files <= 3 || c.FilesDeleted == 0 {
		t.Fatalf("want more than 3 finished files, the oldest deleted: %+v", *c)
	}
	checkFinished(t, dir, c)
	done, _ := dirFiles(t, dir)
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatalf("the command never ran: %v", err)
	}
	seen := map[string]int{}
	hooks := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			t.Fatalf("bad line %q", l)
		}
		file, env, hookPID, hookCmd, parentCmd := f[0], f[1], f[2], f[3], f[4]
		if cpus, err := cpuset.Parse(f[5]); err != nil || (rxCPU() != 0 && cpus.Has(rxCPU())) {
			t.Errorf("the command may run on CPUs %q (%v): the RX CPU %d among them", f[5], err, rxCPU())
		}
		seen[file]++
		hooks[hookPID] = true
		if file != env || !filepath.IsAbs(file) || strings.HasSuffix(file, ".part") {
			t.Errorf("{file} %q, RXPROBE_CAPTURE_FILE %q: want the same absolute path of a finished file", file, env)
		}
		if !strings.Contains(hookCmd, " capture-hook ") {
			t.Errorf("the command's parent is %q, not the hook process", hookCmd)
		}
		if !strings.Contains(parentCmd, " run --config ") {
			t.Errorf("the hook process's parent is %q, not rxprobe run", parentCmd)
		}
	}
	if len(hooks) != 1 {
		t.Errorf("commands ran under %d processes %v, want the one hook process", len(hooks), hooks)
	}
	if uint64(len(seen)) != c.Files {
		t.Errorf("the command saw %d files, the run finished %d", len(seen), c.Files)
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("%s: the command ran %d times, want once", p, n)
		}
	}
	for _, p := range done {
		if seen[p] != 1 {
			t.Errorf("%s: the command ran %d times, want once", p, seen[p])
		}
	}
	h := r.CaptureHook
	if h == nil || h.Announced != c.Files || h.Run != c.Files || h.Failed != 0 || h.Dropped != 0 || h.Killed {
		t.Errorf("report's hook %+v, want %d announced and run, none failed or dropped", h, c.Files)
	}
}

// TestCaptureOnFileFailsThroughRun: a command exiting 3 gives one stderr
// line per finished file naming it, counted as failed in the report; the
// run itself still exits 0 with every file kept.
func TestCaptureOnFileFailsThroughRun(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	r, res, q := runCaptureIn(t, dir, "not ip", "1s", "5ms", append([]string{
		"rotate_mb: 256 ", smallBlocks + "rotate_mb: 1 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 "}, onFileEdit("exit 3")...)...)
	c := q.Capture
	done, _ := dirFiles(t, dir)
	if c.Files == 0 || uint64(len(done)) != c.Files {
		t.Fatalf("%d files on disk, report %+v", len(done), *c)
	}
	for _, p := range done {
		if line := "rxprobe: capture.on_file: " + p + ": exit 3\n"; strings.Count(res.stderr, line) != 1 {
			t.Errorf("stderr lacks one %q:\n%s", line, res.stderr)
		}
	}
	if h := r.CaptureHook; h == nil || h.Run != c.Files || h.Failed != c.Files {
		t.Errorf("report's hook %+v, want %d run and failed", h, c.Files)
	}
}

// TestIntegrationStraceCaptureOnFile: strace, attached to every thread of
// the RX process after warm-up while capture.on_file runs on 1 MB files,
// sees no clone (no fork, no thread) and no change of mappings until the
// SIGTERM, while the command ran on files finished in that window. (The
// detector's control, a planted munmap seen, is in
// TestIntegrationStraceWholeRXProcess; clone is in the same trace set.)
func TestIntegrationStraceCaptureOnFile(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace (apt-get install strace)")
	}
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	list := filepath.Join(t.TempDir(), "list")
	prefix := uniquePrefix(t)
	cfg := captureConfig(t, prefix, dir, "not ip", append([]string{
		"rotate_mb: 256 ", smallBlocks + "rotate_mb: 1 ",
		"max_files: 8 ", "max_files: 4 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 "}, onFileEdit(`echo {file} >> '`+list+`'`)...)...)
	cmd, done := startRun(t, cfg, filepath.Join(t.TempDir(), "r.json"), "--no-exporter", "--status", "never",
		"--debug-capture-slow-writer", "5ms")
	terminateOnCleanup(t, cmd, done)
	time.Sleep(run.Warmup + 500*time.Millisecond)
	before := countLines(list)
	calls, _ := straceWindow(t, strace, cmd, done, 3*time.Second)
	if len(calls) > 0 {
		t.Errorf("the RX process forked, made a thread or changed its mappings while on_file ran (%d calls):\n%s", len(calls), strings.Join(calls, "\n"))
	}
	after := countLines(list)
	if after <= before+1 {
		t.Errorf("the command ran on %d files before the window, %d after it: the window proves nothing", before, after)
	}
	t.Logf("on_file ran on %d files before the strace window, %d by the end of the run", before, after)
	assertNoLeftovers(t, prefix)
}

// countLines is the number of lines in path (0 when it does not exist).
func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}
