package pcapng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// Block types.
const (
	BlockSHB uint32 = 0x0A0D0D0A
	BlockIDB uint32 = 1
	BlockISB uint32 = 5
	BlockEPB uint32 = 6
)

// ByteOrderMagic is the SHB's byte-order magic.
const ByteOrderMagic = 0x1A2B3C4D

// Option codes used by the writer.
const (
	OptEnd           = 0
	OptSHBUserAppl   = 4
	OptIfName        = 2
	OptIfDescription = 3
	OptIfTsresol     = 9
	OptIfFilter      = 11
	OptEPBFlags      = 2
	OptEPBQueue      = 6
	OptISBStartTime  = 2
	OptISBEndTime    = 3
	OptISBIfRecv     = 4
	OptISBIfDrop     = 5
	OptISBFilterAcc  = 6
	OptISBOSDrop     = 7
	OptISBUsrDeliv   = 8
)

// LinkTypeEthernet is LINKTYPE_ETHERNET.
const LinkTypeEthernet = 1

// ErrFormat is matched (errors.Is) by every *FormatError.
var ErrFormat = errors.New("pcapng: bad format")

// FormatError is a violation of the format at Offset.
type FormatError struct {
	Offset int
	Reason string
}

func (e *FormatError) Error() string { return fmt.Sprintf("pcapng: offset %d: %s", e.Offset, e.Reason) }

// Is makes errors.Is(err, ErrFormat) true.
func (e *FormatError) Is(target error) bool { return target == ErrFormat }

// Options maps an option code to its values in order.
type Options map[uint16][][]byte

// String is the first value of code as text ("" if absent).
func (o Options) String(code uint16) string {
	if v := o[code]; len(v) > 0 {
		return string(v[0])
	}
	return ""
}

// Uint64 is the first value of code as a little-endian integer of its
// length (1, 2, 4 or 8 bytes); ok is false if absent or another length.
func (o Options) Uint64(code uint16) (uint64, bool) {
	v := o[code]
	if len(v) == 0 {
		return 0, false
	}
	switch b := v[0]; len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), true
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), true
	case 8:
		return binary.LittleEndian.Uint64(b), true
	}
	return 0, false
}

// Interface is an interface description block.
type Interface struct {
	LinkType uint16
	Snaplen  uint32
	Options  Options
}

// Packet is an enhanced packet block.
type Packet struct {
	Interface uint32
	Timestamp uint64 // in the interface's units (ns for rxprobe)
	CapLen    uint32
	OrigLen   uint32
	Data      []byte
	Options   Options
}

// Stats is an interface statistics block.
type Stats struct {
	Interface uint32
	Timestamp uint64
	Options   Options
}

// File is everything read from one file (one section).
type File struct {
	Sections   int
	SHBOptions Options
	Interfaces []Interface
	Packets    []Packet
	Stats      []Stats
	Size       int
}

// ReadFile reads and checks a whole pcapng file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pcapng: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func bad(off int, format string, a ...any) error {
	return &FormatError{Offset: off, Reason: fmt.Sprintf(format, a...)}
}

func parseOptions(b []byte, base int) (Options, error) {
	o := Options{}
	for off := 0; ; {
		if off == len(b) {
			return o, nil // options may end without opt_endofopt
		}
		if off+4 > len(b) {
			return nil, bad(base+off, "option header past the block")
		}
		code := binary.LittleEndian.Uint16(b[off:])
		n := int(binary.LittleEndian.Uint16(b[off+2:]))
		if code == OptEnd {
			if off+4 != len(b) {
				return nil, bad(base+off, "%d bytes after opt_endofopt", len(b)-off-4)
			}
			return o, nil
		}
		pad := (n + 3) &^ 3
		if off+4+pad > len(b) {
			return nil, bad(base+off, "option %d of %d bytes past the block", code, n)
		}
		o[code] = append(o[code], b[off+4:off+4+n])
		off += 4 + pad
	}
}

// Parse checks and decodes a pcapng byte stream.
func Parse(b []byte) (*File, error) {
	le := binary.LittleEndian
	f := &File{Size: len(b)}
	for off := 0; off < len(b); {
		if off+12 > len(b) {
			return nil, bad(off, "truncated block header (%d bytes left)", len(b)-off)
		}
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || n%4 != 0 || off+n > len(b) {
			return nil, bad(off, "block type %#x length %d (file has %d bytes left)", typ, n, len(b)-off)
		}
		if t := int(le.Uint32(b[off+n-4:])); t != n {
			return nil, bad(off, "block type %#x: leading length %d, trailing %d", typ, n, t)
		}
		body := b[off+8 : off+n-4]
		if typ != BlockSHB && f.Sections == 0 {
			return nil, bad(off, "block type %#x before the section header", typ)
		}
		var err error
		switch typ {
		case BlockSHB:
			if len(body) < 16 || le.Uint32(body) != ByteOrderMagic {
				return nil, bad(off, "section header without little-endian byte-order magic")
			}
			f.Sections++
			f.SHBOptions, err = parseOptions(body[16:], off+24)
		case BlockIDB:
			if len(body) < 8 {
				return nil, bad(off, "short interface block")
			}
			var i Interface
			i.LinkType, i.Snaplen = le.Uint16(body), le.Uint32(body[4:])
			i.Options, err = parseOptions(body[8:], off+16)
			f.Interfaces = append(f.Interfaces, i)
		case BlockEPB:
			if len(body) < 20 {
				return nil, bad(off, "short packet block")
			}
			var p Packet
			p.Interface = le.Uint32(body)
			p.Timestamp = uint64(le.Uint32(body[4:]))<<32 | uint64(le.Uint32(body[8:]))
			p.CapLen, p.OrigLen = le.Uint32(body[12:]), le.Uint32(body[16:])
			pad := (int(p.CapLen) + 3) &^ 3
			if 20+pad > len(body) || p.CapLen > p.OrigLen {
				return nil, bad(off, "packet caplen %d, origlen %d in a block of %d", p.CapLen, p.OrigLen, n)
			}
			if int(p.Interface) >= len(f.Interfaces) {
				return nil, bad(off, "packet on interface %d of %d", p.Interface, len(f.Interfaces))
			}
			p.Data = body[20 : 20+p.CapLen]
			p.Options, err = parseOptions(body[20+pad:], off+28+pad)
			f.Packets = append(f.Packets, p)
		case BlockISB:
			if len(body) < 12 {
				return nil, bad(off, "short statistics block")
			}
			var s Stats
			s.Interface = le.Uint32(body)
			s.Timestamp = uint64(le.Uint32(body[4:]))<<32 | uint64(le.Uint32(body[8:]))
			s.Options, err = parseOptions(body[12:], off+20)
			f.Stats = append(f.Stats, s)
		}
		if err != nil {
			return nil, err
		}
		off += n
	}
	if f.Sections == 0 {
		return nil, bad(0, "no section header")
	}
	return f, nil
}

// Time is the first value of code as a pcapng timestamp option (high 32
// bits first, as in isb_starttime and isb_endtime).
func (o Options) Time(code uint16) (uint64, bool) {
	v := o[code]
	if len(v) == 0 || len(v[0]) != 8 {
		return 0, false
	}
	le := binary.LittleEndian
	return uint64(le.Uint32(v[0]))<<32 | uint64(le.Uint32(v[0][4:])), true
}
