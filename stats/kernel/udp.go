package kernel

import (
	"bytes"
	"encoding/binary"
)

// UDPSocket is one socket line of /proc/net/udp or /proc/net/udp6.
type UDPSocket struct {
	// LocalAddr holds the local address in network byte order: the first 4
	// bytes for IPv4, all 16 for IPv6 (AddrLen tells which).
	LocalAddr [16]byte
	AddrLen   uint8
	LocalPort uint16
	TxQueue   uint64
	RxQueue   uint64
	Inode     uint64
	Drops     uint64
}

// UDPSockets is a parsed /proc/net/udp (or udp6) sample.
type UDPSockets struct {
	// Drops is the sum of the drops column over all sockets.
	Drops uint64
	// Count is the number of socket lines.
	Count int
	// Sockets lists the first cap(Sockets) sockets; it stays empty when the
	// value was made without per-socket capacity. Parsing never grows it.
	Sockets []UDPSocket
	// Truncated is set when there were more sockets than cap(Sockets) > 0.
	Truncated bool
}

// NewUDPSockets returns a UDPSockets that lists up to perSocket sockets
// (0: totals only).
func NewUDPSockets(perSocket int) *UDPSockets {
	return &UDPSockets{Sockets: make([]UDPSocket, 0, max(perSocket, 0))}
}

// ParseUDP parses /proc/net/udp or /proc/net/udp6 into dst. Each socket line
// must have the 13 columns of udp4_format_sock/udp6_sock_seq_show (sl,
// local, remote, st, tx:rx queue, tr:when, retrnsmt, uid, timeout, inode,
// ref, pointer, drops). It never allocates.
func ParseUDP(data []byte, dst *UDPSockets) error {
	const file = "/proc/net/udp"
	if err := checkComplete(file, data); err != nil {
		return err
	}
	dst.Drops, dst.Count, dst.Truncated = 0, 0, false
	dst.Sockets = dst.Sockets[:0]
	header, data := nextLine(data)
	if !bytes.Contains(header, []byte("local_address")) {
		return parseError(file, 1, "missing header line", header)
	}
	for lines := (lineScanner{rest: data, n: 1}); lines.scan(); {
		line, lineNo := lines.line, lines.n
		var f [13][]byte
		n := 0
		for x, r := nextField(line); len(x) > 0; x, r = nextField(r) {
			if n < len(f) {
				f[n] = x
			}
			n++
		}
		if n < len(f) {
			return parseError(file, lineNo, "fewer than 13 columns", line)
		}
		drops, ok := parseDec(f[12])
		if !ok {
			return parseError(file, lineNo, "drops is not a decimal number", f[12])
		}
		dst.Drops += drops
		dst.Count++
		if cap(dst.Sockets) == 0 {
			continue
		}
		if len(dst.Sockets) == cap(dst.Sockets) {
			dst.Truncated = true
			continue
		}
		var s UDPSocket
		if !parseSockAddr(f[1], &s) {
			return parseError(file, lineNo, "bad local address", f[1])
		}
		tx, rx, ok := cutHex(f[4])
		if !ok {
			return parseError(file, lineNo, "bad tx_queue:rx_queue", f[4])
		}
		inode, ok := parseDec(f[9])
		if !ok {
			return parseError(file, lineNo, "bad inode", f[9])
		}
		s.TxQueue, s.RxQueue, s.Inode, s.Drops = tx, rx, inode, drops
		dst.Sockets = append(dst.Sockets, s) // within capacity: no allocation
	}
	return nil
}

// cutHex parses "HEX:HEX".
func cutHex(b []byte) (a, c uint64, ok bool) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return 0, 0, false
	}
	a, ok1 := parseHex(b[:i])
	c, ok2 := parseHex(b[i+1:])
	return a, c, ok1 && ok2
}

// parseSockAddr parses "0100007F:0035" (IPv4) or 32 hex digits ":PORT"
// (IPv6). The kernel prints each 32-bit word of the address as a host-order
// integer, so each word is stored back in native byte order to recover the
// network-order bytes.
func parseSockAddr(b []byte, s *UDPSocket) bool {
	i := bytes.IndexByte(b, ':')
	if i < 0 || (i != 8 && i != 32) {
		return false
	}
	port, ok := parseHex(b[i+1:])
	if !ok || port > 0xffff {
		return false
	}
	for w := 0; w < i/8; w++ {
		v, ok := parseHex(b[w*8 : w*8+8])
		if !ok {
			return false
		}
		binary.NativeEndian.PutUint32(s.LocalAddr[w*4:], uint32(v))
	}
	s.AddrLen = uint8(i / 2)
	s.LocalPort = uint16(port)
	return true
}

// UDPFile names one of the UDP socket tables.
type UDPFile string

// The UDP socket tables, relative to the host root.
const (
	UDP4 UDPFile = "proc/net/udp"
	UDP6 UDPFile = "proc/net/udp6"
)

// UDPReader reads a UDP socket table through a kept descriptor. The file
// grows with the number of sockets: the buffer is sized at construction to
// at least 64 KiB and twice the current size, and ReadInto returns
// ErrBufferFull (without allocating) if the table outgrows it.
type UDPReader struct{ f *procFile }

// NewUDPReader opens ROOT/<file> (root "" means "/").
func NewUDPReader(root string, file UDPFile) (*UDPReader, error) {
	f, err := openProcFile(hostPath(root, string(file)), 64<<10)
	if err != nil {
		return nil, err
	}
	return &UDPReader{f: f}, nil
}

// ReadInto reads and parses the table into dst without allocating.
func (r *UDPReader) ReadInto(dst *UDPSockets) error { return readParse(r.f, dst, ParseUDP) }

// Close closes the kept descriptor.
func (r *UDPReader) Close() error { return r.f.Close() }
