package hostfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadPCIAddr is wrapped by every error of ParsePCIAddr.
var ErrBadPCIAddr = errors.New("not a PCI address")

// PCIAddr is a PCI function address: domain, bus, device, function.
type PCIAddr struct {
	Domain   uint32
	Bus      uint8
	Device   uint8 // 0..0x1f
	Function uint8 // 0..7
}

// String returns the canonical form the kernel uses in sysfs:
// "0000:3b:00.0" (lower-case hex, domain at least four digits).
func (a PCIAddr) String() string {
	return fmt.Sprintf("%04x:%02x:%02x.%d", a.Domain, a.Bus, a.Device, a.Function)
}

// ParsePCIAddr parses "DDDD:BB:dd.f" or "BB:dd.f" (domain 0), hex digits in
// either case: "3b:00.0", "0000:3b:00.0" and "0000:3B:00.0" are the same
// device. The domain has 4 to 8 hex digits (VMD domains such as 10000
// have 5), bus and device 2, the device is at most 1f and the function
// 0 to 7. Anything else is an error wrapping ErrBadPCIAddr that says what
// is wrong.
func ParsePCIAddr(s string) (PCIAddr, error) {
	bad := func(why string) (PCIAddr, error) {
		return PCIAddr{}, fmt.Errorf("%q: %w: %s (write 0000:3b:00.0 or 3b:00.0)", s, ErrBadPCIAddr, why)
	}
	rest, fn, ok := strings.Cut(s, ".")
	if !ok {
		return bad("no '.' before the function")
	}
	parts := strings.Split(rest, ":")
	var a PCIAddr
	switch len(parts) {
	case 2:
	case 3:
		d := parts[0]
		if len(d) < 4 || len(d) > 8 {
			return bad("the domain has 4 to 8 hex digits")
		}
		v, err := parseHex(d, 32)
		if err != nil {
			return bad("the domain is not hex")
		}
		a.Domain = uint32(v)
		parts = parts[1:]
	default:
		return bad("want [domain:]bus:device.function")
	}
	bus, err := hex2(parts[0])
	if err != nil {
		return bad("the bus is not two hex digits")
	}
	dev, err := hex2(parts[1])
	if err != nil {
		return bad("the device is not two hex digits")
	}
	if dev > 0x1f {
		return bad("the device is at most 1f")
	}
	if len(fn) != 1 || fn[0] < '0' || fn[0] > '7' {
		return bad("the function is one digit 0 to 7")
	}
	a.Bus, a.Device, a.Function = bus, dev, fn[0]-'0'
	return a, nil
}

// CanonicalPCI returns s in canonical form ("3b:00.0" → "0000:3b:00.0"),
// or ParsePCIAddr's error.
func CanonicalPCI(s string) (string, error) {
	a, err := ParsePCIAddr(s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// IsPCIAddr reports whether s parses as a PCI address.
func IsPCIAddr(s string) bool {
	_, err := ParsePCIAddr(s)
	return err == nil
}

func hex2(s string) (uint8, error) {
	if len(s) != 2 {
		return 0, ErrBadPCIAddr
	}
	v, err := parseHex(s, 8)
	return uint8(v), err
}

// parseHex parses unsigned hex digits only (no sign, no 0x, no '_').
func parseHex(s string, bits int) (uint64, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, ErrBadPCIAddr
		}
	}
	return strconv.ParseUint(s, 16, bits)
}

// PCIDevice returns ROOT/sys/bus/pci/devices/ADDR/elem... for a parsed
// address.
func (fs FS) PCIDevice(a PCIAddr, elem ...string) string {
	return fs.Sys(append([]string{"bus/pci/devices", a.String()}, elem...)...)
}
