package isolation

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rxprobe/rxprobe/internal/cpuset"
)

func TestParseCmdline(t *testing.T) {
	got, err := parseCmdline([]byte(`BOOT_IMAGE=/vmlinuz ro isolcpus=domain,2-3 rcu-nocbs=2-3 dyndbg="file x.c +p" "quoted=a b" nohz_full=2-3 -- single nohz_full=9` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := cmdline{
		{"BOOT_IMAGE", "/vmlinuz", true},
		{"ro", "", false},
		{"isolcpus", "domain,2-3", true},
		{"rcu_nocbs", "2-3", true},
		{"dyndbg", "file x.c +p", true},
		{"quoted", "a b", true},
		{"nohz_full", "2-3", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseCmdline mismatch (-want +got):\n%s", diff)
	}
	if v, ok := got.get("nohz_full"); !ok || v != "2-3" {
		t.Errorf(`get("nohz_full") = %q, %v; want "2-3" (arguments after -- belong to init)`, v, ok)
	}
	if got.raw("ro") != "ro" || got.raw("isolcpus") != "isolcpus=domain,2-3" || got.raw("absent") != "" {
		t.Errorf("raw() wrong: %q %q", got.raw("ro"), got.raw("isolcpus"))
	}
	for _, bad := range []string{"a=\"b", "a\x00b", "\xff\xfe", "a\x01"} {
		if _, err := parseCmdline([]byte(bad)); err == nil {
			t.Errorf("parseCmdline(%q) succeeded, want an error", bad)
		}
	}
	c, err := parseCmdline([]byte("a=1 a=2"))
	if v, _ := c.get("a"); err != nil || v != "2" {
		t.Errorf(`the last "a" should win, got %q, %v`, v, err)
	}
}

func TestParseIsolcpus(t *testing.T) {
	tests := []struct {
		in        string
		flags     []string
		cpus      string
		wantError bool
	}{
		{in: "2-7", cpus: "2-7"},
		{in: "managed_irq,domain,2-7,18-23", flags: []string{"managed_irq", "domain"}, cpus: "2-7,18-23"},
		{in: "nohz,1,3", flags: []string{"nohz"}, cpus: "1,3"},
		{in: "domain,bogus,1", wantError: true},
	}
	for _, tt := range tests {
		flags, cpus, err := parseIsolcpus(tt.in)
		if tt.wantError {
			if err == nil {
				t.Errorf("parseIsolcpus(%q) succeeded", tt.in)
			}
			continue
		}
		if err != nil || cpus.String() != tt.cpus {
			t.Errorf("parseIsolcpus(%q) = %v, %v, %v; want cpus %s", tt.in, flags, cpus, err, tt.cpus)
		}
		if diff := cmp.Diff(tt.flags, flags); diff != "" {
			t.Errorf("parseIsolcpus(%q) flags mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseStatus(t *testing.T) {
	in := "Name:\tkworker/2:1\nUmask:\t0000\nTgid:\t40\nPid:\t40\nPPid:\t2\nCpus_allowed:\t4\nCpus_allowed_list:\t2\n"
	got, err := parseStatus([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := taskStatus{Name: "kworker/2:1", TID: 40, TGID: 40, PPID: 2, Kthread: true, Allowed: cpuset.Of(2)}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b cpuset.Set) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("parseStatus mismatch (-want +got):\n%s", diff)
	}
	got, err = parseStatus([]byte("Name:\tbash\nPid:\t7\nPPid:\t2\nKthread:\t0\nCpus_allowed_list:\t0-1\n"))
	if err != nil || got.Kthread || got.TGID != 7 {
		t.Errorf("parseStatus with Kthread: 0 = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "Name:\tx\nPid:\t1\n", "Name:\tx\nPid:\tz\nCpus_allowed_list:\t0\n", "Name:\tx\nPid:\t1\nCpus_allowed_list:\t9-1\n"} {
		if _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("parseStatus(%q) succeeded", bad)
		}
	}
}

func TestParseShellVars(t *testing.T) {
	in := "# comment\nENABLED=\"0\"\nexport IRQBALANCE_BANNED_CPUS='0000000c'\nIRQBALANCE_BANNED_CPULIST=2-3 # trailing\nnot an assignment\n=x\n"
	want := map[string]string{"ENABLED": "0", "IRQBALANCE_BANNED_CPUS": "0000000c", "IRQBALANCE_BANNED_CPULIST": "2-3"}
	if diff := cmp.Diff(want, parseShellVars([]byte(in))); diff != "" {
		t.Errorf("parseShellVars mismatch (-want +got):\n%s", diff)
	}
}

func TestBracketed(t *testing.T) {
	for in, want := range map[string]string{"always [madvise] never": "madvise", "[always] madvise never": "always", "none": "", "[]": "", "]x[": ""} {
		got, _ := bracketed(in)
		if got != want {
			t.Errorf("bracketed(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseCmdline checks that parseCmdline never panics and never
// returns a parameter with an empty name containing whitespace.
func FuzzParseCmdline(f *testing.F) {
	f.Add([]byte("BOOT_IMAGE=/vmlinuz ro isolcpus=managed_irq,domain,2-7 nohz_full=2-7 -- init"))
	f.Add([]byte(`dyndbg="file x.c +p" "a=b c"`))
	f.Add([]byte("a=\"b"))
	f.Add([]byte{0xff, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCmdline(b)
		if err != nil {
			return
		}
		for _, p := range c {
			if strings.ContainsAny(p.Name, " \t\n") {
				t.Fatalf("parseCmdline(%q): name %q has whitespace", b, p.Name)
			}
		}
		if v, ok := c.get("isolcpus"); ok {
			parseIsolcpus(v) // must not panic
		}
	})
}

// FuzzParseStatus checks that parseStatus never panics.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tkworker/2:1\nTgid:\t40\nPid:\t40\nPPid:\t2\nCpus_allowed_list:\t2\n"))
	f.Add([]byte("Name:\tx\nPid:\t1\nCpus_allowed_list:\t0-99999"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStatus(b)
		if err == nil && st.TGID == 0 && st.TID != 0 {
			t.Fatalf("parseStatus(%q): TGID not defaulted", b)
		}
	})
}
