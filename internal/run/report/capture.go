package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Capture is one queue's packet capture over the run (capture.enabled).
// Capture equation: the queue's rx_packets = Written + FilteredOut +
// RingDropped + DiskDropped + Expired, exact once the capture stopped.
type Capture struct {
	// Mode is capture.mode: continuous or trigger.
	Mode string `json:"mode,omitempty"`
	// CapturedPackets and CapturedBytes were encoded as pcapng, into
	// blocks or trigger mode's history (bytes after snaplen); Truncated of
	// them were cut to snaplen.
	CapturedPackets uint64 `json:"captured_packets"`
	CapturedBytes   uint64 `json:"captured_bytes"`
	Truncated       uint64 `json:"truncated"`
	// FilteredOut did not match capture.filter.
	FilteredOut uint64 `json:"filtered_out"`
	// RingDropped matched but found the handoff ring full (the ledger's
	// capture_ring layer); DiskDropped were in files that could not be
	// written.
	RingDropped uint64 `json:"ring_dropped"`
	DiskDropped uint64 `json:"disk_dropped"`
	// Written packets are in finished (renamed) files.
	Written      uint64 `json:"written"`
	BytesWritten uint64 `json:"bytes_written"`
	Files        uint64 `json:"files"`
	FilesDeleted uint64 `json:"files_deleted"`
	WriteErrors  uint64 `json:"write_errors"`
	// WriterBusyNs is the writer's time handling bursts, BlockWaitNs of it
	// waiting for a free block (the disk was behind); WriteNsMax is the
	// slowest block write.
	WriterBusyNs uint64 `json:"writer_busy_ns"`
	BlockWaitNs  uint64 `json:"block_wait_ns"`
	WriteNsMax   uint64 `json:"write_ns_max"`
	// Direct: the files were written with O_DIRECT.
	Direct bool `json:"direct"`
	// LastFile is the latest finished file's name.
	LastFile string `json:"last_file,omitempty"`
	// Expired packets left trigger mode's history without being written
	// (0 in continuous mode).
	Expired uint64 `json:"expired"`
	// Triggers started an event file each; TriggersCoalesced arrived
	// while one was open; Events lists the files (the first 64).
	Triggers          uint64         `json:"triggers,omitempty"`
	TriggersCoalesced uint64         `json:"triggers_coalesced,omitempty"`
	Events            []CaptureEvent `json:"events,omitempty"`
	// Equation says whether rx_packets = written + filtered_out +
	// ring_dropped + disk_dropped + expired held.
	Equation bool `json:"equation_holds"`
	// Clock is the packets' timestamps: "nic" (the port's RX timestamps,
	// UTC-calibrated; NICStamped packets had one, the rest the TSC) or
	// "tsc" (the RX core's TSC, UTC-anchored).
	Clock      string `json:"clock"`
	NICStamped uint64 `json:"nic_stamped,omitempty"`
}

// CaptureEvent is one trigger-mode event file.
type CaptureEvent struct {
	At     time.Time `json:"at"`     // when the writer opened the file
	Reason string    `json:"reason"` // the first trigger: drop, gap, irq or signal
	File   string    `json:"file"`   // the file's name in capture.dir
}

// Dropped is every packet the capture lost (ring full or disk).
func (c *Capture) Dropped() uint64 { return c.RingDropped + c.DiskDropped }

func (c *Capture) check(rxPackets uint64) {
	c.Equation = rxPackets == c.Written+c.FilteredOut+c.Dropped()+c.Expired
}

func writeCapture(out io.Writer, r *Report) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	header := false
	for _, p := range r.Ports {
		for _, q := range p.Queues {
			c := q.Capture
			if c == nil {
				continue
			}
			if !header {
				fmt.Fprintln(tw, "CAPTURE\tRX_PACKETS\tWRITTEN\tFILTERED_OUT\tRING_DROPPED\tDISK_DROPPED\tEXPIRED\tBYTES_WRITTEN\tFILES\tEQUATION")
				header = true
			}
			eq := "holds"
			if !c.Equation {
				eq = "BROKEN"
			}
			fmt.Fprintf(tw, "%s/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Name, q.ID, q.RXPackets, c.Written, c.FilteredOut,
				c.RingDropped, c.DiskDropped, c.Expired, c.BytesWritten, c.Files, eq)
		}
	}
	tw.Flush()
	writeTriggers(out, r)
	if h := r.CaptureHook; h != nil {
		killed := ""
		if h.Killed {
			killed = "; killed with commands pending"
		}
		fmt.Fprintf(out, "capture.on_file: %d file(s) announced, %d not (pipe full); %d command(s) run, %d failed%s\n",
			h.Announced, h.Dropped, h.Run, h.Failed, killed)
	}
}

// writeTriggers prints, per trigger-mode queue, its triggers and the
// first summaryEvents event files.
func writeTriggers(out io.Writer, r *Report) {
	for _, p := range r.Ports {
		for _, q := range p.Queues {
			c := q.Capture
			if c == nil || c.Mode != "trigger" {
				continue
			}
			fmt.Fprintf(out, "capture %s/%d: trigger mode, %d trigger(s), %d coalesced, %d packets expired from the history\n",
				p.Name, q.ID, c.Triggers, c.TriggersCoalesced, c.Expired)
			for i, e := range c.Events {
				if i == summaryEvents {
					fmt.Fprintf(out, "  ... %d more in the report\n", len(c.Events)-summaryEvents)
					break
				}
				fmt.Fprintf(out, "  %s %-6s %s\n", e.At.Format("15:04:05.000"), e.Reason, e.File)
			}
		}
	}
}

// CaptureHook is what capture.on_file did over the run: the RX process
// announced Announced finished files to the hook process (Dropped more
// found its pipe full), which ran the command Run times, Failed of them
// with a non-zero exit or not at all.
type CaptureHook struct {
	Command   string `json:"command"`
	Announced uint64 `json:"announced"`
	Dropped   uint64 `json:"dropped"`
	Run       uint64 `json:"run"`
	Failed    uint64 `json:"failed"`
	// Killed: the hook process had not finished its queue within the
	// run's wait after stop and was killed.
	Killed bool `json:"killed,omitempty"`
}
