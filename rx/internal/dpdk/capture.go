package dpdk

/*
#include <stdlib.h>
#include <string.h>
#include <rte_malloc.h>
#include "cap.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"
)

// ErrCapture is matched (errors.Is) by capture setup errors.
var ErrCapture = errors.New("capture")

// CaptureConfig is one RX queue's capture: where its pcapng files go, how
// they rotate, and the writer's resources. Every size is fixed at
// NewCapture; nothing is allocated once the writer runs.
type CaptureConfig struct {
	Port, Queue uint16
	// Socket is the NUMA node for the ring and the blocks.
	Socket int
	// Snaplen is the most bytes kept of each packet.
	Snaplen uint32
	// RingSize is the number of mbufs the SP/SC ring between the RX loop
	// and the writer holds (a power of two; one slot stays empty). The
	// mempool must hold this many mbufs beyond what RX needs.
	RingSize uint32
	// BlockSize (a multiple of 4096) and Blocks: the writer's aligned
	// buffers, written to disk whole with O_DIRECT.
	BlockSize uint32
	Blocks    uint32
	// Dir is the directory of the files; Pattern names them: {port},
	// {queue}, {seq} and strftime conversions (UTC, at the file's start).
	Dir     string
	Pattern string
	// RotateBytes rotates before a file would exceed it (0: never);
	// RotateEvery rotates at multiples of it since the epoch, so files
	// start on wall-clock boundaries (0: never).
	RotateBytes uint64
	RotateEvery time.Duration
	// MaxFiles keeps at most this many finished files, deleting the
	// oldest (0: no limit). MinFreeBytes keeps the file system above this
	// much free space, deleting the oldest finished files, else dropping.
	MaxFiles     uint32
	MinFreeBytes uint64
	// CPUs the writer and its I/O thread run on; never an RX lcore's CPU.
	CPUs []int
	// IdleSleep is the writer's pause when its ring is empty (default 50µs).
	IdleSleep time.Duration
	// InterfaceName, InterfaceDescription and FilterExpr go into the
	// pcapng interface block (if_name, if_description, if_filter).
	InterfaceName        string
	InterfaceDescription string
	FilterExpr           string
	// Trigger selects trigger mode: packets go into a circular history of
	// HistoryBytes in memory (the oldest expire), and Trigger writes it
	// plus the packets of the next After to one file, named with Pattern
	// where {event} is the trigger's name. Rotation does not apply.
	Trigger      bool
	HistoryBytes uint64
	After        time.Duration
	// SlowWriter makes the writer sleep this long after every burst: a
	// test option to provoke ring-full drops. Record it where it is used.
	SlowWriter time.Duration
	// NIC, when set, stamps packets with the port's RX timestamps
	// (converted to UTC against the device clock, read every second);
	// packets without one keep the RX core's TSC stamp.
	NIC *NICTimestamps
}

// CaptureCounters is a copy of one capture's counters: the RX core's
// (handoff), the writer's and the I/O thread's.
type CaptureCounters struct {
	// On the RX core (the queue's counters).
	Enqueued    uint64 // matched and handed to the writer
	FilteredOut uint64 // did not match the filter
	RingDropped uint64 // matched, but the ring was full
	// Writer thread.
	Encoded      uint64 // packets encoded as pcapng (into blocks; trigger mode: or the history)
	Bytes        uint64 // captured bytes (after snaplen)
	WireBytes    uint64 // original lengths
	Truncated    uint64 // packets cut to snaplen
	Bursts       uint64
	BusyNs       uint64 // handling bursts, BlockWaitNs included
	BlockWaitNs  uint64 // waiting for a free block: the disk was behind
	FilesStarted uint64
	LastTSNs     uint64 // latest packet timestamp written (UTC ns)
	WriterUp     bool
	// Trigger mode (Encoded includes the history's packets).
	Triggers          uint64 // events started
	TriggersCoalesced uint64 // triggers while an event file was open
	Expired           uint64 // encoded into the history, never written
	HistoryBytes      uint64 // the history's current fill
	// I/O thread.
	Written       uint64 // packets in files closed and renamed
	DiskDropped   uint64 // packets in files that could not be written
	BytesWritten  uint64
	BlocksWritten uint64
	WriteNs       uint64
	WriteNsMax    uint64
	FilesClosed   uint64
	FilesDeleted  uint64
	Errors        uint64
	LastErrno     uint64
	Direct        bool // files were opened with O_DIRECT
	IOUp          bool
	// NICStamped packets carry the NIC's RX timestamp (the rest: the
	// TSC); NICClockErrors are anchors that could not read the device
	// clock.
	NICStamped, NICClockErrors uint64
	// HookSent finished files were announced to the on_file process;
	// HookDropped were not (its pipe was full or closed).
	HookSent, HookDropped uint64
}

// Capture is one RX queue's capture stage, writer and I/O thread.
type Capture struct {
	w    *C.struct_rxp_capw
	ev   *C.struct_rxp_cap_event // RXP_CAP_EVENTS of them, for Events
	wc   *C.struct_rxp_capw_counters
	ioc  *C.struct_rxp_capio_counters
	rxq  *RXQueue
	name *C.char
	// Config is the configuration the capture was built from.
	Config CaptureConfig
}

func setCString(dst []C.char, s, field string) error {
	if len(s) >= len(dst) {
		return fmt.Errorf("%w: %s is %d bytes, at most %d", ErrCapture, field, len(s), len(dst)-1)
	}
	for i := 0; i < len(s); i++ {
		dst[i] = C.char(s[i])
	}
	dst[len(s)] = 0
	return nil
}

// NewCapture allocates the ring, the blocks and the writer state. filter
// may be nil (every packet). It needs the EAL.
func NewCapture(cfg CaptureConfig, filter *Filter) (*Capture, error) {
	if !initDone {
		return nil, fmt.Errorf("capture port %d queue %d: %w", cfg.Port, cfg.Queue, ErrNotInitialized)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: port %d queue %d: %s", ErrCapture, cfg.Port, cfg.Queue, fmt.Sprintf(format, a...))
	}
	if len(cfg.CPUs) == 0 || len(cfg.CPUs) > 64 {
		return nil, fail("%d writer CPUs: name 1 to 64 (housekeeping CPUs by default)", len(cfg.CPUs))
	}
	for _, l := range WorkerLcores() {
		if cpu := LcoreCPU(l); slices.Contains(cfg.CPUs, cpu) {
			return nil, fail("writer CPU %d runs lcore %d: capture writers never share an RX CPU", cpu, l)
		}
	}
	if cfg.Dir == "" || cfg.Pattern == "" {
		return nil, fail("empty directory or file name pattern")
	}
	idle := cfg.IdleSleep
	if idle <= 0 {
		idle = 50 * time.Microsecond
	}
	c := (*C.struct_rxp_capw_cfg)(C.calloc(1, C.sizeof_struct_rxp_capw_cfg))
	defer C.free(unsafe.Pointer(c))
	c.port, c.queue, c.socket = C.uint16_t(cfg.Port), C.uint16_t(cfg.Queue), C.int(cfg.Socket)
	c.snaplen, c.ring_size = C.uint32_t(cfg.Snaplen), C.uint32_t(cfg.RingSize)
	c.block_size, c.nblocks = C.uint32_t(cfg.BlockSize), C.uint32_t(cfg.Blocks)
	c.max_files = C.uint32_t(cfg.MaxFiles)
	c.idle_us = C.uint32_t(idle.Microseconds())
	c.slow_us = C.uint32_t(cfg.SlowWriter.Microseconds())
	c.rotate_bytes, c.rotate_ns = C.uint64_t(cfg.RotateBytes), C.uint64_t(cfg.RotateEvery.Nanoseconds())
	c.min_free_bytes = C.uint64_t(cfg.MinFreeBytes)
	if cfg.Trigger {
		c.mode = C.RXP_CAP_TRIGGER
		c.history_bytes, c.after_ns = C.uint64_t(cfg.HistoryBytes), C.uint64_t(cfg.After.Nanoseconds())
	}
	if cfg.NIC != nil {
		if cfg.NIC.Flag == 0 || cfg.NIC.Mult == 0 {
			return nil, fail("NIC timestamps without a registered flag or a measured clock rate")
		}
		c.nic_ts_off, c.nic_ts_flag, c.nic_mult = C.int(cfg.NIC.Offset), C.uint64_t(cfg.NIC.Flag), C.uint64_t(cfg.NIC.Mult)
	}
	c.ncpus = C.int(len(cfg.CPUs))
	for i, cpu := range cfg.CPUs {
		c.cpus[i] = C.int(cpu)
	}
	for _, f := range []struct {
		dst        []C.char
		val, field string
	}{
		{c.dir[:], cfg.Dir, "dir"}, {c.pattern[:], cfg.Pattern, "pattern"},
		{c.if_name[:], cfg.InterfaceName, "interface name"},
		{c.if_desc[:], cfg.InterfaceDescription, "interface description"},
		{c.filter[:], cfg.FilterExpr, "filter"},
	} {
		if err := setCString(f.dst, f.val, f.field); err != nil {
			return nil, err
		}
	}
	var cf *C.struct_rxp_filter
	if filter != nil {
		cf = filter.f
	}
	w := C.rxp_capw_new(c, cf)
	if w == nil {
		return nil, fmt.Errorf("%w: port %d queue %d: ring of %d, %d blocks of %d bytes, snaplen %d: %w",
			ErrCapture, cfg.Port, cfg.Queue, cfg.RingSize, cfg.Blocks, cfg.BlockSize, cfg.Snaplen, rteErr())
	}
	cp := &Capture{w: w, Config: cfg}
	cp.wc = (*C.struct_rxp_capw_counters)(C.rte_zmalloc(nil, C.sizeof_struct_rxp_capw_counters, C.RTE_CACHE_LINE_SIZE))
	cp.ioc = (*C.struct_rxp_capio_counters)(C.rte_zmalloc(nil, C.sizeof_struct_rxp_capio_counters, C.RTE_CACHE_LINE_SIZE))
	cp.name = (*C.char)(C.rte_zmalloc(nil, C.RXP_CAP_NAME_MAX, 0))
	cp.ev = (*C.struct_rxp_cap_event)(C.rte_zmalloc(nil, C.sizeof_struct_rxp_cap_event*C.RXP_CAP_EVENTS, 0))
	if cp.wc == nil || cp.ioc == nil || cp.name == nil || cp.ev == nil {
		cp.Free()
		return nil, fail("counter buffers: %v", rteErr())
	}
	return cp, nil
}

// Attach makes the RX queue's loop hand packets to this capture. Call it
// before the loop is launched; a queue has at most one capture.
func (c *Capture) Attach(q *RXQueue) error {
	if q.q.cap != nil || c.rxq != nil {
		return fmt.Errorf("%w: port %d queue %d: already attached", ErrCapture, q.Port, q.Queue)
	}
	C.rxp_capw_attach(c.w, q.q)
	c.rxq = q
	return nil
}

// Start creates the writer and I/O threads, pinned to Config.CPUs. The
// first file is opened at once.
func (c *Capture) Start() error {
	if c.rxq == nil {
		return fmt.Errorf("%w: port %d queue %d: start before Attach", ErrCapture, c.Config.Port, c.Config.Queue)
	}
	if rc := C.rxp_capw_start(c.w); rc != 0 {
		return fmt.Errorf("%w: port %d queue %d: start threads: %w", ErrCapture, c.Config.Port, c.Config.Queue, errno(rc))
	}
	return nil
}

// SetNICDrops sets the figure the next interface statistics blocks report
// as isb_ifdrop (the NIC's drops for this interface: imissed, rx_nombuf).
func (c *Capture) SetNICDrops(n uint64) { C.rxp_capw_set_ifdrop(c.w, C.uint64_t(n)) }

// Stop drains the ring, writes the final statistics block, closes and
// renames the last file and joins the threads. Call it after the RX loop
// returned (WaitAll): then the counters are final and the capture
// equation holds exactly.
func (c *Capture) Stop() { C.rxp_capw_stop(c.w) }

// Read copies the counters into dst. It does not allocate.
func (c *Capture) Read(dst *CaptureCounters) {
	C.rxp_capw_read(c.w, c.wc, c.ioc)
	dst.Triggers, dst.TriggersCoalesced = uint64(c.wc.triggers), uint64(c.wc.triggers_coalesced)
	dst.Expired, dst.HistoryBytes = uint64(c.wc.expired), uint64(c.wc.history_bytes)
	if c.rxq != nil {
		rc := &c.rxq.q.c
		dst.Enqueued = uint64(C.rxp_load_u64(&rc.cap_enqueued))
		dst.FilteredOut = uint64(C.rxp_load_u64(&rc.cap_filtered))
		dst.RingDropped = uint64(C.rxp_load_u64(&rc.cap_dropped))
	}
	w, io := c.wc, c.ioc
	dst.Encoded, dst.Bytes, dst.WireBytes = uint64(w.packets), uint64(w.bytes), uint64(w.wire_bytes)
	dst.Truncated, dst.Bursts, dst.BusyNs = uint64(w.truncated), uint64(w.bursts), uint64(w.busy_ns)
	dst.BlockWaitNs, dst.FilesStarted = uint64(w.block_wait_ns), uint64(w.files_started)
	dst.LastTSNs, dst.WriterUp = uint64(w.last_ts_ns), w.running != 0
	dst.Written, dst.DiskDropped = uint64(io.written_packets), uint64(io.disk_dropped)
	dst.BytesWritten, dst.BlocksWritten = uint64(io.bytes_written), uint64(io.blocks)
	dst.WriteNs, dst.WriteNsMax = uint64(io.write_ns), uint64(io.write_ns_max)
	dst.FilesClosed, dst.FilesDeleted = uint64(io.files_closed), uint64(io.files_deleted)
	dst.Errors, dst.LastErrno = uint64(io.errors), uint64(io.last_errno)
	dst.Direct, dst.IOUp = io.direct != 0, io.running != 0
	dst.HookSent, dst.HookDropped = uint64(io.hook_sent), uint64(io.hook_dropped)
	dst.NICStamped, dst.NICClockErrors = uint64(w.ts_nic), uint64(w.nic_clock_errors)
}

// Trigger asks a trigger-mode capture to write its history and the next
// After of packets to a new file; reason (1 drop, 2 gap, 3 irq, 4
// signal: capture.Trigger) names it. Any goroutine; it never blocks or
// allocates. While an event file is open it is coalesced (counted); in
// continuous mode it does nothing.
func (c *Capture) Trigger(reason uint8) { C.rxp_capw_trigger(c.w, C.uint32_t(reason)) }

// CaptureEvent is one trigger-mode event file.
type CaptureEvent struct {
	At     time.Time // when the writer started the file
	Reason uint8     // the first trigger's
	File   string    // the file's final name
}

// MaxCaptureEvents is how many events a capture records (later ones are
// counted in Triggers only).
const MaxCaptureEvents = C.RXP_CAP_EVENTS

// Events returns the recorded events, oldest first. It allocates; call it
// when the report is built.
func (c *Capture) Events() []CaptureEvent {
	n := int(C.rxp_capw_events(c.w, c.ev, C.RXP_CAP_EVENTS))
	evs := unsafe.Slice(c.ev, C.RXP_CAP_EVENTS)
	var out []CaptureEvent
	for i := 0; i < n && i < MaxCaptureEvents; i++ {
		e := &evs[i]
		out = append(out, CaptureEvent{At: time.Unix(0, int64(e.ns)).UTC(), Reason: uint8(e.reason), File: C.GoString(&e.name[0])})
	}
	return out
}

// SetHook makes the I/O thread announce every finished file on fd, the
// write end of a pipe in O_NONBLOCK mode (-1: none): one line "port
// queue path" per file, dropped and counted (HookDropped) when the pipe
// is full. Call it before Start; fd must stay open until Stop returned.
func (c *Capture) SetHook(fd int) { C.rxp_capw_set_hook(c.w, C.int(fd)) }

// LastFile is the name (without directory) of the latest finished file,
// or "". It allocates the string.
func (c *Capture) LastFile() string {
	C.rxp_capw_last_file(c.w, c.name, C.RXP_CAP_NAME_MAX)
	return C.GoString(c.name)
}

// Free stops the threads if needed and releases everything. Call only
// after the RX loop using it returned; the queue is detached.
func (c *Capture) Free() {
	if c == nil || c.w == nil {
		return
	}
	if c.rxq != nil && c.rxq.q != nil {
		c.rxq.q.cap = nil
	}
	C.rxp_capw_free(c.w)
	C.rte_free(unsafe.Pointer(c.wc))
	C.rte_free(unsafe.Pointer(c.ioc))
	C.rte_free(unsafe.Pointer(c.name))
	C.rte_free(unsafe.Pointer(c.ev))
	c.w, c.wc, c.ioc, c.name, c.ev = nil, nil, nil, nil, nil
}
