package sampler

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// Engine is what the sampler reads: the shape of the run and its
// counters. rx.Engine implements it; tests use a fake.
type Engine interface {
	// Shape describes the ports and queues; it does not change.
	Shape() *counters.Shape
	// NewReading allocates a reading of the engine's shape.
	NewReading() *counters.Reading
	// Read refills r. It must not allocate.
	Read(r *counters.Reading)
}

// CaptureTriggerer is an Engine whose trigger-mode capture the stats
// thread fires (rx.Engine implements it). CaptureTrigger must neither
// block nor allocate.
type CaptureTriggerer interface {
	CaptureTrigger(reason uint8)
}

// Options configure a Sampler.
type Options struct {
	// HostRoot is where /proc and /sys are read ("" or "/").
	HostRoot string
	// Interval is the sampling period.
	Interval time.Duration
	// ShmDir is where the segment is created (default /dev/shm).
	ShmDir string
	// Prefix names the segment (the run's EAL file prefix).
	Prefix string
	// Build goes into rxprobe_build_info (version, commit, goversion, dpdk).
	Build map[string]string
	// StatusFD, when >= 0, receives the live status line once per second.
	StatusFD int
	// StatusTTY rewrites the line in place (\r ... ESC[K) instead of one
	// line per second.
	StatusTTY bool
	// Guard configures the jitter guard; nil runs without it.
	Guard *GuardOptions
	// EventFD, when >= 0, receives one line per guard event and the
	// start-up notes (a port whose drops are only partly classified);
	// -1: none.
	EventFD int
	// CaptureTriggers are the capture triggers the stats thread fires,
	// bit 1<<capture.Trigger each (capture.Config.TriggerMask): drop (a
	// ledger layer grew since the last sample), gap and irq (guard
	// events). They need the guard and an engine implementing
	// CaptureTriggerer; the signal trigger is the run's.
	CaptureTriggers uint8
	// StdioReads makes every kernel file read also map and unmap a page,
	// as glibc's stdio did: the deliberately bad baseline of
	// `make bench-observer`. Never set it in production.
	StdioReads bool
}

// Metrics of the stats thread itself.
var (
	mSampleSeconds = metric{"rxprobe_stats_sample_seconds", snapshot.Gauge, "Time the last stats sample took."}
	mSamples       = metric{"rxprobe_stats_samples_total", snapshot.Counter, "Stats samples published."}
)

// Sampler is the stats thread. Create it with New before the loops start,
// then Start it; Stop it before reading the engine from another goroutine.
type Sampler struct {
	o      Options
	eng    Engine
	shape  *counters.Shape
	cur    *counters.Reading
	status *counters.Reading // reading at the last status line
	line   []byte

	// The sources, in schema order. Engine sources read cur; kernel
	// sources read /proc and /sys (and imitate stdio when asked).
	queues  *queueSource
	capture *captureSource
	latency *latencySource
	ports   *portSource
	kernel  []source
	sysfs   *sysfsSource
	g       *guardSource // nil without Options.Guard
	sources []source     // every source, for Close

	sampleNsIdx, samplesIdx int
	samples                 uint64

	layout *snapshot.Layout
	w      *shm.Writer
	vals   []uint64 // staging copy, published in one go under the seqlock

	stop     chan struct{}
	stopping atomic.Bool // set with stop, read by the loop between futex waits
	done     chan struct{}
	err      error
	served   uint32 // the request word at the last sample (shm.Writer.Requested)

	tid     int
	launch  atomic.Uint64 // loops' launch TSC, set by another goroutine
	started atomic.Int64  // wall-clock ns of the launch (status line)
}

// TID is the stats thread's kernel thread id (0 before Start).
func (s *Sampler) TID() int { return s.tid }

// SetThreadName names the calling OS thread (PR_SET_NAME, 15 bytes at most).
func SetThreadName(name string) {
	var b [16]byte
	copy(b[:15], name)
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}

// New builds the schema from the engine's shape and the host's counters,
// creates the shared-memory segment and opens every reader.
func New(eng Engine, o Options) (*Sampler, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.ShmDir == "" {
		o.ShmDir = shm.DefaultDir
	}
	s := &Sampler{o: o, eng: eng, shape: eng.Shape(), cur: eng.NewReading(), status: eng.NewReading(),
		line: make([]byte, 0, 512), stop: make(chan struct{}), done: make(chan struct{})}
	s.started.Store(time.Now().UnixNano())
	b := snapshot.NewBuilder(o.Prefix, unix.Getpid(), int64(o.Interval), o.Build)
	if err := s.declare(newSchema(b)); err != nil {
		s.closeSources()
		return nil, err
	}
	layout, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		s.closeSources()
		return nil, err
	}
	s.layout = layout
	s.vals = make([]uint64, b.Schema().Values)
	w, err := shm.Create(o.ShmDir, o.Prefix, layout.PayloadSize())
	if err != nil {
		s.closeSources()
		return nil, fmt.Errorf("sampler: %w", err)
	}
	s.w = w
	layout.WriteSchema(w.Begin())
	w.Commit(time.Now().UnixNano())
	s.noteUnknownDrivers()
	return s, nil
}

