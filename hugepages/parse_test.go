package hugepages

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       24684084 kB\nHugePages_Total:     512\nHugePages_Free:      506\nHugepagesize:       2048 kB\n\n"
	got, err := parseMeminfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"MemTotal":        24684084 << 10,
		"HugePages_Total": 512,
		"HugePages_Free":  506,
		"Hugepagesize":    2 << 20,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseMeminfo mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"HugePages_Tot",
		"Hugepagesize: 2048 MB",
		"Hugepagesize: x kB",
		"Huge pages: 1",
		": 1",
		"A: 1 kB extra",
		"A:",
		"A: 99999999999999999999 kB",
		"A: 18446744073709551615 kB",
	} {
		if _, err := parseMeminfo(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMeminfo(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseMounts(t *testing.T) {
	in := "proc /proc proc rw,relatime 0 0\nnodev /mnt/a\\040b hugetlbfs rw,pagesize=1G 0 0\n\n"
	got, err := parseMounts([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountEntry{
		{"proc", "/proc", "proc", []string{"rw", "relatime"}},
		{"nodev", "/mnt/a b", "hugetlbfs", []string{"rw", "pagesize=1G"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseMounts mismatch (-want +got):\n%s", diff)
	}
	if _, err := parseMounts([]byte("nodev /dev/hugepages hugetlbfs\n")); err == nil {
		t.Errorf("parseMounts of a 3-field line succeeded")
	}
	if got := unescapeMount(`a\134b\04`); got != `a\b\04` {
		t.Errorf("unescapeMount = %q", got)
	}
}

func TestParsePoolDir(t *testing.T) {
	for in, want := range map[string]Size{"hugepages-2048kB": Size2M, "hugepages-1048576kB": Size1G} {
		if got, err := parsePoolDir(in); err != nil || got != want {
			t.Errorf("parsePoolDir(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"hugepages-kB", "hugepages-0kB", "hugepages-2048", "node0", "hugepages-bogus"} {
		if _, err := parsePoolDir(bad); err == nil {
			t.Errorf("parsePoolDir(%q) succeeded", bad)
		}
	}
}

// FuzzParseMeminfo checks that parseMeminfo never panics and that every
// value it returns came from a well-formed line.
func FuzzParseMeminfo(f *testing.F) {
	f.Add("MemTotal:       24684084 kB\nHugePages_Total:     512\nHugepagesize:       2048 kB\n")
	f.Add("HugePages_Tot")
	f.Add("A: 1 kB extra\n")
	f.Add(":\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMeminfo(strings.NewReader(s))
		if err != nil {
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, " \t\n") {
				t.Fatalf("parseMeminfo(%q) returned bad key %q", s, k)
			}
		}
	})
}

// FuzzParseMounts checks that parseMounts never panics and keeps four
// non-empty fields per entry.
func FuzzParseMounts(f *testing.F) {
	f.Add("nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n")
	f.Add("nodev /mnt/a\\040b hugetlbfs rw 0 0")
	f.Add("a b c\n")
	f.Fuzz(func(t *testing.T, s string) {
		ents, err := parseMounts([]byte(s))
		if err != nil {
			return
		}
		for _, e := range ents {
			if e.Device == "" || e.FSType == "" || len(e.Options) == 0 {
				t.Fatalf("parseMounts(%q) returned %+v", s, e)
			}
		}
	})
}

// FuzzParseSize checks that ParseSize never panics and that what it
// accepts survives Flag/ParseSize.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"2M", "1GiB", "2048kB", "0", "x", "99999999999999999999G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil {
			return
		}
		back, err := ParseSize(v.Flag())
		if err != nil || back != v {
			t.Fatalf("ParseSize(%q) = %d but Flag %q reads back as %d, %v", s, v, v.Flag(), back, err)
		}
	})
}
