package hugepages

import (
	"fmt"
	"strconv"
	"strings"
)

// Size is a hugepage size in bytes.
type Size uint64

// The hugepage sizes of x86-64.
const (
	Size2M Size = 2 << 20
	Size1G Size = 1 << 30
)

// ParseSize reads a page size such as "2M", "2MB", "2MiB", "2048kB", "1G",
// "1GB" or "1GiB". Units are binary whatever their spelling and are
// case-insensitive; a bare number is bytes. Zero is an error.
func ParseSize(s string) (Size, error) {
	in := strings.TrimSpace(s)
	i := 0
	for i < len(in) && in[i] >= '0' && in[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("hugepages: bad page size %q: want a number with K, M or G", s)
	}
	n, err := strconv.ParseUint(in[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("hugepages: bad page size %q: %w", s, err)
	}
	var shift uint
	switch strings.ToLower(strings.TrimSpace(in[i:])) {
	case "", "b":
		shift = 0
	case "k", "kb", "kib":
		shift = 10
	case "m", "mb", "mib":
		shift = 20
	case "g", "gb", "gib":
		shift = 30
	default:
		return 0, fmt.Errorf("hugepages: bad page size %q: unknown unit %q", s, in[i:])
	}
	if n == 0 {
		return 0, fmt.Errorf("hugepages: bad page size %q: zero", s)
	}
	if n > (1<<64-1)>>shift {
		return 0, fmt.Errorf("hugepages: bad page size %q: too large", s)
	}
	return Size(n << shift), nil
}

// String returns the size for people: "2 MiB", "1 GiB", "64 KiB"; sizes
// that are not a whole number of KiB are in bytes.
func (s Size) String() string {
	v, unit := s.split()
	switch unit {
	case "G":
		return fmt.Sprintf("%d GiB", v)
	case "M":
		return fmt.Sprintf("%d MiB", v)
	case "K":
		return fmt.Sprintf("%d KiB", v)
	}
	return fmt.Sprintf("%d B", v)
}

// Flag returns the size as rxprobe's flags take it: "2M", "1G".
func (s Size) Flag() string {
	v, unit := s.split()
	return strconv.FormatUint(v, 10) + unit
}

// split returns s in its largest unit that divides it exactly.
func (s Size) split() (uint64, string) {
	v := uint64(s)
	switch {
	case v == 0:
		return 0, ""
	case v%(1<<30) == 0:
		return v >> 30, "G"
	case v%(1<<20) == 0:
		return v >> 20, "M"
	case v%(1<<10) == 0:
		return v >> 10, "K"
	}
	return v, ""
}

// kB returns the size in KiB as used in sysfs directory names.
func (s Size) kB() uint64 { return uint64(s) >> 10 }
