package shm

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitDone fails the test when done does not close: a wake-up that never
// came (the bound only ends a hung test; nothing is timed).
func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: never woke up", what)
	}
}

// TestSampleRequestRoundTrip: a request is unanswered until a Commit
// serves a request word loaded after it; the snapshot's header then
// carries it, and the requester's Wait returns.
func TestSampleRequestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "req", 64)
	w.Commit(1)
	q, err := OpenRequester(dir, "req")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	r, err := Open(dir, "req")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if w.Requested() != 0 || q.Served() != 0 {
		t.Fatalf("fresh segment: requested %d served %d", w.Requested(), q.Served())
	}
	n := q.Request()
	if n != 1 || w.Requested() != 1 {
		t.Fatalf("request %d, writer sees %d; want 1", n, w.Requested())
	}
	// A sample whose counters were read before the request does not
	// answer it, whatever it commits.
	w.Commit(2)
	if err := q.Wait(context.Background(), n, time.Millisecond); !errors.Is(err, ErrNotServed) {
		t.Fatalf("Wait before any serving sample: %v, want ErrNotServed", err)
	}
	buf := make([]byte, r.PayloadSize())
	if h, _ := r.Read(buf); h.Served != 0 {
		t.Errorf("served %d before serving", h.Served)
	}
	// The writer loads the word, samples, commits: answered.
	done := make(chan error, 1)
	go func() { done <- q.Wait(context.Background(), n, time.Hour) }()
	w.Serve(w.Requested())
	w.Begin()
	w.Commit(3)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait never woke up after the serving Commit")
	}
	if h, _ := r.Read(buf); h.Served != n || !Reached(h.Served, n) {
		t.Errorf("snapshot served %d, want %d", h.Served, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Wait(ctx, q.Request(), time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context: %v", err)
	}
}

// TestWaitRequestWakes: the writer's futex wait ends on a request from
// the requester's mapping and on Interrupt, and returns at once when the
// word already moved; none of it allocates.
func TestWaitRequestWakes(t *testing.T) {
	dir := t.TempDir()
	w := mustCreate(t, dir, "wake", 64)
	q, err := OpenRequester(dir, "wake")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, tc := range []struct {
		name string
		wake func()
	}{
		{"request", func() { q.Request() }},
		{"interrupt", w.Interrupt},
	} {
		seen := w.Requested()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for w.Requested() == seen { // a spurious wake-up waits again
				w.WaitRequest(seen, time.Hour)
			}
		}()
		tc.wake()
		waitDone(t, done, tc.name)
	}
	stale := w.Requested() - 1
	if n := testing.AllocsPerRun(100, func() {
		w.WaitRequest(stale, time.Hour) // the word differs: EAGAIN at once
		w.Serve(w.Requested())
		w.Begin()
		w.Commit(4)
	}); n != 0 {
		t.Errorf("WaitRequest, Serve and Commit allocate %.1f times", n)
	}
}

func TestReachedWraps(t *testing.T) {
	for _, tc := range []struct {
		served, req uint32
		want        bool
	}{
		{0, 0, true}, {1, 2, false}, {2, 1, true},
		{0, ^uint32(0), true}, {^uint32(0), 0, false}, {5, ^uint32(0) - 2, true},
	} {
		if got := Reached(tc.served, tc.req); got != tc.want {
			t.Errorf("Reached(%d, %d) = %v, want %v", tc.served, tc.req, got, tc.want)
		}
	}
}

func TestOpenRequesterErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenRequester(dir, "none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing segment: %v, want ErrNotFound", err)
	}
	if _, err := OpenRequester(dir, "a/b"); err == nil {
		t.Error("a prefix with a slash was accepted")
	}
}
