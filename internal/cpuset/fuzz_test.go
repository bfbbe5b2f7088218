package cpuset

import "testing"

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives a String/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,8,10-11\n", "1023", "0-7:2/4", "3-1", "a", "0,,1", "1-2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(set.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %v but its String %q does not parse: %v", s, set.List(), set.String(), err)
		}
		if !back.Equal(set) {
			t.Fatalf("round trip of %q: %v became %v", s, set.List(), back.List())
		}
	})
}

// FuzzParseMask checks that ParseMask never panics and round-trips
// through Mask.
func FuzzParseMask(f *testing.F) {
	for _, s := range []string{"", "0", "ff,ffffffff\n", "80000000,00000000", "0x3", "g", ",", "123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseMask(s)
		if err != nil {
			return
		}
		back, err := ParseMask(set.Mask())
		if err != nil || !back.Equal(set) {
			t.Fatalf("round trip of %q: %v became %v (%v)", s, set.List(), back.List(), err)
		}
	})
}
