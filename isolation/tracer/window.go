package tracer

import (
	"fmt"
	"sort"
	"strings"
)

// Kind says what a Record counts.
type Kind uint8

const (
	// KindTLB counts TLB-flush function calls queued for the target CPU
	// (csd:csd_queue_cpu whose function flushes the TLB). Each one makes
	// the target run the flush in interrupt context; it is what
	// /proc/interrupts counts in the TLB row.
	KindTLB Kind = iota + 1
	// KindCall counts other cross-CPU function calls queued for the
	// target CPU (csd:csd_queue_cpu with a non-TLB function).
	KindCall
	// KindIPICPU counts IPIs sent to the target CPU alone
	// (ipi:ipi_send_cpu): function-call IPIs (CAL), reschedule IPIs (RES,
	// callback empty) and others.
	KindIPICPU
	// KindIPIMask counts IPIs sent to a set of CPUs that includes the
	// target CPU (ipi:ipi_send_cpumask), one per RX CPU in the set.
	KindIPIMask
)

// String returns "tlb", "call", "ipi-cpu" or "ipi-mask".
func (k Kind) String() string {
	switch k {
	case KindTLB:
		return "tlb"
	case KindCall:
		return "call"
	case KindIPICPU:
		return "ipi-cpu"
	case KindIPIMask:
		return "ipi-mask"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Record is the number of events of one Kind sent to one RX CPU by one
// sender from one call site.
type Record struct {
	CPU  int  // the RX CPU the IPI or call was aimed at
	Kind Kind // what was counted
	// TID is the sending thread (the trace's common_pid); 0 is the idle
	// task, i.e. the kernel sending from interrupt context on an idle CPU.
	TID int
	// PID is the sender's thread-group id, from the trace's record-tgid
	// column or, failing that, /proc/<tid>/status; 0 when unknown.
	PID int
	// Comm is the sender's comm as the trace recorded it ("<...>" when
	// the kernel's comm cache had lost it).
	Comm string
	// Process is the command name of the sender's thread group
	// (/proc/<pid>/comm, read when the tid was first seen); "" when the
	// process was gone.
	Process string
	// Thread is the sender's thread name: Options.Names[tid], else
	// /proc/<pid>/task/<tid>/comm for threads of the RX process; "" for
	// other processes unless named in Options.Names.
	Thread string
	// Callsite is the kernel function that sent the IPI or queued the
	// call, without its offset, e.g. "on_each_cpu_cond_mask".
	Callsite string
	// Callback is the function the target CPU runs, e.g. "flush_tlb_func";
	// for a single-CPU function-call IPI it is taken from the matching
	// csd_queue_cpu event when there is one. Empty for reschedule IPIs.
	Callback string
	Count    int
}

// Flush counts tlb:tlb_flush events recorded on an RX CPU for one reason.
type Flush struct {
	CPU    int
	Reason string // as the kernel prints it, e.g. "remote shootdown"
	Code   int    // the kernel's reason number, e.g. 1
	Count  int
}

type recordKey struct {
	cpu                   int
	kind                  Kind
	tid, pid              int
	comm, process, thread string
	callsite, callback    string
}

type flushKey struct {
	cpu    int
	reason string
}

// Window accumulates what one or more calls of Collect read. The zero
// Window is ready to use; Reset empties it and keeps its memory.
// A Window is not safe for concurrent use.
type Window struct {
	// Records holds one entry per distinct (CPU, Kind, sender, callsite,
	// callback), in first-seen order.
	Records []Record
	// Flushes holds tlb_flush counts on RX CPUs by reason, in first-seen
	// order.
	Flushes []Flush
	// Lines is the number of trace lines read; Unparsable those that
	// could not be read (counted, skipped).
	Lines, Unparsable int
	// Lost is the number of events the kernel reported lost (ring buffer
	// overwritten before it was read); LostUnknown counts loss markers
	// that carried no number. Either one non-zero means the counts are
	// a lower bound.
	Lost, LostUnknown int64

	rxPID  int
	recIdx map[recordKey]int
	flIdx  map[flushKey]int
}

// Reset empties w and keeps its allocated memory for the next window.
func (w *Window) Reset() {
	w.Records = w.Records[:0]
	w.Flushes = w.Flushes[:0]
	w.Lines, w.Unparsable, w.Lost, w.LostUnknown = 0, 0, 0, 0
	clear(w.recIdx)
	clear(w.flIdx)
}

func (w *Window) addRecord(k recordKey) {
	if w.recIdx == nil {
		w.recIdx = make(map[recordKey]int)
	}
	if i, ok := w.recIdx[k]; ok {
		w.Records[i].Count++
		return
	}
	w.recIdx[k] = len(w.Records)
	w.Records = append(w.Records, Record{
		CPU: k.cpu, Kind: k.kind, TID: k.tid, PID: k.pid, Comm: k.comm,
		Process: k.process, Thread: k.thread, Callsite: k.callsite,
		Callback: k.callback, Count: 1,
	})
}

func (w *Window) addFlush(cpu int, reason string, code int) {
	if w.flIdx == nil {
		w.flIdx = make(map[flushKey]int)
	}
	k := flushKey{cpu, reason}
	if i, ok := w.flIdx[k]; ok {
		w.Flushes[i].Count++
		return
	}
	w.flIdx[k] = len(w.Flushes)
	w.Flushes = append(w.Flushes, Flush{CPU: cpu, Reason: reason, Code: code, Count: 1})
}

// Count returns the number of events of kind k aimed at cpu, summed over
// senders; tid >= 0 restricts it to that sending thread.
func (w *Window) Count(cpu int, k Kind, tid int) int {
	n := 0
	for i := range w.Records {
		r := &w.Records[i]
		if r.CPU == cpu && r.Kind == k && (tid < 0 || r.TID == tid) {
			n += r.Count
		}
	}
	return n
}

// Summary describes what reached cpu, one sentence per sender and call
// site, the largest counts first, e.g.
//
//	cpu 1: 494 TLB shootdowns in 5.0 s, sent by tid 10214 (rxprobe, stats thread) from on_each_cpu_cond_mask (callback flush_tlb_func)
//
// followed by one sentence with the tlb_flush reasons seen on cpu and, if
// the kernel lost events, one saying so. seconds is the length of the
// window, used only for the wording. Summary allocates; it is meant for
// reports, not for the sampling path.
func (w *Window) Summary(cpu int, seconds float64) []string {
	var recs []Record
	for _, r := range w.Records {
		if r.CPU == cpu {
			recs = append(recs, r)
		}
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Count != recs[j].Count {
			return recs[i].Count > recs[j].Count
		}
		if recs[i].Kind != recs[j].Kind {
			return recs[i].Kind < recs[j].Kind
		}
		return recs[i].TID < recs[j].TID
	})
	var out []string
	for _, r := range recs {
		var b strings.Builder
		fmt.Fprintf(&b, "cpu %d: %d %s in %.1f s, sent by %s", cpu, r.Count, kindNoun(r.Kind, r.Count), seconds, w.sender(r))
		if r.Callsite != "" {
			fmt.Fprintf(&b, " from %s", r.Callsite)
		}
		if r.Callback != "" {
			fmt.Fprintf(&b, " (callback %s)", r.Callback)
		}
		out = append(out, b.String())
	}
	var fl []Flush
	for _, f := range w.Flushes {
		if f.CPU == cpu {
			fl = append(fl, f)
		}
	}
	if len(fl) > 0 {
		sort.SliceStable(fl, func(i, j int) bool { return fl[i].Count > fl[j].Count })
		parts := make([]string, len(fl))
		for i, f := range fl {
			parts[i] = fmt.Sprintf("%d %s", f.Count, f.Reason)
		}
		out = append(out, fmt.Sprintf("cpu %d: TLB flushes in %.1f s: %s", cpu, seconds, strings.Join(parts, ", ")))
	}
	if w.Lost > 0 || w.LostUnknown > 0 {
		s := fmt.Sprintf("cpu %d: the kernel lost %d trace events in %.1f s; counts are lower bounds", cpu, w.Lost, seconds)
		if w.LostUnknown > 0 {
			s = fmt.Sprintf("cpu %d: the kernel lost at least %d trace events (%d losses of unknown size) in %.1f s; counts are lower bounds", cpu, w.Lost, w.LostUnknown, seconds)
		}
		out = append(out, s)
	}
	return out
}

func kindNoun(k Kind, n int) string {
	var s string
	switch k {
	case KindTLB:
		s = "TLB shootdown"
	case KindCall:
		s = "function call"
	case KindIPICPU:
		s = "IPI"
	case KindIPIMask:
		s = "multi-CPU IPI"
	default:
		s = k.String() + " event"
	}
	if n != 1 {
		s += "s"
	}
	return s
}

// sender renders "tid 10214 (rxprobe, stats thread)" for a thread of the
// RX process and "tid 812 (pid 800, kworker/0:1)" for any other thread,
// main threads included, so that a sender outside the RX process is never
// mistaken for one of its threads (its exporter and watcher are also
// called rxprobe).
func (w *Window) sender(r Record) string {
	if r.TID == 0 {
		return "the idle task (interrupt context)"
	}
	name := r.Comm
	if r.Process != "" {
		name = r.Process
	}
	thread := r.Thread
	if thread == "" && r.Comm != name {
		thread = r.Comm
	}
	if thread != "" && thread != name {
		name += ", " + thread
	}
	if r.PID > 0 && r.PID != w.rxPID {
		return fmt.Sprintf("tid %d (pid %d, %s)", r.TID, r.PID, name)
	}
	return fmt.Sprintf("tid %d (%s)", r.TID, name)
}
