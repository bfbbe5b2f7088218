package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"os"
	"time"
)

// watchWorker waits for ready (a file rxprobe creates once its loops
// run), then samples pid's worker thread every 20 ms until ctx ends or the
// thread exits. It returns the thread's CPU share (benchkit.Busy: the
// interval in which the loop stopped and the idle tail after it are left
// out). 0 means it could not tell.
func watchWorker(ctx context.Context, pid int, ready string) float64 {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	tid := 0
	var busy benchkit.Busy
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
				return busy.Share()
			}
			busy.Add(s)
		}
		select {
		case <-ctx.Done():
			return busy.Share()
		case <-tick.C:
		}
	}
}
