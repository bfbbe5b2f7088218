package units

import "strconv"

// AppendDuration appends ns in a human unit (ns, µs, ms, s) to buf. It
// does not allocate when buf has room.
func AppendDuration(buf []byte, ns uint64) []byte {
	switch {
	case ns < 1000:
		buf = strconv.AppendUint(buf, ns, 10)
		return append(buf, " ns"...)
	case ns < 1_000_000:
		buf = AppendFixed(buf, float64(ns)/1e3, 0, 1)
		return append(buf, " µs"...)
	case ns < 1_000_000_000:
		buf = AppendFixed(buf, float64(ns)/1e6, 0, 1)
		return append(buf, " ms"...)
	}
	buf = AppendFixed(buf, float64(ns)/1e9, 0, 2)
	return append(buf, " s"...)
}

// AppendFixed appends v with prec decimals, left-padded with spaces to
// width. It does not allocate when buf has room.
func AppendFixed(buf []byte, v float64, width, prec int) []byte {
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], v, 'f', prec, 64)
	for i := len(s); i < width; i++ {
		buf = append(buf, ' ')
	}
	return append(buf, s...)
}
