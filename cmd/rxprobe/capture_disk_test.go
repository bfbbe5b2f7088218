package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/run/report"
	"golang.org/x/sys/unix"
)

// needCaptureDisk skips without root (DPDK, mount) or capinfos.
func needCaptureDisk(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (DPDK, mounting a tmpfs)")
	}
	if _, err := exec.LookPath("capinfos"); err != nil {
		t.Skip("capinfos not installed (wireshark-common)")
	}
}

// mountTmpfs mounts a tmpfs of sizeMB on a fresh directory, unmounted when
// the test ends.
func mountTmpfs(t *testing.T, sizeMB int) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(sizeMB)+"m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// dirFiles lists dir's finished capture files (*.pcapng, sorted: {seq}
// orders them) and its NAME.part files.
func dirFiles(t *testing.T, dir string) (done, part []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch p := filepath.Join(dir, e.Name()); {
		case strings.HasSuffix(e.Name(), ".part"):
			part = append(part, p)
		case strings.HasSuffix(e.Name(), ".pcapng"):
			done = append(done, p)
		}
	}
	slices.Sort(done)
	return done, part
}

// runDisk is runCaptureIn with capture.yaml's filter, returning the
// queue.
func runDisk(t *testing.T, dir, duration, slow string, edits ...string) report.Queue {
	t.Helper()
	_, _, q := runCaptureIn(t, dir, "not ip", duration, slow, edits...)
	return q
}

// checkFinished: no NAME.part after a clean stop, as many finished files
// as the report's files less those it deleted, and every one reads back
// whole in capinfos. It returns the packets they hold.
func checkFinished(t *testing.T, dir string, c *report.Capture) uint64 {
	t.Helper()
	done, part := dirFiles(t, dir)
	if len(part) != 0 {
		t.Errorf("unfinished files left after a clean stop: %v", part)
	}
	if uint64(len(done)) != c.Files-c.FilesDeleted {
		t.Errorf("%d files on disk, the report says %d finished and %d deleted", len(done), c.Files, c.FilesDeleted)
	}
	return capinfosCount(t, done)
}

// Small blocks so that 1 MB files rotate: rotate_mb needs two blocks.
const smallBlocks = "block_kb: 64\n  "

// TestCaptureRotatesBySizeThroughRun: 1 MB files on a 64 MB tmpfs; the
// run writes several, each whole, none left unfinished, and together
// they hold every packet written.
func TestCaptureRotatesBySizeThroughRun(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	q := runDisk(t, dir, "2s", "5ms",
		"rotate_mb: 256 ", smallBlocks+"rotate_mb: 1 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 ")
	c := q.Capture
	if c.Files < 3 || c.FilesDeleted != 0 || c.DiskDropped != 0 || c.WriteErrors != 0 {
		t.Fatalf("want >= 3 files, none deleted or failed: %+v", *c)
	}
	if n := checkFinished(t, dir, c); n != c.Written {
		t.Errorf("files hold %d packets, the report says %d written", n, c.Written)
	}
	done, _ := dirFiles(t, dir)
	for _, p := range done {
		if st, err := os.Stat(p); err != nil || st.Size() > 1<<20 {
			t.Errorf("%s: %v bytes (err %v), rotation at 1 MiB", p, st.Size(), err)
		}
	}
}

// TestCaptureRotatesByTimeThroughRun: rotate_every 1s over a 3.5 s run
// gives one file per wall-clock second the run touched (at least 3).
func TestCaptureRotatesByTimeThroughRun(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	q := runDisk(t, dir, "3500ms", "20ms",
		"rotate_every: 0s ", "rotate_every: 1s ",
		"min_free_mb: 1024 ", "min_free_mb: 1 ")
	c := q.Capture
	if c.Files < 3 || c.FilesDeleted != 0 || c.DiskDropped != 0 {
		t.Fatalf("want >= 3 files in 3.5 s rotating every second, none deleted: %+v", *c)
	}
	if n := checkFinished(t, dir, c); n != c.Written {
		t.Errorf("files hold %d packets, the report says %d written", n, c.Written)
	}
	// the file names carry their start second: all different
	done, _ := dirFiles(t, dir)
	secs := map[string]bool{}
	for _, p := range done {
		f := strings.Split(filepath.Base(p), "-")
		secs[f[len(f)-2]] = true
	}
	if len(secs) != len(done) {
		t.Errorf("two files started in the same second: %v", done)
	}
}

