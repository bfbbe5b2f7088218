package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultDir is where segments live unless a caller says otherwise.
const DefaultDir = "/dev/shm"

// FilePrefix starts the file name of every segment: DIR/rxprobe-<prefix>.
const FilePrefix = "rxprobe-"

// Magic identifies a segment; Version is the layout described in doc.go.
const (
	Magic   = "RXPRSHM1"
	Version = 1
)

// HeaderSize is the size of the fixed header; the payload follows it.
const HeaderSize = 64

// MaxPayload bounds the payload size accepted by Create.
const MaxPayload = 1 << 30

// Header field offsets.
const (
	offMagic     = 0  // [8]byte
	offVersion   = 8  // uint32
	offHdrSize   = 12 // uint32
	offPayload   = 16 // uint64
	offPID       = 24 // uint64
	offSeq       = 32 // uint64, seqlock sequence, atomic
	offHeartbeat = 40 // uint64, unix nanoseconds, atomic
	offSamples   = 48 // uint64, samples committed, atomic
)

// readRetries bounds Read's attempts to get a consistent copy.
const readRetries = 1000

// Errors. Functions return them wrapped with the path; match with errors.Is.
var (
	// ErrNotFound: no segment with that prefix (also matches fs.ErrNotExist).
	ErrNotFound = errors.New("shm: segment not found")
	// ErrInUse: Create found a segment held by a live writer.
	ErrInUse = errors.New("shm: segment in use by a live writer")
	// ErrBadMagic: the file is not an rxprobe segment (or is truncated).
	ErrBadMagic = errors.New("shm: bad magic or truncated segment")
	// ErrVersion: the segment has a layout version this code does not read.
	ErrVersion = errors.New("shm: unsupported layout version")
	// ErrBusy: Read could not get a consistent copy within its retries (the
	// writer is mid-sample for too long, or died mid-sample).
	ErrBusy = errors.New("shm: writer busy, no consistent snapshot")
	// ErrNoSample: the writer has not committed a sample yet.
	ErrNoSample = errors.New("shm: no sample committed yet")
	// ErrClosed: the Writer or Reader was closed.
	ErrClosed = errors.New("shm: closed")
)

// Header is the decoded header of a segment at the time of a Read.
type Header struct {
	Version     uint32
	PayloadSize int
	// PID of the writer process.
	PID int
	// Seq is the seqlock sequence of the snapshot (even).
	Seq uint64
	// Heartbeat is the writer's time of the last Commit, unix nanoseconds.
	Heartbeat int64
	// Samples counts the commits so far.
	Samples uint64
	// Served is the newest sample request this snapshot answers: its
	// counters were read after request Served was made (Reached).
	Served uint32
}

// segmentPath validates prefix and returns DIR/rxprobe-<prefix>.
func segmentPath(dir, prefix string) (string, error) {
	if prefix == "" || prefix == "." || prefix == ".." || strings.ContainsAny(prefix, "/\x00") {
		return "", fmt.Errorf("shm: invalid prefix %q", prefix)
	}
	if dir == "" {
		dir = DefaultDir
	}
	return filepath.Join(dir, FilePrefix+prefix), nil
}

// word returns the uint64 at off in a mapping (page-aligned, so aligned).
func word(mem []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&mem[off])) }

// Writer publishes samples into a segment. Only one goroutine may use it.
type Writer struct {
	path    string
	fd      int // kept open: holds the flock that marks the writer alive
	mem     []byte
	payload []byte
	seq     uint64 // local copy of the sequence
	samples uint64
	open    bool          // between Begin and Commit
	served  uint32        // request number the next Commit publishes (Serve)
	ts      unix.Timespec // WaitRequest's timeout, here so that it is not allocated
}

