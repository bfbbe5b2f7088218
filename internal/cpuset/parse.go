package cpuset

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads a kernel cpulist such as "0-3,8,10-11". Surrounding
// whitespace (including the trailing newline of a sysfs file) is ignored
// and "" is the empty set. The kernel's stride form "0-15:2/4" (in each
// group of 4 CPUs of 0-15, use the first 2) is accepted too.
//
// Reversed ranges, CPU numbers of MaxCPUs or more and anything that is not
// a number are errors naming the offending token.
func Parse(s string) (Set, error) {
	var set Set
	s = strings.TrimSpace(s)
	if s == "" {
		return set, nil
	}
	for tok := range strings.SplitSeq(s, ",") {
		if err := set.addToken(tok); err != nil {
			return Set{}, fmt.Errorf("cpuset: parsing cpulist %q: %w", s, err)
		}
	}
	return set, nil
}

// addToken adds one cpulist element: "N", "A-B" or "A-B:used/group".
func (s *Set) addToken(tok string) error {
	t := strings.TrimSpace(tok)
	if t == "" {
		return fmt.Errorf("empty element in list")
	}
	rng, stride, hasStride := strings.Cut(t, ":")
	lo, hi, isRange := strings.Cut(rng, "-")
	a, err := cpuNumber(lo)
	if err != nil {
		return fmt.Errorf("bad element %q: %w", t, err)
	}
	b := a
	if isRange {
		if b, err = cpuNumber(hi); err != nil {
			return fmt.Errorf("bad element %q: %w", t, err)
		}
		if b < a {
			return fmt.Errorf("bad element %q: range is reversed", t)
		}
	}
	if !hasStride {
		s.addRange(a, b)
		return nil
	}
	if !isRange {
		return fmt.Errorf("bad element %q: a stride needs a range", t)
	}
	us, gs, ok := strings.Cut(stride, "/")
	if !ok {
		return fmt.Errorf("bad element %q: stride must be used/group", t)
	}
	used, err1 := strconv.Atoi(us)
	group, err2 := strconv.Atoi(gs)
	if err1 != nil || err2 != nil || used <= 0 || group <= 0 || used > group {
		return fmt.Errorf("bad element %q: stride must be used/group with 0 < used <= group", t)
	}
	for c := a; c <= b; c++ {
		if (c-a)%group < used {
			s.Add(c)
		}
	}
	return nil
}

// cpuNumber parses one decimal CPU number and checks it against MaxCPUs.
func cpuNumber(s string) (int, error) {
	if s == "" || len(s) > 7 {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a CPU number", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	if n >= MaxCPUs {
		return 0, fmt.Errorf("CPU %d is out of range (max %d)", n, MaxCPUs-1)
	}
	return n, nil
}

// ParseMask reads a kernel hex CPU mask such as "ff,ffffffff", the format
// of /proc/irq/*/smp_affinity: comma-separated groups of up to 8 hex
// digits (32 bits each), the most significant group first. Surrounding
// whitespace and an optional "0x" prefix are ignored; "" is the empty set.
// A bit set at or above MaxCPUs is an error.
func ParseMask(s string) (Set, error) {
	var set Set
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" {
		return set, nil
	}
	groups := strings.Split(s, ",")
	for i, g := range groups {
		// Word index counted from the least significant group.
		wi := len(groups) - 1 - i
		if g == "" || len(g) > 8 {
			return Set{}, fmt.Errorf("cpuset: parsing mask %q: bad group %q: want 1 to 8 hex digits", s, g)
		}
		v, err := strconv.ParseUint(g, 16, 32)
		if err != nil {
			return Set{}, fmt.Errorf("cpuset: parsing mask %q: bad group %q: not hex", s, g)
		}
		if v == 0 {
			continue
		}
		if wi >= words*2 {
			return Set{}, fmt.Errorf("cpuset: parsing mask %q: group %q sets CPUs beyond %d", s, g, MaxCPUs-1)
		}
		set.b[wi/2] |= v << (32 * uint(wi%2))
	}
	return set, nil
}
