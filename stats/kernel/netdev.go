package kernel

import (
	"bytes"
	"unsafe"
)

// NetDevStats is one device line of /proc/net/dev.
type NetDevStats struct {
	// Name is the interface name, interned (the same string every sample).
	Name string

	RxBytes, RxPackets, RxErrs, RxDrop, RxFifo, RxFrame, RxCompressed, RxMulticast uint64
	TxBytes, TxPackets, TxErrs, TxDrop, TxFifo, TxColls, TxCarrier, TxCompressed   uint64
}

// NetDev is a parsed /proc/net/dev sample.
type NetDev struct {
	// Devices in file order; reused by the next parse.
	Devices []NetDevStats

	names map[string]string // interned interface names
	// arena holds the bytes of interned names: a name first seen mid-run
	// (a container's veth appearing) is copied here, not allocated.
	arena []byte
}

// Interning bounds: names beyond either cost one allocation each, once.
const (
	internNames = 1024     // distinct interface names kept without allocating
	internBytes = 16 << 10 // their bytes (IFNAMSIZ is 16)
)

// NewNetDev returns a NetDev with room for devCap devices. Interface names
// are interned into storage made here: up to internNames distinct names
// (internBytes of text) are kept without allocating, so interfaces that
// appear while the probe runs cost nothing on the heap.
func NewNetDev(devCap int) *NetDev {
	devCap = max(devCap, 4)
	return &NetDev{Devices: make([]NetDevStats, 0, devCap), names: make(map[string]string, internNames),
		arena: make([]byte, 0, internBytes)}
}

// Device returns the statistics of the named device from the last sample.
func (n *NetDev) Device(name string) (*NetDevStats, bool) {
	for i := range n.Devices {
		if n.Devices[i].Name == name {
			return &n.Devices[i], true
		}
	}
	return nil, false
}

func (n *NetDev) intern(b []byte) string {
	if s, ok := n.names[string(b)]; ok {
		return s
	}
	if n.names == nil {
		n.names = make(map[string]string)
	}
	var s string
	if len(b) > 0 && len(n.names) < internNames && len(n.arena)+len(b) <= cap(n.arena) {
		// The arena never grows (capacity checked), so earlier names stay
		// where they are.
		at := len(n.arena)
		n.arena = append(n.arena, b...)
		s = unsafe.String(&n.arena[at], len(b))
	} else {
		s = string(b) // beyond the bounds: one allocation, once per name
	}
	n.names[s] = s
	return s
}

// ParseNetDev parses /proc/net/dev into dst. The two header lines are
// checked loosely (they must contain '|'). Every device line must have a
// name, a colon and exactly 16 decimal counters; anything shorter or
// non-numeric is an error (never a panic). Names are interned into storage
// made by NewNetDev, so neither steady state nor a device never seen before
// allocates (up to internNames names); growing dst.Devices beyond its
// capacity does.
func ParseNetDev(data []byte, dst *NetDev) error {
	const file = "/proc/net/dev"
	if err := checkComplete(file, data); err != nil {
		return err
	}
	dst.Devices = dst.Devices[:0]
	for i := 1; i <= 2; i++ {
		var line []byte
		line, data = nextLine(data)
		if bytes.IndexByte(line, '|') < 0 {
			return parseError(file, i, "missing header line", line)
		}
	}
	for lines := (lineScanner{rest: data, n: 2}); lines.scan(); {
		line, lineNo := lines.line, lines.n
		// Device names cannot contain ':' (dev_valid_name), and old kernels
		// print "eth0:123" without a blank, so split at the first colon.
		name, counters, err := splitKey(file, lineNo, line, "device line without colon", "empty device name")
		if err != nil {
			return err
		}
		var v [16]uint64
		n := 0
		for f, r := nextField(counters); len(f) > 0; f, r = nextField(r) {
			if n == len(v) {
				return parseError(file, lineNo, "more than 16 counters", line)
			}
			x, ok := parseDec(f)
			if !ok {
				return parseError(file, lineNo, "counter is not a decimal number", f)
			}
			v[n] = x
			n++
		}
		if n != len(v) {
			return parseError(file, lineNo, "fewer than 16 counters", line)
		}
		dst.Devices = append(dst.Devices, NetDevStats{
			Name:    dst.intern(name),
			RxBytes: v[0], RxPackets: v[1], RxErrs: v[2], RxDrop: v[3],
			RxFifo: v[4], RxFrame: v[5], RxCompressed: v[6], RxMulticast: v[7],
			TxBytes: v[8], TxPackets: v[9], TxErrs: v[10], TxDrop: v[11],
			TxFifo: v[12], TxColls: v[13], TxCarrier: v[14], TxCompressed: v[15],
		})
	}
	return nil
}

// NetDevReader reads ROOT/proc/net/dev through a kept descriptor. The
// descriptor pins the network namespace of the thread that opened it.
type NetDevReader struct {
	f    *procFile
	devs int
}

// NewNetDevReader opens ROOT/proc/net/dev (root "" means "/").
func NewNetDevReader(root string) (*NetDevReader, error) {
	f, devs, err := openCounted(hostPath(root, "proc/net/dev"), 0)
	if err != nil {
		return nil, err
	}
	return &NetDevReader{f: f, devs: devs}, nil
}

// NewSample returns a NetDev with room for twice the devices present at
// construction, warmed up by one read so that its names are interned.
func (r *NetDevReader) NewSample() *NetDev {
	s := NewNetDev(2*r.devs + 4)
	_ = r.ReadInto(s) // warm-up only
	return s
}

// ReadInto reads and parses the file into dst (see ParseNetDev for the
// allocation contract).
func (r *NetDevReader) ReadInto(dst *NetDev) error { return readParse(r.f, dst, ParseNetDev) }

// Close closes the kept descriptor.
func (r *NetDevReader) Close() error { return r.f.Close() }
