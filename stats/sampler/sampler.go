package sampler

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/stats/counter"
	"github.com/rxprobe/rxprobe/stats/kernel"
	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

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
	// Events receives one line per guard event (nil: none).
	EventFD int
	// StdioReads makes every kernel file read also map and unmap a page,
	// as glibc's stdio did: the deliberately bad baseline of
	// `make bench-observer`. Never set it in production.
	StdioReads bool
}

// queueSlots are the value indexes of one RX queue.
type queueSlots struct {
	packets, bytes, polls, empty, busy, maxGap, first, sum int
	launchTSC                                              uint64
}

// portSlots are the value indexes of one port.
type portSlots struct {
	ipackets, imissed, ierrors, nombuf int
	discardsPhy, outOfBuffer           int // xstat positions, -1 if absent
	discardsIdx, oobIdx                int
	xstat0                             int
	mono                               []counter.Mono // ipackets, imissed, ierrors, nombuf, then each xstat
	raw                                []uint64
}

type irqSlot struct {
	id   string
	name string // "41 virtio3-rx" for device IRQs
	kind int    // guard kind, -1 if unwatched
	pos  int    // position of the CPU in Interrupts.CPUs
	idx  int
	m    counter.Mono
	last uint64 // value at the last guard second
	row  int    // where the row was in the last sample: rows rarely move
}

type softSlot struct {
	cpu                 int
	dropIdx, squeezeIdx int
	drop, squeeze       counter.Mono
}

type devSlot struct {
	name string
	idx  int
	m    counter.Mono
}

type sysLabel struct {
	port int
	name string
}

// Sampler is the stats thread. Create it with New before the loops start,
// then Start it; Stop it before reading the engine from another goroutine.
type Sampler struct {
	o      Options
	eng    *rx.Engine
	cur    *rx.Snapshot
	status *rx.Snapshot // snapshot at the last status line
	line   []byte

	queues []queueSlots
	ports  []portSlots

	irqR *kernel.InterruptsReader
	irq  *kernel.Interrupts
	irqs []irqSlot

	softR *kernel.SoftnetReader
	soft  *kernel.Softnet
	softs []softSlot

	devR *kernel.NetDevReader
	dev  *kernel.NetDev
	devs []devSlot

	sysR      *kernel.CounterReader
	sys       *kernel.Counters
	syss      []devSlot // name = path; one per sysfs counter file
	sysLabels []sysLabel

	snmpR         *kernel.SNMPReader
	udp           kernel.UDPStats
	rcvbufIdx     int
	inErrIdx      int
	rcvbuf, inErr counter.Mono

	sampleNsIdx, samplesIdx int
	samples                 uint64

	layout *snapshot.Layout
	w      *shm.Writer
	vals   []uint64 // staging copy, published in one go under the seqlock

	stop chan struct{}
	done chan struct{}
	err  error

	g      guardState
	tid    int
	launch atomic.Uint64 // loops' launch TSC, set by another goroutine
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
func New(eng *rx.Engine, o Options) (*Sampler, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.ShmDir == "" {
		o.ShmDir = shm.DefaultDir
	}
	s := &Sampler{o: o, eng: eng, cur: eng.NewSnapshot(), status: eng.NewSnapshot(),
		line: make([]byte, 0, 512), stop: make(chan struct{}), done: make(chan struct{})}
	b := snapshot.NewBuilder(o.Prefix, unix.Getpid(), int64(o.Interval), o.Build)
	if err := s.schema(b); err != nil {
		s.closeReaders()
		return nil, err
	}
	layout, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		s.closeReaders()
		return nil, err
	}
	s.layout = layout
	s.vals = make([]uint64, b.Schema().Values)
	w, err := shm.Create(o.ShmDir, o.Prefix, layout.PayloadSize())
	if err != nil {
		s.closeReaders()
		return nil, fmt.Errorf("sampler: %w", err)
	}
	s.w = w
	layout.WriteSchema(w.Begin())
	w.Commit(time.Now().UnixNano())
	return s, nil
}

