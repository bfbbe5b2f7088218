package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rxprobe/rxprobe/bench/internal/benchkit"
	"github.com/rxprobe/rxprobe/internal/run/report"
)

// costVariant is one RX-cost run of net_null: capture off, on without a
// filter, on with a filter.
type costVariant struct {
	Name    string
	Capture bool
	Filter  string
}

// costVariants: net_null's frames are all the same (zeros, not IP), so a
// filter can match all or none of them, never half: "not ip" matches
// every frame (the filter's cost plus every handoff), "ip" none (the
// filter's cost alone).
var costVariants = []costVariant{
	{"capture off", false, ""},
	{"capture on, no filter", true, ""},
	{"capture on, filter matching all (\"not ip\")", true, "not ip"},
	{"capture on, filter matching none (\"ip\")", true, "ip"},
}

// costRun is one variant's run.
type costRun struct {
	Variant    string  `json:"variant"`
	Round      int     `json:"round"`
	Mpps       float64 `json:"rx_mpps"`
	RingDrop   uint64  `json:"ring_dropped"`
	Written    uint64  `json:"written"`
	LoadBefore float64 `json:"load1_before"`
}

// nullCaptureConfig is the -config file (one net_null port) with the
// variant's capture section, writing to dir with a bounded ring of files.
func nullCaptureConfig(base []byte, s settings, v costVariant, dir string) string {
	cfg := strings.TrimRight(string(base), "\n") + "\n"
	if !v.Capture {
		return cfg
	}
	cfg += fmt.Sprintf("capture:\n  enabled: true\n  snaplen: %d\n  dir: %s\n  rotate_mb: 64\n  max_files: 2\n  min_free_mb: 64\n", s.Snaplen, dir)
	if v.Filter != "" {
		cfg += fmt.Sprintf("  filter: %q\n", v.Filter)
	}
	return cfg
}

// runCost runs every variant per round, in alternating order, for
// CostSeconds each, and records the RX Mpps.
func runCost(ctx context.Context, s settings, f *feed, base []byte, dir string, g *benchkit.Gate, log func(string, ...any)) ([]costRun, error) {
	var runs []costRun
	for round := 1; round <= s.Rounds; round++ {
		for _, i := range benchkit.Order(round, len(costVariants)) {
			v := costVariants[i]
			cfg, rep := f.path("null.yaml"), f.path("null.json")
			if err := os.WriteFile(cfg, []byte(nullCaptureConfig(base, s, v, dir)), 0o644); err != nil {
				return runs, err
			}
			load := benchkit.Load1()
			g.During(fmt.Sprintf("RX cost round %d %s", round, v.Name), load)
			p, err := start(ctx, syscall.SIGTERM, nil, s.Rxprobe, "run", "--config", cfg, "--report", rep, "--no-exporter",
				"--duration", fmt.Sprintf("%gs", s.CostSeconds))
			if err != nil {
				return runs, err
			}
			select {
			case err = <-p.done:
			case <-ctx.Done():
				_ = p.stop(syscall.SIGTERM)
				return runs, ctx.Err()
			case <-time.After(time.Duration(s.CostSeconds*float64(time.Second)) + 60*time.Second):
				err = p.stop(syscall.SIGTERM)
			}
			_ = emptyDir(dir)
			if err != nil {
				return runs, fmt.Errorf("RX cost %s: %w: %s", v.Name, err, tail(p.out.String()))
			}
			b, err := os.ReadFile(rep)
			if err != nil {
				return runs, err
			}
			var r report.Report
			if err := json.Unmarshal(b, &r); err != nil {
				return runs, fmt.Errorf("RX cost %s: report: %w", v.Name, err)
			}
			cr := costRun{Variant: v.Name, Round: round, Mpps: r.RXMpps, LoadBefore: load}
			if len(r.Ports) == 1 && len(r.Ports[0].Queues) == 1 && r.Ports[0].Queues[0].Capture != nil {
				c := r.Ports[0].Queues[0].Capture
				cr.RingDrop, cr.Written = c.RingDropped, c.Written
			}
			log("RX cost  round %d  %-45s %8.3f Mpps  written %d  ring dropped %d", round, v.Name, cr.Mpps, cr.Written, cr.RingDrop)
			runs = append(runs, cr)
		}
	}
	return runs, nil
}

// costMedians are the median Mpps per variant, in costVariants' order.
func costMedians(runs []costRun) []benchkit.Spread {
	out := make([]benchkit.Spread, len(costVariants))
	for i, v := range costVariants {
		var xs []float64
		for _, r := range runs {
			if r.Variant == v.Name {
				xs = append(xs, r.Mpps)
			}
		}
		out[i] = benchkit.SpreadOf(xs)
	}
	return out
}

// writerMpps is the writer's packet rate while saturated: written packets
// per second of the capture-on, no-filter runs (net_null offers far more
// than one writer encodes).
func writerMpps(runs []costRun, seconds float64) benchkit.Spread {
	var xs []float64
	for _, r := range runs {
		if r.Variant == costVariants[1].Name && seconds > 0 {
			xs = append(xs, float64(r.Written)/seconds/1e6)
		}
	}
	return benchkit.SpreadOf(xs)
}
