package counter

// wrapLimit32 bounds the increment a 32-bit counter may make between two
// updates for a decrease to be taken as a wrap: half the counter's range.
const wrapLimit32 = 1 << 31

// Mono turns the samples of a hardware or kernel counter into a value that
// never decreases. The zero value is a 64-bit accumulator (see NewMono64).
//
// A raw value lower than the previous one means, for a 64-bit counter, that
// the counter was reset (port restart, driver reload, device re-created):
// the new raw value counts from 0, so the previous raw value is added to a
// base. For a 32-bit counter (NewMono32) a decrease is usually a wrap past
// 2^32; it is taken as one when the implied increment, 2^32 - prev + raw,
// is below 2^31, and as a reset otherwise. Sampling therefore has to be
// frequent enough that a 32-bit counter advances by less than 2^31 between
// two samples (at 148.8 Mpps, 100 GbE line rate of 64-byte frames, that
// is 14 s).
//
// A reset followed, before the next sample, by counting past the previous
// value is indistinguishable from normal counting; the counts lost to the
// reset (the tail before it) cannot be recovered either way.
type Mono struct {
	base   uint64 // added to the current raw value
	last   uint64 // previous raw value
	seen   bool   // last is valid
	bits32 bool
	wraps  uint64
	resets uint64
}

// NewMono64 returns an accumulator for a 64-bit counter: a decrease is a
// reset.
func NewMono64() Mono { return Mono{} }

// NewMono32 returns an accumulator for a 32-bit counter: a decrease is a
// wrap unless it implies an increment of 2^31 or more, then a reset. Raw
// values are truncated to 32 bits.
func NewMono32() Mono { return Mono{bits32: true} }

// Update records raw and returns the cumulative value: the first raw value
// itself, then that plus every increment since, across wraps and resets.
// It does not allocate.
func (m *Mono) Update(raw uint64) uint64 {
	if m.bits32 {
		raw &= 1<<32 - 1
	}
	if m.seen && raw < m.last {
		if m.bits32 && (1<<32-m.last)+raw < wrapLimit32 {
			m.base += 1 << 32
			m.wraps++
		} else {
			m.base += m.last
			m.resets++
		}
	}
	m.last, m.seen = raw, true
	return m.base + raw
}

// Value returns the cumulative value after the last Update (0 before any).
func (m *Mono) Value() uint64 {
	if !m.seen {
		return 0
	}
	return m.base + m.last
}

// Wraps returns how many 32-bit wraps Update detected.
func (m *Mono) Wraps() uint64 { return m.wraps }

// Resets returns how many resets Update detected.
func (m *Mono) Resets() uint64 { return m.resets }

// Set is a fixed-size group of accumulators of the same width, e.g. one per
// queue or per CPU. It is allocated once by its constructor.
type Set struct {
	m []Mono
}

// NewSet64 returns n 64-bit accumulators.
func NewSet64(n int) *Set { return &Set{m: make([]Mono, n)} }

// NewSet32 returns n 32-bit accumulators.
func NewSet32(n int) *Set {
	s := &Set{m: make([]Mono, n)}
	for i := range s.m {
		s.m[i] = NewMono32()
	}
	return s
}

// Len returns the number of accumulators.
func (s *Set) Len() int { return len(s.m) }

// At returns accumulator i; it panics if i is out of range, like an index.
func (s *Set) At(i int) *Mono { return &s.m[i] }

// Update feeds raw[i] to accumulator i and stores the cumulative value in
// out[i], for i below the shortest of the three lengths; it returns how
// many it updated. It does not allocate.
func (s *Set) Update(raw, out []uint64) int {
	n := min(len(s.m), len(raw), len(out))
	for i := range n {
		out[i] = s.m[i].Update(raw[i])
	}
	return n
}