// declare builds every source and lets each declare its series.
func (s *Sampler) declare(sc *schema) error {
	root := s.o.HostRoot
	var rxcpus []int
	for _, q := range s.shape.Queues {
		if !slices.Contains(rxcpus, q.CPU) { // queues may share a CPU (run.share_rx_cpus)
			rxcpus = append(rxcpus, q.CPU)
		}
	}
	s.queues = &queueSource{shape: s.shape, cur: s.cur}
	s.ports = &portSource{shape: s.shape, cur: s.cur}
	irqs := &interruptSource{root: root, rxcpus: rxcpus}
	s.sysfs = &sysfsSource{root: root, shape: s.shape}
	s.kernel = []source{irqs, &softnetSource{root: root}, &netdevSource{root: root}, s.sysfs, &snmpSource{root: root}}
	s.capture = &captureSource{shape: s.shape, cur: s.cur}
	s.latency = &latencySource{shape: s.shape, cur: s.cur}
	s.sources = append([]source{s.queues, s.capture, s.latency, s.ports}, s.kernel...)
	if s.o.Guard != nil {
		s.g = &guardSource{o: s.o.Guard, every: max(1, int(time.Second/s.o.Interval)), eventFD: s.o.EventFD, tty: s.o.StatusTTY && s.o.StatusFD >= 0,
			shape: s.shape, cur: s.cur, irqs: irqs, ports: s.ports, sysfs: s.sysfs, capture: s.capture}
		if ct, ok := s.eng.(CaptureTriggerer); ok {
			s.g.trig = ct
			s.g.trigMask = s.o.CaptureTriggers &^ (1 << capture.TriggerSignal)
		}
		s.sources = append(s.sources, s.g)
	}
	for _, src := range s.sources {
		if err := src.declare(sc); err != nil {
			return err
		}
	}
	s.sampleNsIdx = sc.add(mSampleSeconds, 1e-9)
	s.samplesIdx = sc.add(mSamples, 0)
	sc.done()
	return nil
}

// noteUnknownDrivers says once, at start-up, which ports' drivers are not
// in the drop table.
func (s *Sampler) noteUnknownDrivers() {
	if s.o.EventFD < 0 {
		return
	}
	for _, i := range s.ports.unknown {
		p := s.shape.Ports[i]
		line := fmt.Sprintf("rxprobe: port %s: driver %q is not in the drop table (stats/dropclass): every xstat is exported as rxprobe_xstat_total, but its drops are only partly classified (imissed, ierrors, rx_nombuf, kernel rx_dropped)\n", p.Name, p.Driver)
		_, _ = unix.Write(s.o.EventFD, []byte(line))
	}
}

// LaunchTSC records the TSC at which the loops were launched: the start of
// the gap histogram's running sum. It also asks the guard to start its
// first second from the next sample, after the launch (waking the worker
// lcores is an IPI to each RX CPU, and not a violation). Call it before
// Start, or from another goroutine once: it only stores atomically.
func (s *Sampler) LaunchTSC(tsc uint64) {
	s.started.Store(time.Now().UnixNano())
	s.launch.Store(tsc)
}

// Sample takes one sample and publishes it. Start calls it every interval;
// call it directly only while the sampler is not started. It also serves
// every sample request made before it (shm: samples on request).
func (s *Sampler) Sample() error { return s.sample(true) }

