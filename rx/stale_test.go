package rx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/stats/shm"
)

func TestRemoveStaleKeepsLiveRuns(t *testing.T) {
	shmDir, runDir, tmpDir := t.TempDir(), t.TempDir(), t.TempDir()
	// A run killed with SIGKILL: its segment (nobody holds the lock) and
	// its runtime directory under one of the bases, with a file in it.
	if err := os.WriteFile(filepath.Join(shmDir, shm.FilePrefix+"rxprobe-run-1"), make([]byte, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, filepath.Join(runDir, "rxprobe-run-1"), filepath.Join(runDir, "rxprobe-run-2"), filepath.Join(tmpDir, "rxprobe-run-2"), filepath.Join(runDir, "rxprobe-gen-3"))
	if err := os.WriteFile(filepath.Join(runDir, "rxprobe-run-1", "config"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A live run: this process holds its segment's lock.
	live, err := shm.Create(shmDir, "rxprobe-run-2", 64)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	removed, err := removeStale(shmDir, []string{runDir, tmpDir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(shmDir, "rxprobe-rxprobe-run-1"), filepath.Join(runDir, "rxprobe-run-1")}
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for _, p := range []string{live.Path(), filepath.Join(runDir, "rxprobe-run-2"), filepath.Join(tmpDir, "rxprobe-run-2"), filepath.Join(runDir, "rxprobe-gen-3")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	for _, p := range want {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	// A second start finds nothing more to remove and says nothing.
	removed, err = removeStale(shmDir, []string{runDir, tmpDir})
	if l := staleLine(removed, err); l != "" {
		t.Errorf("second pass said %q", l)
	}
}

func TestStaleLine(t *testing.T) {
	got := staleLine([]string{"/dev/shm/rxprobe-a", "/var/run/dpdk/a"}, nil)
	if want := "removed what killed runs left behind: /dev/shm/rxprobe-a, /var/run/dpdk/a"; got != want {
		t.Errorf("staleLine = %q, want %q", got, want)
	}
	got = staleLine(nil, errors.Join(errors.New("x: denied"), errors.New("y: denied")))
	if want := "could not remove stale files: x: denied; y: denied"; got != want {
		t.Errorf("staleLine = %q, want %q", got, want)
	}
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
