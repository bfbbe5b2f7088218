package rx

import (
	"fmt"
	"path/filepath"

	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/rx/internal/dpdk"
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
	for _, q := range e.Queues {
		p := q.Port
		cc := dpdk.CaptureConfig{
			Port: p.ID, Queue: q.ID, Socket: p.Node, Snaplen: uint32(c.Snaplen),
			RingSize: uint32(c.RingSize), BlockSize: uint32(c.BlockKB) * 1024, Blocks: uint32(c.Blocks),
			Dir: dir, Pattern: c.Pattern,
			RotateBytes: uint64(c.RotateMB) << 20, RotateEvery: c.RotateEvery,
			MaxFiles: uint32(c.MaxFiles), MinFreeBytes: uint64(c.MinFreeMB) << 20,
			CPUs:                 cpus,
			InterfaceName:        p.Cfg.Name,
			InterfaceDescription: fmt.Sprintf("%s (%s) queue %d; clock: TSC of the RX core, UTC-anchored", p.Cfg.Device, p.Info.Driver, q.ID),
			FilterExpr:           c.Filter,
			SlowWriter:           e.slow,
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
		Files: c.FilesClosed, FilesDeleted: c.FilesDeleted, Errors: c.Errors}
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

// stopCapture drains and closes every capture after the loops returned:
// the counters are then final. The last interface statistics blocks get
// the port's NIC drops (imissed + rx_nombuf: port-wide, DPDK does not
// split them per queue) as isb_ifdrop.
func (e *Engine) stopCapture() {
	var s dpdk.PortStats
	for _, q := range e.Queues {
		if q.cap == nil {
			continue
		}
		if q.Port.stats != nil && q.Port.stats.Read(&s) == nil {
			q.cap.SetNICDrops(s.IMissed + s.RXNoMbuf)
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
