package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// errNoFigure means a tool's output lacks the line a figure is read from:
// the tool failed, or its output format changed.
var errNoFigure = errors.New("figure not found in the output")

// tcpdumpStats is what tcpdump prints on stderr when it stops.
type tcpdumpStats struct {
	Captured, Received, KernelDropped uint64
}

var (
	tcpdumpCapturedRe = regexp.MustCompile(`(?m)^(\d+) packets? captured$`)
	tcpdumpReceivedRe = regexp.MustCompile(`(?m)^(\d+) packets? received by filter$`)
	tcpdumpDroppedRe  = regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel$`)
)

// parseTcpdump reads tcpdump's closing statistics ("N packets captured",
// "N packets received by filter", "N packets dropped by kernel").
func parseTcpdump(stderr string) (tcpdumpStats, error) {
	var s tcpdumpStats
	for _, f := range []struct {
		re  *regexp.Regexp
		dst *uint64
	}{{tcpdumpCapturedRe, &s.Captured}, {tcpdumpReceivedRe, &s.Received}, {tcpdumpDroppedRe, &s.KernelDropped}} {
		m := f.re.FindStringSubmatch(stderr)
		if m == nil {
			return s, fmt.Errorf("tcpdump: %q: %w", f.re.String(), errNoFigure)
		}
		var err error
		if *f.dst, err = strconv.ParseUint(m[1], 10, 64); err != nil {
			return s, fmt.Errorf("tcpdump: %w", err)
		}
	}
	return s, nil
}

// dumpcapStats is dumpcap's closing line "Packets received/dropped on
// interface 'X': R/D (P)": R = pdump's accepted + filtered, D = nombuf
// (no mbuf in dumpcap's pool for the copy) + ringfull.
type dumpcapStats struct {
	Received, Dropped uint64
}

var dumpcapStatsRe = regexp.MustCompile(`Packets received/dropped on interface '[^']*': (\d+)/(\d+)`)

// parseDumpcap reads dumpcap's closing statistics line.
func parseDumpcap(stderr string) (dumpcapStats, error) {
	m := dumpcapStatsRe.FindStringSubmatch(stderr)
	if m == nil {
		return dumpcapStats{}, fmt.Errorf("dumpcap: no \"Packets received/dropped\" line: %w", errNoFigure)
	}
	r, err1 := strconv.ParseUint(m[1], 10, 64)
	d, err2 := strconv.ParseUint(m[2], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return dumpcapStats{}, fmt.Errorf("dumpcap: %w", err)
	}
	return dumpcapStats{Received: r, Dropped: d}, nil
}

// parseCapinfosCount reads `capinfos -c -M -T -r FILE...`: one line per
// file, "NAME<TAB>COUNT"; it returns the sum.
func parseCapinfosCount(out string) (uint64, error) {
	var n uint64
	lines := 0
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			return 0, fmt.Errorf("capinfos: line %q: want NAME<TAB>COUNT: %w", line, errNoFigure)
		}
		k, err := strconv.ParseUint(strings.TrimSpace(f[1]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("capinfos: %w", err)
		}
		n += k
		lines++
	}
	if lines == 0 {
		return 0, fmt.Errorf("capinfos: no line: %w", errNoFigure)
	}
	return n, nil
}

// parseFio returns the write bandwidth (bytes/s) of fio's JSON output,
// summed over its jobs.
func parseFio(out []byte) (float64, error) {
	// fio may print notes before the JSON.
	if i := strings.IndexByte(string(out), '{'); i > 0 {
		out = out[i:]
	}
	var r struct {
		Jobs []struct {
			Write struct {
				BwBytes float64 `json:"bw_bytes"`
			} `json:"write"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, fmt.Errorf("fio: %w", err)
	}
	var bw float64
	for _, j := range r.Jobs {
		bw += j.Write.BwBytes
	}
	if bw <= 0 {
		return 0, fmt.Errorf("fio: no write bandwidth: %w", errNoFigure)
	}
	return bw, nil
}

var ddRe = regexp.MustCompile(`(?m)^(\d+) bytes .* copied, ([0-9.]+) s,`)

// parseDD returns the bandwidth (bytes/s) from dd's closing line
// ("1073741824 bytes (1.1 GB, 1.0 GiB) copied, 0.55 s, 1.9 GB/s"),
// computed from the bytes and seconds rather than dd's rounded rate.
func parseDD(stderr string) (float64, error) {
	m := ddRe.FindStringSubmatch(stderr)
	if m == nil {
		return 0, fmt.Errorf("dd: no \"bytes … copied\" line: %w", errNoFigure)
	}
	b, err1 := strconv.ParseFloat(m[1], 64)
	s, err2 := strconv.ParseFloat(m[2], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("dd: %w", err)
	}
	if s <= 0 || b <= 0 {
		return 0, fmt.Errorf("dd: %g bytes in %g s: %w", b, s, errNoFigure)
	}
	return b / s, nil
}

// genReport is the part of `rxprobe gen --report` the harness reads
// (rx.GenReport; not imported, that would link DPDK).
type genReport struct {
	Size        int     `json:"size"`
	Sent        uint64  `json:"sent"`
	TXDropped   uint64  `json:"tx_dropped"`
	DurationS   float64 `json:"duration_s"`
	AchievedPPS float64 `json:"achieved_pps"`
}

func parseGenReport(b []byte) (genReport, error) {
	var g genReport
	if err := json.Unmarshal(b, &g); err != nil {
		return g, fmt.Errorf("gen report: %w", err)
	}
	if g.DurationS <= 0 {
		return g, fmt.Errorf("gen report: sent %d in %g s: %w", g.Sent, g.DurationS, errNoFigure)
	}
	return g, nil
}
