package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/rx/capture"
)

const goodYAML = `
eal:
  hugepage_size: 2M
ports:
  - name: p0
    device: net_null0
    rx_queues: 2
    rx_cpus: "1-2"
`

var online4 = cpuset.Of(0, 1, 2, 3)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, body string) (*Config, error) {
	t.Helper()
	c, err := Load(writeFile(t, body), nil)
	if err != nil {
		return nil, err
	}
	return c, c.Validate(online4)
}

func TestGoodConfigGetsDefaults(t *testing.T) {
	c, err := load(t, goodYAML)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Ports[0]
	want := Port{Name: "p0", Device: "net_null0", RXQueues: 2, RXCPUs: "1-2", RXRing: DefaultRXRing,
		Burst: DefaultBurst, MbufCache: DefaultMbufCache, DataRoom: DefaultDataRoom, Promiscuous: true}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("port (-want +got):\n%s", d)
	}
	if c.Housekeeping != "0,3" {
		t.Errorf("housekeeping = %q, want every non-RX CPU \"0,3\"", c.Housekeeping)
	}
	if got := c.Ports[0].QueueCPUs(); !cmp.Equal(got, []int{1, 2}) {
		t.Errorf("queue CPUs = %v", got)
	}
	if c.Stats.Interval.String() != "1s" {
		t.Errorf("stats interval = %v", c.Stats.Interval)
	}
}

// A PCI address in either spelling becomes the kernel's, the name DPDK,
// sysfs and preflight know the device by.
func TestPCIDeviceCanonical(t *testing.T) {
	for _, dev := range []string{"3b:00.0", "0000:3b:00.0", "0000:3B:00.0", "3B:00.0"} {
		t.Run(dev, func(t *testing.T) {
			c, err := load(t, "ports:\n  - device: \""+dev+"\"\n    rx_cpus: \"1\"\ngenerator:\n  device: \""+dev+"\"\n  cpu: 2\n")
			if err != nil {
				t.Fatal(err)
			}
			if c.Ports[0].Device != "0000:3b:00.0" || c.Generator.Device != "0000:3b:00.0" {
				t.Errorf("devices = %q, %q; want 0000:3b:00.0", c.Ports[0].Device, c.Generator.Device)
			}
			if d := cmp.Diff([]string{"0000:3b:00.0"}, c.PCIDevices()); d != "" || !IsPCI(dev) {
				t.Errorf("PCIDevices (-want +got):\n%s (IsPCI %v)", d, IsPCI(dev))
			}
		})
	}
}

func TestShippedConfigsValidate(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no shipped configs found")
	}
	many := cpuset.Of()
	for i := 0; i < 64; i++ {
		many.Add(i)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(many); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	t.Setenv("RXPROBE_EAL_NO_HUGE", "true")
	t.Setenv("RXPROBE_RUN_DURATION", "7s")
	c, err := load(t, goodYAML)
	if err != nil {
		t.Fatal(err)
	}
	if !c.EAL.NoHuge || c.Run.Duration.String() != "7s" {
		t.Errorf("env not applied: no_huge=%v duration=%v", c.EAL.NoHuge, c.Run.Duration)
	}
}

