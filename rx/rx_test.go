package rx

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/rx/config"
)

func testConfig() *config.Config {
	return &config.Config{
		Housekeeping: "0",
		EAL:          config.EAL{HugepageSize: "2M", LogLevel: "notice"},
		Ports: []config.Port{
			{Name: "a", Device: "net_null0", RXQueues: 2, RXCPUs: "2-3", RXRing: 1024, Burst: 32, MbufCache: 256, DataRoom: 2176},
			{Name: "b", Device: "0000:3b:00.0", Devargs: "rxq_cqe_comp_en=1", RXQueues: 1, RXCPUs: "5", RXRing: 4096, Burst: 64, MbufCache: 256, DataRoom: 2176},
		},
	}
}

func TestRXPlanArguments(t *testing.T) {
	c := testConfig()
	nodes := map[string]int{"a": 0, "b": 1}
	p := RXPlan(c, "rxprobe-run-7", "/dev/hugepages", func(pc config.Port) int { return nodes[pc.Name] })
	want := []string{"rxprobe",
		"--file-prefix", "rxprobe-run-7",
		"--proc-type", "primary",
		"--lcores", "0@(0),1@2,2@3,3@5",
		"--main-lcore", "0",
		"--no-shconf",
		// node 0: 2×(1024+32+256)+1024 → 4095 mbufs × 2368 B + ring + 64 MiB base = 37 pages of 2 MiB;
		// node 1: 1×(4096+64+256)+1024 → 8191 mbufs → 82.6 MiB = 42 pages.
		"--socket-mem", "74,84",
		"--huge-dir", "/dev/hugepages",
		"--vdev", "net_null0",
		"-a", "0000:3b:00.0,rxq_cqe_comp_en=1",
		"--log-level", "notice"}
	if d := cmp.Diff(want, p.Args); d != "" {
		t.Errorf("EAL args (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{2, 3, 5}, p.Workers); d != "" {
		t.Errorf("workers (-want +got):\n%s", d)
	}
}

func TestRXPlanNoHugeAndPrefix(t *testing.T) {
	c := testConfig()
	c.Ports = c.Ports[:1]
	c.EAL.NoHuge = true
	c.EAL.FilePrefix = "fixed"
	c.EAL.ExtraArgs = []string{"--no-telemetry"}
	p := RXPlan(c, "ignored", "/dev/hugepages", func(config.Port) int { return 0 })
	got := strings.Join(p.Args, " ")
	for _, w := range []string{"--file-prefix fixed", "--no-huge -m 74", "--no-pci", "--no-telemetry"} {
		if !strings.Contains(got, w) {
			t.Errorf("args %q lack %q", got, w)
		}
	}
	c.EAL.MultiProcess = true
	if mp := strings.Join(RXPlan(c, "x", "", func(config.Port) int { return 0 }).Args, " "); strings.Contains(mp, "--no-shconf") {
		t.Errorf("multi_process still passes --no-shconf: %s", mp)
	}
	for _, bad := range []string{"--socket-mem", "--huge-dir"} {
		if strings.Contains(got, bad) {
			t.Errorf("no_huge args %q contain %q", got, bad)
		}
	}
}

func TestGenPlan(t *testing.T) {
	c := testConfig()
	c.Generator = &config.Generator{Device: "net_af_packet0", Devargs: "iface=veth1", CPU: 0, TXRing: 1024, Burst: 32}
	p := GenPlan(c, "rxprobe-gen-1", "/dev/hugepages", 0)
	got := strings.Join(p.Args, " ")
	for _, w := range []string{"--lcores 0@(0),1@0", "--vdev net_af_packet0,iface=veth1", "--no-pci", "--socket-mem 74"} {
		if !strings.Contains(got, w) {
			t.Errorf("gen args %q lack %q", got, w)
		}
	}
}

func TestKernelIface(t *testing.T) {
	for in, want := range map[string]string{
		"iface=veth0,start_queue=0": "veth0",
		"qpairs=1,iface=eth1":       "eth1",
		"rx_iface=eth2,tx_iface=x":  "eth2",
		"size=64":                   "",
		"":                          "",
	} {
		if got := KernelIface(in); got != want {
			t.Errorf("KernelIface(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfineProcess(t *testing.T) {
	before, err := ThreadCPUs()
	if err != nil {
		t.Fatal(err)
	}
	var orig cpuset.Set
	for _, s := range before {
		orig = s
		break
	}
	t.Cleanup(func() { _ = ConfineProcess(orig) })
	if err := ConfineProcess(cpuset.Of(0)); err != nil {
		t.Fatal(err)
	}
	after, _ := ThreadCPUs()
	for tid, s := range after {
		if !s.Equal(cpuset.Of(0)) {
			t.Errorf("thread %d still on CPUs %s", tid, s)
		}
	}
}

// Shared RX CPUs (run.share_rx_cpus): EAL maps several worker lcores onto
// one CPU, one lcore per queue.
func TestRXPlanSharedCPU(t *testing.T) {
	c := testConfig()
	c.Ports = c.Ports[:1]
	c.Ports[0].RXCPUs = "2"
	c.Run.ShareRXCPUs = true
	p := RXPlan(c, "x", "/dev/hugepages", func(config.Port) int { return 0 })
	if got := strings.Join(p.Args, " "); !strings.Contains(got, "--lcores 0@(0),1@2,2@2 ") {
		t.Errorf("args %q: want lcores 1 and 2 both on CPU 2", got)
	}
	if d := cmp.Diff([]int{2, 2}, p.Workers); d != "" {
		t.Errorf("workers (-want +got):\n%s", d)
	}
}
