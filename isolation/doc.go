// Package isolation inspects how well a host is prepared to run poll-mode
// RX threads undisturbed (preflight) and what changes under a running probe
// (drift).
//
// Everything is read through a host root (a hostfs.FS): ROOT/proc, ROOT/sys
// and ROOT/etc, so a copy of another machine's files can be checked
// offline; hostfs.New("/") is the live machine. Topology (online CPUs,
// NUMA nodes, the node of a CPU or PCI device) is hostfs's; /proc/interrupts
// is parsed by stats/kernel. Nothing is ever written.
//
// Run performs the preflight checks for a Spec (RX CPUs, housekeeping CPUs,
// PCI devices, hugepage needs) and returns a Report with one Result per
// check, always in the same order and always with every check ID. Each
// Result says what was observed, what was expected and a remedy that can be
// pasted (a kernel parameter, a sysctl, a command). A file that is missing,
// unreadable or garbled makes the affected check "skip" (or "fail" when the
// check cannot pass without it) with the reason; Run never panics on bad
// input. A port whose NUMA node the firmware does not give on a multi-node
// host makes numa_locality warn: it is never taken for node 0.
//
// Layout: checks.go is the registry (Spec, the check list, Run); the checks
// are grouped by subject in cpus.go (isolcpus, nohz_full, rcu_nocbs,
// smt_siblings), irqs.go (irq_affinity, irqbalance), memory.go (hugepages,
// numa_locality, page_movers), power.go (cpu_power) and tasks.go
// (housekeeping_work, foreign_tasks); verdict.go is the one rule that
// turns a check's findings into pass, warn, fail or skip; knob.go reads a
// kernel setting against its good and bad values; result.go holds the
// Report types, text.go renders a Report as text and context.go what the
// checks share.
//
// TakeState and Drift say what changed since start-up that can move work
// onto the RX CPUs; Watch repeats them every interval (and runs the flight
// recorder of isolation/tracer) for `rxprobe watch`, the child process of
// `rxprobe run` that does the allocating part of the guard.
//
// File readers and parsers are separate: parsers take a []byte, bound what
// they accept and are fuzzed.
package isolation
