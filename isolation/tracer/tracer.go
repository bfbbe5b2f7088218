package tracer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// ErrUnavailable means the kernel cannot give attribution here: no tracefs
// is mounted, the caller lacks the privilege to create an instance, or a
// required event is missing. The wrapped message says which, e.g.
// "attribution unavailable: event ipi:ipi_send_cpumask missing".
var ErrUnavailable = errors.New("attribution unavailable")

// DefaultTraceFS is where Open looks for tracefs first; it falls back to
// LegacyTraceFS when Options.TraceFS is empty.
const (
	DefaultTraceFS = "/sys/kernel/tracing"
	LegacyTraceFS  = "/sys/kernel/debug/tracing"
)

// instancePrefix names the instances Open creates by default; Open removes
// instances with this prefix whose pid is dead.
const instancePrefix = "rxprobe-"

// Options configures Open. CPUs is required; everything else has a default.
type Options struct {
	// TraceFS is the tracefs mount point. Empty means DefaultTraceFS, or
	// LegacyTraceFS when the former holds no tracefs.
	TraceFS string
	// Instance is the name of the tracefs instance to create; empty means
	// "rxprobe-<pid of this process>". Open fails if it exists already.
	Instance string
	// CPUs are the RX CPUs whose incoming IPIs are attributed.
	CPUs cpuset.Set
	// BufferKB is the per-CPU ring buffer size in KiB; 0 keeps the
	// kernel's default for new instances. Resizing runs a work item on
	// every CPU, so call Open before the RX loops start.
	BufferKB int
	// PID is the RX process whose threads are named from
	// /proc/<pid>/task/<tid>/comm; 0 means this process.
	PID int
	// Names maps tids to thread names ("stats thread"); it takes
	// precedence over /proc. Open copies it.
	Names map[int]string
}

// EventSetup says how one event was set up in the instance.
type EventSetup struct {
	Event string // "ipi:ipi_send_cpumask"
	// Filter is the filter the kernel accepted; "" if it rejected all
	// candidates and the event is recorded unfiltered (Collect then
	// filters in Go).
	Filter string
}

// Recorder owns one tracefs instance recording the IPI, csd and tlb_flush
// events aimed at the RX CPUs. It is not safe for concurrent use: one
// housekeeping goroutine calls Collect.
type Recorder struct {
	dir     string // the instance directory
	cpus    cpuset.Set
	pid     int
	proc    string // "/proc"; tests point it elsewhere
	names   map[int]string
	setups  []EventSetup
	haveCSD bool
	pipe    int // trace_pipe, O_NONBLOCK; -1 when closed
	closed  bool

	buf    []byte
	carry  int
	ev     event
	strs   map[string]string
	sender map[int]senderInfo
	procs  map[int]string
	last   []csdNote // per recording CPU

	tap func(line []byte) // tests: sees every line before parsing
}

// event names, as "system:name".
var (
	requiredEvents = []string{"ipi:ipi_send_cpu", "ipi:ipi_send_cpumask", "tlb:tlb_flush"}
	optionalEvents = []string{"csd:csd_queue_cpu"}
)

