package kernel

import "bytes"

// UDPField is a bit set of the Udp counters present in /proc/net/snmp.
type UDPField uint16

// Udp counters of /proc/net/snmp, in the kernel's column order. Older
// kernels lack the later ones (InCsumErrors, IgnoredMulti, MemErrors were
// appended over the years), hence the presence bits.
const (
	UDPInDatagrams UDPField = 1 << iota
	UDPNoPorts
	UDPInErrors
	UDPOutDatagrams
	UDPRcvbufErrors
	UDPSndbufErrors
	UDPInCsumErrors
	UDPIgnoredMulti
	UDPMemErrors
)

// UDPStats holds the Udp line pair of /proc/net/snmp.
type UDPStats struct {
	InDatagrams  uint64
	NoPorts      uint64
	InErrors     uint64
	OutDatagrams uint64
	RcvbufErrors uint64
	SndbufErrors uint64
	InCsumErrors uint64
	IgnoredMulti uint64
	MemErrors    uint64
	// Has tells which counters the kernel reported; an absent one reads 0.
	Has UDPField
}

// udpNames maps header names to presence bits and fields, in the kernel's
// order.
var udpNames = [...]struct {
	name  string
	bit   UDPField
	field func(*UDPStats) *uint64
}{
	{"InDatagrams", UDPInDatagrams, func(u *UDPStats) *uint64 { return &u.InDatagrams }},
	{"NoPorts", UDPNoPorts, func(u *UDPStats) *uint64 { return &u.NoPorts }},
	{"InErrors", UDPInErrors, func(u *UDPStats) *uint64 { return &u.InErrors }},
	{"OutDatagrams", UDPOutDatagrams, func(u *UDPStats) *uint64 { return &u.OutDatagrams }},
	{"RcvbufErrors", UDPRcvbufErrors, func(u *UDPStats) *uint64 { return &u.RcvbufErrors }},
	{"SndbufErrors", UDPSndbufErrors, func(u *UDPStats) *uint64 { return &u.SndbufErrors }},
	{"InCsumErrors", UDPInCsumErrors, func(u *UDPStats) *uint64 { return &u.InCsumErrors }},
	{"IgnoredMulti", UDPIgnoredMulti, func(u *UDPStats) *uint64 { return &u.IgnoredMulti }},
	{"MemErrors", UDPMemErrors, func(u *UDPStats) *uint64 { return &u.MemErrors }},
}

// ParseSNMP parses the "Udp:" header/values line pair of /proc/net/snmp
// into dst, matching values to header names (so reordered or added columns
// are handled; unknown names are skipped). Other protocols, including
// "UdpLite:", are ignored. It is an error if there is no Udp pair, if the
// values line does not immediately follow the header, or if the two lines
// have different lengths. It never allocates on success.
func ParseSNMP(data []byte, dst *UDPStats) error {
	const file = "/proc/net/snmp"
	if err := checkComplete(file, data); err != nil {
		return err
	}
	*dst = UDPStats{}
	prefix := []byte("Udp:")
	lineNo := 0
	for len(data) > 0 {
		var header []byte
		header, data = nextLine(data)
		lineNo++
		if !bytes.HasPrefix(header, prefix) {
			continue
		}
		values, _ := nextLine(data)
		if !bytes.HasPrefix(values, prefix) {
			return parseError(file, lineNo+1, "Udp header without values line", values)
		}
		hf, hr := nextField(header[len(prefix):])
		vf, vr := nextField(values[len(prefix):])
		for len(hf) > 0 && len(vf) > 0 {
			for _, n := range udpNames {
				if string(hf) == n.name { // no allocation
					v, ok := parseDec(vf)
					if !ok {
						return parseError(file, lineNo+1, "Udp value is not an unsigned number", vf)
					}
					*n.field(dst), dst.Has = v, dst.Has|n.bit
					break
				}
			}
			hf, hr = nextField(hr)
			vf, vr = nextField(vr)
		}
		if len(hf) > 0 || len(vf) > 0 {
			return parseError(file, lineNo+1, "Udp header and values differ in length", values)
		}
		if dst.Has == 0 {
			return parseError(file, lineNo, "no known Udp counter", header)
		}
		return nil
	}
	return parseError(file, lineNo, "no Udp lines", nil)
}

// SNMPReader reads the Udp counters from ROOT/proc/net/snmp through a kept
// descriptor.
type SNMPReader struct{ f *procFile }

// NewSNMPReader opens ROOT/proc/net/snmp (root "" means "/").
func NewSNMPReader(root string) (*SNMPReader, error) {
	f, err := openProcFile(hostPath(root, "proc/net/snmp"), 0)
	if err != nil {
		return nil, err
	}
	return &SNMPReader{f: f}, nil
}

// ReadInto reads and parses the file into dst without allocating.
func (r *SNMPReader) ReadInto(dst *UDPStats) error { return readParse(r.f, dst, ParseSNMP) }

// Close closes the kept descriptor.
func (r *SNMPReader) Close() error { return r.f.Close() }