func TestBadConfigsNameTheField(t *testing.T) {
	port := func(extra string) string {
		return "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\n" + extra
	}
	cases := []struct {
		name, body, field, reason string
	}{
		{"unknown device", "ports:\n  - device: net_bogus0\n    rx_cpus: \"1\"\n", "ports[0].device", "unknown device"},
		{"device missing", "ports:\n  - rx_cpus: \"1\"\n", "ports[0].device", "missing"},
		{"cpu does not exist", "ports:\n  - device: net_null0\n    rx_cpus: \"9\"\n", "ports[0].rx_cpus", "does not exist"},
		{"cpu is housekeeping", "housekeeping_cpus: \"0-1\"\n" + port(""), "housekeeping_cpus", "also an RX CPU"},
		{"no housekeeping left", "ports:\n  - device: net_null0\n    rx_queues: 4\n    rx_cpus: \"0-3\"\n", "housekeeping_cpus", "leave at least one"},
		{"zero queues", port("    rx_queues: 0\n"), "ports[0].rx_queues", "1 to 1024"},
		{"cpus vs queues", port("    rx_queues: 2\n"), "ports[0].rx_cpus", "one CPU per queue"},
		{"burst zero", port("    burst: 0\n"), "ports[0].burst", "1 to 512"},
		{"burst too big", port("    burst: 513\n"), "ports[0].burst", "1 to 512"},
		{"ring not power of two", port("    rx_ring: 1000\n"), "ports[0].rx_ring", "not a power of two"},
		{"same cpu twice", "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\n  - device: net_null1\n    rx_cpus: \"1\"\n", "ports[1].rx_cpus", "one loop per CPU"},
		{"same device twice", "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\n  - device: net_null0\n    rx_cpus: \"2\"\n", "ports[1].device", "each device once"},
		{"same PCI device in two spellings", "ports:\n  - device: \"3b:00.0\"\n    rx_cpus: \"1\"\n  - device: \"0000:3B:00.0\"\n    rx_cpus: \"2\"\n", "ports[1].device", `"0000:3b:00.0" is also ports[0].device`},
		{"bad PCI function", "ports:\n  - device: \"3b:00.8\"\n    rx_cpus: \"1\"\n", "ports[0].device", "function is one digit 0 to 7"},
		{"bad PCI device", "ports:\n  - device: \"0000:3b:20.0\"\n    rx_cpus: \"1\"\n", "ports[0].device", "device is at most 1f"},
		{"gen bad PCI address", port("") + "generator:\n  device: \"3b:0.0\"\n", "generator.device", "not a PCI address"},
		{"bad cpulist", port("")[:0] + "ports:\n  - device: net_null0\n    rx_cpus: \"1-x\"\n", "ports[0].rx_cpus", "cpulist"},
		{"bad page size", "eal:\n  hugepage_size: 4M\n" + port(""), "eal.hugepage_size", "2M or 1G"},
		{"no ports", "eal:\n  no_huge: true\n", "ports", "no ports"},
		{"stats interval", "stats:\n  interval: 10ms\n" + port(""), "stats.interval", "100ms"},
		{"unknown key", port("    bursts: 32\n"), "", `unknown key "bursts"`},
		{"unknown top key", "portz: []\n" + port(""), "", `unknown key "portz"`},
		{"yaml syntax", "ports:\n  - device: net_null0\n   rx_cpus: [\n", "", "YAML syntax error at line"},
		{"wrong type", port("    rx_queues: many\n"), "", "cannot unmarshal"},
		{"gen bad mac", port("") + "generator:\n  device: net_null1\n  dst_mac: zz\n", "generator.dst_mac", "not a MAC"},
		{"gen bad size", port("") + "generator:\n  device: net_null1\n  size: 20\n", "generator.size", "60 to 9216"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.body)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("not a *FieldError: %T %v", err, err)
			}
			if tc.field != "" && fe.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", err, tc.reason)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestMempoolSizing(t *testing.T) {
	cases := []struct {
		queues, ring, burst, cache int
		want                       uint32
	}{
		{1, 1024, 32, 256, 4095},  // 1312 + 1024 headroom = 2336 → 4095
		{4, 4096, 64, 512, 32767}, // 4*4672 + 1024 = 19712 → 32767
		{1, 64, 1, 0, 2047},       // 65 + 1024 → 2047
	}
	for _, tc := range cases {
		p := Port{RXQueues: tc.queues, RXRing: tc.ring, Burst: tc.burst, MbufCache: tc.cache}
		if got := p.MbufCount(); got != tc.want {
			t.Errorf("%+v: MbufCount = %d, want %d", tc, got, tc.want)
		}
	}
	if got := (Port{Mbufs: 5000}).MbufCount(); got != 5000 {
		t.Errorf("override ignored: %d", got)
	}
	// 4095 mbufs of 2176+192 bytes (2368 → 2368 is 37 cache lines) + 4096 ring slots.
	if got, want := PoolBytes(4095, 2176), uint64(4095*2368+4096*8); got != want {
		t.Errorf("PoolBytes = %d, want %d", got, want)
	}
}