// TestCaptureMaxFilesThroughRun: with max_files 3 and 1 MB files, the run
// finishes more than 3 and keeps the newest 3.
func TestCaptureMaxFilesThroughRun(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	q := runDisk(t, dir, "2s", "5ms",
		"rotate_mb: 256 ", smallBlocks+"rotate_mb: 1 ",
		"max_files: 8 ", "max_files: 3 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 ")
	c := q.Capture
	if c.Files <= 3 || c.FilesDeleted != c.Files-3 {
		t.Fatalf("finished %d files, deleted %d: want more than 3 finished, all but 3 deleted", c.Files, c.FilesDeleted)
	}
	checkFinished(t, dir, c)
	done, _ := dirFiles(t, dir)
	if last := filepath.Base(done[len(done)-1]); last != c.LastFile {
		t.Errorf("newest file on disk %s, the report's last %s", last, c.LastFile)
	}
}

// freeBytes is what an unprivileged writer may still use on dir's file
// system.
func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// TestCaptureFreeSpaceGuardThroughRun: on an 8 MB tmpfs that must keep
// 4 MB free, rotating 1 MB files deletes the oldest, and one growing file
// that cannot fit is dropped and counted (disk_dropped); the file system
// never goes below the minimum and the equation holds in both.
func TestCaptureFreeSpaceGuardThroughRun(t *testing.T) {
	needCaptureDisk(t)
	t.Run("rotating", func(t *testing.T) {
		dir := mountTmpfs(t, 8)
		q := runDisk(t, dir, "2s", "2ms",
			"rotate_mb: 256 ", smallBlocks+"rotate_mb: 1 ",
			"min_free_mb: 1024 ", "min_free_mb: 4 ")
		c := q.Capture
		if free := freeBytes(t, dir); free < 4<<20 {
			t.Errorf("%d bytes free, the guard keeps 4 MiB", free)
		}
		if c.FilesDeleted == 0 || c.BytesWritten <= 4<<20 {
			t.Errorf("wrote %d bytes, deleted %d files: want more than the 4 MiB room and deletions", c.BytesWritten, c.FilesDeleted)
		}
		checkFinished(t, dir, c)
	})
	t.Run("one file", func(t *testing.T) {
		dir := mountTmpfs(t, 8)
		q := runDisk(t, dir, "2s", "2ms", "rotate_mb: 256 ", smallBlocks+"rotate_mb: 0 ",
			"min_free_mb: 1024 ", "min_free_mb: 4 ")
		c := q.Capture
		if free := freeBytes(t, dir); free < 4<<20 {
			t.Errorf("%d bytes free, the guard keeps 4 MiB", free)
		}
		if c.DiskDropped == 0 || c.WriteErrors == 0 {
			t.Errorf("one file of ~30 MB into 4 MiB of room: no disk drop counted: %+v", *c)
		}
		if _, part := dirFiles(t, dir); len(part) != 0 {
			t.Errorf("unfinished files left: %v", part)
		}
	})
}

