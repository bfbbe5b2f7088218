package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSoftnet(t *testing.T) {
	const (
		base9  = SoftnetCPUCollision
		base10 = base9 | SoftnetReceivedRPS
		base11 = base10 | SoftnetFlowLimit
		base13 = base11 | SoftnetBacklogLen | SoftnetCPUIndex
		base15 = base13 | SoftnetInputQLen | SoftnetProcessQLen
	)
	tests := []struct {
		file string
		want []SoftnetCPU
	}{
		{"softnet/9col.txt", []SoftnetCPU{
			{CPU: 0, Processed: 0x3f1a2, TimeSqueeze: 0x1c, Has: base9},
			{CPU: 1, Processed: 0x210ab, Dropped: 2, TimeSqueeze: 3, CPUCollision: 1, Has: base9},
		}},
		{"softnet/10col.txt", []SoftnetCPU{
			{CPU: 0, Processed: 0x3f1a2, TimeSqueeze: 0x1c, Has: base10},
			{CPU: 1, Processed: 0x210ab, Dropped: 2, TimeSqueeze: 3, ReceivedRPS: 0xbeef, Has: base10},
		}},
		{"softnet/11col.txt", []SoftnetCPU{
			{CPU: 0, Processed: 0x3f1a2, TimeSqueeze: 0x1c, Has: base11},
			{CPU: 1, Processed: 0x210ab, Dropped: 2, TimeSqueeze: 3, ReceivedRPS: 0xbeef, FlowLimitCount: 0x10, Has: base11},
			{CPU: 2, Processed: 0x1ffff, Has: base11},
			{CPU: 3, Processed: 0xffffffff, Dropped: 0x100, Has: base11},
		}},
		{"softnet/13col.txt", []SoftnetCPU{ // CPU1 offline: indexes 0, 2, 3
			{CPU: 0, Processed: 0x4a3f1, TimeSqueeze: 0x12, Has: base13},
			{CPU: 2, Processed: 0x1d2c, Dropped: 3, TimeSqueeze: 1, ReceivedRPS: 5, Has: base13},
			{CPU: 3, Processed: 0xb7e, FlowLimitCount: 2, BacklogLen: 1, Has: base13},
		}},
		{"softnet/15col.txt", []SoftnetCPU{ // this VM, Linux 6.18
			{CPU: 0, Processed: 6, Has: base15},
			{CPU: 1, Processed: 0x2178, Has: base15},
		}},
		{"cpu4/proc/net/softnet_stat", []SoftnetCPU{
			{CPU: 0, Processed: 0x4a3f1, TimeSqueeze: 0x12, Has: base15},
			{CPU: 1, Processed: 0x1d2c, TimeSqueeze: 1, Has: base15},
			{CPU: 2, Processed: 0xb7e0f11, Dropped: 0x12a0c, TimeSqueeze: 0x1f3, BacklogLen: 4, InputQLen: 3, ProcessQLen: 1, Has: base15},
			{CPU: 3, Processed: 0xb7e, Has: base15},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := NewSoftnet(1)
			if err := ParseSoftnet(fixture(t, tt.file), s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, s.CPUs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"softnet/truncated.txt", "softnet/garbage.txt"} {
		t.Run(bad, func(t *testing.T) {
			wantFormatErr(t, ParseSoftnet(fixture(t, bad), NewSoftnet(4)))
		})
	}
	for name, data := range map[string]string{
		"empty":          "",
		"two columns":    "00000001 00000002\n",
		"index too big":  "1 2 3 0 0 0 0 0 0 0 0 0 ffffffffff\n",
		"number too big": "11112222333344445 0 0\n",
	} {
		t.Run(name, func(t *testing.T) { wantFormatErr(t, ParseSoftnet([]byte(data), NewSoftnet(4))) })
	}
}

func TestSoftnetLookup(t *testing.T) {
	s := NewSoftnet(4)
	if err := ParseSoftnet(fixture(t, "softnet/13col.txt"), s); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.CPU(1); ok {
		t.Error("CPU 1 is offline in the fixture but was found")
	}
	if c, ok := s.CPU(2); !ok || c.Dropped != 3 {
		t.Errorf("CPU(2) = %+v, %v; want Dropped 3", c, ok)
	}
}

func TestParseNetDev(t *testing.T) {
	ignore := cmpopts.IgnoreUnexported(NetDev{})
	tests := []struct {
		file string
		want []NetDevStats
	}{
		{"cpu4/proc/net/dev", []NetDevStats{
			{Name: "lo", RxBytes: 1284420, RxPackets: 9741, TxBytes: 1284420, TxPackets: 9741},
			{Name: "enp3s0f0np0", RxBytes: 98453229011247, RxPackets: 71234598123, RxDrop: 120394, RxFifo: 7,
				RxMulticast: 45102, TxBytes: 1254810921, TxPackets: 9832101},
			{Name: "enp3s0f1np1"},
			{Name: "docker0"},
		}},
		{"vm2/proc/net/dev", []NetDevStats{
			{Name: "lo", RxBytes: 3193, RxPackets: 29, TxBytes: 3193, TxPackets: 29},
			{Name: "ifb0"},
			{Name: "ifb1"},
			{Name: "eth0", RxBytes: 178724279, RxPackets: 8545, TxBytes: 687881, TxPackets: 7187},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n := NewNetDev(1)
			if err := ParseNetDev(fixture(t, tt.file), n); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&NetDev{Devices: tt.want}, n, ignore); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	const hdr = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n"
	t.Run("old kernel: no blank after colon", func(t *testing.T) {
		n := NewNetDev(1)
		if err := ParseNetDev([]byte(hdr+"eth0:4294967296 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"), n); err != nil {
			t.Fatal(err)
		}
		want := NetDevStats{Name: "eth0", RxBytes: 1 << 32, RxPackets: 1, RxErrs: 2, RxDrop: 3, RxFifo: 4, RxFrame: 5,
			RxCompressed: 6, RxMulticast: 7, TxBytes: 8, TxPackets: 9, TxErrs: 10, TxDrop: 11, TxFifo: 12,
			TxColls: 13, TxCarrier: 14, TxCompressed: 15}
		if diff := cmp.Diff([]NetDevStats{want}, n.Devices); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	for name, data := range map[string]string{
		"empty":            "",
		"no header":        "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"short line":       hdr + "  eth0: 1 2 3 4 5 6 7 8\n",
		"long line":        hdr + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
		"no colon":         hdr + "  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"no name":          hdr + "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"negative":         hdr + "  eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"truncated":        hdr + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth1: 1 2",
		"only header part": "Inter-|   Receive |  Transmit\n",
	} {
		t.Run(name, func(t *testing.T) { wantFormatErr(t, ParseNetDev([]byte(data), NewNetDev(1))) })
	}
}

func TestParseSNMP(t *testing.T) {
	all := UDPInDatagrams | UDPNoPorts | UDPInErrors | UDPOutDatagrams | UDPRcvbufErrors |
		UDPSndbufErrors | UDPInCsumErrors | UDPIgnoredMulti | UDPMemErrors
	tests := []struct {
		name string
		data []byte
		want UDPStats
	}{
		{"4-CPU server", fixture(t, "cpu4/proc/net/snmp"), UDPStats{
			InDatagrams: 71234001234, NoPorts: 12, InErrors: 40961, OutDatagrams: 9830000,
			RcvbufErrors: 40960, SndbufErrors: 3, InCsumErrors: 1, IgnoredMulti: 77, Has: all,
		}},
		{"this VM", fixture(t, "vm2/proc/net/snmp"), UDPStats{InDatagrams: 32, OutDatagrams: 33, Has: all}},
		{"3.x kernel without IgnoredMulti and MemErrors", []byte(
			"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors\n" +
				"Udp: 10 1 2 11 3 4 5\n"), UDPStats{
			InDatagrams: 10, NoPorts: 1, InErrors: 2, OutDatagrams: 11, RcvbufErrors: 3, SndbufErrors: 4,
			InCsumErrors: 5, Has: all &^ (UDPIgnoredMulti | UDPMemErrors),
		}},
		{"reordered and unknown columns", []byte(
			"UdpLite: InDatagrams\nUdpLite: 99\nUdp: NoPorts Future InDatagrams\nUdp: 1 123 2\n"), UDPStats{
			NoPorts: 1, InDatagrams: 2, Has: UDPNoPorts | UDPInDatagrams,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UDPStats{InDatagrams: 12345} // stale values must be cleared
			if err := ParseSNMP(tt.data, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for name, data := range map[string]string{
		"empty":             "",
		"no Udp":            "Ip: Forwarding\nIp: 1\n",
		"UdpLite only":      "UdpLite: InDatagrams\nUdpLite: 1\n",
		"header only":       "Udp: InDatagrams NoPorts\n",
		"values short":      "Udp: InDatagrams NoPorts\nUdp: 1\n",
		"values long":       "Udp: InDatagrams NoPorts\nUdp: 1 2 3\n",
		"negative":          "Udp: InDatagrams NoPorts\nUdp: -1 2\n",
		"no known counters": "Udp: Foo Bar\nUdp: 1 2\n",
		"truncated":         "Udp: InDatagrams NoPorts\nUdp: 1 2",
	} {
		t.Run(name, func(t *testing.T) {
			var u UDPStats
			wantFormatErr(t, ParseSNMP([]byte(data), &u))
		})
	}
}

func TestParseUDP(t *testing.T) {
	v4 := func(a, b, c, d byte) [16]byte { return [16]byte{a, b, c, d} }
	loop6 := [16]byte{15: 1}
	tests := []struct {
		name string
		file string
		cap  int
		want UDPSockets
	}{
		{"totals only", "cpu4/proc/net/udp", 0, UDPSockets{Drops: 40977, Count: 4, Sockets: []UDPSocket{}}},
		{"per socket", "cpu4/proc/net/udp", 8, UDPSockets{Drops: 40977, Count: 4, Sockets: []UDPSocket{
			{LocalAddr: v4(127, 0, 0, 53), AddrLen: 4, LocalPort: 53, Inode: 20163},
			{LocalAddr: v4(0, 0, 0, 0), AddrLen: 4, LocalPort: 352, Inode: 22102},
			{LocalAddr: v4(10, 0, 0, 10), AddrLen: 4, LocalPort: 4789, RxQueue: 0x1a200, Inode: 31337, Drops: 40960},
			{LocalAddr: v4(127, 0, 0, 1), AddrLen: 4, LocalPort: 323, Inode: 21004, Drops: 17},
		}}},
		{"per socket, capped", "cpu4/proc/net/udp", 1, UDPSockets{Drops: 40977, Count: 4, Truncated: true, Sockets: []UDPSocket{
			{LocalAddr: v4(127, 0, 0, 53), AddrLen: 4, LocalPort: 53, Inode: 20163},
		}}},
		{"udp6", "cpu4/proc/net/udp6", 8, UDPSockets{Drops: 5, Count: 2, Sockets: []UDPSocket{
			{AddrLen: 16, LocalPort: 352, Inode: 22103},
			{LocalAddr: loop6, AddrLen: 16, LocalPort: 323, Inode: 21005, Drops: 5},
		}}},
		{"this VM: header only", "vm2/proc/net/udp", 8, UDPSockets{Sockets: []UDPSocket{}}},
		{"this VM: udp6 header only", "vm2/proc/net/udp6", 8, UDPSockets{Sockets: []UDPSocket{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewUDPSockets(tt.cap)
			got.Drops = 99 // stale values must be cleared
			if err := ParseUDP(fixture(t, tt.file), got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	const hdr = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	const good = "  328: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20163 2 0000000000000000 0\n"
	for name, data := range map[string]string{
		"empty":       "",
		"no header":   good,
		"short line":  hdr + "  328: 3500007F:0035 00000000:0000 07 00000000:00000000\n",
		"bad drops":   hdr + "  328: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20163 2 0000000000000000 x\n",
		"bad address": hdr + "  328: 3500007F0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20163 2 0000000000000000 0\n",
		"bad port":    hdr + "  328: 3500007F:10035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20163 2 0000000000000000 0\n",
		"bad queues":  hdr + "  328: 3500007F:0035 00000000:0000 07 0000000000000000 00:00000000 00000000   101        0 20163 2 0000000000000000 0\n",
		"bad inode":   hdr + "  328: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 -1 2 0000000000000000 0\n",
		"truncated":   hdr + good + "  329: 3500",
	} {
		t.Run(name, func(t *testing.T) { wantFormatErr(t, ParseUDP([]byte(data), NewUDPSockets(4))) })
	}
}

func TestParseCounter(t *testing.T) {
	good := map[string]uint64{
		"0\n":                     0,
		"120394\n":                120394,
		"18446744073709551615\n":  1<<64 - 1,
		"  42  \n":                42,
		"7":                       7,
		"0x1f\n":                  31,
		"00000000000000000000001": 1,
	}
	for in, want := range good {
		got, err := ParseCounter([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseCounter(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", "-1\n", "18446744073709551616\n", "12 34\n", "1\n2\n", "0x\n", "abc\n", "1.5\n"} {
		_, err := ParseCounter([]byte(in))
		if !errors.Is(err, ErrFormat) {
			t.Errorf("ParseCounter(%q) error = %v, want ErrFormat", in, err)
		}
	}
}

func TestCounterReader(t *testing.T) {
	paths := []string{
		"sys/class/net/enp3s0f0np0/statistics/rx_dropped",
		"sys/class/net/enp3s0f0np0/statistics/rx_fifo_errors",
		"sys/class/infiniband/mlx5_0/ports/1/hw_counters/out_of_buffer",
		"sys/class/net/enp3s0f0np0/statistics/rx_missed_errors",
		"sys/class/infiniband/mlx5_0/ports/1/hw_counters/rx_discards_phy", // absent
	}
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/cpu4")); err != nil {
		t.Fatal(err)
	}
	r, err := NewCounterReader(root, paths)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := r.NewSample()
	if err := r.ReadInto(c); err != nil {
		t.Fatal(err)
	}
	want := &Counters{
		Paths:   paths,
		Values:  []uint64{120394, 7, 1<<64 - 1, 0, 0},
		Present: []bool{true, true, true, true, false},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if v, ok := c.Value(paths[3]); !ok || v != 0 {
		t.Errorf("present zero counter: Value = %d, %v; want 0, true", v, ok)
	}
	if _, ok := c.Value(paths[4]); ok {
		t.Error("absent counter reported present")
	}

	// The absent counter appears later (driver loaded): picked up, and
	// rewriting a file in place is seen through the kept descriptor.
	writeFile(t, root, paths[4], []byte("5\n"))
	writeFile(t, root, paths[0], []byte("120400\n"))
	if err := r.ReadInto(c); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{120400, 7, 1<<64 - 1, 0, 5}, c.Values); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}

	// A file that stops holding a number: error naming it, others still read.
	writeFile(t, root, paths[1], []byte("garbage\n"))
	err = r.ReadInto(c)
	if !errors.Is(err, ErrFormat) {
		t.Errorf("ReadInto error = %v, want ErrFormat", err)
	}
	if c.Present[1] || !c.Present[0] || c.Values[0] != 120400 {
		t.Errorf("after a bad file: Present %v Values %v", c.Present, c.Values)
	}
	if err := r.ReadInto(NewCounters(paths[:2])); err == nil {
		t.Error("ReadInto accepted a sample of the wrong length")
	}
}

func TestReaderMissingFile(t *testing.T) {
	root := t.TempDir()
	_, err := NewSoftnetReader(root)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NewSoftnetReader on empty root: %v, want fs.ErrNotExist", err)
	}
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "proc/net/softnet_stat")) {
		t.Errorf("error %q does not name the path", err)
	}
}

// TestBufferFull: a file that more than doubles after construction is
// reported, not silently truncated nor read into a grown buffer.
func TestBufferFull(t *testing.T) {
	root := t.TempDir()
	small := fixture(t, "vm2/proc/net/udp")
	writeFile(t, root, "proc/net/udp", small)
	r, err := NewUDPReader(root, UDP4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	line := []byte("  328: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 20163 2 0000000000000000 1\n")
	big := small
	for len(big) <= 64<<10 {
		big = append(big, line...)
	}
	writeFile(t, root, "proc/net/udp", big)
	s := NewUDPSockets(0)
	if err := r.ReadInto(s); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("ReadInto on a grown file: %v, want ErrBufferFull", err)
	}
	writeFile(t, root, "proc/net/udp", append(small, line...))
	if err := r.ReadInto(s); err != nil || s.Drops != 1 {
		t.Fatalf("after shrinking back: %v, Drops %d", err, s.Drops)
	}
}

// TestParseNetDevNewDeviceDoesNotAllocate: an interface that appears while
// the probe runs (a container's veth) is interned without a heap
// allocation; before interning used an arena, each new name cost one.
func TestParseNetDevNewDeviceDoesNotAllocate(t *testing.T) {
	const head = "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	line := func(name string) string {
		return name + ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	}
	n := NewNetDev(8)
	if err := ParseNetDev([]byte(head+line("lo")+line("eth0")), n); err != nil {
		t.Fatal(err)
	}
	files := make([][]byte, 100)
	for i := range files {
		files[i] = []byte(head + line("lo") + line("eth0") + line(fmt.Sprintf("veth%d", i)))
	}
	i := 0
	if allocs := testing.AllocsPerRun(len(files)-1, func() {
		if err := ParseNetDev(files[i], n); err != nil {
			t.Fatal(err)
		}
		i++
	}); allocs != 0 {
		t.Errorf("parsing a file with a device never seen before: %v allocations, want 0", allocs)
	}
	if d, ok := n.Device("veth99"); !ok || d.RxPackets != 2 || d.Name != "veth99" {
		t.Errorf("veth99 (the last sample): %+v %v", d, ok)
	}
	if d, _ := n.Device("veth42"); d != nil {
		t.Errorf("veth42 is not in the last sample: %+v", d)
	}
}
