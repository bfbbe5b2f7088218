package rx

import (
	"errors"
	"fmt"
	"github.com/rxprobe/rxprobe/stats/dropclass"
	"time"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
)

// Options adjusts how the engine starts.
type Options struct {
	// HostRoot is where /proc and /sys are read (default "/").
	HostRoot string
	// Prefix overrides the unique --file-prefix (config's eal.file_prefix
	// still wins).
	Prefix string
	// CaptureSlowWriter makes every capture writer sleep this long after
	// each burst (a test option: the caller records it).
	CaptureSlowWriter time.Duration
	// RXPacePPS > 0 runs every RX loop as the paced test variant: it asks
	// its port for at most this many packets a second. net_null ports only
	// (a rate-controlled source for benchmarks; the caller records it).
	RXPacePPS uint64
	// Latency runs the latency variant of every RX loop (config
	// run.latency, rxprobe run --latency): stamped frames' one-way
	// latency is recorded per queue (Reading.Latency).
	Latency bool
}

// Port is one started port.
type Port struct {
	Cfg    config.Port
	ID     uint16
	Node   int
	Info   dpdk.PortInfo
	Link   dpdk.Link
	pool   *dpdk.Mempool
	stats  *dpdk.StatsReader
	xstats *dpdk.XStats
	drops  *dropclass.Plan // the ledger's classes, for the capture ISBs
	// nicDrops is the port's isb_ifdrop at the last Read (capture only).
	nicDrops uint64
	opened   bool // configured: must be stopped and closed
	start    bool
	// Iface is the kernel interface of an AF_XDP/AF_PACKET/pcap port.
	Iface string
	// NetdevStart are Iface's counters when the loops started.
	NetdevStart NetdevCounters
	// nicTS is set when captured packets carry the port's RX timestamps.
	nicTS *dpdk.NICTimestamps
}

// needsPackedPool says whether a driver's mempool must be laid out without
// gaps (see dpdk.NewMempool): AF_XDP's UMEM is the pool's first address
// plus its size.
func needsPackedPool(driver string) bool { return driver == "net_af_xdp" }

// XStatNames lists the port's xstat names, index-aligned with
// counters.PortReading.XStats.
func (p *Port) XStatNames() []string {
	if p.xstats == nil {
		return nil
	}
	return p.xstats.Names()
}

// Queue is one RX queue and its loop.
type Queue struct {
	Port  *Port
	ID    uint16
	CPU   int
	Lcore uint
	rxq   *dpdk.RXQueue
	cap   *dpdk.Capture
	capc  dpdk.CaptureCounters // Read's scratch copy
}

// Engine is a running RX side: EAL, ports, and one C loop per queue.
type Engine struct {
	cfg      *config.Config
	hostRoot string
	sess     session
	Ports    []*Port
	Queues   []*Queue
	TSCHz    uint64
	Started  time.Time
	Degraded []string
	launched bool
	shape    counters.Shape
	filter   *dpdk.Filter
	slow     time.Duration
	pace     uint64
	latency  bool
}

// Plan returns the EAL plan the engine was started with.
func (e *Engine) Plan() *EALPlan { return e.sess.plan }

// Open checks memory, confines the process to the housekeeping CPUs,
// starts EAL and configures and starts every port. On error everything it
// created is undone.
func Open(cfg *config.Config, o Options) (*Engine, error) {
	if err := CheckCaptureFilter(cfg); err != nil {
		return nil, err
	}
	if err := checkPace(cfg, o.RXPacePPS); err != nil {
		return nil, err
	}
	if o.Latency && o.RXPacePPS > 0 {
		return nil, ErrLatencyPaced
	}
	host := hostfs.New(o.HostRoot)
	prefix := o.Prefix
	if prefix == "" {
		prefix = UniquePrefix("run")
	}
	plan, err := prepare(o.HostRoot, cfg.EAL.NoHuge, cfg.PageSize(), func(dir string) *EALPlan {
		return RXPlan(cfg, prefix, dir, NodeOf(host))
	}, cfg.HousekeepingSet())
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, hostRoot: o.HostRoot, slow: o.CaptureSlowWriter, pace: o.RXPacePPS, latency: o.Latency, sess: session{plan: plan, shmDir: cfg.Stats.ShmDir}}
	e.Degraded = append(e.Degraded, cfg.Degraded()...)
	if cfg.EAL.NoHuge {
		e.Degraded = append(e.Degraded, "no hugepages (eal.no_huge): packet memory is ordinary pages, TLB misses and page moves possible")
	}
	e.Degraded = append(e.Degraded, NUMAProblems(host, cfg)...)
	if err := e.sess.start(); err != nil {
		return nil, err
	}
	if err := e.setup(host); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

