package shm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fill writes v into every 64-bit word of p.
func fill(p []byte, v uint64) {
	for i := 0; i < len(p); i += 8 {
		binary.NativeEndian.PutUint64(p[i:], v)
	}
}

// uniform returns the common value of all words of p, or an error naming
// the first word that differs.
func uniform(p []byte) (uint64, error) {
	v := binary.NativeEndian.Uint64(p)
	for i := 8; i < len(p); i += 8 {
		if w := binary.NativeEndian.Uint64(p[i:]); w != v {
			return v, fmt.Errorf("torn payload: word 0 = %d, word %d = %d", v, i/8, w)
		}
	}
	return v, nil
}

func mustCreate(t *testing.T, dir, prefix string, size int) *Writer {
	t.Helper()
	w, err := Create(dir, prefix, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "port0", 256)
	if got, want := w.Path(), filepath.Join(dir, "rxprobe-port0"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	r, err := Open(dir, "port0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, r.PayloadSize())
	if _, err := r.Read(buf); !errors.Is(err, ErrNoSample) {
		t.Errorf("Read before Commit: %v, want ErrNoSample", err)
	}
	p := w.Begin()
	fill(p, 0xfeed)
	w.Commit(1_700_000_000_123_456_789)
	h, err := r.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{Version: Version, PayloadSize: 256, PID: os.Getpid(), Seq: 2, Heartbeat: 1_700_000_000_123_456_789, Samples: 1}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if v, err := uniform(buf); err != nil || v != 0xfeed {
		t.Errorf("payload %#x, %v; want 0xfeed", v, err)
	}
	// Commit without Begin republishes with a new heartbeat.
	w.Commit(5)
	if h, _ := r.Read(buf); h.Heartbeat != 5 || h.Samples != 2 || h.Seq != 4 {
		t.Errorf("after bare Commit: %+v", h)
	}
	if _, err := r.Read(buf[:8]); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("Read into a short buffer: %v, want io.ErrShortBuffer", err)
	}
}

func TestReadBusy(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "busy", 64)
	w.Commit(1)
	r, err := Open(dir, "busy")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 64)
	w.Begin() // a writer stuck (or dead) mid-sample
	if _, err := r.Read(buf); !errors.Is(err, ErrBusy) {
		t.Errorf("Read during a sample: %v, want ErrBusy", err)
	}
	w.Commit(2)
	if _, err := r.Read(buf); err != nil {
		t.Errorf("Read after Commit: %v", err)
	}
}

// TestNoTornReads hammers the segment from a writer goroutine while a
// reader goroutine checks that every snapshot has all payload words equal
// to each other and to the heartbeat committed with them.
func TestNoTornReads(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "hammer", 4096)
	w.Commit(0)
	r, err := Open(dir, "hammer")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const samples = 200_000
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := uint64(1); i <= samples; i++ {
			p := w.Begin()
			// Word by word, so a reader overlapping the write would see a mix.
			for j := 0; j < len(p); j += 8 {
				binary.NativeEndian.PutUint64(p[j:], i)
			}
			w.Commit(int64(i))
			if i%16 == 0 {
				runtime.Gosched() // let the reader in between samples too
			}
		}
	}()
	buf := make([]byte, r.PayloadSize())
	var reads, busy int
	distinct := map[uint64]bool{}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		h, err := r.Read(buf)
		if errors.Is(err, ErrBusy) {
			busy++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := uniform(buf)
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if v != uint64(h.Heartbeat) || h.Samples != v+1 {
			t.Fatalf("read %d: payload %d, heartbeat %d, samples %d: not from one sample", reads, v, h.Heartbeat, h.Samples)
		}
		distinct[v] = true
		reads++
	}
	wg.Wait()
	t.Logf("%d consistent reads of %d distinct samples, %d busy", reads, len(distinct), busy)
	if len(distinct) < 2 {
		t.Errorf("reader saw only %d distinct samples; the test did not overlap reads and writes", len(distinct))
	}
	h, err := r.Read(buf)
	if err != nil || h.Samples != samples+1 {
		t.Errorf("final read: %+v, %v; want %d samples", h, err, samples+1)
	}
}

func TestNoAllocation(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "alloc", 1024)
	r, err := Open(dir, "alloc")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 1024)
	var i int64
	if a := testing.AllocsPerRun(100, func() {
		i++
		p := w.Begin()
		p[0] = byte(i)
		w.Commit(i)
	}); a != 0 {
		t.Errorf("Begin/Commit: %v allocations, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() {
		if _, err := r.Read(buf); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Read: %v allocations, want 0", a)
	}
}

