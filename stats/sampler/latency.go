package sampler

import (
	"strconv"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// latencySlots are the value indexes of one queue's latency record.
type latencySlots struct {
	stamped, unstamped, gaps, reordered, max int
	first, sum                               int // exported, per power of two
	rawFirst, rawSum                         int // every bucket (internal)
}

// latencySource publishes each queue's latency record (Shape.Latency):
// the counts, an exported histogram with one bucket per power of two of
// ns, and the full log-linear histogram as an internal one for the trial
// API's percentiles.
type latencySource struct {
	shape *counters.Shape
	cur   *counters.Reading
	slots []latencySlots
	// coarse maps a raw bucket to its exported bucket.
	coarse  [counters.LatBuckets]uint8
	nCoarse int
}

// The latency records, per queue (rxprobe run --latency).
var (
	mLatStamped   = metric{"rxprobe_latency_stamped_total", snapshot.Counter, "Frames with the generator's latency stamp: their one-way latency was recorded."}
	mLatUnstamped = metric{"rxprobe_latency_unstamped_total", snapshot.Counter, "Frames without the generator's latency stamp."}
	mLatGaps      = metric{"rxprobe_latency_sequence_gaps_total", snapshot.Counter, "Sequence numbers of stamped frames skipped: lost, or arriving later out of order."}
	mLatReordered = metric{"rxprobe_latency_reordered_total", snapshot.Counter, "Stamped frames whose sequence number was at or below the highest seen (reordered or duplicated; a restarted generator starts a new epoch and is not counted)."}
	mLatMax       = metric{"rxprobe_latency_max_seconds", snapshot.Gauge, "Highest one-way latency recorded since the start."}
	mLat          = metric{"rxprobe_latency_seconds", "", "One-way latency of stamped frames (generator TSC to RX burst TSC, same host)."}
	mLatRaw       = metric{"rxprobe_latency_raw_seconds", "", "One-way latency, every log-linear bucket (~3 % wide): for the trial API, not exported."}
)

func (l *latencySource) declare(s *schema) error {
	if !l.shape.Latency {
		return nil
	}
	raw := make([]float64, counters.LatBuckets-1)
	var coarse []float64
	for i := range raw {
		_, hi := counters.LatBucketRange(i)
		raw[i] = float64(hi) * 1e-9
		l.coarse[i] = uint8(len(coarse))
		if hi >= 64 && hi&(hi-1) == 0 { // a power of two ends an exported bucket
			coarse = append(coarse, float64(hi)*1e-9)
		}
	}
	l.coarse[counters.LatBuckets-1] = uint8(len(coarse))
	l.nCoarse = len(coarse) + 1
	L := snapshot.L
	for _, qd := range l.shape.Queues {
		pl, ql := L("port", l.shape.Ports[qd.Port].Name), L("queue", strconv.Itoa(int(qd.ID)))
		var ls latencySlots
		ls.stamped = s.add(mLatStamped, 0, pl, ql)
		ls.unstamped = s.add(mLatUnstamped, 0, pl, ql)
		ls.gaps = s.add(mLatGaps, 0, pl, ql)
		ls.reordered = s.add(mLatReordered, 0, pl, ql)
		ls.max = s.add(mLatMax, 1e-9, pl, ql)
		ls.first, ls.sum = s.addHistogram(mLat, coarse, 1e-9, pl, ql)
		ls.rawFirst, ls.rawSum = s.addHistogram(mLatRaw, raw, 1e-9, pl, ql)
		l.slots = append(l.slots, ls)
	}
	s.b.MarkInternal(mLatRaw.name)
	return nil
}

func (l *latencySource) sample(v []uint64) error {
	for i := range l.slots {
		ls, c := &l.slots[i], &l.cur.Latency[i]
		v[ls.stamped], v[ls.unstamped], v[ls.gaps], v[ls.reordered] = c.Stamped, c.Unstamped, c.Gaps, c.Reordered
		v[ls.max], v[ls.sum], v[ls.rawSum] = c.MaxNs, c.SumNs, c.SumNs
		copy(v[ls.rawFirst:ls.rawFirst+counters.LatBuckets], c.Hist[:])
		coarse := v[ls.first : ls.first+l.nCoarse]
		clear(coarse)
		for k, n := range c.Hist {
			coarse[l.coarse[k]] += n
		}
	}
	return nil
}

func (l *latencySource) close() {}