func (s *Sampler) schema(b *snapshot.Builder) error {
	L := snapshot.L
	cycle := 1 / float64(s.eng.TSCHz)
	bounds := make([]float64, rx.GapBuckets-1)
	for k := range bounds {
		bounds[k] = float64(rx.GapBucketLimitNs(k)) * 1e-9
	}
	for _, q := range s.eng.Queues {
		pl, ql := L("port", q.Port.Cfg.Name), L("queue", strconv.Itoa(int(q.ID)))
		var qs queueSlots
		qs.packets = b.Add("rxprobe_rx_packets_total", snapshot.Counter, 0, pl, ql)
		qs.bytes = b.Add("rxprobe_rx_bytes_total", snapshot.Counter, 0, pl, ql)
		qs.polls = b.Add("rxprobe_loop_polls_total", snapshot.Counter, 0, pl, ql)
		qs.empty = b.Add("rxprobe_loop_empty_polls_total", snapshot.Counter, 0, pl, ql)
		qs.busy = b.Add("rxprobe_loop_busy_seconds_total", snapshot.Counter, cycle, pl, ql)
		qs.maxGap = b.Add("rxprobe_loop_max_gap_seconds", snapshot.Gauge, cycle, pl, ql, L("cpu", strconv.Itoa(q.CPU)))
		qs.first, qs.sum = b.AddHistogram("rxprobe_loop_gap_seconds", bounds, cycle, pl, ql)
		s.queues = append(s.queues, qs)
	}
	var rxcpus []int
	for _, q := range s.eng.Queues {
		if !slices.Contains(rxcpus, q.CPU) { // queues may share a CPU (run.share_rx_cpus)
			rxcpus = append(rxcpus, q.CPU)
		}
	}
	for i, p := range s.eng.Ports {
		pl := L("port", p.Cfg.Name)
		names := p.XStatNames()
		ps := portSlots{discardsPhy: -1, outOfBuffer: -1, discardsIdx: -1, oobIdx: -1}
		ps.ipackets = b.Add("rxprobe_port_rx_packets_total", snapshot.Counter, 0, pl)
		ps.imissed = b.Add("rxprobe_rx_missed_total", snapshot.Counter, 0, pl)
		ps.ierrors = b.Add("rxprobe_rx_errors_total", snapshot.Counter, 0, pl)
		ps.nombuf = b.Add("rxprobe_rx_nombuf_total", snapshot.Counter, 0, pl)
		for k, n := range names {
			switch n {
			case "rx_discards_phy":
				ps.discardsPhy = k
				ps.discardsIdx = b.Add("rxprobe_rx_discards_phy_total", snapshot.Counter, 0, pl)
			case "rx_out_of_buffer":
				ps.outOfBuffer = k
				ps.oobIdx = b.Add("rxprobe_rx_out_of_buffer_total", snapshot.Counter, 0, pl)
			}
		}
		ps.xstat0 = -1
		for k, n := range names {
			idx := b.Add("rxprobe_xstat_total", snapshot.Counter, 0, pl, L("name", n))
			if k == 0 {
				ps.xstat0 = idx
			}
		}
		ps.mono = make([]counter.Mono, 4+len(names))
		ps.raw = make([]uint64, 4+len(names))
		s.ports = append(s.ports, ps)
		_ = i
	}

	var err error
	if s.irqR, err = kernel.NewInterruptsReader(s.o.HostRoot, rxcpus); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	s.irq = s.irqR.NewSample()
	if err := s.irqR.ReadInto(s.irq); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	for _, row := range s.irq.Rows {
		if !row.PerCPU {
			continue
		}
		for pos, cpu := range s.irq.CPUs {
			idx := b.Add("rxprobe_cpu_interrupts_total", snapshot.Counter, 0, L("cpu", strconv.Itoa(cpu)), L("kind", row.ID))
			kind, ok := guard.KindOf(row.ID)
			if !ok {
				kind = -1
			}
			name := row.ID
			if row.Device != "" {
				name += " " + row.Device
			}
			s.irqs = append(s.irqs, irqSlot{id: row.ID, name: name, kind: kind, pos: pos, idx: idx, m: counter.NewMono32()})
		}
	}

	if s.softR, err = kernel.NewSoftnetReader(s.o.HostRoot); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	s.soft = s.softR.NewSample()
	if err := s.softR.ReadInto(s.soft); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	for _, c := range s.soft.CPUs {
		cl := L("cpu", strconv.Itoa(c.CPU))
		s.softs = append(s.softs, softSlot{cpu: c.CPU,
			dropIdx:    b.Add("rxprobe_softnet_dropped_total", snapshot.Counter, 0, cl),
			squeezeIdx: b.Add("rxprobe_softnet_time_squeeze_total", snapshot.Counter, 0, cl),
			drop:       counter.NewMono32(), squeeze: counter.NewMono32()})
	}

	if s.devR, err = kernel.NewNetDevReader(s.o.HostRoot); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	s.dev = s.devR.NewSample()
	if err := s.devR.ReadInto(s.dev); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	for _, d := range s.dev.Devices {
		s.devs = append(s.devs, devSlot{name: d.Name, idx: b.Add("rxprobe_netdev_rx_dropped_total", snapshot.Counter, 0, L("device", d.Name))})
	}

	// Per-port sysfs counters, read directly: the kernel interface an
	// AF_XDP/AF_PACKET port is bound to, and for a PCI port its netdevs
	// and (mlx5) its RDMA hw_counters, where out_of_buffer lives.
	var paths []string
	var labels [][]snapshot.Label
	for i, p := range s.eng.Ports {
		for _, f := range sysfsCounters(s.o.HostRoot, p) {
			paths = append(paths, f.path)
			labels = append(labels, []snapshot.Label{L("port", p.Cfg.Name), L("name", f.name)})
			s.sysLabels = append(s.sysLabels, sysLabel{port: i, name: f.name})
		}
	}
	if s.sysR, err = kernel.NewCounterReader(s.o.HostRoot, paths); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	s.sys = s.sysR.NewSample()
	for i, path := range paths {
		s.syss = append(s.syss, devSlot{name: path, idx: b.Add("rxprobe_sysfs_counter_total", snapshot.Counter, 0, labels[i]...)})
	}

	if s.snmpR, err = kernel.NewSNMPReader(s.o.HostRoot); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	s.rcvbufIdx = b.Add("rxprobe_udp_rcvbuf_errors_total", snapshot.Counter, 0)
	s.inErrIdx = b.Add("rxprobe_udp_in_errors_total", snapshot.Counter, 0)
	if err := s.guardSchema(b); err != nil {
		return err
	}
	s.sampleNsIdx = b.Add("rxprobe_stats_sample_seconds", snapshot.Gauge, 1e-9)
	s.samplesIdx = b.Add("rxprobe_stats_samples_total", snapshot.Counter, 0)

	b.Help("rxprobe_rx_packets_total", "Packets received by the RX loop of a queue.")
	b.Help("rxprobe_rx_bytes_total", "Bytes received by the RX loop of a queue.")
	b.Help("rxprobe_loop_polls_total", "rte_eth_rx_burst calls of the RX loop.")
	b.Help("rxprobe_loop_empty_polls_total", "rte_eth_rx_burst calls that returned no packet.")
	b.Help("rxprobe_loop_busy_seconds_total", "Time the RX loop spent on polls that returned packets.")
	b.Help("rxprobe_loop_max_gap_seconds", "Longest time between two polls since the loop started.")
	b.Help("rxprobe_loop_gap_seconds", "Time between consecutive rte_eth_rx_burst calls of the RX loop.")
	b.Help("rxprobe_port_rx_packets_total", "Packets the port counted (ethdev ipackets).")
	b.Help("rxprobe_rx_missed_total", "Packets the NIC dropped for lack of a free descriptor (imissed): the host was too slow.")
	b.Help("rxprobe_rx_errors_total", "Erroneous received packets (ierrors).")
	b.Help("rxprobe_rx_nombuf_total", "RX mbuf allocation failures: the mempool was empty.")
	b.Help("rxprobe_rx_discards_phy_total", "Packets the NIC discarded for lack of buffer at the port (rx_discards_phy).")
	b.Help("rxprobe_rx_out_of_buffer_total", "Packets dropped because no receive WQE was posted (rx_out_of_buffer).")
	b.Help("rxprobe_xstat_total", "Every DPDK extended statistic of the port, by name.")
	b.Help("rxprobe_cpu_interrupts_total", "Interrupts on RX CPUs from /proc/interrupts, by row (LOC, CAL, TLB, RES, ... or IRQ number).")
	b.Help("rxprobe_softnet_dropped_total", "Packets the kernel dropped because the CPU's backlog was full (softnet_stat).")
	b.Help("rxprobe_softnet_time_squeeze_total", "NAPI rounds that ran out of budget or time (softnet_stat).")
	b.Help("rxprobe_netdev_rx_dropped_total", "Kernel interface rx_dropped (/proc/net/dev).")
	b.Help("rxprobe_sysfs_counter_total", "Per-port kernel counters read from sysfs: the bound interface's statistics, mlx5 hw_counters (out_of_buffer).")
	b.Help("rxprobe_udp_rcvbuf_errors_total", "UDP datagrams dropped on full socket buffers (/proc/net/snmp RcvbufErrors).")
	b.Help("rxprobe_udp_in_errors_total", "UDP datagrams that could not be delivered (/proc/net/snmp InErrors).")
	b.Help("rxprobe_stats_sample_seconds", "Time the last stats sample took.")
	b.Help("rxprobe_stats_samples_total", "Stats samples published.")
	return nil
}

