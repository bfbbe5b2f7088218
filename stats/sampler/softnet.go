package sampler

import (
	"strconv"

	"github.com/rxprobe/rxprobe/stats/counter"
	"github.com/rxprobe/rxprobe/stats/kernel"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

type softSlot struct {
	cpu                 int
	dropIdx, squeezeIdx int
	drop, squeeze       counter.Mono
}

// softnetSource publishes /proc/net/softnet_stat per CPU.
type softnetSource struct {
	root  string
	r     *kernel.SoftnetReader
	soft  *kernel.Softnet
	slots []softSlot
}

var (
	mSoftnetDropped = metric{"rxprobe_softnet_dropped_total", snapshot.Counter, "Packets the kernel dropped because the CPU's backlog was full (softnet_stat)."}
	mSoftnetSqueeze = metric{"rxprobe_softnet_time_squeeze_total", snapshot.Counter, "NAPI rounds that ran out of budget or time (softnet_stat)."}
)

func (q *softnetSource) declare(s *schema) error {
	var err error
	q.r, err = kernel.NewSoftnetReader(q.root)
	if q.soft, err = firstRead(q.r, err); err != nil {
		return err
	}
	for _, c := range q.soft.CPUs {
		cl := snapshot.L("cpu", strconv.Itoa(c.CPU))
		q.slots = append(q.slots, softSlot{cpu: c.CPU,
			dropIdx: s.add(mSoftnetDropped, 0, cl), squeezeIdx: s.add(mSoftnetSqueeze, 0, cl),
			drop: counter.NewMono32(), squeeze: counter.NewMono32()})
	}
	return nil
}

func (q *softnetSource) sample(v []uint64) error {
	if err := q.r.ReadInto(q.soft); err != nil {
		return err
	}
	for i := range q.slots {
		sl := &q.slots[i]
		for k := range q.soft.CPUs {
			if c := &q.soft.CPUs[k]; c.CPU == sl.cpu {
				v[sl.dropIdx] = sl.drop.Update(c.Dropped)
				v[sl.squeezeIdx] = sl.squeeze.Update(c.TimeSqueeze)
			}
		}
	}
	return nil
}

func (q *softnetSource) close() {
	if q.r != nil {
		q.r.Close()
	}
}
