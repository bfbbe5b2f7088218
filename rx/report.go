package rx

import "github.com/rxprobe/rxprobe/internal/run/report"

// Report is the run report.
//
// Deprecated: use report.Report (internal/run/report). Kept only until
// cmd/rxprobe/demo.go reads the report from there.
type Report = report.Report

// ReadKernelCounters reads the RX counters of p's kernel interface now
// (OK false for a port without one, or when they cannot be read). It
// allocates: call it at start and stop only.
func (e *Engine) ReadKernelCounters(p *Port) NetdevCounters { return readNetdev(e.hostRoot, p.Iface) }
