package rx

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
)

// GenCounters are the generator's counters.
type GenCounters = dpdk.GenCounters

// Generator is a running `rxprobe gen`: EAL, one port, one paced TX loop.
type Generator struct {
	cfg      config.Generator
	sess     session
	port     uint16
	pool     *dpdk.Mempool
	gen      *dpdk.Gen
	opened   bool
	started  bool
	launched bool
	Started  time.Time
	// SrcMAC is the source MAC the frames carry.
	SrcMAC net.HardwareAddr
	clock  counters.HostClock
	// Degraded lists what differs from a clean start (a NUMA node that
	// could not be found), one line each.
	Degraded []string
}

// OpenGenerator starts EAL for cfg.Generator and prepares the TX loop.
func OpenGenerator(cfg *config.Config, o Options) (*Generator, error) {
	if cfg.Generator == nil {
		return nil, &config.FieldError{Field: "generator", Reason: "missing: add a generator section (device, cpu, rate, ...)"}
	}
	g := cfg.Generator
	node, numaErr := portNode(hostfs.New(o.HostRoot), g.Device, []int{g.CPU})
	prefix := o.Prefix
	if prefix == "" {
		prefix = UniquePrefix("gen")
	}
	plan, err := prepare(o.HostRoot, cfg.EAL.NoHuge, cfg.PageSize(), func(dir string) *EALPlan {
		return GenPlan(cfg, prefix, dir, node)
	}, cfg.HousekeepingSet())
	if err != nil {
		return nil, err
	}
	e := &Generator{cfg: *g, sess: session{plan: plan}}
	if numaErr != nil {
		e.Degraded = append(e.Degraded, numaErr.Error())
	}
	if err := e.sess.start(); err != nil {
		return nil, err
	}
	if err := e.setup(node); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	e.clock = ReadHostClock(o.HostRoot, dpdk.TSCHz())
	return e, nil
}

func (e *Generator) setup(node int) error {
	g := e.cfg
	id, err := dpdk.PortByName(g.Device)
	if err != nil {
		return fmt.Errorf("rx: generator %s: %w", g.Device, err)
	}
	e.port = id
	info, err := dpdk.Info(id)
	if err != nil {
		return err
	}
	if e.pool, err = dpdk.NewMempool("rxp_gen", g.MbufCount(), config.DefaultMbufCache, config.DefaultDataRoom, node, needsPackedPool(info.Driver)); err != nil {
		return err
	}
	e.opened = true
	if err := dpdk.Configure(id, dpdk.PortConfig{RXQueues: 1, TXQueues: 1, RXRing: 512, TXRing: uint16(min(g.TXRing, 32768))}, e.pool, node); err != nil {
		return err
	}
	if err := dpdk.Start(id); err != nil {
		return err
	}
	e.started = true
	if e.SrcMAC, err = net.ParseMAC(g.SrcMAC); err != nil || g.SrcMAC == "" {
		if e.SrcMAC, err = dpdk.MACAddr(id); err != nil {
			return err
		}
	}
	dst, _ := net.ParseMAC(g.DstMAC)
	e.gen, err = dpdk.NewGen(id, 0, e.pool, node, dpdk.GenParams{
		Burst: uint16(g.Burst), Size: uint16(g.Size), Rate: g.Rate, Count: g.Count, Flows: uint32(g.Flows),
		SrcMAC: e.SrcMAC, DstMAC: dst, SrcIP: net.ParseIP(g.SrcIP), DstIP: net.ParseIP(g.DstIP),
		SrcPort: uint16(g.SrcPort), DstPort: uint16(g.DstPort), SleepAheadUs: sleepAhead(g.Spin), Latency: g.Latency})
	return err
}

// Start launches the TX loop.
func (e *Generator) Start() error {
	dpdk.SetStop(false)
	workers := dpdk.WorkerLcores()
	if len(workers) == 0 {
		return fmt.Errorf("rx: generator: EAL has no worker lcore")
	}
	e.Started = time.Now()
	if err := e.gen.Launch(workers[0]); err != nil {
		return err
	}
	e.launched = true
	return nil
}

// relaunch starts the stopped TX loop again at rate and count, stamping
// for latency or not (Trial).
func (e *Generator) relaunch(rate float64, count uint64, latency bool) error {
	if e.launched {
		return fmt.Errorf("rx: generator: a trial while the TX loop runs: stop it first")
	}
	e.gen.Retarget(rate, count, latency)
	return e.Start()
}

// Read copies the generator's counters into c.
func (e *Generator) Read(c *GenCounters) { e.gen.Read(c) }

// Stop stops the loop and waits for it.
func (e *Generator) Stop() {
	if e.launched {
		dpdk.SetStop(true)
		dpdk.WaitAll()
		e.launched = false
	}
}

// PortStats reads the generator port's basic counters.
func (e *Generator) PortStats() (counters.PortStats, error) {
	var ps counters.PortStats
	r, err := dpdk.NewStatsReader(e.port)
	if err != nil {
		return ps, err
	}
	defer r.Free()
	err = r.Read(&ps)
	return ps, err
}

// Close stops everything and removes the run's files.
func (e *Generator) Close() error {
	e.Stop()
	errs := shutPort(e.port, &e.started, &e.opened)
	if e.gen != nil {
		e.gen.Free()
		e.gen = nil
	}
	if e.pool != nil {
		e.pool.Free()
		e.pool = nil
	}
	errs = append(errs, e.sess.end())
	return errors.Join(errs...)
}

// sleepAhead is how far ahead of schedule a non-spinning generator sleeps.
func sleepAhead(spin bool) uint32 {
	if spin {
		return 0
	}
	return 200
}