func TestHugepageNeeds(t *testing.T) {
	c := &Config{EAL: EAL{HugepageSize: "1G"}, Ports: []Port{
		{Name: "a", RXQueues: 1, RXRing: 1024, Burst: 32, MbufCache: 256, DataRoom: 2176},
		{Name: "b", RXQueues: 4, RXRing: 4096, Burst: 32, MbufCache: 256, DataRoom: 2176},
	}}
	nodes := map[string]int{"a": 0, "b": 1}
	got := c.HugepageNeeds(func(p Port) int { return nodes[p.Name] })
	base := uint64(BaseOverheadMB) << 20
	want := []hugepages.Need{
		{Node: 0, Size: hugepages.Size1G, Bytes: PoolBytes(4095, 2176) + base},
		{Node: 1, Size: hugepages.Size1G, Bytes: PoolBytes(32767, 2176) + base},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("needs (-want +got):\n%s", d)
	}
	if mem := SocketMemMB(got); !cmp.Equal(mem, []uint64{1024, 1024}) {
		t.Errorf("socket-mem = %v, want one 1 GiB page per node", mem)
	}
	c.EAL.NoHuge = true
	if n := c.HugepageNeeds(func(Port) int { return 0 }); n != nil {
		t.Errorf("no_huge still needs %v", n)
	}
}

// run.share_rx_cpus lets several queues' loops share a CPU (development
// hosts with few CPUs); without it, one loop per CPU stays the rule.
func TestShareRXCPUs(t *testing.T) {
	const share = "run:\n  share_rx_cpus: true\n"
	t.Run("two queues on one CPU", func(t *testing.T) {
		c, err := load(t, "ports:\n  - device: net_null0\n    rx_queues: 2\n    rx_cpus: \"1\"\n"+share)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Ports[0].QueueCPUs(); !cmp.Equal(got, []int{1, 1}) {
			t.Errorf("queue CPUs = %v, want [1 1]", got)
		}
		if d := c.Degraded(); len(d) != 1 || !strings.Contains(d[0], "run.share_rx_cpus") {
			t.Errorf("degraded = %q, want one line naming run.share_rx_cpus", d)
		}
		if c.Housekeeping != "0,2-3" {
			t.Errorf("housekeeping = %q, want every other CPU (0,2-3)", c.Housekeeping)
		}
	})
	t.Run("queues spread round-robin", func(t *testing.T) {
		c, err := load(t, "ports:\n  - device: net_null0\n    rx_queues: 5\n    rx_cpus: \"1-2\"\n"+share)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Ports[0].QueueCPUs(); !cmp.Equal(got, []int{1, 2, 1, 2, 1}) {
			t.Errorf("queue CPUs = %v", got)
		}
	})
	t.Run("two ports on one CPU", func(t *testing.T) {
		c, err := load(t, "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\n  - device: net_null1\n    rx_cpus: \"1\"\n"+share)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Degraded()) != 1 {
			t.Errorf("degraded = %q", c.Degraded())
		}
	})
	t.Run("set but unused is not degraded", func(t *testing.T) {
		c, err := load(t, "ports:\n  - device: net_null0\n    rx_queues: 2\n    rx_cpus: \"1-2\"\n"+share)
		if err != nil {
			t.Fatal(err)
		}
		if d := c.Degraded(); len(d) != 0 {
			t.Errorf("degraded = %q with one loop per CPU", d)
		}
	})
	for name, tc := range map[string]struct{ body, reason string }{
		"more CPUs than queues":  {"ports:\n  - device: net_null0\n    rx_queues: 2\n    rx_cpus: \"1-3\"\n" + share, "give 1 to 2 CPUs"},
		"off: fewer CPUs":        {"ports:\n  - device: net_null0\n    rx_queues: 2\n    rx_cpus: \"1\"\n", "run.share_rx_cpus"},
		"still not housekeeping": {"housekeeping_cpus: \"1\"\nports:\n  - device: net_null0\n    rx_queues: 2\n    rx_cpus: \"1\"\n" + share, "also an RX CPU"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(t, tc.body)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("err = %v, want ErrInvalid saying %q", err, tc.reason)
			}
		})
	}
	t.Run("not boolean", func(t *testing.T) {
		if _, err := load(t, "ports:\n  - device: net_null0\n    rx_cpus: \"1\"\nrun:\n  share_rx_cpus: sometimes\n"); err == nil {
			t.Error("share_rx_cpus: sometimes accepted")
		}
	})
}