func TestCloseRemovesFile(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "gone", 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rxprobe-gone")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("segment still there after Close: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left in dir: %v", ents)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if p := w.Begin(); p != nil {
		t.Error("Begin after Close returned a payload")
	}
	w.Commit(1) // must not crash
}

func TestLiveSegmentRefusedInProcess(t *testing.T) {
	dir := t.TempDir()
	mustCreate(t, dir, "dup", 64)
	_, err := Create(dir, "dup", 64)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Create: %v, want ErrInUse", err)
	}
	for _, want := range []string{filepath.Join(dir, "rxprobe-dup"), "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if l, _ := List(dir); !cmp.Equal(l, []string{"dup"}) {
		t.Errorf("temporary file left behind or segment lost: List = %v", l)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir, "nope")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing segment: %v, want ErrNotFound and fs.ErrNotExist", err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, "rxprobe-"+name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hdr := func(magic string, version uint32, payload uint64) []byte {
		b := make([]byte, HeaderSize+64)
		copy(b, magic)
		binary.NativeEndian.PutUint32(b[offVersion:], version)
		binary.NativeEndian.PutUint32(b[offHdrSize:], HeaderSize)
		binary.NativeEndian.PutUint64(b[offPayload:], payload)
		return b
	}
	write("short", []byte("RXPRSHM1"))
	write("magic", hdr("NOTMAGIC", Version, 64))
	write("version", hdr(Magic, 99, 64))
	write("oversize", hdr(Magic, Version, 4096))
	write("ok", hdr(Magic, Version, 64))
	for _, tc := range []struct {
		prefix string
		want   error
	}{
		{"short", ErrBadMagic},
		{"magic", ErrBadMagic},
		{"version", ErrVersion},
		{"oversize", ErrBadMagic},
	} {
		if _, err := Open(dir, tc.prefix); !errors.Is(err, tc.want) {
			t.Errorf("Open(%s): %v, want %v", tc.prefix, err, tc.want)
		}
	}
	r, err := Open(dir, "ok")
	if err != nil {
		t.Fatalf("Open of a valid, never-written segment: %v", err)
	}
	if _, err := r.Read(make([]byte, 64)); !errors.Is(err, ErrNoSample) {
		t.Errorf("Read: %v, want ErrNoSample", err)
	}
	r.Close()
	if _, err := r.Read(make([]byte, 64)); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
}

func TestCreateArguments(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		prefix string
		size   int
	}{
		{"", 64}, {"a/b", 64}, {"..", 64}, {".", 64}, {"ok", 0}, {"ok", 12}, {"ok", -8}, {"ok", MaxPayload + 8},
	} {
		if w, err := Create(dir, tc.prefix, tc.size); err == nil {
			w.Close()
			t.Errorf("Create(%q, %d) succeeded", tc.prefix, tc.size)
		}
	}
	if _, err := Create(filepath.Join(dir, "missing"), "x", 64); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create in a missing dir: %v, want fs.ErrNotExist", err)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	mustCreate(t, dir, "b", 64)
	mustCreate(t, dir, "a", 64)
	for _, name := range []string{"unrelated", "rxprobe-", ".rxprobe-c.tmp-1"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "rxprobe-dir"), 0o755)
	got, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := List(filepath.Join(dir, "missing")); err == nil {
		t.Error("List of a missing dir succeeded")
	}
}

// Cross-process tests: the test binary re-executes itself with
// RXPROBE_SHM_CHILD set; TestMain dispatches to the child's role.

const childEnv = "RXPROBE_SHM_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(child(role, os.Getenv("RXPROBE_SHM_DIR"), os.Getenv("RXPROBE_SHM_PREFIX")))
	}
	os.Exit(m.Run())
}

// child runs one role in a separate process and returns its exit code.
func child(role, dir, prefix string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 1 }
	switch role {
	case "read": // read and verify what the parent wrote
		r, err := Open(dir, prefix)
		if err != nil {
			return fail(err)
		}
		defer r.Close()
		buf := make([]byte, r.PayloadSize())
		h, err := r.Read(buf)
		if err != nil {
			return fail(err)
		}
		v, err := uniform(buf)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("pid=%d samples=%d heartbeat=%d value=%d size=%d\n", h.PID, h.Samples, h.Heartbeat, v, h.PayloadSize)
		return 0
	case "crash": // create, publish, and die without Close
		w, err := Create(dir, prefix, 64)
		if err != nil {
			return fail(err)
		}
		fill(w.Begin(), 7)
		w.Commit(7)
		os.Exit(0) // no Close: the file stays, the lock dies with us
	case "hold": // create, say ready, hold until stdin closes, then Close
		w, err := Create(dir, prefix, 64)
		if err != nil {
			return fail(err)
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		if err := w.Close(); err != nil {
			return fail(err)
		}
		return 0
	}
	return fail(fmt.Errorf("unknown role %q", role))
}

