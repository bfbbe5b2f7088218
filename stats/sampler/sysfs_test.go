package sampler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

func TestSysfsCountersOfMlx5AndVdevPorts(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dev := "sys/bus/pci/devices/0000:3b:00.0"
	mk(dev + "/infiniband/mlx5_0/ports/1/hw_counters/out_of_buffer")
	mk(dev + "/infiniband/mlx5_0/ports/1/hw_counters/out_of_sequence")
	if err := os.MkdirAll(filepath.Join(root, dev, "net", "ens1f0"), 0o755); err != nil {
		t.Fatal(err)
	}
	mk("sys/class/net/ens1f0/statistics/rx_dropped")
	mk("sys/class/net/ens1f0/statistics/rx_missed_errors")
	mk("sys/class/net/veth0/statistics/rx_dropped")

	pci := &rx.Port{Cfg: config.Port{Name: "cx5", Device: "0000:3b:00.0"}}
	want := []sysfsFile{
		{"mlx5_0/1/out_of_buffer", dev + "/infiniband/mlx5_0/ports/1/hw_counters/out_of_buffer"},
		{"mlx5_0/1/out_of_sequence", dev + "/infiniband/mlx5_0/ports/1/hw_counters/out_of_sequence"},
		{"rx_dropped", "sys/class/net/ens1f0/statistics/rx_dropped"},
		{"rx_missed_errors", "sys/class/net/ens1f0/statistics/rx_missed_errors"},
	}
	if d := cmp.Diff(want, sysfsCounters(root, pci), cmp.AllowUnexported(sysfsFile{})); d != "" {
		t.Errorf("mlx5 port (-want +got):\n%s", d)
	}
	short := &rx.Port{Cfg: config.Port{Name: "cx5", Device: "3B:00.0"}} // the same device (hostfs.ParsePCIAddr)
	if d := cmp.Diff(want, sysfsCounters(root, short), cmp.AllowUnexported(sysfsFile{})); d != "" {
		t.Errorf("mlx5 port by its short address (-want +got):\n%s", d)
	}
	xdp := &rx.Port{Cfg: config.Port{Name: "v", Device: "net_af_xdp0"}, Iface: "veth0"}
	want = []sysfsFile{{"rx_dropped", "sys/class/net/veth0/statistics/rx_dropped"}}
	if d := cmp.Diff(want, sysfsCounters(root, xdp), cmp.AllowUnexported(sysfsFile{})); d != "" {
		t.Errorf("af_xdp port (-want +got):\n%s", d)
	}
	if got := sysfsCounters(root, &rx.Port{Cfg: config.Port{Device: "net_null0"}}); len(got) != 0 {
		t.Errorf("net_null has sysfs counters %v", got)
	}
}
