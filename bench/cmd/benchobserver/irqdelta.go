package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/rxprobe/rxprobe/stats/kernel"
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

// interruptColumn returns the column of CPU cpu from the text of
// /proc/interrupts, parsed by stats/kernel. The header names the online
// CPUs ("CPU0 CPU1 ..."), which need not be contiguous; rows with fewer
// counts than CPUs (ERR, MIS: system-wide totals) are left out.
func interruptColumn(data []byte, cpu int) (irqCounts, error) {
	s, err := kernel.ParseInterruptsAll(data)
	if err != nil {
		return nil, err
	}
	col, ok := s.Column(cpu)
	if !ok {
		return nil, fmt.Errorf("/proc/interrupts: no column for CPU %d (CPUs %v)", cpu, s.CPUs)
	}
	if len(col) == 0 {
		return nil, errors.New("/proc/interrupts: no per-CPU rows")
	}
	return col, nil
}

// readInterrupts reads CPU cpu's column of /proc/interrupts.
func readInterrupts(cpu int) (irqCounts, error) {
	b, err := os.ReadFile("/proc/interrupts")
	if err != nil {
		return nil, err
	}
	return interruptColumn(b, cpu)
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