// sample takes one sample. A scheduled sample is one of the interval's:
// the guard counts those to close its seconds. A requested one (a
// process asked for counters as of now) publishes everything, the drop
// ledger included, but leaves the guard's second running: an extra
// sample never splits, shortens or double counts a guard second.
func (s *Sampler) sample(scheduled bool) error {
	t0 := time.Now()
	// Before any counter is read: the snapshot answers every request
	// made up to here.
	s.served = s.w.Requested()
	if l := s.launch.Swap(0); l != 0 {
		s.queues.launched(l)
		if s.g != nil {
			s.g.rebase()
		}
	}
	s.eng.Read(s.cur)
	_ = s.queues.sample(s.vals)
	_ = s.capture.sample(s.vals)
	_ = s.latency.sample(s.vals)
	_ = s.ports.sample(s.vals)
	var firstErr error
	for _, src := range s.kernel {
		s.stdio()
		if err := src.sample(s.vals); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	switch {
	case s.g == nil:
	case scheduled:
		_ = s.g.sample(s.vals)
	default:
		s.g.between(s.vals)
	}
	s.samples++
	s.vals[s.samplesIdx] = s.samples
	s.vals[s.sampleNsIdx] = uint64(time.Since(t0))
	copy(s.layout.Values(s.w.Begin()), s.vals)
	s.w.Serve(s.served)
	s.w.Commit(time.Now().UnixNano())
	return firstErr
}

// stdio imitates glibc's FILE: a page mapped for the buffer and unmapped at
// fclose. Only with Options.StdioReads. Raw syscalls: unix.Mmap would
// allocate and so blur what the benchmark compares.
func (s *Sampler) stdio() {
	if !s.o.StdioReads {
		return
	}
	addr, _, errno := unix.Syscall6(unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if errno != 0 {
		return
	}
	touch(addr) // as a read into the buffer would
	_, _, _ = unix.Syscall(unix.SYS_MUNMAP, addr, 4096, 0)
}

// Start runs the sampler on its own locked OS thread every interval, and
// prints the status line once per second if asked. It takes a first sample
// synchronously (warm-up: the thread exists and every buffer has been
// used before the loops start). Between samples the thread sleeps on the
// segment's request futex, so a sample request (shm.Requester) is served
// at once, without waiting for the next interval.
func (s *Sampler) Start() error {
	ready := make(chan error, 1)
	go s.loop(ready)
	return <-ready
}

func (s *Sampler) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer close(s.done)
	// Name the thread, so the flight recorder can say "rxp-stats" when
	// this thread is the one that disturbs the RX CPUs.
	SetThreadName("rxp-stats")
	s.tid = unix.Gettid()
	err := s.Sample()
	s.status.CopyFrom(s.cur)
	ready <- err
	next := time.Now().Add(s.o.Interval)
	lastStatus := s.cur.At
	for !s.stopping.Load() {
		if s.w.Requested() != s.served {
			s.note(s.sample(false))
			continue
		}
		now := time.Now()
		if wait := next.Sub(now); wait > 0 {
			s.w.WaitRequest(s.served, wait)
			continue
		}
		// As a ticker does: late ticks are dropped, not caught up.
		if next = next.Add(s.o.Interval); !next.After(now) {
			next = now.Add(s.o.Interval)
		}
		s.note(s.sample(true))
		if s.o.StatusFD >= 0 && s.cur.At.Sub(lastStatus) >= time.Second-s.o.Interval/2 {
			s.printStatus()
			lastStatus = s.cur.At
		}
	}
}

// note keeps the first sampling error for Stop.
func (s *Sampler) note(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

func (s *Sampler) printStatus() {
	s.line = s.line[:0]
	if s.o.StatusTTY {
		s.line = append(s.line, '\r')
	}
	s.line = counters.AppendStatus(s.line, time.Unix(0, s.started.Load()), s.status, s.cur)
	if s.o.StatusTTY {
		s.line = append(s.line, "\x1b[K"...)
	} else {
		s.line = append(s.line, '\n')
	}
	_, _ = unix.Write(s.o.StatusFD, s.line)
	s.status.CopyFrom(s.cur)
}

// Stop ends the loop and waits for it. It returns the first sampling error
// seen while running, if any.
func (s *Sampler) Stop() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
		s.stopping.Store(true)
		s.w.Interrupt() // out of the futex wait
	}
	<-s.done
	return s.err
}

// Final takes a last sample after the loops stopped, closing the guard's
// last (possibly partial) second so that the ledger covers the whole run.
// Call it after Stop and after the engine's loops have returned.
func (s *Sampler) Final() error {
	if s.g != nil {
		s.g.n = s.g.every
	}
	return s.Sample()
}

// Close unmaps and removes the segment and closes the readers. Call it
// after Stop (or without Start).
func (s *Sampler) Close() error {
	s.closeSources()
	if s.w != nil {
		err := s.w.Close()
		s.w = nil
		return err
	}
	return nil
}

func (s *Sampler) closeSources() {
	for _, src := range s.sources {
		src.close()
	}
}

// Guard returns the jitter guard (nil without Options.Guard). Read it only
// after Stop.
func (s *Sampler) Guard() *guard.Guard {
	if s.g == nil {
		return nil
	}
	return s.g.g
}

// Path is the segment's file.
func (s *Sampler) Path() string { return s.w.Path() }