// Create creates DIR/rxprobe-<prefix> with room for payloadSize bytes
// (a positive multiple of 8, at most MaxPayload) and maps it once.
//
// The segment is built under a temporary name created with
// O_CREAT|O_EXCL, locked (flock LOCK_EX, held until Close or process
// death), sized, mapped and given its header, and only then linked to its
// final name; link fails if the name exists, so the final name never shows
// a half-initialised segment and two writers cannot both win.
//
// If the name exists, the existing segment is probed: if its lock is held,
// its writer is alive and Create fails with ErrInUse, naming the path and
// the writer's pid. If nobody holds the lock, the writer is dead (the
// kernel drops flock locks when a process dies, whatever the cause), the
// stale file is removed and creation is retried. The lock, not the pid, is
// the liveness test: pids are reused, and the lock works across pid
// namespaces.
func Create(dir, prefix string, payloadSize int) (*Writer, error) {
	path, err := segmentPath(dir, prefix)
	if err != nil {
		return nil, err
	}
	if payloadSize <= 0 || payloadSize%8 != 0 || payloadSize > MaxPayload {
		return nil, fmt.Errorf("shm: payload size %d: want a positive multiple of 8 up to %d", payloadSize, MaxPayload)
	}
	w, tmp, err := build(filepath.Dir(path), filepath.Base(path), payloadSize)
	if err != nil {
		return nil, err
	}
	defer unix.Unlink(tmp) // after link (or failure) the temporary name goes
	for attempt := 0; ; attempt++ {
		err := unix.Link(tmp, path)
		if err == nil {
			w.path = path
			return w, nil
		}
		if err != unix.EEXIST || attempt == 3 {
			w.release()
			return nil, fmt.Errorf("shm: create %s: %w", path, err)
		}
		if _, err := removeIfStale(path); err != nil {
			w.release()
			return nil, err
		}
	}
}

// build makes the locked, sized, mapped and initialised temporary file.
func build(dir, base string, payloadSize int) (*Writer, string, error) {
	tmp := filepath.Join(dir, "."+base+".tmp-"+strconv.Itoa(os.Getpid()))
	_ = unix.Unlink(tmp) // leftover of a crashed attempt by a process with our pid
	fd, err := unix.Open(tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("shm: create %s: %w", tmp, err)
	}
	w := &Writer{fd: fd}
	fail := func(op string, err error) (*Writer, string, error) {
		w.release()
		unix.Unlink(tmp)
		return nil, "", fmt.Errorf("shm: %s %s: %w", op, tmp, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fail("lock", err)
	}
	size := HeaderSize + payloadSize
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return fail("truncate", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap", err)
	}
	w.mem = mem
	w.payload = mem[HeaderSize:size:size]
	copy(mem[offMagic:], Magic)
	binary.NativeEndian.PutUint32(mem[offVersion:], Version)
	binary.NativeEndian.PutUint32(mem[offHdrSize:], HeaderSize)
	binary.NativeEndian.PutUint64(mem[offPayload:], uint64(payloadSize))
	binary.NativeEndian.PutUint64(mem[offPID:], uint64(os.Getpid()))
	return w, tmp, nil
}

// removeIfStale removes path if no live writer holds its lock, and returns
// an ErrInUse error naming the writer otherwise. removed tells whether it
// removed the file (false also when the name vanished or changed meanwhile).
func removeIfStale(path string) (removed bool, err error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return false, nil // vanished meanwhile: retry the link
	}
	if err != nil {
		return false, fmt.Errorf("shm: probe existing %s: %w", path, err)
	}
	defer unix.Close(fd) // also drops our lock on the stale file
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if err == unix.EWOULDBLOCK {
			var hdr [HeaderSize]byte
			pid := "unknown"
			if n, _ := unix.Pread(fd, hdr[:], 0); n == HeaderSize && string(hdr[:8]) == Magic {
				pid = strconv.FormatUint(binary.NativeEndian.Uint64(hdr[offPID:]), 10)
			}
			return false, fmt.Errorf("shm: %s held by writer pid %s: %w", path, pid, ErrInUse)
		}
		return false, fmt.Errorf("shm: lock existing %s: %w", path, err)
	}
	// Stale. Remove it only if the name still refers to the file we locked:
	// another creator may have replaced it since we opened it.
	var locked, named unix.Stat_t
	if unix.Fstat(fd, &locked) != nil || unix.Stat(path, &named) != nil ||
		locked.Dev != named.Dev || locked.Ino != named.Ino {
		return false, nil // retry the link; it will see whatever is there now
	}
	if err := unix.Unlink(path); err != nil {
		if err == unix.ENOENT {
			return false, nil
		}
		return false, fmt.Errorf("shm: remove stale %s: %w", path, err)
	}
	return true, nil
}

