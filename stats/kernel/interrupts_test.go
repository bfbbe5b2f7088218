package kernel

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/procfs"
)

// irqView is the comparable part of an InterruptRow.
type irqView struct {
	ID     string
	IRQ    int
	Device string
	PerCPU bool
	Counts []uint64
	Total  uint64
}

func viewRows(s *Interrupts) []irqView {
	var out []irqView
	for _, r := range s.Rows {
		out = append(out, irqView{r.ID, r.IRQ, r.Device, r.PerCPU, append([]uint64(nil), r.Counts...), r.Total})
	}
	return out
}

func v(id string, irq int, dev string, counts ...uint64) func(total uint64) irqView {
	return func(total uint64) irqView {
		return irqView{ID: id, IRQ: irq, Device: dev, PerCPU: true, Counts: counts, Total: total}
	}
}

func global(id string, n int, total uint64) irqView {
	return irqView{ID: id, IRQ: -1, Counts: make([]uint64, n), Total: total}
}

func TestParseInterrupts(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		cpus       []int
		wantOnline []bool
		wantCols   int
		want       []irqView
	}{
		{
			name:       "4 CPUs, select 1 and 3",
			file:       "cpu4/proc/interrupts",
			cpus:       []int{1, 3},
			wantOnline: []bool{true, true},
			wantCols:   4,
			want: []irqView{
				v("0", 0, "timer", 0, 0)(36),
				v("1", 1, "i8042", 0, 9)(9),
				v("8", 8, "rtc0", 0, 0)(0),
				v("9", 9, "acpi", 4, 0)(4),
				v("12", 12, "i8042", 0, 0)(156),
				v("120", 120, "nvme0q0", 0, 0)(0),
				v("121", 121, "mlx5_async0@pci:0000:03:00.0", 0, 0)(1234567),
				v("122", 122, "mlx5_comp0@pci:0000:03:00.0", 98765432, 0)(98765432),
				v("123", 123, "", 0, 0)(0),
				v("124", 124, "i801_smbus, ehci_hcd:usb1", 0, 0)(4021),
				v("NMI", -1, "", 10, 13)(46),
				v("LOC", -1, "", 16239877, 11908877)(88364709),
				v("SPU", -1, "", 0, 0)(0),
				v("PMI", -1, "", 10, 13)(46),
				v("IWI", -1, "", 11, 2)(261),
				v("RTR", -1, "", 0, 0)(0),
				v("RES", -1, "", 7788, 402)(132147),
				v("CAL", -1, "", 1234, 4023)(44836),
				v("TLB", -1, "", 987, 44)(21087),
				v("TRM", -1, "", 0, 0)(0),
				v("THR", -1, "", 0, 0)(0),
				v("DFR", -1, "", 0, 0)(0),
				v("MCE", -1, "", 0, 0)(0),
				v("MCP", -1, "", 288, 288)(1152),
				global("ERR", 2, 0),
				global("MIS", 2, 7),
				v("PIN", -1, "", 0, 0)(0),
				v("NPI", -1, "", 0, 0)(0),
				v("PIW", -1, "", 0, 0)(0),
			},
		},
		{
			name:       "hot-plug gap: header CPU0 CPU2 CPU3, select offline 1 and 2",
			file:       "hotplug/proc/interrupts",
			cpus:       []int{1, 2},
			wantOnline: []bool{false, true},
			wantCols:   3,
			want: []irqView{
				v("0", 0, "timer", 0, 0)(36),
				v("122", 122, "mlx5_comp0@pci:0000:03:00.0", 0, 777777)(777782),
				v("LOC", -1, "", 0, 12002211)(72124832),
				v("CAL", -1, "", 0, 5012)(43602),
				v("TLB", -1, "", 0, 55)(20100),
				global("ERR", 2, 0),
				global("MIS", 2, 0),
			},
		},
		{
			name:       "2-CPU VM dump, select 1",
			file:       "vm2/proc/interrupts",
			cpus:       []int{1},
			wantOnline: []bool{true},
			wantCols:   2,
			want:       nil, // checked against procfs below
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fixture(t, tt.file)
			s := NewInterrupts(tt.cpus, 4) // small on purpose: exercises growth
			if err := ParseInterrupts(data, s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantOnline, s.Online); diff != "" {
				t.Errorf("Online (-want +got):\n%s", diff)
			}
			if s.Columns != tt.wantCols {
				t.Errorf("Columns = %d, want %d", s.Columns, tt.wantCols)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, viewRows(s)); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
			}
			compareWithProcfs(t, data, s)
			// A second parse into the same value gives the same result.
			first := viewRows(s)
			if err := ParseInterrupts(data, s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(first, viewRows(s)); diff != "" {
				t.Errorf("second parse differs (-first +second):\n%s", diff)
			}
		})
	}
}

