package config

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/capture"
)

// ErrInvalid is matched (errors.Is) by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// FieldError names the configuration field at fault and why.
type FieldError struct {
	Field  string // e.g. "ports[0].rx_ring"
	Reason string // what is wrong and how to fix it
}

func (e *FieldError) Error() string { return "config: " + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Config is the whole run specification.
type Config struct {
	// Housekeeping is the cpulist for the Go runtime, EAL's main lcore and
	// every non-RX thread. Empty means every online CPU not used for RX.
	Housekeeping string     `mapstructure:"housekeeping_cpus" yaml:"housekeeping_cpus"`
	EAL          EAL        `mapstructure:"eal" yaml:"eal"`
	Ports        []Port     `mapstructure:"ports" yaml:"ports"`
	Generator    *Generator `mapstructure:"generator" yaml:"generator,omitempty"`
	Stats        Stats      `mapstructure:"stats" yaml:"stats"`
	Guard        Guard      `mapstructure:"guard" yaml:"guard"`
	Run          Run        `mapstructure:"run" yaml:"run"`
	// Capture writes each RX queue's packets to pcapng files (off unless
	// capture.enabled).
	Capture capture.Config `mapstructure:"capture" yaml:"capture"`
}

// EAL holds DPDK environment settings.
type EAL struct {
	// FilePrefix isolates this run's DPDK files; empty means unique per run.
	FilePrefix string `mapstructure:"file_prefix" yaml:"file_prefix"`
	// HugepageSize is "2M" or "1G".
	HugepageSize string `mapstructure:"hugepage_size" yaml:"hugepage_size"`
	// NoHuge runs on ordinary memory (dev and CI only); the run is reported
	// as degraded.
	NoHuge bool `mapstructure:"no_huge" yaml:"no_huge"`
	// ExtraMemoryMB is added to the computed memory need of each NUMA node.
	ExtraMemoryMB int `mapstructure:"extra_memory_mb" yaml:"extra_memory_mb"`
	// LogLevel is passed to --log-level (e.g. "error", "lib.eal:debug").
	LogLevel string `mapstructure:"log_level" yaml:"log_level"`
	// MultiProcess keeps DPDK's shared configuration files (in
	// /var/run/dpdk/<prefix>) so secondary processes such as dpdk-proc-info
	// or dpdk-pdump can attach. Off by default (--no-shconf): the primary
	// maps those files shared, and where /run is not tmpfs the kernel's
	// writeback of them write-protects their pages, one TLB shootdown per
	// page on every CPU of the process. Telemetry works either way.
	MultiProcess bool `mapstructure:"multi_process" yaml:"multi_process"`
	// ExtraArgs are appended to the EAL arguments verbatim.
	ExtraArgs []string `mapstructure:"extra_args" yaml:"extra_args"`
}

// Port is one DPDK port polled by RX loops.
type Port struct {
	// Name labels the port in reports and metrics; default "port<i>".
	Name string `mapstructure:"name" yaml:"name"`
	// Device is a PCI address ("0000:3b:00.0" or "3b:00.0", the same
	// device; Validate rewrites it as "0000:3b:00.0") or a virtual device
	// ("net_null0", "net_af_xdp0", ...).
	Device string `mapstructure:"device" yaml:"device"`
	// Devargs are the device arguments ("iface=veth0", "rxq_cqe_comp_en=1").
	Devargs string `mapstructure:"devargs" yaml:"devargs"`
	// RXQueues is the number of RX queues, one poll loop each.
	RXQueues int `mapstructure:"rx_queues" yaml:"rx_queues"`
	// RXCPUs is the cpulist of the loops, one CPU per queue in order. With
	// run.share_rx_cpus it may name fewer CPUs than queues: queue i then
	// runs on the (i mod n)-th CPU of the list.
	RXCPUs string `mapstructure:"rx_cpus" yaml:"rx_cpus"`
	// RXRing is the RX descriptor ring size (a power of two).
	RXRing int `mapstructure:"rx_ring" yaml:"rx_ring"`
	// Burst is the rte_eth_rx_burst size (1..512).
	Burst int `mapstructure:"burst" yaml:"burst"`
	// Mbufs overrides the computed mempool size when > 0.
	Mbufs int `mapstructure:"mbufs" yaml:"mbufs"`
	// MbufCache is the per-lcore mempool cache.
	MbufCache int `mapstructure:"mbuf_cache" yaml:"mbuf_cache"`
	// DataRoom is each mbuf's buffer size, headroom included.
	DataRoom int `mapstructure:"mbuf_data_room" yaml:"mbuf_data_room"`
	// Promiscuous receives every frame on the wire.
	Promiscuous bool `mapstructure:"promiscuous" yaml:"promiscuous"`
	// LineRateGbps sizes the loop-gap threshold (ring fill time); 0 = unknown.
	LineRateGbps float64 `mapstructure:"line_rate_gbps" yaml:"line_rate_gbps"`
}

// Generator is the paced transmitter `rxprobe gen` runs.
type Generator struct {
	Device   string        `mapstructure:"device" yaml:"device"`
	Devargs  string        `mapstructure:"devargs" yaml:"devargs"`
	CPU      int           `mapstructure:"cpu" yaml:"cpu"`
	Rate     float64       `mapstructure:"rate" yaml:"rate"` // packets/s; 0 = as fast as possible
	Size     int           `mapstructure:"size" yaml:"size"` // frame bytes without FCS
	Count    uint64        `mapstructure:"count" yaml:"count"`
	Duration time.Duration `mapstructure:"duration" yaml:"duration"`
	Burst    int           `mapstructure:"burst" yaml:"burst"`
	Flows    int           `mapstructure:"flows" yaml:"flows"`
	TXRing   int           `mapstructure:"tx_ring" yaml:"tx_ring"`
	SrcMAC   string        `mapstructure:"src_mac" yaml:"src_mac"` // empty: the port's MAC
	DstMAC   string        `mapstructure:"dst_mac" yaml:"dst_mac"`
	SrcIP    string        `mapstructure:"src_ip" yaml:"src_ip"`
	DstIP    string        `mapstructure:"dst_ip" yaml:"dst_ip"`
	SrcPort  int           `mapstructure:"src_port" yaml:"src_port"`
	DstPort  int           `mapstructure:"dst_port" yaml:"dst_port"`
	// Spin keeps the TX loop spinning between bursts. The default sleeps
	// while the loop is well ahead of its schedule, which leaves a shared
	// CPU to softirqs and other threads; spin on a dedicated CPU for
	// precise pacing at high rates.
	Spin bool `mapstructure:"spin" yaml:"spin"`
	// Latency stamps every frame with the TSC and a marker for the RX
	// side's latency mode (rxprobe run --latency); sequence numbers then
	// run on across gen --serve trials.
	Latency bool `mapstructure:"latency" yaml:"latency"`
}

// Stats configures the stats thread and the exporter.
type Stats struct {
	// Interval is how often the stats thread samples (100ms to 1m).
	Interval time.Duration `mapstructure:"interval" yaml:"interval"`
	// ShmDir is where the shared-memory snapshot segment is created.
	ShmDir string `mapstructure:"shm_dir" yaml:"shm_dir"`
	// Exporter starts `rxprobe exporter` as a child process serving
	// /metrics from the segment.
	Exporter bool `mapstructure:"exporter" yaml:"exporter"`
	// MetricsAddr is where the exporter listens.
	MetricsAddr string `mapstructure:"metrics_addr" yaml:"metrics_addr"`
}

// Guard configures the jitter guard.
type Guard struct {
	// GapThresholdUs turns a loop gap into an event; 0 means a quarter of
	// the time the port's RX ring takes to fill at line_rate_gbps (1 ms
	// when the line rate is unknown).
	GapThresholdUs float64 `mapstructure:"gap_threshold_us" yaml:"gap_threshold_us"`
	// Limits override the expected interrupts per second on an RX CPU, by
	// kind: LOC, CAL, TLB, RES, IWI, NMI, PMI, MCE, IRQ (device IRQs).
	Limits map[string]float64 `mapstructure:"limits" yaml:"limits"`
	// HZ is the kernel tick rate, the LOC limit of a CPU without nohz_full.
	HZ int `mapstructure:"hz" yaml:"hz"`
	// DriftInterval is how often the watcher process re-checks IRQ
	// affinity, irqbalance, tasks pinned toward RX CPUs and page movers;
	// 0 turns the drift check off.
	DriftInterval time.Duration `mapstructure:"drift_interval" yaml:"drift_interval"`
	// Attribution runs the flight recorder (tracefs, root) in the watcher
	// process and names who sent the IPIs behind TLB/CAL/RES events.
	Attribution bool `mapstructure:"attribution" yaml:"attribution"`
}

// Run configures `rxprobe run`.
type Run struct {
	Duration        time.Duration `mapstructure:"duration" yaml:"duration"` // 0 = until signalled
	Report          string        `mapstructure:"report" yaml:"report"`
	AllowUnisolated bool          `mapstructure:"allow_unisolated" yaml:"allow_unisolated"`
	// ShareRXCPUs lets several queues' loops share one RX CPU (EAL maps
	// several worker lcores onto it: --lcores 1@1,2@1). Development only:
	// loops on one CPU take turns, so each sees the others' time slices as
	// gaps. The report lists the run as degraded.
	ShareRXCPUs bool `mapstructure:"share_rx_cpus" yaml:"share_rx_cpus"`
	// Latency runs the latency variant of the RX loop: frames stamped by
	// `rxprobe gen --latency` have their one-way latency recorded per
	// queue (rxprobe run --latency).
	Latency bool `mapstructure:"latency" yaml:"latency"`
}

// Defaults, applied before the file is read.
const (
	DefaultRXRing    = 1024
	DefaultBurst     = 32
	DefaultMbufCache = 256
	DefaultDataRoom  = 2048 + 128
	MaxBurst         = 512
)

// VdevDrivers are the virtual device drivers rxprobe accepts.
var VdevDrivers = []string{"net_null", "net_ring", "net_pcap", "net_af_packet", "net_af_xdp", "net_tap", "net_memif", "net_vhost", "net_virtio_user"}

// IsPCI reports whether dev is a PCI address, by the one rule of
// hostfs.ParsePCIAddr ("3b:00.0" and "0000:3b:00.0" alike).
func IsPCI(dev string) bool { return hostfs.IsPCIAddr(dev) }

func vdevDriver(dev string) (string, bool) {
	best := ""
	for _, d := range VdevDrivers {
		if strings.HasPrefix(dev, d) && len(d) > len(best) {
			rest := dev[len(d):]
			if strings.Trim(rest, "0123456789") == "" {
				best = d
			}
		}
	}
	return best, best != ""
}

// checkDevice validates the device at *dev and rewrites a PCI address in
// the canonical form ("3B:00.0" becomes "0000:3b:00.0"), the name DPDK,
// sysfs and preflight know the device by, so one device has one spelling.
func checkDevice(field string, dev *string) error {
	if *dev == "" {
		return fieldErr(field, "missing: give a PCI address (0000:3b:00.0) or a virtual device (net_null0, net_af_xdp0, ...)")
	}
	if strings.Contains(*dev, ":") { // meant as a PCI address: vdev names have no ':'
		canon, err := hostfs.CanonicalPCI(*dev)
		if err != nil {
			return fieldErr(field, "%v", err)
		}
		*dev = canon
		return nil
	}
	if _, ok := vdevDriver(*dev); ok {
		return nil
	}
	if _, ok := vdevDriver(*dev); ok {
		return nil
	}
	return fieldErr(field, "unknown device %q: use a PCI address (0000:3b:00.0) or one of %s followed by an instance number (net_null0)", *dev, strings.Join(VdevDrivers, ", "))
}

// RXCPUSet is the union of every port's RX CPUs (valid after Validate).
func (c *Config) RXCPUSet() cpuset.Set {
	var s cpuset.Set
	for _, p := range c.Ports {
		cs, _ := cpuset.Parse(p.RXCPUs)
		s = s.Union(cs)
	}
	return s
}

// HousekeepingSet is the housekeeping CPU set (valid after Validate).
func (c *Config) HousekeepingSet() cpuset.Set {
	s, _ := cpuset.Parse(c.Housekeeping)
	return s
}

// QueueCPUs lists port p's loop CPUs in queue order, one per queue (valid
// after Validate). When rx_cpus names fewer CPUs than there are queues
// (run.share_rx_cpus), queue i runs on the (i mod n)-th CPU of the list.
func (p Port) QueueCPUs() []int {
	s, _ := cpuset.Parse(p.RXCPUs)
	cpus := s.List()
	if len(cpus) == 0 || len(cpus) >= p.RXQueues {
		return cpus
	}
	out := make([]int, p.RXQueues)
	for i := range out {
		out[i] = cpus[i%len(cpus)]
	}
	return out
}

// Degraded lists the development-only settings of c that make a run
// unlike a production one, one sentence each, for the report's degraded
// list.
func (c *Config) Degraded() []string {
	var out []string
	if c.Run.ShareRXCPUs && c.sharesRXCPUs() {
		out = append(out, "shared RX CPUs (run.share_rx_cpus): several loops take turns on one CPU, so each sees the others' time slices as gaps")
	}
	return out
}

// sharesRXCPUs reports whether any CPU runs more than one loop.
func (c *Config) sharesRXCPUs() bool {
	seen := map[int]bool{}
	for _, p := range c.Ports {
		for _, cpu := range p.QueueCPUs() {
			if seen[cpu] {
				return true
			}
			seen[cpu] = true
		}
	}
	return false
}

// PageSize is the configured hugepage size (0 with no_huge).
func (c *Config) PageSize() hugepages.Size {
	if c.EAL.NoHuge {
		return 0
	}
	s, _ := hugepages.ParseSize(c.EAL.HugepageSize)
	return s
}

// PCIDevices lists the PCI addresses among the ports.
func (c *Config) PCIDevices() []string {
	var out []string
	for _, p := range c.Ports {
		if IsPCI(p.Device) {
			out = append(out, p.Device)
		}
	}
	return out
}

// Validate checks every field, and CPUs against online (the host's online
// CPUs). It fills Housekeeping when empty and the port names. The first
// problem is returned as a *FieldError.
func (c *Config) Validate(online cpuset.Set) error {
	if c.EAL.NoHuge {
		if c.EAL.HugepageSize != "" {
			if _, err := hugepages.ParseSize(c.EAL.HugepageSize); err != nil {
				return fieldErr("eal.hugepage_size", "%q is not a page size: use 2M or 1G", c.EAL.HugepageSize)
			}
		}
	} else {
		s, err := hugepages.ParseSize(c.EAL.HugepageSize)
		if err != nil || (s != hugepages.Size2M && s != hugepages.Size1G) {
			return fieldErr("eal.hugepage_size", "%q is not a supported page size: use 2M or 1G", c.EAL.HugepageSize)
		}
	}
	if c.EAL.ExtraMemoryMB < 0 {
		return fieldErr("eal.extra_memory_mb", "%d is negative", c.EAL.ExtraMemoryMB)
	}
	if c.EAL.FilePrefix != "" && strings.ContainsAny(c.EAL.FilePrefix, "/ \t") {
		return fieldErr("eal.file_prefix", "%q must not contain '/' or spaces", c.EAL.FilePrefix)
	}
	if len(c.Ports) == 0 {
		return fieldErr("ports", "no ports: add at least one port with a device and rx_cpus")
	}
	var rx cpuset.Set
	devices := map[string]int{}
	names := map[string]int{}
	for i := range c.Ports {
		p := &c.Ports[i]
		f := func(name string) string { return fmt.Sprintf("ports[%d].%s", i, name) }
		if err := checkDevice(f("device"), &p.Device); err != nil {
			return err
		}
		if j, dup := devices[p.Device]; dup {
			return fieldErr(f("device"), "%q is also ports[%d].device: each device once", p.Device, j)
		}
		devices[p.Device] = i
		if p.Name == "" {
			p.Name = fmt.Sprintf("port%d", i)
		}
		if j, dup := names[p.Name]; dup {
			return fieldErr(f("name"), "%q is also ports[%d].name: names label metrics and must differ", p.Name, j)
		}
		names[p.Name] = i
		if p.RXQueues < 1 || p.RXQueues > 1024 {
			return fieldErr(f("rx_queues"), "%d: need 1 to 1024 queues", p.RXQueues)
		}
		if p.Burst < 1 || p.Burst > MaxBurst {
			return fieldErr(f("burst"), "%d: must be 1 to %d (32 is usual)", p.Burst, MaxBurst)
		}
		if p.RXRing < 64 || p.RXRing > 65536 || p.RXRing&(p.RXRing-1) != 0 {
			return fieldErr(f("rx_ring"), "%d is not a power of two from 64 to 65536 (use 512, 1024, 2048, 4096, ...)", p.RXRing)
		}
		if p.MbufCache < 0 || p.MbufCache > 512 {
			return fieldErr(f("mbuf_cache"), "%d: must be 0 to 512", p.MbufCache)
		}
		if p.DataRoom < 128+64 || p.DataRoom > 65535 {
			return fieldErr(f("mbuf_data_room"), "%d: must be %d to 65535 bytes (headroom 128 included)", p.DataRoom, 128+64)
		}
		if p.Mbufs < 0 {
			return fieldErr(f("mbufs"), "%d is negative (0 = computed)", p.Mbufs)
		}
		if p.Mbufs > 0 && p.Mbufs < p.RXQueues*(p.RXRing+p.Burst) {
			return fieldErr(f("mbufs"), "%d cannot fill %d rings of %d: use 0 (computed) or at least %d", p.Mbufs, p.RXQueues, p.RXRing, p.RXQueues*(p.RXRing+p.Burst))
		}
		if p.LineRateGbps < 0 {
			return fieldErr(f("line_rate_gbps"), "%g is negative", p.LineRateGbps)
		}
		cpus, err := cpuset.Parse(p.RXCPUs)
		if err != nil {
			return fieldErr(f("rx_cpus"), "%v: write a cpulist such as \"1\" or \"2-5\"", err)
		}
		switch {
		case c.Run.ShareRXCPUs && (cpus.IsEmpty() || cpus.Len() > p.RXQueues):
			return fieldErr(f("rx_cpus"), "%q names %d CPUs for %d rx_queues: give 1 to %d CPUs (run.share_rx_cpus spreads the queues over them)", p.RXCPUs, cpus.Len(), p.RXQueues, p.RXQueues)
		case !c.Run.ShareRXCPUs && cpus.Len() != p.RXQueues:
			return fieldErr(f("rx_cpus"), "%q names %d CPUs for %d rx_queues: give one CPU per queue (or, on a development host only, set run.share_rx_cpus: true)", p.RXCPUs, cpus.Len(), p.RXQueues)
		}
		for _, cpu := range cpus.List() {
			if !online.Has(cpu) {
				return fieldErr(f("rx_cpus"), "CPU %d does not exist or is offline (online: %s)", cpu, online)
			}
			if rx.Has(cpu) && !c.Run.ShareRXCPUs {
				return fieldErr(f("rx_cpus"), "CPU %d already runs another queue's loop: one loop per CPU (or, on a development host only, set run.share_rx_cpus: true)", cpu)
			}
		}
		rx = rx.Union(cpus)
	}
	if c.Housekeeping == "" {
		hk := online.Difference(rx)
		if hk.IsEmpty() {
			return fieldErr("housekeeping_cpus", "every online CPU (%s) is an RX CPU: leave at least one for housekeeping", online)
		}
		c.Housekeeping = hk.String()
	} else {
		hk, err := cpuset.Parse(c.Housekeeping)
		if err != nil {
			return fieldErr("housekeeping_cpus", "%v: write a cpulist such as \"0\"", err)
		}
		if hk.IsEmpty() {
			return fieldErr("housekeeping_cpus", "empty: name at least one CPU, or leave the key out to use every non-RX CPU")
		}
		for _, cpu := range hk.List() {
			if !online.Has(cpu) {
				return fieldErr("housekeeping_cpus", "CPU %d does not exist or is offline (online: %s)", cpu, online)
			}
			if rx.Has(cpu) {
				return fieldErr("housekeeping_cpus", "CPU %d is also an RX CPU: RX CPUs run only their poll loop", cpu)
			}
		}
		c.Housekeeping = hk.String()
	}
	if c.Stats.Interval < 100*time.Millisecond || c.Stats.Interval > time.Minute {
		return fieldErr("stats.interval", "%v: must be 100ms to 1m", c.Stats.Interval)
	}
	if c.Stats.ShmDir == "" {
		return fieldErr("stats.shm_dir", "empty: use /dev/shm")
	}
	if c.Stats.Exporter {
		if _, port, err := net.SplitHostPort(c.Stats.MetricsAddr); err != nil || port == "" {
			return fieldErr("stats.metrics_addr", "%q is not host:port (e.g. 127.0.0.1:9470)", c.Stats.MetricsAddr)
		}
	}
	if c.Guard.GapThresholdUs < 0 {
		return fieldErr("guard.gap_threshold_us", "%g is negative (0 = from the ring and line rate)", c.Guard.GapThresholdUs)
	}
	if c.Guard.DriftInterval != 0 && c.Guard.DriftInterval < time.Second {
		return fieldErr("guard.drift_interval", "%v: at least 1s (0 turns the drift check off)", c.Guard.DriftInterval)
	}
	if c.Guard.HZ < 0 || c.Guard.HZ > 10000 {
		return fieldErr("guard.hz", "%d: the kernel tick rate is 100 to 1000", c.Guard.HZ)
	}
	limits := map[string]float64{}
	for k, v := range c.Guard.Limits {
		k = strings.ToUpper(k) // viper lower-cases map keys
		limits[k] = v
		switch k {
		case "LOC", "CAL", "TLB", "RES", "IWI", "NMI", "PMI", "MCE", "IRQ":
		default:
			return fieldErr("guard.limits."+k, "unknown kind: use LOC, CAL, TLB, RES, IWI, NMI, PMI, MCE or IRQ")
		}
		if v < 0 {
			return fieldErr("guard.limits."+k, "%g is negative", v)
		}
	}
	c.Guard.Limits = limits
	if c.Run.Duration < 0 {
		return fieldErr("run.duration", "%v is negative (0 = until SIGINT/SIGTERM)", c.Run.Duration)
	}
	if c.Generator != nil {
		if err := c.Generator.validate(online); err != nil {
			return err
		}
	}
	return c.validateCapture()
}

// validateCapture applies the capture section's defaults and checks it
// against the RX CPUs; writer CPUs default to the housekeeping CPUs.
func (c *Config) validateCapture() error {
	if !c.Capture.Enabled {
		return nil
	}
	c.Capture.Defaults()
	if c.Capture.CPUs == "" {
		c.Capture.CPUs = c.HousekeepingSet().String()
	}
	return c.Capture.Validate(c.RXCPUSet(), c.QueueCount())
}

// CaptureCPUs lists the capture writers' CPUs (valid after Validate).
func (c *Config) CaptureCPUs() []int {
	s, _ := cpuset.Parse(c.Capture.CPUs)
	return s.List()
}

// QueueCount is the number of RX queues over every port.
func (c *Config) QueueCount() int {
	n := 0
	for _, p := range c.Ports {
		n += p.RXQueues
	}
	return n
}

func (g *Generator) validate(online cpuset.Set) error {
	f := func(name string) string { return "generator." + name }
	if err := checkDevice(f("device"), &g.Device); err != nil {
		return err
	}
	if !online.Has(g.CPU) {
		return fieldErr(f("cpu"), "CPU %d does not exist or is offline (online: %s)", g.CPU, online)
	}
	if g.Rate < 0 {
		return fieldErr(f("rate"), "%g is negative (0 = as fast as possible)", g.Rate)
	}
	if g.Size < 60 || g.Size > 9216 {
		return fieldErr(f("size"), "%d: frames are 60 to 9216 bytes (without FCS)", g.Size)
	}
	if g.Burst < 1 || g.Burst > MaxBurst {
		return fieldErr(f("burst"), "%d: must be 1 to %d", g.Burst, MaxBurst)
	}
	if g.Flows < 1 || g.Flows > 65535 {
		return fieldErr(f("flows"), "%d: must be 1 to 65535", g.Flows)
	}
	if g.TXRing < 64 || g.TXRing > 65536 || g.TXRing&(g.TXRing-1) != 0 {
		return fieldErr(f("tx_ring"), "%d is not a power of two from 64 to 65536", g.TXRing)
	}
	if g.Duration < 0 {
		return fieldErr(f("duration"), "%v is negative", g.Duration)
	}
	for _, m := range []struct{ name, v string }{{"src_mac", g.SrcMAC}, {"dst_mac", g.DstMAC}} {
		if m.v == "" && m.name == "src_mac" {
			continue
		}
		if hw, err := net.ParseMAC(m.v); err != nil || len(hw) != 6 {
			return fieldErr(f(m.name), "%q is not a MAC address like 02:00:00:00:00:01", m.v)
		}
	}
	for _, a := range []struct{ name, v string }{{"src_ip", g.SrcIP}, {"dst_ip", g.DstIP}} {
		if ip := net.ParseIP(a.v); ip == nil || ip.To4() == nil {
			return fieldErr(f(a.name), "%q is not an IPv4 address", a.v)
		}
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"src_port", g.SrcPort}, {"dst_port", g.DstPort}} {
		if p.v < 1 || p.v > 65535 {
			return fieldErr(f(p.name), "%d is not a UDP port (1-65535)", p.v)
		}
	}
	return nil
}
