package kernel

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// ErrBufferFull is returned (wrapped) by a reader when the file no longer fits
// the buffer sized at construction. The reader does not grow its buffer in
// steady state; build a new reader to get a larger one.
var ErrBufferFull = errors.New("kernel: file outgrew the buffer sized at construction")

// ErrFormat is wrapped by every parse error, so callers can tell a malformed
// file (errors.Is(err, ErrFormat)) from an I/O error.
var ErrFormat = errors.New("kernel: unexpected file format")

const (
	minBufSize = 16 << 10 // smallest buffer for a whole-file reader
	maxBufSize = 64 << 20 // refuse to size a buffer beyond this at construction
)

// hostPath is ROOT/rel under the host root root ("" is the live host, as
// hostfs.New has it).
func hostPath(root, rel string) string { return hostfs.New(root).Path(rel) }

// procFile is one kernel file kept open for the life of its reader and read
// with pread from offset 0.
//
// Why pread on a kept descriptor rather than open/read/close per sample:
//   - /proc seq_file files (interrupts, net/*) restart their iterator when
//     read at offset 0, and sysfs attributes re-run their show() callback at
//     offset 0, so a kept fd returns fresh data on every pread(fd, buf, 0).
//   - It saves two syscalls and a path walk per sample, and above all the
//     string-to-C-string conversion that unix.Open performs (it allocates).
//   - None of open, read, pread or close maps or unmaps memory; the buffer is
//     a Go slice allocated once, so no munmap (and so no TLB shootdown) can
//     originate here.
//
// The path is also kept as a NUL-terminated byte slice so that the recovery
// path (reopen after an error such as ENODEV when a net device went away)
// does not allocate either.
type procFile struct {
	keptFD
	buf []byte
}

// keptFD is a path and the descriptor kept open on it.
type keptFD struct {
	path  string
	pathz []byte // path + NUL, for openat without allocation
	fd    int
}

func newKeptFD(path string) keptFD {
	return keptFD{path: path, pathz: append([]byte(path), 0), fd: -1}
}

// openProcFile opens path and sizes the buffer from one initial read:
// at least minBuf and at least twice the current file size (rounded up to
// 4 KiB), so the file may double before ErrBufferFull.
func openProcFile(path string, minBuf int) (*procFile, error) {
	f := &procFile{keptFD: newKeptFD(path)}
	if err := f.open(); err != nil {
		return nil, f.wrap("open", err)
	}
	size := minBuf
	if size <= 0 {
		size = minBufSize
	}
	// Grow by doubling until one whole read fits with room to spare; this
	// happens only here, at construction.
	for {
		f.buf = make([]byte, size)
		n, err := f.readAll()
		if err == nil && 2*n <= size {
			break
		}
		if err != nil && !errors.Is(err, ErrBufferFull) {
			f.Close()
			return nil, err
		}
		if size >= maxBufSize {
			f.Close()
			return nil, fmt.Errorf("kernel: %s: larger than %d bytes: %w", path, maxBufSize, ErrBufferFull)
		}
		size = max(2*size, (2*n+4095)&^4095)
	}
	return f, nil
}

// open opens (or reopens) the file without allocating, even on failure: the
// error is the bare unix.Errno (boxing an Errno does not allocate). Callers
// that report it wrap it with wrap.
func (f *keptFD) open() error {
	dirfd := unix.AT_FDCWD // a variable: the negative constant does not convert to uintptr
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd),
		uintptr(unsafe.Pointer(&f.pathz[0])), uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	f.fd = int(fd)
	return nil
}

// readAll reads the whole file into f.buf with pread, starting at offset 0,
// and returns the number of bytes. seq_file returns at most one internal
// buffer per call, so it loops until pread returns 0.
func (f *procFile) readAll() (int, error) {
	n, err := f.preadAll()
	if err != nil && !errors.Is(err, ErrBufferFull) && f.fd >= 0 {
		// One reopen attempt: the kept descriptor may have been invalidated
		// (device removed and re-added). openat here does not allocate.
		unix.Close(f.fd)
		f.fd = -1
		if oerr := f.open(); oerr != nil {
			return 0, err
		}
		n, err = f.preadAll()
	}
	return n, err
}

func (f *procFile) preadAll() (int, error) {
	if f.fd < 0 {
		if err := f.open(); err != nil {
			return 0, f.wrap("open", err)
		}
	}
	n := 0
	for {
		if n == len(f.buf) {
			// Full buffer: one extra byte would tell EOF from truncation,
			// but a full buffer already means we sized it too small.
			return n, &pathError{op: "read", path: f.path, err: ErrBufferFull}
		}
		m, err := unix.Pread(f.fd, f.buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &pathError{op: "read", path: f.path, err: err}
		}
		if m == 0 {
			return n, nil
		}
		n += m
	}
}

// read returns the current contents of the file in the reader's buffer.
// The slice is valid until the next read.
func (f *procFile) read() ([]byte, error) {
	n, err := f.readAll()
	if err != nil {
		return nil, err
	}
	return f.buf[:n], nil
}

// Close releases the descriptor. It is safe to call more than once.
func (f *keptFD) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &pathError{op: "close", path: f.path, err: err}
	}
	return nil
}

// wrap adds the operation and path to err (allocates; error paths only).
func (f *keptFD) wrap(op string, err error) error {
	return &pathError{op: op, path: f.path, err: err}
}

// pathError is a small error type like fs.PathError; it is created only on
// failure paths.
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return "kernel: " + e.op + " " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// openCounted is openProcFile that also returns how many lines the file
// has now, for readers that size their samples from it.
func openCounted(path string, minBuf int) (*procFile, int, error) {
	f, err := openProcFile(path, minBuf)
	if err != nil {
		return nil, 0, err
	}
	data, err := f.read()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, countLines(data), nil
}

// readParse reads f and parses what it read into dst with parse: the
// ReadInto of every whole-file reader. It allocates nothing itself.
func readParse[T any](f *procFile, dst *T, parse func([]byte, *T) error) error {
	data, err := f.read()
	if err != nil {
		return err
	}
	return parse(data, dst)
}
