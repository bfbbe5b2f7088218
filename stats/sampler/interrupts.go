package sampler

import (
	"strconv"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/stats/counter"
	"github.com/rxprobe/rxprobe/stats/kernel"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

type irqSlot struct {
	id   string
	name string // "41 virtio3-rx" for device IRQs
	kind int    // guard kind, -1 if unwatched
	pos  int    // position of the CPU in Interrupts.CPUs
	idx  int
	m    counter.Mono
	last uint64 // value at the last guard second
	row  int    // where the row was in the last sample: rows rarely move
}

// interruptSource publishes the per-CPU rows of /proc/interrupts for the
// RX CPUs only.
type interruptSource struct {
	root   string
	rxcpus []int
	r      *kernel.InterruptsReader
	irq    *kernel.Interrupts
	slots  []irqSlot
}

var mInterrupts = metric{"rxprobe_cpu_interrupts_total", snapshot.Counter,
	"Interrupts on RX CPUs from /proc/interrupts, by row (LOC, CAL, TLB, RES, ... or IRQ number)."}

func (q *interruptSource) declare(s *schema) error {
	var err error
	q.r, err = kernel.NewInterruptsReader(q.root, q.rxcpus)
	if q.irq, err = firstRead(q.r, err); err != nil {
		return err
	}
	for _, row := range q.irq.Rows {
		if !row.PerCPU {
			continue
		}
		for pos, cpu := range q.irq.CPUs {
			idx := s.add(mInterrupts, 0, snapshot.L("cpu", strconv.Itoa(cpu)), snapshot.L("kind", row.ID))
			kind, ok := guard.KindOf(row.ID)
			if !ok {
				kind = -1
			}
			name := row.ID
			if row.Device != "" {
				name += " " + row.Device
			}
			q.slots = append(q.slots, irqSlot{id: row.ID, name: name, kind: kind, pos: pos, idx: idx, m: counter.NewMono32()})
		}
	}
	return nil
}

func (q *interruptSource) sample(v []uint64) error {
	if err := q.r.ReadInto(q.irq); err != nil {
		return err
	}
	for i := range q.slots {
		sl := &q.slots[i]
		if row := q.row(sl); row != nil && row.PerCPU {
			v[sl.idx] = sl.m.Update(row.Counts[sl.pos])
		}
	}
	return nil
}

// row finds sl's row, first where it was last time: a host has hundreds
// of IRQ rows and one slot per row and RX CPU, so a scan per slot per
// sample would be quadratic; rows move only when IRQs come or go.
func (q *interruptSource) row(sl *irqSlot) *kernel.InterruptRow {
	rows := q.irq.Rows
	if sl.row < len(rows) && rows[sl.row].ID == sl.id {
		return &rows[sl.row]
	}
	for i := range rows {
		if rows[i].ID == sl.id {
			sl.row = i
			return &rows[i]
		}
	}
	return nil
}

func (q *interruptSource) close() {
	if q.r != nil {
		q.r.Close()
	}
}
