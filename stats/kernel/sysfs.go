package kernel

import (
	"errors"
	"slices"

	"golang.org/x/sys/unix"
)

// Counters is a sample of single-number counter files (see CounterReader).
type Counters struct {
	// Paths are the files, relative to the host root, in the order of
	// Values. Set at construction; do not modify.
	Paths []string
	// Values[i] is the value of Paths[i]; 0 when !Present[i].
	Values []uint64
	// Present[i] reports whether Paths[i] existed and was read in the last
	// sample. A counter the kernel or driver does not provide (no such file)
	// is absent, which is distinct from a counter that reads 0.
	Present []bool
}

// NewCounters returns a Counters for the given paths.
func NewCounters(paths []string) *Counters {
	return &Counters{
		Paths:   slices.Clone(paths),
		Values:  make([]uint64, len(paths)),
		Present: make([]bool, len(paths)),
	}
}

// Value returns the counter with the given path from the last sample; ok is
// false when the path is unknown or the counter was absent.
func (c *Counters) Value(path string) (v uint64, ok bool) {
	for i, p := range c.Paths {
		if p == path {
			return c.Values[i], c.Present[i]
		}
	}
	return 0, false
}

// ParseCounter parses the contents of a single-number sysfs file: a
// decimal (or 0x-prefixed hexadecimal) unsigned number, optionally
// surrounded by blanks and newlines. It never allocates on success.
func ParseCounter(b []byte) (uint64, error) {
	i, j := 0, len(b)
	for i < j && (isSpace(b[i]) || b[i] == '\n') {
		i++
	}
	for j > i && (isSpace(b[j-1]) || b[j-1] == '\n') {
		j--
	}
	t := b[i:j]
	var v uint64
	var ok bool
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		v, ok = parseHex(t[2:])
	} else {
		v, ok = parseDec(t)
	}
	if !ok {
		return 0, parseError("counter", 1, "not an unsigned number", b)
	}
	return v, nil
}

// counterBufSize bounds one counter file. Values are at most 20 digits plus a
// newline; anything longer is not a counter.
const counterBufSize = 64

// CounterReader reads many single-number files such as
//
//	sys/class/net/IF/statistics/rx_dropped
//	sys/class/infiniband/DEV/ports/1/hw_counters/out_of_buffer
//	sys/class/net/IF/statistics/rx_missed_errors
//
// It keeps one descriptor per file and reads each with a single
// pread(fd, buf, 0) into one buffer shared by all files: a sysfs attribute
// is rendered by one show() call into at most a page, so a read shorter
// than the buffer is the whole file. Files missing at construction are not
// an error: they are reported absent, and each ReadInto retries opening
// them (openat on a prebuilt C string, no allocation) so that a driver
// loaded later is picked up.
type CounterReader struct {
	paths []string
	files []keptFD
	buf   [counterBufSize]byte
}

// NewCounterReader opens the files ROOT/path for each path (root "" means
// "/"). Paths are relative to the root, e.g. "sys/class/net/eth0/statistics/rx_dropped".
func NewCounterReader(root string, paths []string) (*CounterReader, error) {
	r := &CounterReader{paths: slices.Clone(paths), files: make([]keptFD, len(paths))}
	for i, p := range paths {
		r.files[i] = newKeptFD(hostPath(root, p))
		if err := r.files[i].open(); err != nil && !isAbsent(err) {
			r.Close()
			return nil, r.files[i].wrap("open", err)
		}
	}
	return r, nil
}

// NewSample returns a Counters for this reader's paths.
func (r *CounterReader) NewSample() *Counters { return NewCounters(r.paths) }

// isAbsent tells errors meaning "this counter does not exist (now)".
// EINVAL is among them because net-sysfs statistics files return it while
// their device is being unregistered (netstat_show checks dev_isalive),
// which the tests met when another process deleted an interface mid-run.
func isAbsent(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) ||
		errors.Is(err, unix.ENXIO) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.EINVAL)
}

// ReadInto reads every file into dst, which must have as many entries as the
// reader has files. Absent files set Present[i] = false without error. Any
// other failure marks that entry absent too, the remaining files are still
// read, and the first such error is returned (error paths allocate; the
// success path does not).
func (r *CounterReader) ReadInto(dst *Counters) error {
	if len(dst.Values) != len(r.files) || len(dst.Present) != len(r.files) {
		return errors.New("kernel: counters: sample and reader have different lengths")
	}
	var first error
	for i := range r.files {
		v, err := r.readOne(&r.files[i])
		dst.Values[i], dst.Present[i] = v, err == nil
		if err != nil && !isAbsent(err) && first == nil {
			first = err
		}
	}
	return first
}

func (r *CounterReader) readOne(f *keptFD) (uint64, error) {
	for attempt := 0; ; attempt++ {
		if f.fd < 0 {
			if err := f.open(); err != nil {
				if isAbsent(err) {
					return 0, err // the common "not provided" case: no allocation
				}
				return 0, f.wrap("open", err)
			}
		}
		n, err := unix.Pread(f.fd, r.buf[:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if attempt == 0 {
				// The file may have been replaced (device re-created):
				// reopen once.
				f.Close()
				continue
			}
			if isAbsent(err) {
				return 0, err // device going away: absent, no allocation
			}
			return 0, &pathError{op: "read", path: f.path, err: err}
		}
		if n == len(r.buf) {
			return 0, &pathError{op: "read", path: f.path, err: ErrBufferFull}
		}
		v, err := ParseCounter(r.buf[:n])
		if err != nil {
			return 0, &pathError{op: "parse", path: f.path, err: err}
		}
		return v, nil
	}
}

// Close closes every kept descriptor.
func (r *CounterReader) Close() error {
	var first error
	for i := range r.files {
		if err := r.files[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
