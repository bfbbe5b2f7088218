// Package isolation inspects how well a host is prepared to run poll-mode
// RX threads undisturbed, and answers the topology questions rxprobe asks
// (online CPUs, NUMA node of a CPU or PCI device).
//
// Everything is read through a host root (Host.Root): ROOT/proc, ROOT/sys
// and ROOT/etc, so a copy of another machine's files can be checked
// offline; Host{Root: "/"} is the live machine. Nothing is ever written.
//
// Run performs the preflight checks for a Spec (RX CPUs, housekeeping CPUs,
// PCI devices, hugepage needs) and returns a Report with one Result per
// check, always in the same order and always with every check ID. Each
// Result says what was observed, what was expected and a remedy that can be
// pasted (a kernel parameter, a sysctl, a command). A file that is missing,
// unreadable or garbled makes the affected check "skip" (or "fail" when the
// check cannot pass without it) with the reason; Run never panics on bad
// input.
//
// TakeState and Drift say what changed since start-up that can move work
// onto the RX CPUs; Watch repeats them every interval (and runs the flight
// recorder of isolation/tracer) for `rxprobe watch`, the child process of
// `rxprobe run` that does the allocating part of the guard.
//
// File readers and parsers are separate: parsers take an io.Reader or a
// []byte, bound what they accept and are fuzzed.
package isolation