func (e *Engine) setup(host hostfs.FS) error {
	e.TSCHz = dpdk.TSCHz()
	workers := dpdk.WorkerLcores()
	nodeOf := NodeOf(host)
	w := 0
	for i, pc := range e.cfg.Ports {
		id, err := dpdk.PortByName(pc.Device)
		if err != nil {
			return fmt.Errorf("rx: ports[%d] %s: %w", i, pc.Device, err)
		}
		p := &Port{Cfg: pc, ID: id, Node: nodeOf(pc), Iface: KernelIface(pc.Devargs)}
		e.Ports = append(e.Ports, p)
		if p.Info, err = dpdk.Info(id); err != nil {
			return err
		}
		if int(p.Info.MaxRXQueues) < pc.RXQueues {
			return fmt.Errorf("rx: ports[%d] %s (%s): %d rx_queues asked, the device has %d", i, pc.Device, p.Info.Driver, pc.RXQueues, p.Info.MaxRXQueues)
		}
		p.pool, err = dpdk.NewMempool(fmt.Sprintf("rxp_rx%d", i), pc.PoolMbufs(&e.cfg.Capture), uint32(pc.MbufCache), uint16(pc.DataRoom), p.Node,
			needsPackedPool(p.Info.Driver))
		if err != nil {
			return err
		}
		if n := p.pool.Chunks(); needsPackedPool(p.Info.Driver) && n != 1 {
			return fmt.Errorf("rx: ports[%d] %s (%s): the mempool landed in %d memory chunks, AF_XDP's UMEM covers only one: give DPDK more contiguous memory (eal.extra_memory_mb, or 1G hugepages)", i, pc.Device, p.Info.Driver, n)
		}
		ntx := uint16(1)
		if p.Info.MaxTXQueues == 0 {
			ntx = 0
		}
		if err := e.captureClock(i, p); err != nil {
			return err
		}
		p.opened = true
		if err := dpdk.Configure(id, dpdk.PortConfig{RXQueues: uint16(pc.RXQueues), TXQueues: ntx,
			RXRing: uint16(min(pc.RXRing, 32768)), TXRing: 512, RSS: pc.RXQueues > 1, Promisc: pc.Promiscuous,
			RXTimestamp: p.nicTS != nil}, p.pool, p.Node); err != nil {
			return err
		}
		if p.stats, err = dpdk.NewStatsReader(id); err != nil {
			return err
		}
		if p.xstats, err = dpdk.NewXStats(id); err != nil {
			return err
		}
		p.drops = dropclass.Resolve(p.Info.Driver, p.XStatNames())
		for q, cpu := range pc.QueueCPUs() {
			if w >= len(workers) {
				return fmt.Errorf("rx: EAL has %d worker lcores, the config needs more", len(workers))
			}
			rq, err := dpdk.NewRXQueue(id, uint16(q), uint16(pc.Burst), p.Node)
			if err != nil {
				return err
			}
			if e.latency {
				if err := rq.EnableLatency(p.Node); err != nil {
					rq.Free()
					return err
				}
			}
			e.Queues = append(e.Queues, &Queue{Port: p, ID: uint16(q), CPU: cpu, Lcore: workers[w], rxq: rq})
			w++
		}
	}
	for _, p := range e.Ports {
		if err := dpdk.Start(p.ID); err != nil {
			return err
		}
		p.start = true
		p.Link, _ = dpdk.LinkStatus(p.ID)
	}
	e.describe()
	return e.setupCapture()
}

// Start launches every RX loop on its worker lcore.
func (e *Engine) Start() error {
	dpdk.SetStop(false)
	for _, p := range e.Ports {
		p.NetdevStart = readNetdev(e.hostRoot, p.Iface)
	}
	if err := e.startCapture(); err != nil {
		return err // Close frees (and stops) the captures
	}
	e.Started = time.Now()
	for _, q := range e.Queues {
		launch := q.rxq.Launch
		switch {
		case e.pace > 0:
			launch = func(lcore uint) error { return q.rxq.LaunchPaced(lcore, e.pace) }
		case e.latency:
			launch = q.rxq.LaunchLatency
		}
		if err := launch(q.Lcore); err != nil {
			e.Stop()
			return err
		}
		e.launched = true
	}
	return nil
}

// Stop tells every loop to return, waits for them, then stops the
// captures (drained, last files renamed: their counters are final). The
// captures are stopped on return even when the loops never launched (a
// failed Start), so nothing writes to the on_file pipe afterwards.
func (e *Engine) Stop() {
	if e.launched {
		dpdk.SetStop(true)
		dpdk.WaitAll()
		e.launched = false
	}
	e.stopCapture()
}

// Close stops the loops, stops and closes the ports, frees memory, runs
// rte_eal_cleanup and removes the run's files. It is safe to call twice.
func (e *Engine) Close() error {
	e.Stop()
	e.freeCapture()
	var errs []error
	for _, p := range e.Ports {
		errs = append(errs, shutPort(p.ID, &p.start, &p.opened)...)
		if p.stats != nil {
			p.stats.Free()
		}
		if p.xstats != nil {
			p.xstats.Free()
		}
	}
	for _, q := range e.Queues {
		q.rxq.Free()
	}
	for _, p := range e.Ports {
		p.pool.Free()
	}
	e.Ports, e.Queues = nil, nil
	errs = append(errs, e.sess.end())
	return errors.Join(errs...)
}

// shutPort stops the port if it was started and closes it if it was
// opened (configured), clearing each flag it acts on, and returns what
// those calls returned.
func shutPort(id uint16, started, opened *bool) []error {
	var errs []error
	if *started {
		errs = append(errs, dpdk.Stop(id))
		*started = false
	}
	if *opened {
		errs = append(errs, dpdk.Close(id))
		*opened = false
	}
	return errs
}

// Events returns link-change and removal events seen so far.
func (e *Engine) Events() dpdk.Events { return dpdk.ReadEvents() }

// DPDKVersion is the linked DPDK version.
func DPDKVersion() string { return dpdk.Version() }

// TSC reads the time-stamp counter.
func TSC() uint64 { return dpdk.TSC() }