func childCmd(t *testing.T, role, dir, prefix string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, "RXPROBE_SHM_DIR="+dir, "RXPROBE_SHM_PREFIX="+prefix)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestCrossProcessRead(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "xproc", 8192)
	for i := int64(1); i <= 3; i++ {
		fill(w.Begin(), uint64(i*1000))
		w.Commit(i)
	}
	out, err := childCmd(t, "read", dir, "xproc").Output()
	if err != nil {
		t.Fatalf("child reader: %v", err)
	}
	want := fmt.Sprintf("pid=%d samples=3 heartbeat=3 value=3000 size=8192\n", os.Getpid())
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("child saw (-want +got):\n%s", diff)
	}
}

func TestStaleSegmentReplaced(t *testing.T) {
	dir := t.TempDir()
	if err := childCmd(t, "crash", dir, "stale").Run(); err != nil {
		t.Fatalf("crashing child: %v", err)
	}
	// The dead child's segment is still there, readable, with its pid.
	r, err := Open(dir, "stale")
	if err != nil {
		t.Fatalf("stale segment not left behind: %v", err)
	}
	h, err := r.Read(make([]byte, 64))
	r.Close()
	if err != nil || h.PID == os.Getpid() || h.Samples != 1 {
		t.Fatalf("stale segment header %+v, %v", h, err)
	}
	w := mustCreate(t, dir, "stale", 128)
	r, err = Open(dir, "stale")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(make([]byte, 128)); !errors.Is(err, ErrNoSample) {
		t.Errorf("replaced segment: %v, want ErrNoSample (fresh)", err)
	}
	w.Commit(1)
	if h, err := r.Read(make([]byte, 128)); err != nil || h.PID != os.Getpid() || h.PayloadSize != 128 {
		t.Errorf("replaced segment header %+v, %v; want our pid and size 128", h, err)
	}
}

// startHolder starts a child that creates the segment and holds it until
// its stdin closes; it returns once the child says it is ready.
func startHolder(t *testing.T, dir, prefix string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := childCmd(t, "hold", dir, prefix)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("child did not get ready: %q, %v", line, err)
	}
	return cmd, stdin
}

func TestLiveSegmentRefusedAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd, stdin := startHolder(t, dir, "live")
	defer cmd.Wait()
	defer stdin.Close()
	_, err := Create(dir, "live", 64)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("Create over a live writer: %v, want ErrInUse", err)
	}
	if want := "pid " + strconv.Itoa(cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the writer (%s)", err, want)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rxprobe-live")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("child's Close did not remove the segment: %v", err)
	}
	mustCreate(t, dir, "live", 64) // free again
}

func TestRemoveStaleRemovesOnlyDeadWriters(t *testing.T) {
	dir := t.TempDir()
	if err := childCmd(t, "crash", dir, "dead").Run(); err != nil {
		t.Fatalf("crashing child: %v", err)
	}
	live := mustCreate(t, dir, "live", 64) // our lock is held
	defer live.Close()
	cmd, stdin := startHolder(t, dir, "held") // another live process's lock
	defer func() { stdin.Close(); cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(dir, "other"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The detector first: the dead writer's segment is there.
	if got, _ := List(dir); !slices.Equal(got, []string{"dead", "held", "live"}) {
		t.Fatalf("List = %v before the cleanup, want dead, held, live", got)
	}
	removed, err := RemoveStale(dir)
	if err != nil || !slices.Equal(removed, []string{"dead"}) {
		t.Fatalf("RemoveStale = %v, %v; want [dead]", removed, err)
	}
	if got, _ := List(dir); !slices.Equal(got, []string{"held", "live"}) {
		t.Errorf("List = %v after the cleanup, want held, live", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); err != nil {
		t.Errorf("a file that is not a segment was touched: %v", err)
	}
	if removed, err := RemoveStale(filepath.Join(dir, "missing")); removed != nil || err != nil {
		t.Errorf("RemoveStale(missing dir) = %v, %v; want nothing", removed, err)
	}
}