// Open creates the tracefs instance, sets its options and filters, enables
// the events and opens the instance's trace_pipe for non-blocking reads.
// Before creating its own instance it removes stale "rxprobe-<pid>"
// instances whose pid no longer exists (left by a crashed run).
//
// Enabling a tracepoint patches kernel text, which the kernel synchronises
// with an IPI to every CPU: Open and Close each disturb the RX CPUs once.
// Collect does not.
//
// Errors wrap ErrUnavailable when tracing is impossible here (with the
// reason), and the underlying unix.Errno where there is one.
func Open(opts Options) (*Recorder, error) {
	if opts.CPUs.IsEmpty() {
		return nil, errors.New("tracer: open: no RX CPUs given")
	}
	root, err := findTraceFS(opts.TraceFS)
	if err != nil {
		return nil, err
	}
	for _, e := range requiredEvents {
		if _, err := os.Stat(eventDir(root, e)); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return nil, fmt.Errorf("%w: needs root: %w", ErrUnavailable, err)
			}
			return nil, fmt.Errorf("%w: event %s missing", ErrUnavailable, e)
		}
	}
	pid := opts.PID
	if pid == 0 {
		pid = os.Getpid()
	}
	name := opts.Instance
	if name == "" {
		name = instancePrefix + strconv.Itoa(os.Getpid())
	}
	if strings.ContainsRune(name, '/') || name == "." || name == ".." {
		return nil, fmt.Errorf("tracer: open: bad instance name %q", name)
	}
	RemoveStale(root)
	dir := filepath.Join(root, "instances", name)
	if err := unix.Mkdir(dir, 0o755); err != nil {
		if err == unix.EACCES || err == unix.EPERM {
			return nil, fmt.Errorf("%w: needs root: mkdir %s: %w", ErrUnavailable, dir, err)
		}
		return nil, fmt.Errorf("tracer: open: mkdir %s: %w", dir, err)
	}
	r := newRecorder(opts.CPUs, pid, opts.Names)
	r.dir = dir
	if err := r.setup(root, opts.BufferKB); err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return r, nil
}

func findTraceFS(want string) (string, error) {
	cands := []string{want}
	if want == "" {
		cands = []string{DefaultTraceFS, LegacyTraceFS}
	}
	var firstErr error
	for _, c := range cands {
		_, err := os.Stat(filepath.Join(c, "instances"))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if errors.Is(firstErr, fs.ErrPermission) {
		return "", fmt.Errorf("%w: needs root: %w", ErrUnavailable, firstErr)
	}
	return "", fmt.Errorf("%w: no tracefs at %s", ErrUnavailable, strings.Join(cands, " nor "))
}

func eventDir(base, ev string) string {
	sys, name, _ := strings.Cut(ev, ":")
	return filepath.Join(base, "events", sys, name)
}

// RemoveStale removes the instances under traceFS named "rxprobe-<pid>"
// whose pid is not alive, and returns the names it removed. Open calls it;
// it is exported for tools that clean up after a crash.
func RemoveStale(traceFS string) []string {
	ents, err := os.ReadDir(filepath.Join(traceFS, "instances"))
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), instancePrefix)
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 0 {
			continue
		}
		if err := unix.Kill(pid, 0); err != unix.ESRCH {
			continue // alive, or not ours to judge
		}
		if unix.Rmdir(filepath.Join(traceFS, "instances", e.Name())) == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
}

