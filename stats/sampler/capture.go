package sampler

import (
	"strconv"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// captureSource publishes each queue's capture counters (Shape.Capture):
// the RX core's handoff, the writer's and the I/O thread's.
type captureSource struct {
	shape *counters.Shape
	cur   *counters.Reading
	slots [][nCaptureMetrics]int
}

// The capture counters, per queue.
var captureMetrics = [...]struct {
	m     metric
	scale float64
	val   func(c *counters.Capture) uint64
}{
	{metric{"rxprobe_capture_packets_total", snapshot.Counter, "Packets the capture writer encoded as pcapng (into blocks, or trigger mode's history)."}, 0, func(c *counters.Capture) uint64 { return c.Encoded }},
	{metric{"rxprobe_capture_bytes_total", snapshot.Counter, "Captured bytes (after snaplen) encoded as pcapng (into blocks, or trigger mode's history)."}, 0, func(c *counters.Capture) uint64 { return c.Bytes }},
	{metric{"rxprobe_capture_filtered_out_total", snapshot.Counter, "Packets that did not match capture.filter."}, 0, func(c *counters.Capture) uint64 { return c.FilteredOut }},
	{metric{"rxprobe_capture_ring_dropped_total", snapshot.Counter, "Matching packets dropped because the capture ring was full (the writer fell behind)."}, 0, func(c *counters.Capture) uint64 { return c.RingDropped }},
	{metric{"rxprobe_capture_disk_dropped_total", snapshot.Counter, "Packets in capture files that could not be written."}, 0, func(c *counters.Capture) uint64 { return c.DiskDropped }},
	{metric{"rxprobe_capture_written_packets_total", snapshot.Counter, "Packets in finished (renamed) capture files."}, 0, func(c *counters.Capture) uint64 { return c.Written }},
	{metric{"rxprobe_capture_written_bytes_total", snapshot.Counter, "Bytes written to capture files."}, 0, func(c *counters.Capture) uint64 { return c.BytesWritten }},
	{metric{"rxprobe_capture_files_total", snapshot.Counter, "Capture files finished."}, 0, func(c *counters.Capture) uint64 { return c.Files }},
	{metric{"rxprobe_capture_files_deleted_total", snapshot.Counter, "Finished capture files deleted (max_files, min_free_mb)."}, 0, func(c *counters.Capture) uint64 { return c.FilesDeleted }},
	{metric{"rxprobe_capture_write_errors_total", snapshot.Counter, "Failed capture file operations."}, 0, func(c *counters.Capture) uint64 { return c.Errors }},
	{metric{"rxprobe_capture_writer_busy_seconds_total", snapshot.Counter, "Time the capture writer spent on bursts, waiting for a free block included."}, 1e-9, func(c *counters.Capture) uint64 { return c.BusyNs }},
	{metric{"rxprobe_capture_writer_wait_seconds_total", snapshot.Counter, "Time the capture writer waited for a free block: the disk was behind."}, 1e-9, func(c *counters.Capture) uint64 { return c.BlockWaitNs }},
	{metric{"rxprobe_capture_triggers_total", snapshot.Counter, "Trigger-mode events started (each writes one file: the history and the packets of capture.after)."}, 0, func(c *counters.Capture) uint64 { return c.Triggers }},
	{metric{"rxprobe_capture_triggers_coalesced_total", snapshot.Counter, "Triggers that arrived while an event file was open (they extend nothing)."}, 0, func(c *counters.Capture) uint64 { return c.TriggersCoalesced }},
	{metric{"rxprobe_capture_expired_total", snapshot.Counter, "Packets that left the trigger-mode history without being written."}, 0, func(c *counters.Capture) uint64 { return c.Expired }},
	{metric{"rxprobe_capture_history_bytes", snapshot.Gauge, "Bytes in the trigger-mode history now."}, 0, func(c *counters.Capture) uint64 { return c.HistoryBytes }},
	{metric{"rxprobe_capture_write_seconds_total", snapshot.Counter, "Time the capture I/O thread spent in write calls."}, 1e-9, func(c *counters.Capture) uint64 { return c.WriteNs }},
}

const nCaptureMetrics = len(captureMetrics)

func (c *captureSource) declare(s *schema) error {
	if !c.shape.Capture {
		return nil
	}
	L := snapshot.L
	for _, qd := range c.shape.Queues {
		pl, ql := L("port", c.shape.Ports[qd.Port].Name), L("queue", strconv.Itoa(int(qd.ID)))
		var sl [nCaptureMetrics]int
		for k, m := range captureMetrics {
			sl[k] = s.add(m.m, m.scale, pl, ql)
		}
		c.slots = append(c.slots, sl)
	}
	return nil
}

func (c *captureSource) sample(v []uint64) error {
	for i := range c.slots {
		cc := &c.cur.Captures[i]
		for k := range captureMetrics {
			v[c.slots[i][k]] = captureMetrics[k].val(cc)
		}
	}
	return nil
}

// ringDropped is port p's capture ring drops over its queues (the
// ledger's capture_ring layer).
func (c *captureSource) ringDropped(p int) uint64 {
	var n uint64
	for i := range c.slots {
		if c.shape.Queues[i].Port == p {
			n += c.cur.Captures[i].RingDropped
		}
	}
	return n
}

func (c *captureSource) close() {}
