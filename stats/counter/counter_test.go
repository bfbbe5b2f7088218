package counter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMono(t *testing.T) {
	const max32 = 1<<32 - 1
	tests := []struct {
		name       string
		mono       Mono
		raw        []uint64
		want       []uint64
		wraps, rst uint64
	}{
		{
			name: "64-bit steady growth",
			mono: NewMono64(),
			raw:  []uint64{5, 10, 10, 1 << 40},
			want: []uint64{5, 10, 10, 1 << 40},
		},
		{
			name: "64-bit restart: new raw counts from 0",
			mono: NewMono64(),
			raw:  []uint64{100, 150, 20, 30, 0, 7},
			want: []uint64{100, 150, 170, 180, 180, 187},
			rst:  2,
		},
		{
			name: "64-bit near the top is not a wrap",
			mono: NewMono64(),
			raw:  []uint64{1<<64 - 10, 5},
			want: []uint64{1<<64 - 10, 1<<64 - 5},
			rst:  1,
		},
		{
			name:  "32-bit wrap",
			mono:  NewMono32(),
			raw:   []uint64{max32 - 9, max32, 5, 100},
			want:  []uint64{max32 - 9, max32, 1<<32 + 5, 1<<32 + 100},
			wraps: 1,
		},
		{
			name:  "32-bit two wraps",
			mono:  NewMono32(),
			raw:   []uint64{3 << 30, 1 << 29, 3 << 30, 1 << 28},
			want:  []uint64{3 << 30, 1<<32 + 1<<29, 1<<32 + 3<<30, 2<<32 + 1<<28},
			wraps: 2,
		},
		{
			name: "32-bit restart: a drop implying an increment of 2^31 or more",
			mono: NewMono32(),
			raw:  []uint64{1000, 2000, 10},
			want: []uint64{1000, 2000, 2010},
			rst:  1,
		},
		{
			name:  "32-bit restart then wrap",
			mono:  NewMono32(),
			raw:   []uint64{5000, 40, max32 - 1, 3},
			want:  []uint64{5000, 5040, 5000 + max32 - 1, 5000 + 1<<32 + 3},
			wraps: 1,
			rst:   1,
		},
		{
			name:  "32-bit wrap then restart",
			mono:  NewMono32(),
			raw:   []uint64{max32, 1, 500, 2},
			want:  []uint64{max32, 1<<32 + 1, 1<<32 + 500, 1<<32 + 502},
			wraps: 1,
			rst:   1,
		},
		{
			name: "32-bit boundary: increment of exactly 2^31 is a restart",
			mono: NewMono32(),
			raw:  []uint64{1 << 31, 0},
			want: []uint64{1 << 31, 1 << 31},
			rst:  1,
		},
		{
			name:  "32-bit boundary: increment of 2^31-1 is a wrap",
			mono:  NewMono32(),
			raw:   []uint64{1<<31 + 1, 0},
			want:  []uint64{1<<31 + 1, 1 << 32},
			wraps: 1,
		},
		{
			name: "32-bit raw values are truncated",
			mono: NewMono32(),
			raw:  []uint64{1<<32 + 7, 1<<33 + 9},
			want: []uint64{7, 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.mono
			var got []uint64
			for _, r := range tt.raw {
				got = append(got, m.Update(r))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cumulative values (-want +got):\n%s", diff)
			}
			if m.Value() != tt.want[len(tt.want)-1] {
				t.Errorf("Value() = %d, want %d", m.Value(), tt.want[len(tt.want)-1])
			}
			if m.Wraps() != tt.wraps || m.Resets() != tt.rst {
				t.Errorf("wraps %d resets %d, want %d %d", m.Wraps(), m.Resets(), tt.wraps, tt.rst)
			}
			for i := 1; i < len(got); i++ {
				if got[i] < got[i-1] {
					t.Errorf("value decreased at %d: %d -> %d", i, got[i-1], got[i])
				}
			}
		})
	}
}

func TestMonoZeroValue(t *testing.T) {
	var m Mono
	if m.Value() != 0 {
		t.Errorf("Value before Update = %d", m.Value())
	}
	if got := m.Update(42); got != 42 {
		t.Errorf("zero Mono is not a 64-bit accumulator: Update(42) = %d", got)
	}
}

func TestSet(t *testing.T) {
	s := NewSet32(3)
	out := make([]uint64, 3)
	s.Update([]uint64{1<<32 - 1, 10, 20}, out)
	if n := s.Update([]uint64{4, 15, 25, 99}, out); n != 3 {
		t.Errorf("Update updated %d, want 3", n)
	}
	if diff := cmp.Diff([]uint64{1<<32 + 4, 15, 25}, out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.Len() != 3 || s.At(0).Wraps() != 1 {
		t.Errorf("Len %d, At(0).Wraps %d", s.Len(), s.At(0).Wraps())
	}
	s64 := NewSet64(2)
	s64.Update([]uint64{100, 1 << 40}, out)
	s64.Update([]uint64{1, 1<<40 + 1}, out)
	if diff := cmp.Diff([]uint64{101, 1<<40 + 1}, out[:2]); diff != "" {
		t.Errorf("64-bit set (-want +got):\n%s", diff)
	}
}

func TestNoAllocation(t *testing.T) {
	m := NewMono32()
	s := NewSet64(8)
	raw, out := make([]uint64, 8), make([]uint64, 8)
	var x uint64
	if a := testing.AllocsPerRun(100, func() {
		x += 1 << 30
		m.Update(x)
		raw[3] = x
		s.Update(raw, out)
	}); a != 0 {
		t.Errorf("%v allocations per update, want 0", a)
	}
}

func BenchmarkMonoUpdate(b *testing.B) {
	m := NewMono32()
	var x uint64
	b.ReportAllocs()
	for b.Loop() {
		x += 1 << 29
		m.Update(x)
	}
}
