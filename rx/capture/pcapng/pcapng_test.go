package pcapng

import (
	"encoding/binary"
	"errors"
	"testing"
)

// block builds one block of type typ around body (padded to 4).
func block(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func option(code uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func sample() []byte {
	shb := binary.LittleEndian.AppendUint32(nil, ByteOrderMagic)
	shb = append(shb, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	shb = append(shb, option(OptSHBUserAppl, []byte("rxprobe"))...)
	shb = append(shb, 0, 0, 0, 0)
	idb := []byte{LinkTypeEthernet, 0, 0, 0, 200, 0, 0, 0}
	idb = append(idb, option(OptIfTsresol, []byte{9})...)
	idb = append(idb, 0, 0, 0, 0)
	epb := binary.LittleEndian.AppendUint32(nil, 0)
	epb = binary.LittleEndian.AppendUint32(epb, 1)
	epb = binary.LittleEndian.AppendUint32(epb, 2)
	epb = binary.LittleEndian.AppendUint32(epb, 3)
	epb = binary.LittleEndian.AppendUint32(epb, 60)
	epb = append(epb, 0xaa, 0xbb, 0xcc, 0)
	epb = append(epb, option(OptEPBQueue, []byte{7, 0, 0, 0})...)
	isb := make([]byte, 12)
	isb = append(isb, option(OptISBUsrDeliv, binary.LittleEndian.AppendUint64(nil, 1))...)
	isb = append(isb, option(OptISBStartTime, []byte{1, 0, 0, 0, 2, 0, 0, 0})...)
	var out []byte
	for _, b := range [][]byte{block(BlockSHB, shb), block(BlockIDB, idb), block(BlockEPB, epb), block(BlockISB, isb)} {
		out = append(out, b...)
	}
	return out
}

func TestParse(t *testing.T) {
	f, err := Parse(sample())
	if err != nil {
		t.Fatal(err)
	}
	if f.SHBOptions.String(OptSHBUserAppl) != "rxprobe" || len(f.Interfaces) != 1 || f.Interfaces[0].Snaplen != 200 {
		t.Errorf("header: %+v", f)
	}
	p := f.Packets[0]
	if p.Timestamp != 1<<32|2 || p.CapLen != 3 || p.OrigLen != 60 || string(p.Data) != "\xaa\xbb\xcc" {
		t.Errorf("packet: %+v", p)
	}
	if q, ok := p.Options.Uint64(OptEPBQueue); !ok || q != 7 {
		t.Errorf("epb_queue %d %v", q, ok)
	}
	if d, _ := f.Stats[0].Options.Uint64(OptISBUsrDeliv); d != 1 {
		t.Errorf("isb_usrdeliv %d", d)
	}
	if ts, _ := f.Stats[0].Options.Time(OptISBStartTime); ts != 1<<32|2 {
		t.Errorf("isb_starttime %#x", ts)
	}
}

func TestParseRejectsBrokenFiles(t *testing.T) {
	good := sample()
	shbLen := int(binary.LittleEndian.Uint32(good[4:]))
	for name, edit := range map[string]func([]byte) []byte{
		"truncated":         func(b []byte) []byte { return b[:len(b)-2] },
		"trailing mismatch": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"no section":        func(b []byte) []byte { return b[shbLen:] },
		"big endian":        func(b []byte) []byte { copy(b[8:], []byte{0x1a, 0x2b, 0x3c, 0x4d}); return b },
		"caplen past block": func(b []byte) []byte {
			off := len(b) - int(binary.LittleEndian.Uint32(b[len(b)-4:])) // ISB start
			epb := off - int(binary.LittleEndian.Uint32(b[off-4:]))       // EPB start
			binary.LittleEndian.PutUint32(b[epb+20:], 1000)               // caplen
			binary.LittleEndian.PutUint32(b[epb+24:], 2000)               // origlen
			return b
		},
	} {
		b := edit(append([]byte(nil), good...))
		if _, err := Parse(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample())
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err == nil && file.Sections == 0 {
			t.Error("accepted a stream without a section header")
		}
	})
}