// TestCaptureSurvivesKill9ThroughRun: rxprobe run killed with SIGKILL
// while rotating leaves every finished file whole (capinfos reads each);
// a NAME.part may remain.
func TestCaptureSurvivesKill9ThroughRun(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	prefix := uniquePrefix(t)
	cfg := captureConfig(t, prefix, dir, "not ip",
		"rotate_mb: 256 ", smallBlocks+"rotate_mb: 1 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 ")
	t.Cleanup(func() { _ = os.RemoveAll("/var/run/dpdk/" + prefix) })
	cmd, done := startRun(t, cfg, filepath.Join(t.TempDir(), "r.json"), "--no-exporter",
		"--debug-capture-slow-writer", "5ms")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if f, _ := dirFiles(t, dir); len(f) >= 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	finished, part := dirFiles(t, dir)
	if len(finished) < 3 {
		t.Fatalf("%d files finished before the kill", len(finished))
	}
	t.Logf("%d finished files, %d .part left by the kill", len(finished), len(part))
	if capinfosCount(t, finished) == 0 {
		t.Error("the finished files hold no packet")
	}
}

// TestCaptureRetentionSparesOthersFiles: a file of no capture's, one an
// earlier run left under the same pattern with an older time, one an
// earlier run left under exactly the name this run's first file would get
// and a killed run's NAME.part under its second all survive a run whose
// max_files ring deletes its own files (the run skips the taken names).
func TestCaptureRetentionSparesOthersFiles(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	others := map[string]string{
		"notes.txt":                   "not a capture",
		"cap-p0q0-old-000000.pcapng":  "an earlier run's file",
		"cap-p0q0-000000.pcapng":      "an earlier run's file under this run's first name",
		"cap-p0q0-000001.pcapng.part": "a killed run's unfinished file under this run's second name",
	}
	for name, body := range others {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	q := runDisk(t, dir, "2s", "5ms",
		"# pattern: \"rxprobe-p{port}q{queue}-%Y%m%dT%H%M%SZ-{seq}.pcapng\"", `pattern: "cap-p{port}q{queue}-{seq}.pcapng"`,
		"rotate_mb: 256 ", smallBlocks+"rotate_mb: 1 ",
		"max_files: 8 ", "max_files: 2 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 ")
	c := q.Capture
	if c.FilesDeleted == 0 {
		t.Fatalf("the ring deleted nothing, so it proves nothing: %+v", *c)
	}
	for name, body := range others {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != body {
			t.Errorf("%s: %d bytes (err %v): the run deleted or replaced a file it did not create", name, len(b), err)
		}
	}
	done, _ := dirFiles(t, dir)
	var mine []string
	for _, p := range done {
		if _, other := others[filepath.Base(p)]; !other {
			mine = append(mine, p)
		}
	}
	if uint64(len(mine)) != c.Files-c.FilesDeleted || len(mine) != 2 {
		t.Errorf("%d of this run's files on disk, report: %d finished, %d deleted; want 2", len(mine), c.Files, c.FilesDeleted)
	}
	capinfosCount(t, mine)
}

// TestCaptureFixedNameNotOverwritten: a pattern without {seq} names a file
// an earlier run left: the run keeps that file and counts its own packets
// as dropped to disk instead of replacing it.
func TestCaptureFixedNameNotOverwritten(t *testing.T) {
	needCaptureDisk(t)
	dir := mountTmpfs(t, 64)
	old := filepath.Join(dir, "fixed.pcapng")
	if err := os.WriteFile(old, []byte("an earlier run's file"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := runDisk(t, dir, "1s", "5ms",
		"# pattern: \"rxprobe-p{port}q{queue}-%Y%m%dT%H%M%SZ-{seq}.pcapng\"", `pattern: "fixed.pcapng"`, "rotate_mb: 256 ", "rotate_mb: 0 ",
		"min_free_mb: 1024 ", "min_free_mb: 1 ")
	c := q.Capture
	if b, err := os.ReadFile(old); err != nil || string(b) != "an earlier run's file" {
		t.Errorf("fixed.pcapng: %d bytes (err %v): replaced by the run", len(b), err)
	}
	if c.Written != 0 || c.DiskDropped == 0 || c.WriteErrors == 0 {
		t.Errorf("want every captured packet dropped to disk with a write error: %+v", *c)
	}
	if _, part := dirFiles(t, dir); len(part) != 0 {
		t.Errorf("unfinished files left: %v", part)
	}
}
