package main

import (
	"context"
	"fmt"
	"math"
)

// trial is one capture run at one offered rate: what the generator sent
// and what the tool wrote, and the drops the tool itself counted.
type trial struct {
	Kind      string  `json:"kind,omitempty"` // in the rounds: "zero-drop" (at the search's rate) or "overload"
	Tool      string  `json:"tool"`
	Size      int     `json:"size"`
	Target    string  `json:"target"`
	AskedPPS  float64 `json:"asked_pps"`
	Offered   uint64  `json:"offered"`     // the generator's sent
	OfferedPS float64 `json:"offered_pps"` // sent / the generator's duration
	Seconds   float64 `json:"seconds"`
	Written   uint64  `json:"written"`      // packets in the files
	ToolDrops uint64  `json:"tool_dropped"` // drops the tool counted (capture_ring + disk_dropped, dumpcap's ifdrop, tcpdump's kernel drops)
	Bytes     uint64  `json:"bytes_written"`
	Note      string  `json:"note,omitempty"`
}

// ZeroDrop is the harness's criterion: the tool counted no drop and
// wrote every packet offered.
func (t trial) ZeroDrop() bool { return t.ToolDrops == 0 && t.Written == t.Offered && t.Offered > 0 }

// DropPct is the share of the offered packets not written (0 for none
// offered).
func (t trial) DropPct() float64 {
	if t.Offered == 0 || t.Written >= t.Offered {
		return 0
	}
	return 100 * float64(t.Offered-t.Written) / float64(t.Offered)
}

// MBps is the bytes written per second of offered traffic (MB = 10^6 B).
func (t trial) MBps() float64 {
	if t.Seconds <= 0 {
		return 0
	}
	return float64(t.Bytes) / t.Seconds / 1e6
}

// searchResult is the outcome of a zero-drop search.
type searchResult struct {
	// Rate is the highest rate (pps) that had zero drops (0: none did):
	// the rate asked, or what the generator really offered when that was
	// less (a feed that cannot go faster is not the tool's figure); Fail
	// the lowest asked rate that had drops (0: none did).
	Rate, Fail float64
	// Best is the trial at Rate (zero value when none passed).
	Best   trial
	Trials []trial
}

// Bounds says how the result is bounded: "≥" when even the highest rate
// tried passed, "<" when even the lowest failed, "" in between.
func (r searchResult) Bound() string {
	switch {
	case r.Fail == 0 && r.Rate > 0:
		return "≥"
	case r.Rate == 0:
		return "<"
	}
	return ""
}

// Figure is the rate as the tables print it: "≥400000" (kept up at the
// top), "<10000" (dropped at the bottom), or "123385".
func (r searchResult) Figure() string {
	if r.Rate == 0 {
		return fmt.Sprintf("<%.0f", r.Fail)
	}
	return fmt.Sprintf("%s%.0f", r.Bound(), r.Rate)
}

// search finds the highest rate in [lo, hi] at which run has zero drops:
// hi first (a tool that keeps up there needs no search), then lo, then
// steps geometric bisections between the highest passing and the lowest
// failing rate. The resolution is (hi/lo)^(1/2^steps).
func search(ctx context.Context, lo, hi float64, steps int, run func(ctx context.Context, pps float64) (trial, error)) (searchResult, error) {
	var r searchResult
	try := func(pps float64) (bool, error) {
		t, err := run(ctx, pps)
		if err != nil {
			return false, err
		}
		r.Trials = append(r.Trials, t)
		if t.ZeroDrop() {
			rate := pps
			if t.OfferedPS > 0 && t.OfferedPS < pps {
				rate = t.OfferedPS
			}
			if rate > r.Rate {
				r.Rate, r.Best = rate, t
			}
			return true, nil
		}
		if r.Fail == 0 || pps < r.Fail {
			r.Fail = pps
		}
		return false, nil
	}
	if lo <= 0 || hi < lo {
		return r, fmt.Errorf("search: rates %g..%g: want 0 < lo ≤ hi", lo, hi)
	}
	if ok, err := try(hi); err != nil || ok {
		return r, err
	}
	if ok, err := try(lo); err != nil || !ok {
		return r, err
	}
	for range steps {
		mid := math.Round(math.Sqrt(r.Rate * r.Fail))
		if mid <= r.Rate || mid >= r.Fail {
			break
		}
		if _, err := try(mid); err != nil {
			return r, err
		}
	}
	return r, nil
}

