package rx

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// CaptureCounters is a copy of one queue's capture counters (see
// dpdk.CaptureCounters for each field).
type CaptureCounters = dpdk.CaptureCounters

// ErrFilter is matched (errors.Is) by an invalid capture.filter.
var ErrFilter = dpdk.ErrFilter

// CheckCaptureFilter compiles the config's capture filter with libpcap (no
// EAL needed), so a bad expression is reported before DPDK starts. It
// returns nil when capture is off.
func CheckCaptureFilter(cfg *config.Config) error {
	p, err := compileCaptureFilter(cfg)
	p.Free()
	return err
}

func compileCaptureFilter(cfg *config.Config) (*dpdk.FilterProgram, error) {
	c := &cfg.Capture
	if !c.Enabled || c.Filter == "" {
		return nil, nil
	}
	p, err := dpdk.CompileFilter(c.Filter, uint32(c.Snaplen))
	if err != nil {
		return nil, fmt.Errorf("config: capture.filter: %w: give a tcpdump expression (man pcap-filter)", err)
	}
	return p, nil
}

// setupCapture loads the filter and builds and attaches one capture per
// queue; the threads start in startCapture.
func (e *Engine) setupCapture() error {
	c := &e.cfg.Capture
	if !c.Enabled {
		return nil
	}
	prog, err := compileCaptureFilter(e.cfg)
	if err != nil {
		return err
	}
	if prog != nil {
		e.filter, err = prog.Load(true)
		prog.Free()
		if err != nil {
			return fmt.Errorf("rx: capture.filter: %w", err)
		}
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return fmt.Errorf("rx: capture.dir %s: %w", c.Dir, err)
	}
	cpus := e.cfg.CaptureCPUs()
	if err := e.calibrateNICClocks(); err != nil {
		return err
	}
	for _, q := range e.Queues {
		p := q.Port
		cc := dpdk.CaptureConfig{
			Port: p.ID, Queue: q.ID, Socket: p.Node, Snaplen: uint32(c.Snaplen),
			RingSize: uint32(c.RingSize), BlockSize: uint32(c.BlockKB) * 1024, Blocks: uint32(c.Blocks),
			Dir: dir, Pattern: c.FilePattern(),
			Trigger: c.Mode == capture.ModeTrigger, HistoryBytes: uint64(c.HistoryBytes()), After: c.After,
			RotateBytes: uint64(c.RotateMB) << 20, RotateEvery: c.RotateEvery,
			MaxFiles: uint32(c.MaxFiles), MinFreeBytes: uint64(c.MinFreeMB) << 20,
			CPUs:                 cpus,
			InterfaceName:        p.Cfg.Name,
			InterfaceDescription: fmt.Sprintf("%s (%s) queue %d; clock: %s", p.Cfg.Device, p.Info.Driver, q.ID, p.clockText()),
			FilterExpr:           c.Filter,
			SlowWriter:           e.slow,
			NIC:                  p.nicTS,
		}
		if q.cap, err = dpdk.NewCapture(cc, e.filter); err != nil {
			return err
		}
		if err := q.cap.Attach(q.rxq); err != nil {
			return err
		}
	}
	e.shape.Capture = true
	return nil
}

// copyCapture copies the counters a Reading carries.
func copyCapture(d *counters.Capture, c *dpdk.CaptureCounters) {
	*d = counters.Capture{Enqueued: c.Enqueued, FilteredOut: c.FilteredOut, RingDropped: c.RingDropped,
		Encoded: c.Encoded, Bytes: c.Bytes, BusyNs: c.BusyNs, BlockWaitNs: c.BlockWaitNs,
		Written: c.Written, DiskDropped: c.DiskDropped, BytesWritten: c.BytesWritten, WriteNs: c.WriteNs,
		Files: c.FilesClosed, FilesDeleted: c.FilesDeleted, Errors: c.Errors,
		Triggers: c.Triggers, TriggersCoalesced: c.TriggersCoalesced, Expired: c.Expired, HistoryBytes: c.HistoryBytes}
}

// startCapture starts every queue's writer and I/O threads (before the
// loops launch).
func (e *Engine) startCapture() error {
	for _, q := range e.Queues {
		if q.cap == nil {
			continue
		}
		if err := q.cap.Start(); err != nil {
			return err
		}
	}
	return nil
}

// nicDrops is what a port's capture files report as isb_ifdrop: the
// ledger's NIC layers (port_buffer, e.g. mlx5 rx_phy_discard_packets;
// host_too_slow, imissed; mempool_empty, rx_nombuf), port-wide because
// DPDK does not split them per queue. It does not allocate.
func nicDrops(p *Port, r *counters.PortReading) uint64 {
	if p.drops == nil {
		return r.Stats.IMissed + r.Stats.RXNoMbuf
	}
	in := dropclass.Input{Basic: dropclass.Basic{IMissed: r.Stats.IMissed, IErrors: r.Stats.IErrors, RXNoMbuf: r.Stats.RXNoMbuf},
		XStats: r.XStats}
	d := p.drops.Classify(&in)
	return d[dropclass.PortBuffer] + d[dropclass.HostTooSlow] + d[dropclass.MempoolEmpty]
}

