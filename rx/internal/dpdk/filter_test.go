package dpdk

import (
	"encoding/binary"
	"errors"
	"testing"
)

// frame builds an Ethernet frame: IPv4 (proto 17 UDP or 6 TCP) with the
// given ports, padded to size; vlan > 0 adds an 802.1Q tag; proto 0 makes
// an ARP frame.
func frame(proto uint8, sport, dport uint16, vlan uint16, size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1)
	if vlan > 0 {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, vlan)
	}
	if proto == 0 {
		b = binary.BigEndian.AppendUint16(b, 0x0806)
		b = append(b, make([]byte, 28)...)
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(ip[2:], uint16(size-len(b)))
		copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
		b = append(b, ip...)
		l4 := make([]byte, 20)
		binary.BigEndian.PutUint16(l4[0:], sport)
		binary.BigEndian.PutUint16(l4[2:], dport)
		if proto == 17 {
			l4 = l4[:8]
			binary.BigEndian.PutUint16(l4[4:], uint16(size-len(b)))
		} else {
			l4[12] = 5 << 4
		}
		b = append(b, l4...)
	}
	for len(b) < size {
		b = append(b, byte(len(b)))
	}
	return b
}

// packetMix is the known mix of the filter tests: 4 UDP to port 53, 3 UDP
// to port 9, 2 TCP to port 80, 1 ARP, 1 VLAN-tagged UDP to port 53.
func packetMix() [][]byte {
	var m [][]byte
	for i := 0; i < 4; i++ {
		m = append(m, frame(17, uint16(1024+i), 53, 0, 60+i*100))
	}
	for i := 0; i < 3; i++ {
		m = append(m, frame(17, 2000, 9, 0, 1514))
	}
	m = append(m, frame(6, 40000, 80, 0, 74), frame(6, 40001, 80, 0, 600))
	m = append(m, frame(0, 0, 0, 0, 60))
	m = append(m, frame(17, 1024, 53, 10, 64))
	return m
}

func TestFilterCompileErrors(t *testing.T) {
	// Compiling needs no EAL: these run whether or not it started.
	for _, expr := range []string{"udp port", "ip and and", "tcp port 99999", "nosuchproto"} {
		_, err := CompileFilter(expr, 2048)
		var fe *FilterError
		if !errors.As(err, &fe) || !errors.Is(err, ErrFilter) {
			t.Errorf("%q: err = %v, want a *FilterError", expr, err)
			continue
		}
		if fe.Msg == "" || fe.Expr != expr {
			t.Errorf("%q: error without libpcap's text: %+v", expr, fe)
		}
	}
	if _, err := CompileFilter("udp", 0); err == nil {
		t.Error("snaplen 0 accepted")
	}
	p, err := CompileFilter("udp dst port 53", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if p.Instructions() == 0 {
		t.Error("compiled program has no instructions")
	}
	p.Free()
}

func TestFilterMatchesKnownMix(t *testing.T) {
	needEAL(t)
	pool, err := NewMempool("pool_filter", 1023, 0, 2176+64, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Free()
	mix := packetMix()
	for _, tc := range []struct {
		name, expr string
		want       int
	}{
		{"none", "udp dst port 7", 0},
		{"some udp", "udp dst port 53", 4},
		{"some vlan", "vlan and udp dst port 53", 1},
		{"some tcp", "tcp dst port 80 and greater 100", 1},
		{"some arp or port 9", "arp or udp port 9", 4},
		{"all", "", len(mix)},
		{"all by length", "greater 59", len(mix)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompileFilter(tc.expr, 2048)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Free()
			for _, jit := range []bool{true, false} {
				f, err := p.Load(jit)
				if err != nil {
					t.Fatal(err)
				}
				if jit && !f.JIT() {
					t.Logf("no BPF JIT on this CPU; interpreter only")
				}
				got, ref, err := f.Test(p, pool, mix)
				f.Free()
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for i := range got {
					if got[i] != ref[i] {
						t.Errorf("jit=%v packet %d: DPDK says %v, libpcap says %v", jit, i, got[i], ref[i])
					}
					if got[i] {
						n++
					}
				}
				if n != tc.want {
					t.Errorf("jit=%v: %d of %d packets matched, want %d", jit, n, len(mix), tc.want)
				}
			}
		})
	}
	if avail := pool.Available(); avail != 1023 {
		t.Errorf("pool has %d mbufs free after the tests, want 1023 (leak)", avail)
	}
}