// goals of issue 10.
const (
	goalDumpcapRatio = 5.0 // rxprobe's 64 B zero-drop rate over dumpcap's
	goalDiskShare    = 0.9 // rxprobe's 1518 B zero-drop MB/s over the O_DIRECT bandwidth
)

// verdict is one goal judged.
type verdict struct {
	Goal   string
	Met    bool
	Figure string
	Judged bool // false: a figure is missing (a tool never passed)
}

// ratioVerdict judges rxprobe's 64 B zero-drop rate against dumpcap's on
// one target. A dumpcap that never ran without drops gives no ratio.
func ratioVerdict(target string, rxprobe, dumpcap searchResult) verdict {
	v := verdict{Goal: fmt.Sprintf("rxprobe ≥%.0f× dumpcap's 64 B zero-drop rate (%s)", goalDumpcapRatio, target)}
	switch {
	case rxprobe.Rate == 0:
		v.Figure = fmt.Sprintf("rxprobe dropped even at the lowest rate (%s pps), dumpcap %s pps", rxprobe.Figure(), dumpcap.Figure())
		v.Judged = true
	case dumpcap.Rate == 0 && rxprobe.Rate == 0:
		v.Figure = "neither tool ran without drops at the lowest rate"
	case dumpcap.Rate == 0:
		v.Figure = fmt.Sprintf("dumpcap dropped even at the lowest rate, rxprobe %s pps", rxprobe.Figure())
		v.Met, v.Judged = true, true
	default:
		ratio := rxprobe.Rate / dumpcap.Rate
		v.Figure = fmt.Sprintf("%.2f× (rxprobe %s pps, dumpcap %s pps)", ratio, rxprobe.Figure(), dumpcap.Figure())
		v.Met, v.Judged = ratio >= goalDumpcapRatio, true
		if !v.Met && rxprobe.Bound() == "≥" {
			// rxprobe kept up at the top of the search: the feed, not
			// rxprobe, set the figure; the ratio is a lower bound.
			v.Figure += "; rxprobe kept up at the highest rate tried: a lower bound"
		}
	}
	return v
}

// diskVerdict judges rxprobe's written MB/s of 1518 B frames at its
// zero-drop rate against the O_DIRECT bandwidth of the same target.
func diskVerdict(target string, held, runs int, mbps, bandwidthMBps float64) verdict {
	v := verdict{Goal: fmt.Sprintf("rxprobe 1518 B zero-drop written ≥%.1f× O_DIRECT bandwidth (%s)", goalDiskShare, target)}
	if bandwidthMBps <= 0 || runs == 0 {
		v.Figure = "bandwidth not measured, or no trial at the goal's rate"
		return v
	}
	share := mbps / bandwidthMBps
	v.Figure = fmt.Sprintf("%d/%d rounds without a drop at %.1f× the bandwidth, %.2f× written (%.0f of %.0f MB/s)", held, runs, goalDiskShare, share, mbps, bandwidthMBps)
	// offered at goalDiskShare of the bandwidth (in pcapng bytes) and
	// every packet written in every round: the capture sustained it
	v.Met, v.Judged = held == runs, true
	return v
}

// rxCostRule is the filter-placement decision from the RX cost figures
// (medians, Mpps). On the writer's core the filter would see every
// packet: each crosses the ring and the writer, so the capture of even a
// filter that keeps 1 % would lose packets above the rate the writer
// takes packets at (writer: its packets per second while saturated, in
// the capture-on-no-filter runs). On the RX core it costs the loop the
// filter (filterNone: the loop's rate with a filter that matches
// nothing) and the writer sees only the matches. The RX core wins when
// the loop filters faster than the writer takes packets.
func rxCostRule(noFilter, filterNone, writer float64) string {
	if filterNone >= writer {
		return fmt.Sprintf("RX core: the loop filters at %.2f Mpps (matching nothing), above the %.2f Mpps the writer takes packets at; on the writer's core every packet would cross the ring and the writer, so all traffic, matching or not, would be capped near %.2f Mpps (the loop alone, handing every packet over, runs %.2f Mpps)", filterNone, writer, writer, noFilter)
	}
	return fmt.Sprintf("writer core: the loop filters at only %.2f Mpps (matching nothing), below the %.2f Mpps the writer takes packets at", filterNone, writer)
}
