package shm

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sample requests: two 32-bit words of the header (see doc.go). A
// requester adds one to the request word and wakes the futex on it; the
// writer's stats thread, blocked on that futex between its samples, takes
// a sample at once. The writer loads the request word before it reads any
// counter of a sample, and Commit stores that value in the served word
// before the sequence turns even, then wakes the futex on the served word.
// A snapshot whose Header.Served is at or past a request therefore holds
// counters read after the request was made.
const (
	offRequests = 56 // uint32, requesters' atomic add; futex word of the writer
	offServed   = 60 // uint32, written by Commit; futex word of the requesters
)

// Linux futex operations (shared, not FUTEX_PRIVATE_FLAG: the words live
// in a file mapping that several processes share).
const (
	futexWait = 0
	futexWake = 1
)

// ErrNotServed: the writer did not serve a sample request in time (it is
// stopped or stuck, or predates sample requests).
var ErrNotServed = errors.New("shm: sample request not served")

func word32(mem []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }

// Reached reports whether served is at or past request, in serial-number
// arithmetic: the 32-bit counters may wrap.
func Reached(served, request uint32) bool { return int32(served-request) >= 0 }

// futex calls futex(2) on addr; ts may be nil (no timeout). Raw syscall:
// nothing is allocated.
func futex(addr *uint32, op int, val uint32, ts *unix.Timespec) unix.Errno {
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
	return errno
}

// Requested returns the request word: the number of sample requests made
// so far (wrapping). Load it before reading the counters of a sample and
// pass it to Serve.
func (w *Writer) Requested() uint32 {
	if w.mem == nil {
		return 0
	}
	return atomic.LoadUint32(word32(w.mem, offRequests))
}

// Serve makes the next Commit publish served as the request number its
// snapshot answers (a value Requested returned before the sample's
// counters were read).
func (w *Writer) Serve(served uint32) { w.served = served }

// WaitRequest blocks the calling thread until the request word differs
// from seen, Interrupt is called, timeout passes or a signal arrives,
// whichever comes first. It does not allocate.
func (w *Writer) WaitRequest(seen uint32, timeout time.Duration) {
	if w.mem == nil || timeout <= 0 {
		return
	}
	w.ts = unix.NsecToTimespec(int64(timeout))
	futex(word32(w.mem, offRequests), futexWait, seen, &w.ts)
}

// Interrupt wakes a WaitRequest in progress, or makes the next one return
// at once: it moves the request word on (like a request nobody waits
// for). It is the one Writer method safe to call from another goroutine
// while the writer's goroutine uses it (not concurrently with Close).
func (w *Writer) Interrupt() {
	if w.mem == nil {
		return
	}
	atomic.AddUint32(word32(w.mem, offRequests), 1)
	futex(word32(w.mem, offRequests), futexWake, 1<<30, nil)
}

// publishServed stores the served word and wakes its waiters when it moved
// (Commit, before the sequence turns even).
func (w *Writer) publishServed() bool {
	p := word32(w.mem, offServed)
	if atomic.LoadUint32(p) == w.served {
		return false
	}
	atomic.StoreUint32(p, w.served)
	return true
}

func (w *Writer) wakeServed() { futex(word32(w.mem, offServed), futexWake, 1<<30, nil) }

// Requester asks the writer of a segment for samples: it maps the header
// read-write (the request word), so it needs write permission on the
// segment file. Only one goroutine may use it.
type Requester struct {
	path string
	mem  []byte
}

// OpenRequester maps the header of DIR/rxprobe-<prefix> read-write.
func OpenRequester(dir, prefix string) (*Requester, error) {
	fd, path, _, err := openSegment(dir, prefix, unix.O_RDWR)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	mem, err := unix.Mmap(fd, 0, HeaderSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shm: mmap %s: %w", path, err)
	}
	if string(mem[offMagic:offMagic+8]) != Magic {
		unix.Munmap(mem)
		return nil, fmt.Errorf("shm: %s: %w", path, ErrBadMagic)
	}
	return &Requester{path: path, mem: mem}, nil
}

// Request makes a sample request and wakes the writer; it returns the
// request's number, for Wait and Reached.
func (q *Requester) Request() uint32 {
	n := atomic.AddUint32(word32(q.mem, offRequests), 1)
	futex(word32(q.mem, offRequests), futexWake, 1<<30, nil)
	return n
}

// Served returns the served word: the newest request a committed snapshot
// answers.
func (q *Requester) Served() uint32 { return atomic.LoadUint32(word32(q.mem, offServed)) }

// Wait blocks until a snapshot answering request n is committed. It
// returns ErrNotServed when timeout passes first, ctx's error when ctx
// ends first.
func (q *Requester) Wait(ctx context.Context, n uint32, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s := q.Served()
		if Reached(s, n) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("shm: %s: request %d, served %d after %s: %w", q.path, n, s, timeout, ErrNotServed)
		}
		// Short slices: ctx is looked at between them.
		ts := unix.NsecToTimespec(int64(min(left, 50*time.Millisecond)))
		futex(word32(q.mem, offServed), futexWait, s, &ts)
	}
}

// Close unmaps the header.
func (q *Requester) Close() error {
	if q.mem == nil {
		return nil
	}
	err := unix.Munmap(q.mem)
	q.mem = nil
	if err != nil {
		return fmt.Errorf("shm: unmap %s: %w", q.path, err)
	}
	return nil
}
