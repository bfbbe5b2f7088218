package counters

import (
	"strconv"
	"time"

	"github.com/rxprobe/rxprobe/internal/units"
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
	buf = units.AppendFixed(buf, cur.At.Sub(start).Seconds(), 6, 1)
	buf = append(buf, "s  rx "...)
	buf = units.AppendFixed(buf, float64(p1-p0)/dt/1e6, 7, 3)
	buf = append(buf, " Mpps "...)
	buf = units.AppendFixed(buf, float64(b1-b0)*8/dt/1e6, 9, 1)
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
	buf = AppendDuration(buf, ns)
	if len(cur.Captures) == 0 || len(prev.Captures) != len(cur.Captures) {
		return buf
	}
	c1, c0 := cur.CaptureTotals(), prev.CaptureTotals()
	buf = append(buf, "  capture "...)
	buf = units.AppendFixed(buf, float64(c1.Encoded-c0.Encoded)/dt/1e6, 0, 3)
	buf = append(buf, " Mpps "...)
	buf = units.AppendFixed(buf, float64(c1.BytesWritten-c0.BytesWritten)/dt/1e6, 0, 1)
	buf = append(buf, " MB/s written, lost: ring "...)
	buf = strconv.AppendUint(buf, c1.RingDropped-c0.RingDropped, 10)
	buf = append(buf, " disk "...)
	return strconv.AppendUint(buf, c1.DiskDropped-c0.DiskDropped, 10)
}

// AppendDuration appends ns in a human unit (ns, µs, ms, s) without allocating.
func AppendDuration(buf []byte, ns uint64) []byte { return units.AppendDuration(buf, ns) }