// LaunchTSC records the TSC at which the loops were launched: the start of
// the gap histogram's running sum. It also asks the guard to start its
// first second from the next sample, after the launch (waking the worker
// lcores is an IPI to each RX CPU, and not a violation). Call it before
// Start, or from another goroutine once: it only stores atomically.
func (s *Sampler) LaunchTSC(tsc uint64) {
	s.launch.Store(tsc)
}

// Sample takes one sample and publishes it. Start calls it every interval;
// call it directly only while the sampler is not started.
func (s *Sampler) Sample() error {
	t0 := time.Now()
	if l := s.launch.Swap(0); l != 0 {
		for i := range s.queues {
			s.queues[i].launchTSC = l
		}
		if s.g.g != nil {
			s.g.g.Rebase()
			s.g.n = s.g.every - 1 // the next guard second starts now
		}
	}
	s.eng.Snapshot(s.cur)
	for i := range s.queues {
		qs, c := &s.queues[i], &s.cur.Queues[i]
		v := s.vals
		v[qs.packets], v[qs.bytes], v[qs.polls], v[qs.empty] = c.Packets, c.Bytes, c.Polls, c.EmptyPolls
		v[qs.busy], v[qs.maxGap] = c.BusyCycles, c.MaxGapCycles
		copy(v[qs.first:qs.first+rx.GapBuckets], c.GapHist[:])
		if c.LastTSC > qs.launchTSC && qs.launchTSC != 0 {
			v[qs.sum] = c.LastTSC - qs.launchTSC
		}
	}
	for i := range s.ports {
		ps, p := &s.ports[i], &s.cur.Ports[i]
		ps.raw[0], ps.raw[1], ps.raw[2], ps.raw[3] = p.Stats.IPackets, p.Stats.IMissed, p.Stats.IErrors, p.Stats.RXNoMbuf
		copy(ps.raw[4:], p.XStats)
		for k := range ps.raw {
			ps.raw[k] = ps.mono[k].Update(ps.raw[k])
		}
		v := s.vals
		v[ps.ipackets], v[ps.imissed], v[ps.ierrors], v[ps.nombuf] = ps.raw[0], ps.raw[1], ps.raw[2], ps.raw[3]
		if ps.xstat0 >= 0 {
			copy(v[ps.xstat0:ps.xstat0+len(p.XStats)], ps.raw[4:])
		}
		if ps.discardsPhy >= 0 {
			v[ps.discardsIdx] = ps.raw[4+ps.discardsPhy]
		}
		if ps.outOfBuffer >= 0 {
			v[ps.oobIdx] = ps.raw[4+ps.outOfBuffer]
		}
	}
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	s.stdio()
	if err := s.irqR.ReadInto(s.irq); err == nil {
		for i := range s.irqs {
			sl := &s.irqs[i]
			if row := s.irqRow(sl); row != nil && row.PerCPU {
				s.vals[sl.idx] = sl.m.Update(row.Counts[sl.pos])
			}
		}
	} else {
		keep(err)
	}
	s.stdio()
	if err := s.softR.ReadInto(s.soft); err == nil {
		for i := range s.softs {
			sl := &s.softs[i]
			for k := range s.soft.CPUs {
				if c := &s.soft.CPUs[k]; c.CPU == sl.cpu {
					s.vals[sl.dropIdx] = sl.drop.Update(c.Dropped)
					s.vals[sl.squeezeIdx] = sl.squeeze.Update(c.TimeSqueeze)
				}
			}
		}
	} else {
		keep(err)
	}
	s.stdio()
	if err := s.devR.ReadInto(s.dev); err == nil {
		for i := range s.devs {
			sl := &s.devs[i]
			if d, ok := s.dev.Device(sl.name); ok {
				s.vals[sl.idx] = sl.m.Update(d.RxDrop)
			}
		}
	} else {
		keep(err)
	}
	s.stdio()
	if len(s.syss) > 0 {
		keep(s.sysR.ReadInto(s.sys))
		for i := range s.syss {
			if s.sys.Present[i] {
				s.vals[s.syss[i].idx] = s.syss[i].m.Update(s.sys.Values[i])
			}
		}
	}
	s.stdio()
	if err := s.snmpR.ReadInto(&s.udp); err == nil {
		s.vals[s.rcvbufIdx] = s.rcvbuf.Update(s.udp.RcvbufErrors)
		s.vals[s.inErrIdx] = s.inErr.Update(s.udp.InErrors)
	} else {
		keep(err)
	}
	s.guardSample()
	s.samples++
	s.vals[s.samplesIdx] = s.samples
	s.vals[s.sampleNsIdx] = uint64(time.Since(t0))
	copy(s.layout.Values(s.w.Begin()), s.vals)
	s.w.Commit(time.Now().UnixNano())
	return firstErr
}

