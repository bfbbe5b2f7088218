// Package tracer is rxprobe's flight recorder: it says who sent the
// interrupts that the jitter guard counts on the RX CPUs, e.g.
//
//	cpu 1: 494 TLB shootdowns in 5.0 s, sent by tid 10214 (rxprobe, stats thread) from on_each_cpu_cond_mask (callback flush_tlb_func)
//
// It automates the trace-cmd step of diagnosing an isolated core that
// drops packets: /proc/interrupts says CPU 1 took TLB and CAL interrupts,
// the recorder names the thread, process, kernel call site and callback.
//
// # Contract
//
//   - Open creates a tracefs instance of its own (instances/<name>, by
//     default "rxprobe-<pid>") and never touches the global trace buffer
//     or the global options. It sets the instance's output options
//     (record-tgid on, so each line carries the sender's tgid), optionally
//     its per-CPU buffer size, the event filters, and enables
//     ipi:ipi_send_cpu, ipi:ipi_send_cpumask and tlb:tlb_flush (required)
//     and csd:csd_queue_cpu (optional: it names the function behind a
//     single-CPU function-call IPI, whose ipi_send_cpu callback is only
//     the generic handler). The irq_vectors:*_entry events are not used:
//     they are recorded on the RX CPU for every interrupt, cost the RX CPU
//     time, and /proc/interrupts already counts them.
//   - Open fails with an error wrapping ErrUnavailable, with the reason
//     ("no tracefs at /sys/kernel/tracing nor /sys/kernel/debug/tracing",
//     "needs root: mkdir ...: permission denied", "event
//     ipi:ipi_send_cpumask missing"), when tracing is impossible here.
//     Other errors are wrapped with context and the unix.Errno.
//   - Open first removes stale "rxprobe-<pid>" instances whose pid is dead
//     (kill(pid, 0) says ESRCH): a crashed run cannot leak an instance,
//     and its ring buffers, for ever. Instances of live processes and
//     instances named otherwise are left alone.
//   - Close disables the events, closes the reader and removes the
//     instance directory; Open calls it on its own error paths.
//   - Collect adds to a Window what was recorded since the last Collect;
//     Window.Reset starts a new window. Window.Summary renders sentences,
//     largest counts first. Lines that cannot be parsed are counted in
//     Window.Unparsable and skipped; events the kernel overwrote before
//     they were read are reported in Window.Lost.
//   - A Recorder and a Window are not safe for concurrent use.
//
// # Filters
//
// On this kernel (6.18) all filtering happens in the kernel, with these
// filters for RX CPUs {1} (Recorder.Setup reports what was accepted):
//
//	ipi:ipi_send_cpu       cpu & CPUS{1}        (cpu is the target field)
//	csd:csd_queue_cpu      cpu & CPUS{1}        (idem)
//	ipi:ipi_send_cpumask   cpumask & CPUS{1}    (mask intersects the RX CPUs)
//	tlb:tlb_flush          CPU & CPUS{1}        (CPU is the recording CPU)
//
// Older kernels without the CPUS{} syntax get "cpu == 1 || cpu == 3" for
// the scalar fields; a cpumask field has no such fallback, so there
// ipi_send_cpumask is recorded unfiltered. Collect filters every event
// again in Go, so the result is the same either way, only the buffer
// fills faster.
//
// The instance's tracing_cpumask is left at all CPUs on purpose: it
// restricts the CPUs on which events are recorded, and ipi_send_* and
// csd_queue_cpu are recorded on the sender's CPU, usually a housekeeping
// CPU, so restricting it to the RX CPUs would lose exactly the senders we
// want. tlb_flush is recorded on the CPU whose TLB is flushed, hence the
// generic CPU field in its filter.
//
// # Reading without disturbing the RX CPUs
//
// Collect reads the instance's trace_pipe opened with O_NONBLOCK and stops
// at EAGAIN. The read consumes events, so nothing is counted twice and
// nothing is lost between reading and clearing. It never sleeps in the
// kernel: a blocked reader registers as a waiter, and then the writing
// CPU, possibly an RX CPU, raises an irq_work on itself to wake it; with
// O_NONBLOCK there is no waiter. The other text interface, reading the
// instance's trace file and then truncating it, races with new events
// between the two steps, and the truncation resets the per-CPU buffers
// after synchronize_rcu(), which becomes an expedited grace period (IPIs
// to busy CPUs) where rcu_expedited is set. The raw per-CPU
// trace_pipe_raw would avoid text formatting but needs a binary
// ring-buffer parser and kallsyms lookups of the callsites; the text
// path costs microseconds per event on the housekeeping CPU, once per
// second.
//
// What the recorder still costs the RX CPUs: tlb_flush events are written
// by the RX CPU into its own per-CPU buffer (a few hundred nanoseconds
// each, only when it flushes); Open and Close enable and disable
// tracepoints, which patches kernel text and sends one round of
// synchronising IPIs to every CPU; resizing the buffer (Options.BufferKB)
// queues a work item on every CPU. Open before the RX loops start and
// Close after they stop. MEASURED.md has the numbers from this machine,
// and one open problem: the collecting thread was seen sending 0-3 TLB
// shootdowns per 5 s to the RX CPU (write faults on memory it touches for
// the first time), so until that is fixed, run the recorder outside the
// RX process.
//
// # Attribution
//
// The sender is the thread that was running when the event was recorded
// (common_pid), with its comm and tgid from the trace line. Threads of
// the RX process (Options.PID) are named from Options.Names, else from
// /proc/<pid>/task/<tid>/comm; other senders keep their comm, and their
// tgid comes from /proc/<tid>/status when the trace did not record it.
// Names are resolved when a tid is first seen (with a new comm, again),
// so a name read after the thread died is empty, and a reused tid may
// inherit an old name until its comm changes.
//
// A Record of Kind KindTLB counts TLB-flush calls queued for the RX CPU
// (csd_queue_cpu with flush_tlb_func and friends): what the TLB row of
// /proc/interrupts counts. The IPI that carries it is also counted, as
// KindIPICPU or KindIPIMask, with the callback taken from the csd event;
// reschedule IPIs have an empty callback. Without the csd event, KindTLB
// is derived from IPIs whose own callback is a TLB flush, which only the
// multi-CPU path reports.
//
// # Allocation
//
// Collect reads into a 64 KiB buffer made by Open, parses lines in place
// and interns strings; after warm-up it allocates only for a new sender,
// symbol or aggregation key (TestCollectSteadyStateAllocs). Resolving a
// new sender reads /proc and allocates.
package tracer
