package ndr

import (
	"fmt"
	"strconv"
	"strings"
)

// WireOverhead is the bytes each frame takes on the wire beyond its own
// length: 7 B preamble, 1 B start-of-frame delimiter, 12 B inter-frame gap.
const WireOverhead = 20

// MixEntry is one frame length of a mix and its weight.
type MixEntry struct {
	Bytes  int `json:"bytes"`
	Weight int `json:"weight"`
}

// FrameSize is a frame length (FCS included, RFC 2544) or a mix of them.
type FrameSize struct {
	// Name is "64" … "1518" or "imix".
	Name string `json:"name"`
	// Mix lists the lengths sent and their weights; one entry for a
	// fixed size.
	Mix []MixEntry `json:"mix"`
}

// IMIX is the simple IMIX: 64, 594 and 1518 B frames in the ratio 7:4:1.
var IMIX = FrameSize{Name: "imix", Mix: []MixEntry{{64, 7}, {594, 4}, {1518, 1}}}

// DefaultFrameSizes are RFC 2544's Ethernet sizes plus the IMIX.
const DefaultFrameSizes = "64,128,256,512,1024,1280,1518,imix"

// Frame sizes accepted (Ethernet, FCS included; 9018 for jumbo frames).
const (
	MinFrame = 64
	MaxFrame = 9018
)

// Fixed is a single frame length.
func Fixed(n int) FrameSize {
	return FrameSize{Name: strconv.Itoa(n), Mix: []MixEntry{{n, 1}}}
}

// AvgBytes is the mean frame length of the mix.
func (f FrameSize) AvgBytes() float64 {
	var sum, w float64
	for _, m := range f.Mix {
		sum += float64(m.Bytes * m.Weight)
		w += float64(m.Weight)
	}
	if w == 0 {
		return 0
	}
	return sum / w
}

// WireBytes is the mean bytes a frame takes on the wire (AvgBytes + 20).
func (f FrameSize) WireBytes() float64 { return f.AvgBytes() + WireOverhead }

// LineRatePPS is the frame rate that fills a link of gbps Gbit/s.
func (f FrameSize) LineRatePPS(gbps float64) float64 {
	return gbps * 1e9 / (8 * f.WireBytes())
}

// Gbps is the wire rate of pps frames per second, 20 B overhead included.
func (f FrameSize) Gbps(pps float64) float64 { return pps * 8 * f.WireBytes() / 1e9 }

// String is the size's name with its unit ("64B", "imix").
func (f FrameSize) String() string {
	if len(f.Mix) == 1 {
		return f.Name + "B"
	}
	return f.Name
}

// ParseFrameSizes parses a comma-separated list ("64,128,imix").
func ParseFrameSizes(s string) ([]FrameSize, error) {
	var out []FrameSize
	seen := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		var fs FrameSize
		switch {
		case strings.EqualFold(f, "imix"):
			fs = IMIX
		default:
			n, err := strconv.Atoi(strings.TrimSuffix(f, "B"))
			if err != nil || n < MinFrame || n > MaxFrame {
				return nil, fmt.Errorf("%w: frame size %q: want a length in bytes from %d to %d (FCS included) or imix",
					ErrInvalid, f, MinFrame, MaxFrame)
			}
			fs = Fixed(n)
		}
		if seen[fs.Name] {
			return nil, fmt.Errorf("%w: frame size %s listed twice: list each once", ErrInvalid, fs.Name)
		}
		seen[fs.Name] = true
		out = append(out, fs)
	}
	return out, nil
}
