package run

import (
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/run/report"
)

// Warmup is how long after the loops start the
// steady-state heap measurement starts.
const Warmup = 2 * time.Second

// quiet is the process's memory policy while the loops run: no garbage
// collection (no scavenger madvise) and every page locked and populated.
type quiet struct {
	gcPercent int
	on        bool
}

// enter collects start-up garbage and returns it to the kernel, then turns
// the collector off: nothing allocates from here to stop. It locks and
// populates every page: a page first read (mapped to the shared zero
// page) and later written is replaced, and replacing a page flushes the
// TLB of every CPU running the process — RX CPUs included. mlockall
// populates private pages writable from the start. With keepGC (the
// in-process exporter allocates per scrape) the collector stays on. It
// returns a degradation when the pages could not be locked.
func (q *quiet) enter(keepGC bool) (degraded string) {
	runtime.GC()
	debug.FreeOSMemory()
	q.gcPercent, q.on = debug.SetGCPercent(-1), true
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
		degraded = "pages not locked (mlockall: " + err.Error() + "): first writes may shoot down RX CPU TLBs"
	}
	if keepGC {
		debug.SetGCPercent(q.gcPercent)
	}
	return degraded
}

// leave turns the collector back on and unlocks the pages.
func (q *quiet) leave() {
	if !q.on {
		return
	}
	debug.SetGCPercent(q.gcPercent)
	_ = unix.Munlockall()
	q.on = false
}

// heapWatch measures the Go heap from warm-up to stop. Its MemStats are
// allocated with it, before the steady state.
type heapWatch struct {
	base, end     runtime.MemStats
	baseAt, endAt time.Time
}

// start takes the baseline (after warm-up).
func (h *heapWatch) start() {
	runtime.ReadMemStats(&h.base)
	h.baseAt = time.Now()
}

// stop takes the final figures.
func (h *heapWatch) stop() {
	runtime.ReadMemStats(&h.end)
	h.endAt = time.Now()
}

// result is the steady state, or nil when the run ended before warm-up.
func (h *heapWatch) result() *report.SteadyState {
	if h.baseAt.IsZero() {
		return nil
	}
	return &report.SteadyState{
		WindowS:     h.endAt.Sub(h.baseAt).Seconds(),
		Mallocs:     h.end.Mallocs - h.base.Mallocs,
		HeapBytes:   h.end.TotalAlloc - h.base.TotalAlloc,
		GCCycles:    h.end.NumGC - h.base.NumGC,
		HeapSysDiff: int64(h.end.HeapSys) - int64(h.base.HeapSys),
	}
}