// irqRow finds sl's row, first where it was last time: a host has hundreds
// of IRQ rows and one slot per row and RX CPU, so a scan per slot per
// sample would be quadratic; rows move only when IRQs come or go.
func (s *Sampler) irqRow(sl *irqSlot) *kernel.InterruptRow {
	rows := s.irq.Rows
	if sl.row < len(rows) && rows[sl.row].ID == sl.id {
		return &rows[sl.row]
	}
	for i := range rows {
		if rows[i].ID == sl.id {
			sl.row = i
			return &rows[i]
		}
	}
	return nil
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
// used before the loops start).
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
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	lastStatus := s.cur.At
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Sample(); err != nil && s.err == nil {
				s.err = err
			}
			if s.o.StatusFD >= 0 && s.cur.At.Sub(lastStatus) >= time.Second-s.o.Interval/2 {
				s.printStatus()
				lastStatus = s.cur.At
			}
		}
	}
}

func (s *Sampler) printStatus() {
	s.line = s.line[:0]
	if s.o.StatusTTY {
		s.line = append(s.line, '\r')
	}
	s.line = rx.AppendStatus(s.line, s.eng.Started, s.status, s.cur)
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
	}
	<-s.done
	return s.err
}

// Final takes a last sample after the loops stopped, closing the guard's
// last (possibly partial) second so that the ledger covers the whole run.
// Call it after Stop and after the engine's loops have returned.
func (s *Sampler) Final() error {
	s.g.n = s.g.every
	return s.Sample()
}

// Close unmaps and removes the segment and closes the readers. Call it
// after Stop (or without Start).
func (s *Sampler) Close() error {
	s.closeReaders()
	if s.w != nil {
		err := s.w.Close()
		s.w = nil
		return err
	}
	return nil
}

func (s *Sampler) closeReaders() {
	if s.irqR != nil {
		s.irqR.Close()
	}
	if s.softR != nil {
		s.softR.Close()
	}
	if s.devR != nil {
		s.devR.Close()
	}
	if s.snmpR != nil {
		s.snmpR.Close()
	}
	if s.sysR != nil {
		s.sysR.Close()
	}
}

// Path is the segment's file.
func (s *Sampler) Path() string { return s.w.Path() }
