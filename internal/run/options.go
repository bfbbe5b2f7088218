package run

import (
	"io"
	"os"
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
	// Log receives progress lines and warnings (nil: os.Stderr).
	Log io.Writer
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
}

func (o *Options) log() io.Writer {
	if o.Log == nil {
		return os.Stderr
	}
	return o.Log
}