// setup sets options, buffer size, filters and enables events.
func (r *Recorder) setup(root string, bufferKB int) error {
	// Output format the parser expects. Options missing on older kernels
	// are skipped.
	for _, o := range []struct {
		name string
		on   bool
	}{
		{"record-tgid", true}, {"context-info", true}, {"irq-info", true},
		{"latency-format", false}, {"raw", false}, {"hex", false}, {"bin", false},
		{"verbose", false}, {"fields", false}, {"pause-on-trace", false},
	} {
		v := "0"
		if o.on {
			v = "1"
		}
		p := filepath.Join(r.dir, "options", o.name)
		if err := writeFile(p, v); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tracer: open: %w", err)
		}
	}
	if bufferKB > 0 {
		if err := writeFile(filepath.Join(r.dir, "buffer_size_kb"), strconv.Itoa(bufferKB)); err != nil {
			return fmt.Errorf("tracer: open: %w", err)
		}
	}
	list := r.cpus.String()
	var eqs []string
	for _, c := range r.cpus.List() {
		eqs = append(eqs, "%s == "+strconv.Itoa(c))
	}
	orChain := func(field string) string {
		parts := make([]string, len(eqs))
		for i, e := range eqs {
			parts[i] = fmt.Sprintf(e, field)
		}
		return strings.Join(parts, " || ")
	}
	candidates := map[string][]string{
		// cpu is the event's own field (the target), which shadows the
		// generic "cpu" (the recording CPU).
		"ipi:ipi_send_cpu":     {"cpu & CPUS{" + list + "}", orChain("cpu")},
		"csd:csd_queue_cpu":    {"cpu & CPUS{" + list + "}", orChain("cpu")},
		"ipi:ipi_send_cpumask": {"cpumask & CPUS{" + list + "}"},
		// CPU is the generic field: the CPU that records the event, which
		// for tlb_flush is the CPU whose TLB is flushed.
		"tlb:tlb_flush": {"CPU & CPUS{" + list + "}", orChain("CPU")},
	}
	enable := func(ev string) error {
		d := eventDir(r.dir, ev)
		setup := EventSetup{Event: ev}
		for _, f := range candidates[ev] {
			if err := writeFile(filepath.Join(d, "filter"), f); err == nil {
				setup.Filter = f
				break
			}
		}
		if setup.Filter == "" {
			// Record all; Collect filters. Clear whatever half-parsed.
			_ = writeFile(filepath.Join(d, "filter"), "0")
		}
		if err := writeFile(filepath.Join(d, "enable"), "1"); err != nil {
			return err
		}
		r.setups = append(r.setups, setup)
		return nil
	}
	for _, ev := range requiredEvents {
		if err := enable(ev); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: event %s missing", ErrUnavailable, ev)
			}
			return fmt.Errorf("tracer: open: enable %s: %w", ev, err)
		}
	}
	for _, ev := range optionalEvents {
		if _, err := os.Stat(eventDir(root, ev)); err != nil {
			continue
		}
		if err := enable(ev); err != nil {
			return fmt.Errorf("tracer: open: enable %s: %w", ev, err)
		}
		r.haveCSD = true
	}
	if err := writeFile(filepath.Join(r.dir, "tracing_on"), "1"); err != nil {
		return fmt.Errorf("tracer: open: %w", err)
	}
	p := filepath.Join(r.dir, "trace_pipe")
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tracer: open %s: %w", p, err)
	}
	r.pipe = fd
	if c, err := os.ReadFile(filepath.Join(r.proc, strconv.Itoa(r.pid), "comm")); err == nil {
		r.procs[r.pid] = strings.TrimSpace(string(c))
	}
	return nil
}

// newRecorder makes a Recorder without a tracefs instance; Open adds one.
func newRecorder(cpus cpuset.Set, pid int, names map[int]string) *Recorder {
	r := &Recorder{
		cpus:   cpus,
		pid:    pid,
		proc:   "/proc",
		names:  make(map[int]string, len(names)),
		pipe:   -1,
		buf:    make([]byte, 64<<10),
		strs:   make(map[string]string),
		sender: make(map[int]senderInfo),
		procs:  make(map[int]string),
		last:   make([]csdNote, 0, 8),
	}
	for k, v := range names {
		r.names[k] = v
	}
	return r
}

// writeFile writes s to an existing tracefs file in one write, as the
// kernel parses each write separately.
func writeFile(path, s string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		return fmt.Errorf("write %q to %s: %w", s, path, err)
	}
	return nil
}

// Dir returns the instance directory, e.g.
// "/sys/kernel/tracing/instances/rxprobe-4242".
func (r *Recorder) Dir() string { return r.dir }

// Setup returns how each event was set up: the filter the kernel accepted,
// or "" where Collect filters in Go.
func (r *Recorder) Setup() []EventSetup { return append([]EventSetup(nil), r.setups...) }

// Close disables the events, closes trace_pipe and removes the instance
// directory. It is safe to call more than once; later calls return nil.
func (r *Recorder) Close() error {
	if r == nil || r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	if err := writeFile(filepath.Join(r.dir, "tracing_on"), "0"); err != nil {
		errs = append(errs, err)
	}
	if err := writeFile(filepath.Join(r.dir, "events", "enable"), "0"); err != nil {
		errs = append(errs, err)
	}
	if r.pipe >= 0 {
		if err := unix.Close(r.pipe); err != nil {
			errs = append(errs, fmt.Errorf("close trace_pipe: %w", err))
		}
		r.pipe = -1
	}
	var err error
	for range 50 { // EBUSY while the kernel drops its last reference
		if err = unix.Rmdir(r.dir); err != unix.EBUSY {
			break
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}
	if err != nil && err != unix.ENOENT {
		errs = append(errs, fmt.Errorf("rmdir %s: %w", r.dir, err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("tracer: close: %w", errors.Join(errs...))
	}
	return nil
}