// stopCapture drains and closes every capture after the loops returned:
// the counters are then final. Every stats read refreshes the figure the
// interface statistics blocks carry as isb_ifdrop (nicDrops); the last
// blocks get a fresh reading.
func (e *Engine) stopCapture() {
	var r counters.PortReading
	for _, q := range e.Queues {
		if q.cap == nil {
			continue
		}
		p := q.Port
		if p.stats != nil && p.stats.Read(&r.Stats) == nil {
			if p.xstats != nil && p.xstats.Read() == nil {
				r.XStats = p.xstats.Values()
			} else {
				r.XStats = nil
			}
			q.cap.SetNICDrops(nicDrops(p, &r))
		}
		q.cap.Stop()
	}
}

// freeCapture releases the captures and the filter (loops stopped).
func (e *Engine) freeCapture() {
	for _, q := range e.Queues {
		q.cap.Free()
		q.cap = nil
	}
	if e.filter != nil {
		e.filter.Free()
		e.filter = nil
	}
}

// Capturing reports whether the queues have captures.
func (e *Engine) Capturing() bool { return len(e.Queues) > 0 && e.Queues[0].cap != nil }

// ReadCapture copies queue i's capture counters into dst and reports
// whether the queue captures. It does not allocate.
func (e *Engine) ReadCapture(i int, dst *CaptureCounters) bool {
	q := e.Queues[i]
	if q.cap == nil {
		return false
	}
	q.cap.Read(dst)
	return true
}

// CaptureLastFile is the name of queue i's latest finished capture file
// ("" for none). It allocates.
func (e *Engine) CaptureLastFile(i int) string {
	if q := e.Queues[i]; q.cap != nil {
		return q.cap.LastFile()
	}
	return ""
}

// CaptureTrigger asks every queue's trigger-mode capture to write its
// history and the packets of capture.after to a new file (reason: a
// capture.Trigger). Any goroutine; it neither blocks nor allocates; a
// no-op without trigger-mode capture. The caller decides which triggers
// are configured (capture.Config.TriggerMask).
func (e *Engine) CaptureTrigger(reason uint8) {
	for _, q := range e.Queues {
		if q.cap != nil {
			q.cap.Trigger(reason)
		}
	}
}

// SetCaptureHook makes every queue's I/O thread announce its finished
// files on fd, the write end of the on_file pipe (O_NONBLOCK). Call it
// before Start; fd must stay open until Stop returned (Stop always stops
// the captures).
func (e *Engine) SetCaptureHook(fd int) {
	for _, q := range e.Queues {
		if q.cap != nil {
			q.cap.SetHook(fd)
		}
	}
}

// CaptureEvent is one trigger-mode event file of a queue.
type CaptureEvent = dpdk.CaptureEvent

// CaptureEvents lists queue i's trigger-mode events (nil for none). It
// allocates.
func (e *Engine) CaptureEvents(i int) []CaptureEvent {
	if q := e.Queues[i]; q.cap != nil {
		return q.cap.Events()
	}
	return nil
}

// nicCalibration is how long the device clock's rate is measured at start.
const nicCalibration = 100 * time.Millisecond

// captureClock decides, before port i is configured, whether its captured
// packets carry its RX timestamps (capture.timestamps against what the
// port offers) and registers the mbuf field they go in.
func (e *Engine) captureClock(i int, p *Port) error {
	c := &e.cfg.Capture
	if !c.Enabled {
		return nil
	}
	use, err := c.Timestamps.UseNIC(p.Info.RXTimestamp)
	if err != nil {
		return fmt.Errorf("config: capture.timestamps: nic: ports[%d] %s (%s): %w", i, p.Cfg.Device, p.Info.Driver, err)
	}
	if !use {
		return nil
	}
	t, err := dpdk.RegisterRXTimestamp()
	if err != nil {
		return err
	}
	p.nicTS = &t
	return nil
}

// calibrateNICClocks measures the device clock rate of every port whose
// packets carry RX timestamps (ports started). A clock that cannot be
// read fails capture.timestamps nic; with auto the port falls back to the
// TSC, recorded in Degraded.
func (e *Engine) calibrateNICClocks() error {
	for i, p := range e.Ports {
		if p.nicTS == nil {
			continue
		}
		err := dpdk.CalibrateNICClock(p.ID, nicCalibration, p.nicTS)
		switch {
		case err == nil:
		case e.cfg.Capture.Timestamps == capture.TimestampsNIC:
			return fmt.Errorf("config: capture.timestamps: nic: ports[%d] %s (%s): %w: set capture.timestamps to auto or tsc", i, p.Cfg.Device, p.Info.Driver, err)
		default:
			e.Degraded = append(e.Degraded, fmt.Sprintf("capture: ports[%d] %s (%s) stamps packets but its clock is not readable (%v): capture uses the TSC", i, p.Cfg.Device, p.Info.Driver, err))
			p.nicTS = nil
		}
	}
	return nil
}

// clockText names the clock of the port's capture timestamps, for the
// pcapng interface description.
func (p *Port) clockText() string {
	if p.nicTS != nil {
		return fmt.Sprintf("NIC RX timestamp (%s), UTC-calibrated", p.Info.Driver)
	}
	return "TSC of the RX core, UTC-anchored"
}

// CaptureClock names the clock of queue i's capture timestamps: "nic"
// (the port's RX timestamps, TSC for packets without one) or "tsc"; ""
// when the queue does not capture.
func (e *Engine) CaptureClock(i int) string {
	q := e.Queues[i]
	switch {
	case q.cap == nil:
		return ""
	case q.Port.nicTS != nil:
		return "nic"
	}
	return "tsc"
}
