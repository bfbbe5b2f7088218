package main

import (
	"errors"
	"fmt"
)

// The hidden options of `rxprobe run` exist for tests and benchmarks: each
// makes the run unlike a production one on purpose. checkDebug rejects
// values and combinations that cannot work, before anything starts, and
// debugDegraded names every option in use for the report's degraded list.

// maxMunmapHz bounds --debug-munmap-hz: the planted thread's ticker needs a
// positive interval, and beyond 10 000 a second the fault thread only
// burns its housekeeping CPU (the README's planted fault uses 200).
const maxMunmapHz = 10000

// errDebugFlag is matched (errors.Is) by every hidden-option error.
var errDebugFlag = errors.New("bad test option")

type debugFlagError struct{ msg string }

func (e *debugFlagError) Error() string        { return e.msg }
func (e *debugFlagError) Is(target error) bool { return target == errDebugFlag }

// checkDebug checks the hidden test options of f.
func (f runFlags) checkDebug() error {
	if f.munmapHz < 0 || f.munmapHz > maxMunmapHz {
		return &debugFlagError{fmt.Sprintf("--debug-munmap-hz %d: give 1 to %d maps and unmaps a second (0: off)", f.munmapHz, maxMunmapHz)}
	}
	if f.noStats && f.inProcess {
		return &debugFlagError{"--debug-no-stats and --metrics-inprocess: without the stats thread there is nothing to serve; give one of them"}
	}
	if f.noStats && f.stdioReads {
		return &debugFlagError{"--debug-no-stats and --debug-stdio-reads: stdio reads are the stats thread's; give one of them"}
	}
	return nil
}

// debugDegraded returns one degraded line per hidden test option in use.
func (f runFlags) debugDegraded() []string {
	var out []string
	if f.stdioReads {
		out = append(out, "test option --debug-stdio-reads: every kernel file read maps and unmaps a page (TLB shootdowns on the RX CPUs)")
	}
	if f.noStats {
		out = append(out, "test option --debug-no-stats: no stats thread, no guard, no exporter, no watcher")
	}
	if f.inProcess {
		out = append(out, "test option --metrics-inprocess: /metrics served inside the RX process with the GC on")
	}
	if f.munmapHz > 0 {
		out = append(out, fmt.Sprintf("test option --debug-munmap-hz %d: a planted thread maps and unmaps a page %d times a second", f.munmapHz, f.munmapHz))
	}
	return out
}
