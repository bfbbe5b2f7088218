package hostfs

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePCIAddr(t *testing.T) {
	tests := []struct {
		name, in, want string
		why            string // substring of the error; "" means valid
	}{
		{name: "full lower", in: "0000:3b:00.0", want: "0000:3b:00.0"},
		{name: "no domain", in: "3b:00.0", want: "0000:3b:00.0"},
		{name: "upper hex", in: "0000:3B:00.1", want: "0000:3b:00.1"},
		{name: "upper hex no domain", in: "AF:1F.7", want: "0000:af:1f.7"},
		{name: "other domain", in: "0001:00:02.0", want: "0001:00:02.0"},
		{name: "VMD domain", in: "10000:e1:00.0", want: "10000:e1:00.0"},
		{name: "empty", in: "", why: "no '.'"},
		{name: "no function", in: "0000:3b:00", why: "no '.'"},
		{name: "function 8", in: "3b:00.8", why: "function is one digit 0 to 7"},
		{name: "function hex", in: "3b:00.a", why: "function is one digit 0 to 7"},
		{name: "device too big", in: "3b:20.0", why: "device is at most 1f"},
		{name: "short bus", in: "3:00.0", why: "bus is not two hex digits"},
		{name: "short device", in: "3b:0.0", why: "device is not two hex digits"},
		{name: "short domain", in: "000:3b:00.0", why: "domain has 4 to 8"},
		{name: "long domain", in: "000000000:3b:00.0", why: "domain has 4 to 8"},
		{name: "not hex", in: "0000:3g:00.0", why: "bus is not two hex digits"},
		{name: "sign", in: "+000:3b:00.0", why: "domain is not hex"},
		{name: "too many parts", in: "0:0000:3b:00.0", why: "[domain:]bus:device.function"},
		{name: "path escape", in: "0000:3b:00.0/../x", why: "function is one digit"},
		{name: "vdev", in: "net_null0", why: "no '.'"},
		{name: "spaces", in: " 3b:00.0", why: "bus is not two hex digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParsePCIAddr(tt.in)
			if tt.why != "" {
				if !errors.Is(err, ErrBadPCIAddr) || !strings.Contains(err.Error(), tt.why) {
					t.Fatalf("ParsePCIAddr(%q) = %v, %v; want an ErrBadPCIAddr saying %q", tt.in, a, err, tt.why)
				}
				if !strings.Contains(err.Error(), "write 0000:3b:00.0 or 3b:00.0") {
					t.Errorf("error %q does not show the accepted forms", err)
				}
				if IsPCIAddr(tt.in) {
					t.Errorf("IsPCIAddr(%q) = true", tt.in)
				}
				return
			}
			if err != nil || a.String() != tt.want {
				t.Fatalf("ParsePCIAddr(%q) = %v, %v; want %s", tt.in, a, err, tt.want)
			}
			if c, err := CanonicalPCI(tt.in); err != nil || c != tt.want || !IsPCIAddr(tt.in) {
				t.Errorf("CanonicalPCI(%q) = %q, %v", tt.in, c, err)
			}
		})
	}
}

// FuzzParsePCIAddr checks that every accepted address prints in a
// canonical form that parses back to itself.
func FuzzParsePCIAddr(f *testing.F) {
	for _, s := range []string{"0000:3b:00.0", "3B:00.0", "10000:e1:1f.7", "3b:20.0", "0:0:0.0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParsePCIAddr(s)
		if err != nil {
			if !errors.Is(err, ErrBadPCIAddr) {
				t.Fatalf("ParsePCIAddr(%q): error %v does not wrap ErrBadPCIAddr", s, err)
			}
			return
		}
		c := a.String()
		b, err := ParsePCIAddr(c)
		if err != nil || b != a || b.String() != c {
			t.Fatalf("ParsePCIAddr(%q) = %v, canonical %q parses to %v, %v", s, a, c, b, err)
		}
		if len(s) == len("3b:00.0") && c != "0000:"+strings.ToLower(s) {
			t.Fatalf("short form %q became %q, want domain 0000", s, c)
		}
	})
}
