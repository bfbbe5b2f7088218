package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Options are what a run needs beyond the config.
type Options struct {
	// HostRoot is where /proc and /sys are read ("" or "/": this host).
	HostRoot string
	// StatusFD receives the live status line once per second (-1: none);
	// with StatusTTY the line is rewritten in place and ended with a
	// newline at stop.
	StatusFD  int
	StatusTTY bool
	// ReadyFile, when set, is written with the EAL file prefix once the
	// loops run, and removed when the run ends.
	ReadyFile string
	// Build names this binary in the report and in rxprobe_build_info.
	Build Build
	// Degraded are the caller's own entries for the report's degraded
	// list (for example: a hidden test option is in use).
	Degraded []string
	// Debug are the hidden benchmark and test switches.
	Debug Debug
	// TrialAPI, when Addr is set, starts `rxprobe trial-api` as a child
	// on the run's segment (the caller has checked it with
	// trialapi.CheckListen).
	TrialAPI TrialAPI
	// Log receives progress lines and warnings (nil: os.Stderr).
	Log io.Writer
}

// TrialAPI is where the trial API child listens.
type TrialAPI struct {
	Addr      string
	Public    bool
	TokenFile string
}

// Build is this binary's version and commit.
type Build struct {
	Version, Commit string
}

// Debug are switches for benchmarks and tests; a production run sets none.
type Debug struct {
	// StdioReads makes every kernel file read also map and unmap a page,
	// as glibc's stdio did (the observer benchmark's bad baseline).
	StdioReads bool
	// NoStats runs without stats thread, exporter or watcher (the
	// observer benchmark's baseline).
	NoStats bool
	// InProcessMetrics serves /metrics from inside the RX process with the
	// GC on, instead of the exporter process (shows why it is separate).
	InProcessMetrics bool
	// MunmapHz > 0 starts a thread that maps and unmaps a page this many
	// times a second: a planted fault for the guard's tests.
	MunmapHz int
	// CaptureSlowWriter > 0 makes every capture writer sleep this long
	// after each burst: slows the writer on purpose (ring-full drops, or
	// few enough packets for a test to read the files back).
	CaptureSlowWriter time.Duration
	// RXPacePPS > 0 runs the paced RX loop variant: each loop asks its
	// port for at most this many packets a second (net_null ports only: a
	// rate-controlled source for the capture benchmark). Command line
	// only, never from a config file.
	RXPacePPS uint64
}

// MaxRXPacePPS bounds Debug.RXPacePPS: above it the pace does not limit
// what one loop receives from net_null.
const MaxRXPacePPS = 100_000_000

func (o *Options) log() io.Writer {
	if o.Log == nil {
		return os.Stderr
	}
	return o.Log
}

// MaxMunmapHz bounds Debug.MunmapHz: the planted thread's ticker needs a
// positive interval, and beyond 10 000 a second the fault thread only
// burns its housekeeping CPU (the README's planted fault uses 200).
const MaxMunmapHz = 10000

// ErrDebug is matched (errors.Is) by every error of Debug.Check.
var ErrDebug = errors.New("bad test option")

type debugError struct{ msg string }

func (e *debugError) Error() string        { return e.msg }
func (e *debugError) Is(target error) bool { return target == ErrDebug }

// Check rejects values and combinations of the switches that cannot work,
// in one line naming the command-line option; Run calls it before
// anything starts.
func (d Debug) Check() error {
	if d.MunmapHz < 0 || d.MunmapHz > MaxMunmapHz {
		return &debugError{fmt.Sprintf("--debug-munmap-hz %d: give 1 to %d maps and unmaps a second (0: off)", d.MunmapHz, MaxMunmapHz)}
	}
	if d.CaptureSlowWriter < 0 || d.CaptureSlowWriter > time.Second {
		return &debugError{fmt.Sprintf("--debug-capture-slow-writer %v: give 1µs to 1s (0: off)", d.CaptureSlowWriter)}
	}
	if d.RXPacePPS > MaxRXPacePPS {
		return &debugError{fmt.Sprintf("--debug-rx-pace-pps %d: give 1 to %d packets a second (0: off)", d.RXPacePPS, MaxRXPacePPS)}
	}
	if d.NoStats && d.InProcessMetrics {
		return &debugError{"--debug-no-stats and --metrics-inprocess: without the stats thread there is nothing to serve; give one of them"}
	}
	if d.NoStats && d.StdioReads {
		return &debugError{"--debug-no-stats and --debug-stdio-reads: stdio reads are the stats thread's; give one of them"}
	}
	return nil
}

// Degraded returns one line for the report's degraded list per switch in
// use: each makes the run unlike a production one on purpose.
func (d Debug) Degraded() []string {
	var out []string
	if d.StdioReads {
		out = append(out, "test option --debug-stdio-reads: every kernel file read maps and unmaps a page (TLB shootdowns on the RX CPUs)")
	}
	if d.NoStats {
		out = append(out, "test option --debug-no-stats: no stats thread, no guard, no exporter, no watcher")
	}
	if d.InProcessMetrics {
		out = append(out, "test option --metrics-inprocess: /metrics served inside the RX process with the GC on")
	}
	if d.MunmapHz > 0 {
		out = append(out, fmt.Sprintf("test option --debug-munmap-hz %d: a planted thread maps and unmaps a page %d times a second", d.MunmapHz, d.MunmapHz))
	}
	if d.CaptureSlowWriter > 0 {
		out = append(out, fmt.Sprintf("test option --debug-capture-slow-writer %v: capture writers sleep this long after every burst", d.CaptureSlowWriter))
	}
	if d.RXPacePPS > 0 {
		out = append(out, fmt.Sprintf("test option --debug-rx-pace-pps %d: the RX loops ask net_null for at most %d packets a second", d.RXPacePPS, d.RXPacePPS))
	}
	return out
}