// compareWithProcfs parses data with github.com/prometheus/procfs as an
// independent oracle and checks every selected count and the descriptions.
func compareWithProcfs(t *testing.T, data []byte, s *Interrupts) {
	t.Helper()
	root := t.TempDir()
	writeFile(t, root, "interrupts", data)
	if err := os.Mkdir(filepath.Join(root, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	fs, err := procfs.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fs.Proc(1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := p.Interrupts()
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != len(s.Rows) {
		t.Errorf("procfs sees %d rows, we see %d", len(ref), len(s.Rows))
	}
	// Header columns -> CPU numbers, to find the selected ones in procfs' Values.
	header, _ := nextLine(data)
	var cpuOfCol []int
	for f, r := nextField(header); len(f) > 0; f, r = nextField(r) {
		n, _ := strconv.Atoi(string(f[3:]))
		cpuOfCol = append(cpuOfCol, n)
	}
	for _, row := range s.Rows {
		want, ok := ref[row.ID]
		if !ok {
			t.Errorf("row %q unknown to procfs", row.ID)
			continue
		}
		if row.PerCPU != (len(want.Values) == len(cpuOfCol)) {
			t.Errorf("row %q: PerCPU = %v with %d values for %d columns", row.ID, row.PerCPU, len(want.Values), len(cpuOfCol))
		}
		if !row.PerCPU {
			continue
		}
		for col, cpu := range cpuOfCol {
			for j, sel := range s.CPUs {
				if sel != cpu {
					continue
				}
				if got := strconv.FormatUint(row.Counts[j], 10); got != want.Values[col] {
					t.Errorf("row %q CPU%d: got %s, procfs %s", row.ID, cpu, got, want.Values[col])
				}
			}
		}
		// procfs keeps everything after the chip ("5-edge ACPI:Ged"); our
		// Device is the action names at its end.
		if row.IRQ >= 0 && !strings.HasSuffix(want.Devices, row.Device) {
			t.Errorf("row %q: Device %q is not the end of procfs Devices %q", row.ID, row.Device, want.Devices)
		}
	}
}

func TestParseInterruptsErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"header only without newline", "           CPU0       CPU1"},
		{"header not CPUn", "  foo bar\n  0: 1 2 x\n"},
		{"header bad number", "  CPUx CPU1\n"},
		{"no columns", "   \n  0: 1\n"},
		{"row without colon", "  CPU0\n  12 34\n"},
		{"row without id", "  CPU0\n : 12 34\n"},
		{"truncated mid-row", "  CPU0 CPU1\n  0: 36 0 IO-APIC 2-edge timer\n LOC: 123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFormatErr(t, ParseInterrupts([]byte(tt.data), NewInterrupts([]int{0}, 1)))
		})
	}
}

func TestInterruptsDescriptionChange(t *testing.T) {
	s := NewInterrupts([]int{0}, 4)
	a := "  CPU0\n 24: 5 IO-APIC 5-edge eth0\n"
	b := "  CPU0\n 24: 6 IO-APIC 5-edge eth1\n"
	for _, tc := range []struct{ data, dev string }{{a, "eth0"}, {b, "eth1"}, {a, "eth0"}} {
		if err := ParseInterrupts([]byte(tc.data), s); err != nil {
			t.Fatal(err)
		}
		if got := s.Rows[0].Device; got != tc.dev {
			t.Errorf("Device = %q, want %q", got, tc.dev)
		}
	}
}

func TestDeviceOf(t *testing.T) {
	tests := []struct{ desc, want string }{
		{"IO-APIC   5-edge      ACPI:Ged", "ACPI:Ged"},
		{"PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0", "virtio2-input.0"},
		{"GICv3  27 Level     arch_timer", "arch_timer"},
		{"GICv3  30 Edge      -fasteoi  foo", "foo"},
		{"IR-PCI-MSI 1572866-edge", ""},
		{"XT-PIC  -edge  cascade", "cascade"},
		{"IR-PCI-MSI 32768-edge      i801_smbus, ehci_hcd:usb1", "i801_smbus, ehci_hcd:usb1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := deviceOf(1, tt.desc); got != tt.want {
			t.Errorf("deviceOf(%q) = %q, want %q", tt.desc, got, tt.want)
		}
	}
	if got := deviceOf(-1, "Local timer interrupts"); got != "" {
		t.Errorf("named row got device %q", got)
	}
}

// TestInterruptsReaderRowsChange rewrites the file under a kept descriptor:
// rows appear and disappear between reads, and once both shapes have been
// seen, reading either allocates nothing.
func TestInterruptsReaderRowsChange(t *testing.T) {
	root := t.TempDir()
	full := fixture(t, "cpu4/proc/interrupts")
	// Drop the IRQ 122 and 124 rows: the same file with fewer rows.
	var fewer []byte
	for rest := full; len(rest) > 0; {
		var line []byte
		line, rest = nextLine(rest)
		if bytes.HasPrefix(bytes.TrimSpace(line), []byte("122:")) || bytes.HasPrefix(bytes.TrimSpace(line), []byte("124:")) {
			continue
		}
		fewer = append(append(fewer, line...), '\n')
	}
	writeFile(t, root, "proc/interrupts", fewer)
	r, err := NewInterruptsReader(root, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := r.NewSample()
	if _, ok := s.Row("122"); ok {
		t.Fatal("row 122 present before it was written")
	}
	n := len(s.Rows)

	writeFile(t, root, "proc/interrupts", full)
	if err := r.ReadInto(s); err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != n+2 {
		t.Errorf("after adding 2 rows: %d rows, want %d", len(s.Rows), n+2)
	}
	row, ok := s.Row("122")
	if !ok || row.Counts[0] != 98765432 || row.Device != "mlx5_comp0@pci:0000:03:00.0" {
		t.Errorf("row 122 = %+v, %v", row, ok)
	}

	writeFile(t, root, "proc/interrupts", fewer)
	if err := r.ReadInto(s); err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != n {
		t.Errorf("after removing 2 rows: %d rows, want %d", len(s.Rows), n)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := r.ReadInto(s); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("ReadInto allocates %v times per run after warm-up", allocs)
	}
}

func TestInterruptsReaderCPUMismatch(t *testing.T) {
	r, err := NewInterruptsReader("testdata/cpu4", []int{1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.ReadInto(NewInterrupts([]int{2}, 8)); err == nil {
		t.Error("ReadInto accepted a sample made for other CPUs")
	}
}
