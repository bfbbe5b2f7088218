package sampler

import (
	"strconv"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// queueSlots are the value indexes of one RX queue.
type queueSlots struct {
	packets, bytes, polls, empty, busy, maxGap, first, sum int
	launchTSC                                              uint64
}

// queueSource publishes each loop's counters and gap histogram.
type queueSource struct {
	shape *counters.Shape
	cur   *counters.Reading
	slots []queueSlots
}

// The RX loops' counters, per queue.
var (
	mRXPackets  = metric{"rxprobe_rx_packets_total", snapshot.Counter, "Packets received by the RX loop of a queue."}
	mRXBytes    = metric{"rxprobe_rx_bytes_total", snapshot.Counter, "Bytes received by the RX loop of a queue."}
	mPolls      = metric{"rxprobe_loop_polls_total", snapshot.Counter, "rte_eth_rx_burst calls of the RX loop."}
	mEmptyPolls = metric{"rxprobe_loop_empty_polls_total", snapshot.Counter, "rte_eth_rx_burst calls that returned no packet."}
	mBusy       = metric{"rxprobe_loop_busy_seconds_total", snapshot.Counter, "Time the RX loop spent on polls that returned packets."}
	mMaxGap     = metric{"rxprobe_loop_max_gap_seconds", snapshot.Gauge, "Longest time between two polls since the loop started."}
	mGap        = metric{"rxprobe_loop_gap_seconds", "", "Time between consecutive rte_eth_rx_burst calls of the RX loop."}
)

func (q *queueSource) declare(s *schema) error {
	cycle := 1 / float64(q.shape.TSCHz)
	bounds := make([]float64, counters.GapBuckets-1)
	for k := range bounds {
		bounds[k] = float64(counters.GapBucketLimitNs(k)) * 1e-9
	}
	L := snapshot.L
	for _, qd := range q.shape.Queues {
		pl, ql := L("port", q.shape.Ports[qd.Port].Name), L("queue", strconv.Itoa(int(qd.ID)))
		var qs queueSlots
		qs.packets = s.add(mRXPackets, 0, pl, ql)
		qs.bytes = s.add(mRXBytes, 0, pl, ql)
		qs.polls = s.add(mPolls, 0, pl, ql)
		qs.empty = s.add(mEmptyPolls, 0, pl, ql)
		qs.busy = s.add(mBusy, cycle, pl, ql)
		qs.maxGap = s.add(mMaxGap, cycle, pl, ql, L("cpu", strconv.Itoa(qd.CPU)))
		qs.first, qs.sum = s.addHistogram(mGap, bounds, cycle, pl, ql)
		q.slots = append(q.slots, qs)
	}
	return nil
}

// launched sets the start of the gap histograms' running sum.
func (q *queueSource) launched(tsc uint64) {
	for i := range q.slots {
		q.slots[i].launchTSC = tsc
	}
}

func (q *queueSource) sample(v []uint64) error {
	for i := range q.slots {
		qs, c := &q.slots[i], &q.cur.Queues[i]
		v[qs.packets], v[qs.bytes], v[qs.polls], v[qs.empty] = c.Packets, c.Bytes, c.Polls, c.EmptyPolls
		v[qs.busy], v[qs.maxGap] = c.BusyCycles, c.MaxGapCycles
		copy(v[qs.first:qs.first+counters.GapBuckets], c.GapHist[:])
		if c.LastTSC > qs.launchTSC && qs.launchTSC != 0 {
			v[qs.sum] = c.LastTSC - qs.launchTSC
		}
	}
	return nil
}

func (q *queueSource) close() {}
