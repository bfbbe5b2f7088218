package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// writePcap writes n minimal Ethernet/IPv4 frames of 60 bytes.
func writePcap(t *testing.T, n int) string {
	t.Helper()
	var b []byte
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	b = append(b, hdr...)
	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 0, 0x45})
	for i := 0; i < n; i++ {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[4:], uint32(i))
		binary.LittleEndian.PutUint32(rec[8:], 60)
		binary.LittleEndian.PutUint32(rec[12:], 60)
		b = append(append(b, rec...), frame...)
	}
	p := filepath.Join(t.TempDir(), "in.pcap")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunVirtualDevices starts the engine on each virtual device rxprobe
// supports besides net_null and the veth ones (covered elsewhere).
func TestRunVirtualDevices(t *testing.T) {
	pcap := writePcap(t, 10)
	sock := filepath.Join(t.TempDir(), "memif.sock")
	tap := fmt.Sprintf("rxptap%d", os.Getpid()%10000)
	cases := []struct {
		device, devargs string
		wantPackets     bool
	}{
		{"net_ring0", "", false},
		{"net_pcap0", "rx_pcap=" + pcap + ",infinite_rx=1", true},
		{"net_memif0", "role=server,socket=" + sock, false},
		{"net_tap0", "iface=" + tap, false},
	}
	for _, tc := range cases {
		t.Run(tc.device, func(t *testing.T) {
			prefix := uniquePrefix(t)
			cfg := writeConfig(t, fmt.Sprintf(`eal:
  file_prefix: %s
  no_huge: true
  log_level: error
ports:
  - device: %s
    devargs: "%s"
    rx_cpus: "%d"
run:
  allow_unisolated: true
`, prefix, tc.device, tc.devargs, rxCPU()))
			rep := filepath.Join(t.TempDir(), "r.json")
			res := runRxprobe(t, "run", "--config", cfg, "--duration", "1s", "--no-exporter", "--report", rep)
			if tc.device == "net_tap0" && res.code != 0 {
				if _, err := os.Stat("/dev/net/tun"); err != nil {
					t.Skipf("no /dev/net/tun: %v", err)
				}
				if os.Geteuid() != 0 {
					t.Skip("needs root: net_tap creates a TAP interface (CAP_NET_ADMIN)")
				}
			}
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			r := readReport(t, rep)
			if r.Ports[0].Driver != tc.device[:len(tc.device)-1] {
				t.Errorf("driver %q for %s", r.Ports[0].Driver, tc.device)
			}
			if q := r.Ports[0].Queues[0]; q.Polls == 0 {
				t.Error("the loop never polled")
			}
			if tc.wantPackets && (r.RXPackets == 0 || r.RXBytes != 60*r.RXPackets) {
				t.Errorf("pcap replay: %d packets, %d bytes", r.RXPackets, r.RXBytes)
			}
			assertNoLeftovers(t, prefix)
			if tc.device == "net_tap0" {
				if err := exec.Command("ip", "link", "show", tap).Run(); err == nil {
					t.Errorf("tap interface %s left behind", tap)
				}
			}
		})
	}
}
