package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// reasonRemoteSendIPI is tlb:tlb_flush's reason when the flushing CPU
// sends flush IPIs to other CPUs running the same address space
// (include/linux/mm_types.h, enum tlb_flush_reason: "remote IPI send").
const reasonRemoteSendIPI = 4

// tlbTrace is a tracefs instance of the bench's own recording the TLB
// flushes that threads of the RX process start and send to other CPUs.
// While the RX loop runs, the RX CPU has the process's address space
// loaded, so every such flush sent from another CPU interrupts it: this
// attributes the TLB row of /proc/interrupts, which on a shared machine
// also counts flushes of other processes that ran on the RX CPU.
//
// The receiving side cannot attribute: a flush IPI without an mm (the
// batched flush after page reclaim or migration, arch_tlbbatch_flush) is
// traced as "remote shootdown" whatever address space is loaded.
type tlbTrace struct {
	dir string
}

// tracefsRoot is where tracefs is mounted.
func tracefsRoot() (string, error) {
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(d, "events/tlb/tlb_flush/enable")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("tracefs with tlb:tlb_flush not found (mount -t tracefs nodev /sys/kernel/tracing)")
}

// newTLBTrace creates instance name, off, recording tlb_flush events of
// reason "remote IPI send" of the processes start names, and of the
// threads and children they create (event-fork).
func newTLBTrace(name string) (*tlbTrace, error) {
	root, err := tracefsRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "instances", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tracefs instance: %w", err)
	}
	t := &tlbTrace{dir: dir}
	for _, w := range []struct{ file, val string }{
		{"tracing_on", "0"},
		{"buffer_size_kb", "2048"},
		{"options/event-fork", "1"},
		{"events/tlb/tlb_flush/filter", fmt.Sprintf("reason == %d", reasonRemoteSendIPI)},
		{"events/tlb/tlb_flush/enable", "1"},
	} {
		if err := os.WriteFile(filepath.Join(dir, w.file), []byte(w.val), 0o644); err != nil {
			t.remove()
			return nil, fmt.Errorf("tracefs %s: %w", w.file, err)
		}
	}
	return t, nil
}

// cpuMask is tracing_cpumask's hex format for one CPU, in comma-separated
// 32-bit groups.
func cpuMask(cpu int) string {
	groups := make([]string, cpu/32+1)
	for i := range groups {
		groups[i] = "00000000"
	}
	groups[len(groups)-1-cpu/32] = fmt.Sprintf("%08x", uint32(1)<<(cpu%32))
	return strings.Join(groups, ",")
}

// start clears the buffer and records the flushes of tids.
func (t *tlbTrace) start(tids map[int]bool) error {
	var b strings.Builder
	for tid := range tids {
		fmt.Fprintf(&b, "%d ", tid)
	}
	if err := os.WriteFile(filepath.Join(t.dir, "set_event_pid"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(t.dir, "trace"), nil, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.dir, "tracing_on"), []byte("1"), 0o644)
}

// stop stops recording and returns what was recorded and the number of
// events the ring buffers lost.
func (t *tlbTrace) stop() ([]byte, uint64, error) {
	if err := os.WriteFile(filepath.Join(t.dir, "tracing_on"), []byte("0"), 0o644); err != nil {
		return nil, 0, err
	}
	data, err := os.ReadFile(filepath.Join(t.dir, "trace"))
	if err != nil {
		return nil, 0, err
	}
	var lost uint64
	stats, _ := filepath.Glob(filepath.Join(t.dir, "per_cpu", "cpu*", "stats"))
	for _, p := range stats {
		if st, err := os.ReadFile(p); err == nil {
			lost += statsField(st, "overrun") + statsField(st, "dropped events")
		}
	}
	_ = os.WriteFile(filepath.Join(t.dir, "set_event_pid"), nil, 0o644)
	return data, lost, nil
}

func statsField(st []byte, name string) uint64 {
	for line := range strings.SplitSeq(string(st), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == name {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// remove disables the event and deletes the instance.
func (t *tlbTrace) remove() {
	_ = os.WriteFile(filepath.Join(t.dir, "tracing_on"), []byte("0"), 0o644)
	_ = os.WriteFile(filepath.Join(t.dir, "events/tlb/tlb_flush/enable"), []byte("0"), 0o644)
	_ = os.Remove(t.dir)
}

// tlbCounts are the flushes the RX process's threads sent.
type tlbCounts struct {
	// Sent: from a CPU other than the RX CPU, so the RX CPU received them.
	Sent uint64
	// FromRX: sent by a thread on the RX CPU itself (the loop, or anything
	// that ran there), to the others.
	FromRX uint64
	// Senders counts Sent by thread name (comm).
	Senders map[string]uint64
}

// traceLine matches one event line of the trace file:
// "  rxp-stats-25451   [000] ...2.  3165.604029: tlb_flush: pages:1 reason:remote IPI send (4)".
// The comm may contain dashes and spaces; the pid is the last -N before
// the CPU field.
var traceLine = regexp.MustCompile(`^\s*(.*)-(\d+)\s+\[(\d+)\].*\stlb_flush: pages:-?\d+ reason:[^(]*\((\d+)\)\s*$`)

// parseTLBTrace counts the "remote IPI send" flushes in a trace file.
func parseTLBTrace(data []byte, rxCPU int) (tlbCounts, error) {
	c := tlbCounts{Senders: map[string]uint64{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			if strings.Contains(line, "tlb_flush:") {
				return c, fmt.Errorf("trace: cannot parse %q", line)
			}
			continue // e.g. "CPU:1 [LOST 12 EVENTS]" is counted by stop
		}
		onCPU, _ := strconv.Atoi(m[3])
		if reason, _ := strconv.Atoi(m[4]); reason != reasonRemoteSendIPI {
			continue
		}
		if onCPU == rxCPU {
			c.FromRX++
			continue
		}
		c.Sent++
		c.Senders[strings.TrimSpace(m[1])]++
	}
	return c, sc.Err()
}

// threadIDs adds the thread ids of pid to set.
func threadIDs(pid int, set map[int]bool) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return
	}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			set[n] = true
		}
	}
}
