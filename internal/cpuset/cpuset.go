package cpuset

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxCPUs is the number of CPUs a Set can hold: CPU numbers run from 0 to
// MaxCPUs-1. It matches the size of unix.CPUSet (the glibc CPU_SETSIZE).
const MaxCPUs = words * 64

const words = 16

// Set is a set of CPU numbers in [0, MaxCPUs). The zero value is empty.
// Sets are values: assignment copies them.
type Set struct {
	b [words]uint64
}

// Of returns the set holding cpus. Numbers outside [0, MaxCPUs) are ignored.
func Of(cpus ...int) Set {
	var s Set
	for _, c := range cpus {
		s.Add(c)
	}
	return s
}

// Has reports whether cpu is in s.
func (s Set) Has(cpu int) bool {
	if uint(cpu) >= MaxCPUs {
		return false
	}
	return s.b[cpu/64]&(1<<(uint(cpu)%64)) != 0
}

// Add puts cpu into s. Numbers outside [0, MaxCPUs) are ignored.
func (s *Set) Add(cpu int) {
	if uint(cpu) >= MaxCPUs {
		return
	}
	s.b[cpu/64] |= 1 << (uint(cpu) % 64)
}

// Remove takes cpu out of s. Numbers outside [0, MaxCPUs) are ignored.
func (s *Set) Remove(cpu int) {
	if uint(cpu) >= MaxCPUs {
		return
	}
	s.b[cpu/64] &^= 1 << (uint(cpu) % 64)
}

// addRange adds lo..hi inclusive; the caller has checked the bounds.
func (s *Set) addRange(lo, hi int) {
	for c := lo; c <= hi; c++ {
		s.b[c/64] |= 1 << (uint(c) % 64)
	}
}

// Len returns the number of CPUs in s.
func (s Set) Len() int {
	n := 0
	for _, w := range s.b {
		n += bits.OnesCount64(w)
	}
	return n
}

// IsEmpty reports whether s holds no CPU.
func (s Set) IsEmpty() bool {
	for _, w := range s.b {
		if w != 0 {
			return false
		}
	}
	return true
}

// List returns the CPUs of s in increasing order, or nil if s is empty.
func (s Set) List() []int {
	n := s.Len()
	if n == 0 {
		return nil
	}
	out := make([]int, 0, n)
	for i, w := range s.b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			out = append(out, i*64+t)
			w &^= 1 << uint(t)
		}
	}
	return out
}

// String returns s in canonical cpulist form, e.g. "0-3,8,10-11"; the
// empty set is "".
func (s Set) String() string {
	var sb strings.Builder
	start := -1
	flush := func(end int) {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(start))
		if end > start {
			sb.WriteByte('-')
			sb.WriteString(strconv.Itoa(end))
		}
	}
	for c := 0; c < MaxCPUs; c++ {
		if s.Has(c) {
			if start < 0 {
				start = c
			}
			continue
		}
		if start >= 0 {
			flush(c - 1)
			start = -1
		}
	}
	if start >= 0 {
		flush(MaxCPUs - 1)
	}
	return sb.String()
}

// Mask returns s in the kernel's hex mask form, e.g. "ff,ffffffff": 32-bit
// words, most significant first, separated by commas. Leading zero words
// are dropped; the empty set is "0".
func (s Set) Mask() string {
	top := -1
	for i := words*2 - 1; i >= 0; i-- {
		if s.word32(i) != 0 {
			top = i
			break
		}
	}
	if top < 0 {
		return "0"
	}
	var sb strings.Builder
	for i := top; i >= 0; i-- {
		if i == top {
			fmt.Fprintf(&sb, "%x", s.word32(i))
		} else {
			fmt.Fprintf(&sb, ",%08x", s.word32(i))
		}
	}
	return sb.String()
}

func (s Set) word32(i int) uint32 {
	return uint32(s.b[i/2] >> (32 * uint(i%2)))
}

// Union returns the CPUs in s or o.
func (s Set) Union(o Set) Set {
	for i := range s.b {
		s.b[i] |= o.b[i]
	}
	return s
}

// Intersect returns the CPUs in both s and o.
func (s Set) Intersect(o Set) Set {
	for i := range s.b {
		s.b[i] &= o.b[i]
	}
	return s
}

// Difference returns the CPUs in s that are not in o.
func (s Set) Difference(o Set) Set {
	for i := range s.b {
		s.b[i] &^= o.b[i]
	}
	return s
}

// Equal reports whether s and o hold the same CPUs.
func (s Set) Equal(o Set) bool { return s.b == o.b }

// UnixCPUSet converts s for unix.SchedSetaffinity and friends.
func (s Set) UnixCPUSet() unix.CPUSet {
	var u unix.CPUSet
	for i, w := range s.b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			u.Set(i*64 + t)
			w &^= 1 << uint(t)
		}
	}
	return u
}

// FromUnix converts a unix.CPUSet, as filled by unix.SchedGetaffinity.
func FromUnix(u unix.CPUSet) Set {
	var s Set
	for c := 0; c < MaxCPUs; c++ {
		if u.IsSet(c) {
			s.Add(c)
		}
	}
	return s
}

// MarshalText implements encoding.TextMarshaler with the cpulist form.
func (s Set) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts a cpulist
// as Parse does.
func (s *Set) UnmarshalText(text []byte) error {
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
