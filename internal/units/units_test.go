package units

import "testing"

func TestAppendDuration(t *testing.T) {
	for _, c := range []struct {
		ns   uint64
		want string
	}{
		{0, "0 ns"}, {999, "999 ns"}, {1000, "1.0 µs"}, {6_900, "6.9 µs"},
		{1_500_000, "1.5 ms"}, {999_999_999, "1000.0 ms"}, {2_340_000_000, "2.34 s"},
	} {
		if got := string(AppendDuration(nil, c.ns)); got != c.want {
			t.Errorf("AppendDuration(%d) = %q, want %q", c.ns, got, c.want)
		}
	}
}

func TestAppendFixedPadsAndDoesNotAllocate(t *testing.T) {
	if got := string(AppendFixed(nil, 3.14159, 7, 3)); got != "  3.142" {
		t.Errorf("AppendFixed = %q, want %q", got, "  3.142")
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendDuration(AppendFixed(buf[:0], 1.5, 9, 1), 12_345) }); n != 0 {
		t.Errorf("AppendFixed+AppendDuration allocate %.1f times", n)
	}
}
