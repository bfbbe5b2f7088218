package kernel

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The whole-table wrapper, as preflight, the drift watcher and the
// observer benchmark use it.
func TestParseInterruptsAll(t *testing.T) {
	in := `           CPU0       CPU2
  0:         12          0   IO-APIC   2-edge      timer
 24:          1          3  IR-PCI-MSIX-0000:3b:00.0    0-edge      ice-0000:3b:00.0:misc, other
 27:          0          9  GICv3  30 Level     arch_timer
NMI:          0          0   Non-maskable interrupts
ERR:          0
`
	got, err := ParseInterruptsAll([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Device, Desc string
		IRQ              int
		PerCPU           bool
		Counts           []uint64
	}
	var rows []row
	for _, r := range got.Rows {
		rows = append(rows, row{r.ID, r.Device, r.Desc, r.IRQ, r.PerCPU, r.Counts})
	}
	want := []row{
		{"0", "timer", "IO-APIC   2-edge      timer", 0, true, []uint64{12, 0}},
		{"24", "ice-0000:3b:00.0:misc, other", "IR-PCI-MSIX-0000:3b:00.0    0-edge      ice-0000:3b:00.0:misc, other", 24, true, []uint64{1, 3}},
		{"27", "arch_timer", "GICv3  30 Level     arch_timer", 27, true, []uint64{0, 9}},
		{"NMI", "", "Non-maskable interrupts", -1, true, []uint64{0, 0}},
		{"ERR", "", "", -1, false, []uint64{0, 0}},
	}
	if diff := cmp.Diff([]int{0, 2}, got.CPUs); diff != "" {
		t.Errorf("CPUs mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
	col, ok := got.Column(2)
	if diff := cmp.Diff(map[string]uint64{"0": 0, "24": 3, "27": 9, "NMI": 0}, col); !ok || diff != "" {
		t.Errorf("Column(2) = %v, %v; mismatch (-want +got):\n%s", col, ok, diff)
	}
	if _, ok := got.Column(1); ok {
		t.Errorf("Column(1): CPU 1 has no column, want false")
	}
	for _, bad := range []string{"", "\n", "   CPU0 CPUx\n", "   CPU0       CPU\n", "CPU0\nno colon here\n", "CPU0\n: 1\n", "CPU0\n 1: 2"} {
		if _, err := ParseInterruptsAll([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseInterruptsAll(%q) = %v, want ErrFormat", bad, err)
		}
	}
}

func TestParseInterruptsAllFixtures(t *testing.T) {
	b, err := os.ReadFile("../../testdata/hosts/isolated-2socket/proc/interrupts")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseInterruptsAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.CPUs) != 32 || got.Columns != 32 {
		t.Errorf("%d CPUs, %d columns, want 32", len(got.CPUs), got.Columns)
	}
	if r := got.Rows[0]; r.ID != "0" || r.Device != "timer" || len(r.Counts) != 32 {
		t.Errorf("first row = %+v", r)
	}
	// A sparse header (CPU1 offline): columns are CPU numbers, not indexes.
	s, err := ParseInterruptsAll(fixture(t, "hotplug/proc/interrupts"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 2, 3}, s.CPUs); diff != "" {
		t.Errorf("hotplug CPUs mismatch (-want +got):\n%s", diff)
	}
	if c, ok := s.Column(2); !ok || c["122"] != 777777 {
		t.Errorf("hotplug Column(2)[122] = %d, %v; want 777777", c["122"], ok)
	}
}

// FuzzParseInterruptsAll checks that the whole-table wrapper never panics
// and keeps one count per header column on every row.
func FuzzParseInterruptsAll(f *testing.F) {
	addSeeds(f, "cpu4/proc/interrupts", "hotplug/proc/interrupts", "vm2/proc/interrupts")
	f.Add([]byte("           CPU0       CPU1\n 24:          1          0  IO-APIC   5-edge      ACPI:Ged\nNMI:          0          0   Non-maskable interrupts\nERR:          0\n"))
	f.Add([]byte("CPU0 CPU\n"))
	f.Add([]byte("CPU0 CPU0\n 1: 2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseInterruptsAll(data)
		if err != nil {
			return
		}
		if len(s.CPUs) != s.Columns {
			t.Fatalf("%d CPUs for %d header columns", len(s.CPUs), s.Columns)
		}
		for _, r := range s.Rows {
			if len(r.Counts) != len(s.CPUs) || r.ID == "" || !strings.HasSuffix(r.Desc, r.Device) {
				t.Fatalf("row %+v for CPUs %v", r, s.CPUs)
			}
		}
	})
}