// RemoveStale removes the segments in dir ("" means DefaultDir) whose
// writer is gone — nobody holds their lock, which the kernel drops when a
// process dies however it died — and returns their prefixes, sorted. A
// segment whose lock is held is never touched. A missing dir is no error.
func RemoveStale(dir string) ([]string, error) {
	prefixes, err := List(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, p := range prefixes {
		path, err := segmentPath(dir, p)
		if err != nil {
			continue
		}
		ok, err := removeIfStale(path)
		switch {
		case errors.Is(err, ErrInUse):
		case err != nil:
			errs = append(errs, err)
		case ok:
			removed = append(removed, p)
		}
	}
	return removed, errors.Join(errs...)
}

// Path returns the segment's file name.
func (w *Writer) Path() string { return w.path }

// PayloadSize returns the payload size chosen at creation.
func (w *Writer) PayloadSize() int { return len(w.payload) }

// Begin starts a sample: it makes the sequence odd, so readers will retry,
// and returns the payload to fill in place. The slice aliases the mapping;
// it stays valid until Close. Calling Begin again before Commit returns
// the same slice. Begin does not allocate.
func (w *Writer) Begin() []byte {
	if w.mem == nil {
		return nil
	}
	if !w.open {
		w.seq++
		atomic.StoreUint64(word(w.mem, offSeq), w.seq)
		w.open = true
	}
	return w.payload
}

// Commit publishes the sample started by Begin: it stores the heartbeat
// (the caller's clock, unix nanoseconds), the sample count and the served
// request number (Serve), then makes the sequence even and, when the
// served number moved, wakes the requesters waiting for it. All three are atomic stores, ordered after the
// caller's payload writes. Commit without Begin republishes the current
// payload with a new heartbeat. It does not allocate.
func (w *Writer) Commit(nowUnixNano int64) {
	if w.mem == nil {
		return
	}
	w.Begin()
	w.samples++
	atomic.StoreUint64(word(w.mem, offHeartbeat), uint64(nowUnixNano))
	atomic.StoreUint64(word(w.mem, offSamples), w.samples)
	moved := w.publishServed()
	w.seq++
	atomic.StoreUint64(word(w.mem, offSeq), w.seq)
	w.open = false
	if moved {
		w.wakeServed()
	}
}

// Close unmaps the segment, removes its file and releases the lock. This is
// the only munmap the writer ever does; call it at exit. Readers that have
// the segment mapped keep their (now orphaned) mapping until they close.
func (w *Writer) Close() error {
	if w.mem == nil && w.fd < 0 {
		return nil
	}
	var first error
	if w.path != "" {
		// Remove the name only if it is still ours.
		var mine, named unix.Stat_t
		if unix.Fstat(w.fd, &mine) == nil && unix.Stat(w.path, &named) == nil &&
			mine.Dev == named.Dev && mine.Ino == named.Ino {
			if err := unix.Unlink(w.path); err != nil {
				first = fmt.Errorf("shm: remove %s: %w", w.path, err)
			}
		}
	}
	if err := w.release(); err != nil && first == nil {
		first = fmt.Errorf("shm: close %s: %w", w.path, err)
	}
	return first
}

// release unmaps and closes without touching the name.
func (w *Writer) release() error {
	var first error
	if w.mem != nil {
		first = unix.Munmap(w.mem)
		w.mem, w.payload = nil, nil
	}
	if w.fd >= 0 {
		if err := unix.Close(w.fd); err != nil && first == nil {
			first = err
		}
		w.fd = -1
	}
	return first
}

// Reader maps a segment read-only. Only one goroutine may use it.
type Reader struct {
	path    string
	mem     []byte
	payload []byte
	version uint32
	pid     int
}

// openSegment opens DIR/rxprobe-<prefix> with flags and checks that it
// holds at least a header; it returns the descriptor, path and size.
func openSegment(dir, prefix string, flags int) (int, string, int64, error) {
	path, err := segmentPath(dir, prefix)
	if err != nil {
		return -1, "", 0, err
	}
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return -1, "", 0, fmt.Errorf("shm: open %s: %w (%w)", path, ErrNotFound, err)
	}
	if err != nil {
		return -1, "", 0, fmt.Errorf("shm: open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, "", 0, fmt.Errorf("shm: stat %s: %w", path, err)
	}
	if st.Size < HeaderSize {
		unix.Close(fd)
		return -1, "", 0, fmt.Errorf("shm: %s: %d bytes, shorter than the header: %w", path, st.Size, ErrBadMagic)
	}
	return fd, path, st.Size, nil
}

// Open maps DIR/rxprobe-<prefix> read-only and checks its header.
func Open(dir, prefix string) (*Reader, error) {
	fd, path, size, err := openSegment(dir, prefix, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd) // the mapping outlives the descriptor
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shm: mmap %s: %w", path, err)
	}
	r := &Reader{path: path, mem: mem}
	if err := r.check(int(size)); err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return r, nil
}

