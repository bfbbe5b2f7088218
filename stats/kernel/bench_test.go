package kernel

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/procfs"
)

// benchCounterPaths are the sysfs files of one sample in the benchmarks:
// this machine's eth0 statistics (present) and an mlx5 counter (absent
// here, as on any host without that NIC).
var benchCounterPaths = []string{
	"sys/class/net/eth0/statistics/rx_dropped",
	"sys/class/net/eth0/statistics/rx_missed_errors",
	"sys/class/net/eth0/statistics/rx_fifo_errors",
	"sys/class/net/lo/statistics/rx_dropped",
	"sys/class/infiniband/mlx5_0/ports/1/hw_counters/out_of_buffer",
}

// BenchmarkSample compares one full sample (interrupts + softnet_stat +
// net/dev + net/snmp + sysfs counters) read by this package with the same
// files read by github.com/prometheus/procfs (sysfs counters: os.ReadFile
// and strconv, which is what procfs' sysfs package does per attribute).
func BenchmarkSample(b *testing.B) {
	realFile(b, "/proc/interrupts")
	realFile(b, "/"+benchCounterPaths[0])
	b.Run("rxprobe", func(b *testing.B) {
		irq, err := NewInterruptsReader("/", []int{1})
		if err != nil {
			b.Fatal(err)
		}
		defer irq.Close()
		sn, err := NewSoftnetReader("/")
		if err != nil {
			b.Fatal(err)
		}
		defer sn.Close()
		nd, err := NewNetDevReader("/")
		if err != nil {
			b.Fatal(err)
		}
		defer nd.Close()
		sm, err := NewSNMPReader("/")
		if err != nil {
			b.Fatal(err)
		}
		defer sm.Close()
		cr, err := NewCounterReader("/", benchCounterPaths)
		if err != nil {
			b.Fatal(err)
		}
		defer cr.Close()
		irqS, snS, ndS, crS := irq.NewSample(), sn.NewSample(), nd.NewSample(), cr.NewSample()
		var udp UDPStats
		b.ReportAllocs()
		for b.Loop() {
			if err := irq.ReadInto(irqS); err != nil {
				b.Fatal(err)
			}
			if err := sn.ReadInto(snS); err != nil {
				b.Fatal(err)
			}
			if err := nd.ReadInto(ndS); err != nil {
				b.Fatal(err)
			}
			if err := sm.ReadInto(&udp); err != nil {
				b.Fatal(err)
			}
			if err := cr.ReadInto(crS); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The floor: the same preads into the same buffers, no parsing. What is
	// left above it is user-space work.
	b.Run("syscalls-only", func(b *testing.B) {
		var files []*procFile
		for _, p := range []string{"proc/interrupts", "proc/net/softnet_stat", "proc/net/dev", "proc/net/snmp"} {
			f, err := openProcFile(hostPath("/", p), 0)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			files = append(files, f)
		}
		cr, err := NewCounterReader("/", benchCounterPaths)
		if err != nil {
			b.Fatal(err)
		}
		defer cr.Close()
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range files {
				if _, err := f.read(); err != nil {
					b.Fatal(err)
				}
			}
			for i := range cr.files {
				cr.readOne(&cr.files[i]) // the absent file's failing openat included
			}
		}
	})
	b.Run("procfs", func(b *testing.B) {
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		self, err := fs.Self()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := self.Interrupts(); err != nil {
				b.Fatal(err)
			}
			if _, err := fs.NetSoftnetStat(); err != nil {
				b.Fatal(err)
			}
			if _, err := fs.NetDev(); err != nil {
				b.Fatal(err)
			}
			if _, err := self.Snmp(); err != nil {
				b.Fatal(err)
			}
			for _, p := range benchCounterPaths {
				data, err := os.ReadFile("/" + p)
				if err != nil {
					continue // absent counter
				}
				if _, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkParse measures parsing alone on fixtures (no system calls).
func BenchmarkParse(b *testing.B) {
	b.Run("interrupts/cpu4", func(b *testing.B) {
		data := fixture(b, "cpu4/proc/interrupts")
		s := NewInterrupts([]int{1, 3}, 64)
		benchParse(b, data, func() error { return ParseInterrupts(data, s) })
	})
	b.Run("softnet/cpu4", func(b *testing.B) {
		data := fixture(b, "cpu4/proc/net/softnet_stat")
		s := NewSoftnet(8)
		benchParse(b, data, func() error { return ParseSoftnet(data, s) })
	})
	b.Run("netdev/cpu4", func(b *testing.B) {
		data := fixture(b, "cpu4/proc/net/dev")
		s := NewNetDev(8)
		benchParse(b, data, func() error { return ParseNetDev(data, s) })
	})
	b.Run("snmp/cpu4", func(b *testing.B) {
		data := fixture(b, "cpu4/proc/net/snmp")
		var s UDPStats
		benchParse(b, data, func() error { return ParseSNMP(data, &s) })
	})
	b.Run("udp/cpu4", func(b *testing.B) {
		data := fixture(b, "cpu4/proc/net/udp")
		s := NewUDPSockets(16)
		benchParse(b, data, func() error { return ParseUDP(data, s) })
	})
}

func benchParse(b *testing.B, data []byte, parse func() error) {
	if err := parse(); err != nil { // warm-up: interning
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parse(); err != nil {
			b.Fatal(err)
		}
	}
}