// TestCaptureSection: the section's defaults, writer CPUs from the
// housekeeping set, one error naming the field, and the pool and hugepage
// figures growing by the capture rings and blocks.
func TestCaptureSection(t *testing.T) {
	online, _ := cpuset.Parse("0-3")
	base := func() *Config {
		return &Config{Ports: []Port{{Device: "net_null0", RXQueues: 1, RXCPUs: "1", RXRing: 1024, Burst: 32,
			MbufCache: DefaultMbufCache, DataRoom: DefaultDataRoom}},
			EAL: EAL{HugepageSize: "2M"}, Stats: Stats{Interval: time.Second, ShmDir: "/dev/shm", MetricsAddr: "127.0.0.1:9470"}}
	}
	off := base()
	if err := off.Validate(online); err != nil {
		t.Fatal(err)
	}
	c := base()
	c.Capture.Enabled, c.Capture.Dir = true, "/tmp"
	if err := c.Validate(online); err != nil {
		t.Fatal(err)
	}
	if c.Capture.CPUs != c.HousekeepingSet().String() || slices.Contains(c.CaptureCPUs(), 1) {
		t.Errorf("writer CPUs %q, housekeeping %s", c.Capture.CPUs, c.HousekeepingSet())
	}
	if got, want := c.Ports[0].PoolMbufs(&c.Capture), c.Ports[0].MbufCount()+uint32(c.Capture.RingSize); got != want {
		t.Errorf("pool %d mbufs, want %d", got, want)
	}
	node0 := func(Port) int { return 0 }
	if on, o := c.HugepageNeeds(node0)[0].Bytes, off.HugepageNeeds(node0)[0].Bytes; on < o+uint64(c.Capture.HugepageBytes(1)) {
		t.Errorf("hugepage need with capture %d, without %d: the blocks are missing", on, o)
	}
	for _, tc := range []struct {
		edit  func(c *Config)
		field string
	}{
		{func(c *Config) { c.Capture.Mode = "ring" }, "capture.mode"},
		{func(c *Config) { c.Capture.Mode, c.Capture.Triggers = "trigger", []string{"usr1"} }, "capture.triggers"},
		{func(c *Config) { c.Capture.Dir = "" }, "capture.dir"},
		{func(c *Config) { c.Capture.CPUs = "1" }, "capture.cpus"},
	} {
		c := base()
		c.Capture.Enabled, c.Capture.Dir = true, "/tmp"
		tc.edit(c)
		err := c.Validate(online)
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, capture.ErrInvalid) || err == nil || !strings.Contains(err.Error(), tc.field) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}

// TestCaptureMinFreeDefault: a file that leaves min_free_mb out keeps
// DefaultMinFreeMB free; `min_free_mb: 0` turns the guard off, as
// documented, instead of being taken for "unset".
func TestCaptureMinFreeDefault(t *testing.T) {
	for _, tc := range []struct {
		line string
		want int
	}{{"", capture.DefaultMinFreeMB}, {"  min_free_mb: 0\n", 0}, {"  min_free_mb: 64\n", 64}} {
		c, err := load(t, goodYAML+"capture:\n  enabled: true\n  dir: /tmp\n  pattern: \"p{port}q{queue}.pcapng\"\n"+tc.line)
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		if c.Capture.MinFreeMB != tc.want {
			t.Errorf("%q: min_free_mb = %d, want %d", tc.line, c.Capture.MinFreeMB, tc.want)
		}
	}
}
