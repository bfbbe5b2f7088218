package rx

import (
	"bufio"
	"os"
	"slices"
	"testing"

	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// TestNICDropsAreTheLedgersNICLayers checks what capture files report as
// isb_ifdrop on mlx5 (names recorded from the DPDK 22.11 sources): the
// port-buffer discards plus imissed (the larger of it and
// rx_out_of_buffer) plus rx_nombuf; CRC errors are not drops of the NIC's
// buffers and stay out.
func TestNICDropsAreTheLedgersNICLayers(t *testing.T) {
	f, err := os.Open("../stats/dropclass/testdata/mlx5_pci.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if l := sc.Text(); l != "" && l[0] != '#' {
			names = append(names, l)
		}
	}
	at := func(name string) int {
		i := slices.Index(names, name)
		if i < 0 {
			t.Fatalf("%s not in mlx5_pci.txt", name)
		}
		return i
	}
	p := &Port{drops: dropclass.Resolve("mlx5_pci", names)}
	r := &counters.PortReading{XStats: make([]uint64, len(names))}
	r.Stats.IMissed, r.Stats.RXNoMbuf, r.Stats.IErrors = 100, 7, 1000
	r.XStats[at("rx_phy_discard_packets")] = 20
	r.XStats[at("rx_out_of_buffer")] = 150 // read later than imissed: larger
	r.XStats[at("rx_phy_crc_errors")] = 5
	if got, want := nicDrops(p, r), uint64(20+150+7); got != want {
		t.Fatalf("nicDrops = %d, want %d (port_buffer 20 + host_too_slow 150 + mempool_empty 7)", got, want)
	}
	// Without a plan (a port whose xstats could not be read): imissed and
	// rx_nombuf.
	if got, want := nicDrops(&Port{}, r), uint64(107); got != want {
		t.Fatalf("nicDrops without a plan = %d, want %d", got, want)
	}
}