func (r *Reader) check(size int) error {
	m := r.mem
	if string(m[offMagic:offMagic+8]) != Magic {
		return fmt.Errorf("shm: %s: magic %q: %w", r.path, m[offMagic:offMagic+8], ErrBadMagic)
	}
	r.version = binary.NativeEndian.Uint32(m[offVersion:])
	if r.version != Version {
		return fmt.Errorf("shm: %s: layout version %d, this reader knows %d: %w", r.path, r.version, Version, ErrVersion)
	}
	hs := binary.NativeEndian.Uint32(m[offHdrSize:])
	ps := binary.NativeEndian.Uint64(m[offPayload:])
	if hs != HeaderSize || ps%8 != 0 || ps > MaxPayload || HeaderSize+int(ps) > size {
		return fmt.Errorf("shm: %s: header size %d, payload %d, file %d: %w", r.path, hs, ps, size, ErrBadMagic)
	}
	r.payload = m[HeaderSize : HeaderSize+int(ps) : HeaderSize+int(ps)]
	r.pid = int(binary.NativeEndian.Uint64(m[offPID:]))
	return nil
}

// Path returns the segment's file name.
func (r *Reader) Path() string { return r.path }

// PayloadSize returns the payload size of the segment.
func (r *Reader) PayloadSize() int { return len(r.payload) }

// Read copies a consistent snapshot of the payload into dst, which must
// have room for PayloadSize bytes, and returns the header of that
// snapshot. It retries while the writer is mid-sample (odd sequence) or the
// sequence changed during the copy, yielding the processor between tries,
// and gives up with ErrBusy after a bounded number of attempts. It returns
// ErrNoSample before the first Commit. It does not allocate.
//
// The copy is made of 64-bit atomic loads bracketed by atomic loads of the
// sequence, so no payload load can be ordered outside the two sequence
// loads even on weakly ordered CPUs.
func (r *Reader) Read(dst []byte) (Header, error) {
	if r.mem == nil {
		return Header{}, ErrClosed
	}
	n := len(r.payload)
	if len(dst) < n {
		return Header{}, io.ErrShortBuffer
	}
	seq := word(r.mem, offSeq)
	for range readRetries {
		s1 := atomic.LoadUint64(seq)
		if s1&1 != 0 {
			runtime.Gosched()
			continue
		}
		hb := atomic.LoadUint64(word(r.mem, offHeartbeat))
		samples := atomic.LoadUint64(word(r.mem, offSamples))
		served := atomic.LoadUint32(word32(r.mem, offServed))
		for i := 0; i < n; i += 8 {
			binary.NativeEndian.PutUint64(dst[i:], atomic.LoadUint64(word(r.payload, i)))
		}
		if atomic.LoadUint64(seq) != s1 {
			runtime.Gosched()
			continue
		}
		h := Header{Version: r.version, PayloadSize: n, PID: r.pid, Seq: s1, Heartbeat: int64(hb), Samples: samples, Served: served}
		if samples == 0 {
			return h, ErrNoSample
		}
		return h, nil
	}
	return Header{}, ErrBusy
}

// Close unmaps the segment.
func (r *Reader) Close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem, r.payload = nil, nil
	if err != nil {
		return fmt.Errorf("shm: unmap %s: %w", r.path, err)
	}
	return nil
}

// List returns the prefixes of the segments in dir ("" means DefaultDir),
// sorted. Temporary files of writers being created are not listed; stale
// segments of dead writers are (Open them and look at the heartbeat).
func List(dir string) ([]string, error) {
	if dir == "" {
		dir = DefaultDir
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("shm: list %s: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, FilePrefix) || len(name) == len(FilePrefix) {
			continue
		}
		out = append(out, name[len(FilePrefix):])
	}
	slices.Sort(out)
	return out, nil
}
