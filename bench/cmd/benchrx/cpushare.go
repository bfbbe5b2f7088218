package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"os"
	"time"
)

// watchWorker waits for ready (a file rxprobe creates once its loops
// run), then samples pid's worker thread every 20 ms until ctx ends or the
// thread exits. It returns the thread's CPU share between the first sample
// and the last one in which the thread had run: the idle tail after the
// loop stopped is left out. 0 means it could not tell.
func watchWorker(ctx context.Context, pid int, ready string) float64 {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	tid := 0
	var first, last, prev benchkit.CPUSample
	for {
		if tid == 0 {
			if _, err := os.Stat(ready); err == nil {
				if t, err := benchkit.FindWorker(pid); err == nil {
					tid = t
				}
			}
		}
		if tid != 0 {
			s, err := benchkit.SampleThread(pid, tid)
			if err != nil {
				return benchkit.Share(first, last)
			}
			if first.At.IsZero() {
				first, last = s, s
			} else if s.RunNs > prev.RunNs {
				last = s
			}
			prev = s
		}
		select {
		case <-ctx.Done():
			return benchkit.Share(first, last)
		case <-tick.C:
		}
	}
}
