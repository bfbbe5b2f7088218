package sampler

import (
	"github.com/rxprobe/rxprobe/stats/counter"
	"github.com/rxprobe/rxprobe/stats/kernel"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

type devSlot struct {
	name string // device name, or the file of a sysfs counter
	idx  int
	m    counter.Mono
}

// netdevSource publishes every interface's rx_dropped from /proc/net/dev.
type netdevSource struct {
	root  string
	r     *kernel.NetDevReader
	dev   *kernel.NetDev
	slots []devSlot
}

var mNetdevDropped = metric{"rxprobe_netdev_rx_dropped_total", snapshot.Counter, "Kernel interface rx_dropped (/proc/net/dev)."}

func (q *netdevSource) declare(s *schema) error {
	var err error
	q.r, err = kernel.NewNetDevReader(q.root)
	if q.dev, err = firstRead(q.r, err); err != nil {
		return err
	}
	for _, d := range q.dev.Devices {
		q.slots = append(q.slots, devSlot{name: d.Name, idx: s.add(mNetdevDropped, 0, snapshot.L("device", d.Name))})
	}
	return nil
}

func (q *netdevSource) sample(v []uint64) error {
	if err := q.r.ReadInto(q.dev); err != nil {
		return err
	}
	for i := range q.slots {
		sl := &q.slots[i]
		if d, ok := q.dev.Device(sl.name); ok {
			v[sl.idx] = sl.m.Update(d.RxDrop)
		}
	}
	return nil
}

func (q *netdevSource) close() {
	if q.r != nil {
		q.r.Close()
	}
}
