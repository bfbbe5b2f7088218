// Package run owns one `rxprobe run` from start to stop: the preflight
// gate, the engine (EAL, ports, C poll loops), the stats thread, the
// exporter, drift-watcher and trial-API child processes, the quiet steady
// state (GC off, pages locked, heap measured) and the one report.
//
// Contract:
//   - Run drives the engine from the calling goroutine, which must be
//     locked to its OS thread (EAL adopts it as its main lcore).
//   - Run stops when ctx ends (cmd/rxprobe cancels it on SIGINT/SIGTERM) or
//     after the config's duration, within a second, and leaves nothing of
//     the run behind: loops stopped, ports closed, EAL cleaned up, children
//     ended, shared-memory segment and ready file removed.
//   - Between start and stop the process allocates nothing on the Go heap
//     (the steady-state figures in the report measure it), except with the
//     benchmark-only in-process exporter.
//   - With capture on, each queue's report carries a capture block whose
//     equation (rx_packets = written + filtered_out + dropped + expired)
//     is checked on the final counters, read after the captures stopped.
//   - In trigger mode with the signal trigger, SIGUSR1 to the process
//     fires every queue's capture while the loops run (ignored after).
//   - capture.on_file runs in a child process (`rxprobe capture-hook`)
//     started before the loops, fed one line per finished file through a
//     non-blocking pipe; the RX process never forks. At stop the run waits
//     up to HookWait for the hook's queue, then kills it and says so.
//   - A run that could not start returns a nil report; a run that started
//     returns its report even when stopping failed.
package run
