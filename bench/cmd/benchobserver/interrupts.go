package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// irqCounts is one CPU's column of /proc/interrupts: every row that has a
// count for that CPU (named rows such as TLB, CAL, RES, LOC and numbered
// device IRQs), by row id without the colon.
type irqCounts map[string]uint64

// sum is the total over every row.
func (c irqCounts) sum() uint64 {
	var s uint64
	for _, v := range c {
		s += v
	}
	return s
}

// parseInterrupts returns the column of CPU cpu from the text of
// /proc/interrupts. The header names the online CPUs ("CPU0 CPU1 ..."),
// which need not be contiguous; rows with fewer counts than CPUs (ERR,
// MIS: system-wide totals) are left out.
func parseInterrupts(data []byte, cpu int) (irqCounts, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("/proc/interrupts: empty")
	}
	header := strings.Fields(sc.Text())
	col := -1
	for i, h := range header {
		if !strings.HasPrefix(h, "CPU") {
			return nil, fmt.Errorf("/proc/interrupts: header field %q", h)
		}
		if n, err := strconv.Atoi(h[3:]); err == nil && n == cpu {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("/proc/interrupts: no column for CPU %d (header %q)", cpu, strings.Join(header, " "))
	}
	ncpu := len(header)
	out := irqCounts{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		id, ok := strings.CutSuffix(f[0], ":")
		if !ok {
			return nil, fmt.Errorf("/proc/interrupts: row %q has no id", f[0])
		}
		if len(f) < 1+ncpu {
			continue
		}
		counts := f[1 : 1+ncpu]
		// A per-CPU row has a count in every CPU column.
		perCPU := true
		for _, s := range counts {
			if _, err := strconv.ParseUint(s, 10, 64); err != nil {
				perCPU = false
				break
			}
		}
		if !perCPU {
			continue
		}
		v, _ := strconv.ParseUint(counts[col], 10, 64)
		out[id] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("/proc/interrupts: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("/proc/interrupts: no per-CPU rows")
	}
	return out, nil
}

// readInterrupts reads CPU cpu's column of /proc/interrupts.
func readInterrupts(cpu int) (irqCounts, error) {
	b, err := os.ReadFile("/proc/interrupts")
	if err != nil {
		return nil, err
	}
	return parseInterrupts(b, cpu)
}

// irqDelta is b − a per row. The kernel's per-CPU counts are 32-bit and
// wrap: a row that went down from the top quarter of the range is taken as
// one wrap; one that went down from lower (a device IRQ freed and
// allocated again in between) counts from 0. Rows present only in a count
// from 0; rows present only in a are dropped.
func irqDelta(a, b irqCounts) irqCounts {
	d := irqCounts{}
	for id, vb := range b {
		va := a[id]
		switch {
		case vb >= va:
			d[id] = vb - va
		case va >= 3<<30 && va < 1<<32:
			d[id] = vb + (1 << 32) - va
		default:
			d[id] = vb
		}
	}
	return d
}
