package trialapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// TestShmSourceWaitsForTheAnswer: a writer that serves requests the way
// the stats thread does (load the request word, write the counter,
// commit); every Sample returns the counter as of after its request, and
// a writer that serves nothing makes Sample fail with ErrNotServed.
func TestShmSourceWaitsForTheAnswer(t *testing.T) {
	dir := t.TempDir()
	b := snapshot.NewBuilder("src", 1, int64(time.Hour), nil)
	idx := b.Add(mRXPackets, snapshot.Counter, 0, labels("port", "p", "queue", "0")...)
	l, err := snapshot.NewLayout(b.Schema())
	if err != nil {
		t.Fatal(err)
	}
	w, err := shm.Create(dir, "src", l.PayloadSize())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l.WriteSchema(w.Begin())
	w.Commit(1)
	src, err := OpenShm(dir, "src")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if _, err := src.Sample(ctx); !errors.Is(err, shm.ErrNotServed) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("nobody serving: %v, want ErrNotServed", err)
	}
	cancel()

	// The serving writer: each sample counts one more packet than the
	// last, so a stale snapshot shows a smaller count.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var count uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			seen := w.Requested()
			count++
			l.Values(w.Begin())[idx] = count
			w.Serve(seen)
			w.Commit(int64(count))
			w.WaitRequest(seen, time.Hour)
		}
	}()
	defer func() { close(stop); w.Interrupt(); <-done }()
	var last uint64
	for i := range 5 {
		s, err := src.Sample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v := s.Values[idx]; v <= last {
			t.Errorf("sample %d: count %d, not past the previous %d: stale", i, v, last)
		} else {
			last = v
		}
	}
	if s, err := src.Latest(); err != nil || s.Values[idx] != last || s.Schema.Prefix != "src" {
		t.Errorf("latest: %v, %+v", err, s)
	}
}
