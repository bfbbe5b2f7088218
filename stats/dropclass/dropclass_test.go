package dropclass

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// names reads a recorded name list (testdata/<driver>.txt).
func names(t *testing.T, driver string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", driver+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func index(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// Every driver of the table has a recorded list, and every name of its
// entry is one that driver really lists: a name with a typo, or one taken
// from the kernel instead of DPDK, fails here.
func TestTableNamesAreInTheRecordedLists(t *testing.T) {
	for _, d := range Drivers {
		list := names(t, d.Names[0])
		if len(list) < 8 || list[0] != "rx_good_packets" {
			t.Errorf("%s: recorded list does not start with the ethdev basic names: %v", d.Names[0], list)
		}
		for _, e := range d.XStats {
			found := false
			for _, n := range list {
				found = found || match(e.Name, n)
			}
			if !found {
				t.Errorf("%s: table name %q is not in testdata/%s.txt", d.Names[0], e.Name, d.Names[0])
			}
			if e.Source == "" {
				t.Errorf("%s: %q has no source file", d.Names[0], e.Name)
			}
		}
		seen := map[string]bool{}
		for _, e := range d.XStats {
			if e.Metric.Name != "" && seen[e.Metric.Name] {
				t.Errorf("%s: metric %s twice", d.Names[0], e.Metric.Name)
			}
			seen[e.Metric.Name] = true
		}
	}
}

func TestMlx5PortBufferIsFoundByItsDPDKName(t *testing.T) {
	list := names(t, "mlx5_pci")
	if index(list, "rx_discards_phy") >= 0 {
		t.Fatal("the recorded mlx5 list has the kernel's name rx_discards_phy; DPDK calls it rx_phy_discard_packets")
	}
	p := Resolve("mlx5_pci", list)
	if !p.Known {
		t.Fatal("mlx5_pci is not in the table")
	}
	phy, oob := index(list, "rx_phy_discard_packets"), index(list, "rx_out_of_buffer")
	got := map[string]int{}
	for _, m := range p.Metrics {
		got[m.Metric.Name] = m.Index
	}
	if got["rxprobe_rx_discards_phy_total"] != phy || got["rxprobe_rx_out_of_buffer_total"] != oob || len(got) != 2 {
		t.Fatalf("mlx5 metrics %v, want discards_phy at %d and out_of_buffer at %d", got, phy, oob)
	}
	x := make([]uint64, len(list))
	x[phy] = 1000
	x[oob] = 70                                          // the same drops as imissed
	x[index(list, "rx_prio0_buf_discard_packets")] = 600 // part of the 1000
	x[index(list, "rx_phy_crc_errors")] = 3              // not in ierrors
	x[index(list, "rx_missed_errors")] = 50              // imissed itself
	x[index(list, "rx_q1_errors")] = 9                   // part of ierrors
	in := Input{Basic: Basic{IMissed: 50, IErrors: 9, RXNoMbuf: 4}, XStats: x, IMissedAlso: []uint64{60}}
	d := p.Classify(&in)
	want := Drops{PortBuffer: 1000, HostTooSlow: 70, MempoolEmpty: 4, Errors: 12}
	if d != want {
		t.Errorf("Classify = %v, want %v", d, want)
	}
	if d.Total() != 1086 {
		t.Errorf("total %d, want 1086", d.Total())
	}
	if n := testing.AllocsPerRun(100, func() { d = p.Classify(&in) }); n != 0 {
		t.Errorf("Classify allocates %.1f times", n)
	}
}

// Each recorded list classified with one drop on every xstat: the classes
// each driver's own counters land in.
func TestEveryDriverClassifiesItsRecordedList(t *testing.T) {
	for _, tc := range []struct {
		driver string
		want   Drops // with every xstat 1, imissed 10, ierrors 20, nombuf 30, kernel 40
	}{
		{"mlx5_pci", Drops{PortBuffer: 1, HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 23}},
		{"net_ice", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 22}},
		{"net_i40e", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 21}},
		{"net_ixgbe", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 20}},
		{"net_ixgbe_vf", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 20}},
		{"net_iavf", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 20}},
		{"net_virtio", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 20}},
		// The veth's rx_dropped holds the socket's drops (imissed): only
		// the other 30 are the kernel's.
		{"net_af_xdp", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 30, Errors: 20}},
		{"net_af_packet", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 20}},
		{"net_null", Drops{HostTooSlow: 10, MempoolEmpty: 30, KernelPath: 40, Errors: 20}},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			list := names(t, tc.driver)
			p := Resolve(tc.driver, list)
			if !p.Known {
				t.Fatalf("%s not in the table", tc.driver)
			}
			x := make([]uint64, len(list))
			for i := range x {
				x[i] = 1
			}
			if d := p.Classify(&Input{Basic: Basic{IMissed: 10, IErrors: 20, RXNoMbuf: 30}, XStats: x, Kernel: 40}); d != tc.want {
				t.Errorf("Classify = %v, want %v", d, tc.want)
			}
		})
	}
}

