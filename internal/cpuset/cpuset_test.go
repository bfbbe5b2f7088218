package cpuset

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string // substring of the error; "" means no error
	}{
		{in: "", want: nil},
		{in: "  \n", want: nil},
		{in: "0", want: []int{0}},
		{in: "0-3\n", want: []int{0, 1, 2, 3}},
		{in: "0-3,8,10-11", want: []int{0, 1, 2, 3, 8, 10, 11}},
		{in: "8,0-1,1", want: []int{0, 1, 8}},
		{in: " 2 , 4 ", want: []int{2, 4}},
		{in: "1023", want: []int{1023}},
		{in: "0-7:2/4", want: []int{0, 1, 4, 5}},
		{in: "1024", wantErr: `CPU 1024 is out of range`},
		{in: "3-1", wantErr: `bad element "3-1": range is reversed`},
		{in: "0-3,x", wantErr: `bad element "x"`},
		{in: "0,,1", wantErr: `empty element`},
		{in: "-1", wantErr: `bad element "-1"`},
		{in: "1-", wantErr: `bad element "1-"`},
		{in: "+1", wantErr: `bad element "+1"`},
		{in: "0-7:3/2", wantErr: `stride`},
		{in: "4:1/2", wantErr: `stride needs a range`},
		{in: "99999999999999999999", wantErr: `not a CPU number`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) unexpected error: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.List()); diff != "" {
			t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseMask(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "", want: nil},
		{in: "0\n", want: nil},
		{in: "00000000,00000000", want: nil},
		{in: "f", want: []int{0, 1, 2, 3}},
		{in: "3", want: []int{0, 1}},
		{in: "1,00000000", want: []int{32}},
		{in: "ff,ffffffff", want: seq(0, 39)},
		{in: "80000000,00000000,00000001", want: []int{0, 95}},
		{in: "0x5", want: []int{0, 2}},
		{in: "g", wantErr: `bad group "g"`},
		{in: "123456789", wantErr: `bad group "123456789"`},
		{in: "1,,1", wantErr: `bad group ""`},
		{in: "1" + strings.Repeat(",00000000", 32), wantErr: `beyond 1023`},
	}
	for _, tt := range tests {
		got, err := ParseMask(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMask(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMask(%q) unexpected error: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.List()); diff != "" {
			t.Errorf("ParseMask(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func seq(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func TestStringAndMask(t *testing.T) {
	tests := []struct {
		set        Set
		list, mask string
	}{
		{Set{}, "", "0"},
		{Of(0), "0", "1"},
		{Of(0, 1, 2, 3, 8, 10, 11), "0-3,8,10-11", "d0f"},
		{Of(1, 3, 5), "1,3,5", "2a"},
		{Of(32), "32", "1,00000000"},
		{Of(63, 64), "63-64", "1,80000000,00000000"},
		{Of(1023), "1023", "80000000" + strings.Repeat(",00000000", 31)},
		{Of(-1, 1024, 5), "5", "20"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.list, tt.set.String()); diff != "" {
			t.Errorf("String() of %v mismatch (-want +got):\n%s", tt.set.List(), diff)
		}
		if diff := cmp.Diff(tt.mask, tt.set.Mask()); diff != "" {
			t.Errorf("Mask() of %v mismatch (-want +got):\n%s", tt.set.List(), diff)
		}
		back, err := ParseMask(tt.set.Mask())
		if err != nil || !back.Equal(tt.set) {
			t.Errorf("ParseMask(%q) = %v, %v; want %v", tt.set.Mask(), back, err, tt.set)
		}
	}
}

func TestSetOps(t *testing.T) {
	a := Of(0, 1, 2, 3, 100)
	b := Of(2, 3, 4, 100, 1000)
	check := func(name string, got Set, want []int) {
		t.Helper()
		if diff := cmp.Diff(want, got.List()); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
		}
	}
	check("Union", a.Union(b), []int{0, 1, 2, 3, 4, 100, 1000})
	check("Intersect", a.Intersect(b), []int{2, 3, 100})
	check("Difference", a.Difference(b), []int{0, 1})
	check("a unchanged", a, []int{0, 1, 2, 3, 100})

	s := Of(5)
	s.Add(7)
	s.Add(5)
	s.Remove(5)
	s.Remove(9)
	s.Remove(-3)
	check("Add/Remove", s, []int{7})
	if s.Len() != 1 || s.IsEmpty() || !s.Has(7) || s.Has(5) || s.Has(-1) || s.Has(MaxCPUs) {
		t.Errorf("after Add/Remove: Len=%d IsEmpty=%v Has(7)=%v Has(5)=%v", s.Len(), s.IsEmpty(), s.Has(7), s.Has(5))
	}
	if !(Set{}).IsEmpty() || (Set{}).Len() != 0 || (Set{}).List() != nil {
		t.Errorf("zero Set is not empty")
	}
	if !Of(1, 2).Equal(Of(2, 1)) || Of(1).Equal(Of(2)) {
		t.Errorf("Equal is wrong")
	}
}

func TestNoAllocs(t *testing.T) {
	s := Of(1, 2, 900)
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		s.Add(3)
		if s.Has(900) {
			sink += s.Len()
		}
		s.Remove(3)
	})
	if allocs != 0 {
		t.Errorf("Has/Add/Remove/Len allocated %v times per run, want 0", allocs)
	}
	_ = sink
}

func TestUnixRoundTrip(t *testing.T) {
	s := Of(0, 3, 64, 511, 1023)
	u := s.UnixCPUSet()
	for _, c := range []int{0, 3, 64, 511, 1023} {
		if !u.IsSet(c) {
			t.Errorf("UnixCPUSet lost CPU %d", c)
		}
	}
	if u.Count() != 5 {
		t.Errorf("UnixCPUSet count = %d, want 5", u.Count())
	}
	if got := FromUnix(u); !got.Equal(s) {
		t.Errorf("FromUnix(UnixCPUSet(%v)) = %v", s, got)
	}
	var empty unix.CPUSet
	if !FromUnix(empty).IsEmpty() {
		t.Errorf("FromUnix(empty) is not empty")
	}
}

func TestText(t *testing.T) {
	type conf struct {
		RX Set  `json:"rx"`
		HK *Set `json:"hk,omitempty"`
	}
	in := conf{RX: Of(1, 2, 3, 7)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"rx":"1-3,7"}`, string(b)); diff != "" {
		t.Errorf("json.Marshal mismatch (-want +got):\n%s", diff)
	}
	var out conf
	if err := json.Unmarshal([]byte(`{"rx":"4-5","hk":"0"}`), &out); err != nil {
		t.Fatal(err)
	}
	if !out.RX.Equal(Of(4, 5)) || out.HK == nil || !out.HK.Equal(Of(0)) {
		t.Errorf("json.Unmarshal = %v %v", out.RX, out.HK)
	}
	err = json.Unmarshal([]byte(`{"rx":"5-4"}`), &out)
	if err == nil || !strings.Contains(err.Error(), "reversed") {
		t.Errorf("json.Unmarshal of a reversed range: err = %v, want one about the reversed range", err)
	}
}
