package counters

import (
	"strconv"
	"time"
)

// AppendStatus appends the one-line live view for the interval prev→cur to
// buf: elapsed time, packet and bit rate, drops by kind during the interval
// and the worst loop gap. It does not allocate when buf has room (~160 B).
func AppendStatus(buf []byte, start time.Time, prev, cur *Reading) []byte {
	dt := cur.At.Sub(prev.At).Seconds()
	if dt <= 0 {
		dt = 1
	}
	p1, b1 := cur.Totals()
	p0, b0 := prev.Totals()
	m1, n1, e1 := cur.Drops()
	m0, n0, e0 := prev.Drops()
	buf = appendFixed(buf, cur.At.Sub(start).Seconds(), 6, 1)
	buf = append(buf, "s  rx "...)
	buf = appendFixed(buf, float64(p1-p0)/dt/1e6, 7, 3)
	buf = append(buf, " Mpps "...)
	buf = appendFixed(buf, float64(b1-b0)*8/dt/1e6, 9, 1)
	buf = append(buf, " Mbit/s  drops: missed "...)
	buf = strconv.AppendUint(buf, m1-m0, 10)
	buf = append(buf, " nombuf "...)
	buf = strconv.AppendUint(buf, n1-n0, 10)
	buf = append(buf, " errors "...)
	buf = strconv.AppendUint(buf, e1-e0, 10)
	buf = append(buf, "  worst gap "...)
	ns, unbounded := WorstGapAll(prev, cur)
	if unbounded {
		buf = append(buf, '>')
	} else {
		buf = append(buf, "<="...)
	}
	return AppendDuration(buf, ns)
}

// AppendDuration appends ns in a human unit (ns, µs, ms, s) without allocating.
func AppendDuration(buf []byte, ns uint64) []byte {
	switch {
	case ns < 1000:
		buf = strconv.AppendUint(buf, ns, 10)
		return append(buf, " ns"...)
	case ns < 1_000_000:
		buf = appendFixed(buf, float64(ns)/1e3, 0, 1)
		return append(buf, " µs"...)
	case ns < 1_000_000_000:
		buf = appendFixed(buf, float64(ns)/1e6, 0, 1)
		return append(buf, " ms"...)
	}
	buf = appendFixed(buf, float64(ns)/1e9, 0, 2)
	return append(buf, " s"...)
}

// appendFixed appends v with prec decimals, left-padded to width.
func appendFixed(buf []byte, v float64, width, prec int) []byte {
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], v, 'f', prec, 64)
	for i := len(s); i < width; i++ {
		buf = append(buf, ' ')
	}
	return append(buf, s...)
}