// An AsIMissed xstat larger than imissed wins (iavf, ixgbe): never both.
func TestAsIMissedTakesTheLarger(t *testing.T) {
	list := names(t, "net_iavf")
	p := Resolve("net_iavf", list)
	x := make([]uint64, len(list))
	x[index(list, "rx_dropped_packets")] = 15
	if d := p.Classify(&Input{Basic: Basic{IMissed: 12}, XStats: x}); d[HostTooSlow] != 15 {
		t.Errorf("host_too_slow %d, want 15", d[HostTooSlow])
	}
	x[index(list, "rx_dropped_packets")] = 5
	if d := p.Classify(&Input{Basic: Basic{IMissed: 12}, XStats: x}); d[HostTooSlow] != 12 {
		t.Errorf("host_too_slow %d, want 12", d[HostTooSlow])
	}
}

func TestUnknownDriverUsesTheBasicCounters(t *testing.T) {
	list := names(t, "mlx5_pci") // a list the plan cannot attribute
	p := Resolve("net_bnxt", list)
	if p.Known || len(p.Metrics) != 0 {
		t.Fatalf("unknown driver: known %v, metrics %v", p.Known, p.Metrics)
	}
	x := make([]uint64, len(list))
	for i := range x {
		x[i] = 1
	}
	want := Drops{HostTooSlow: 10, MempoolEmpty: 30, Errors: 20}
	if d := p.Classify(&Input{Basic: Basic{IMissed: 10, IErrors: 20, RXNoMbuf: 30}, XStats: x}); d != want {
		t.Errorf("Classify = %v, want %v", d, want)
	}
	if c, how, ok := p.ClassOf(index(list, "rx_q0_errors")); !ok || c != Errors || how != Breakdown {
		t.Errorf("generic rx_q0_errors: %v %v %v", c, how, ok)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"rx_errors", "rx_errors", true},
		{"rx_errors", "rx_errors2", false},
		{"rx_q%u_errors", "rx_q0_errors", true},
		{"rx_q%u_errors", "rx_q15_errors", true},
		{"rx_q%u_errors", "rx_q_errors", false},
		{"rx_q%u_errors", "rx_qx_errors", false},
		{"rx_q%u_errors", "rx_q1_bytes", false},
		{"rx_prio%u_buf_discard_packets", "rx_prio7_buf_discard_packets", true},
		{"rx_q%u_errors", "rx", false},
	} {
		if got := match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestDropsSubAndNames(t *testing.T) {
	a, b := Drops{PortBuffer: 5, Errors: 1}, Drops{PortBuffer: 2, Errors: 3}
	if d := a.Sub(b); d != (Drops{PortBuffer: 3}) {
		t.Errorf("Sub = %v", d)
	}
	for c := Class(0); c < NumClasses; c++ {
		if c.String() == "" || Why[c] == "" {
			t.Errorf("class %d has no name or explanation", c)
		}
	}
}

// AF_XDP on veth: 1952 frames lost on a full socket ring show as imissed
// and as the veth's rx_dropped (measured); the ledger counts them once.
func TestAFXDPSocketDropsCountOnce(t *testing.T) {
	p := Resolve("net_af_xdp", names(t, "net_af_xdp"))
	d := p.Classify(&Input{Basic: Basic{IMissed: 1952}, Kernel: 1952})
	if d.Total() != 1952 || d[HostTooSlow] != 1952 {
		t.Errorf("Classify = %v, want 1952 host_too_slow and nothing else", d)
	}
	if d := p.Classify(&Input{Basic: Basic{IMissed: 5}, Kernel: 2}); d[KernelPath] != 0 || d.Total() != 5 {
		t.Errorf("kernel below imissed: %v", d)
	}
}

// TestBeforeLoop: only capture_ring is after the loop.
func TestBeforeLoop(t *testing.T) {
	var d Drops
	for c := range d {
		d[c] = 1 << c
	}
	if got, want := d.BeforeLoop(), d.Total()-d[CaptureRing]; got != want {
		t.Errorf("BeforeLoop = %d, want %d", got, want)
	}
	for c := Class(0); c < NumClasses; c++ {
		if c.AfterLoop() != (c == CaptureRing) {
			t.Errorf("%s: AfterLoop %v", c, c.AfterLoop())
		}
	}
}
