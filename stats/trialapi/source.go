package trialapi

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// ShmSource reads the RX process's segment: it asks for samples through
// the segment's request word (stats/shm) and reads the snapshots that
// answer them. It never writes anything else and never blocks the
// writer. Safe for concurrent use.
type ShmSource struct {
	mu  sync.Mutex
	q   *shm.Requester
	r   *shm.Reader
	buf []byte
}

// OpenShm attaches to DIR/rxprobe-<prefix>. It needs write permission on
// the segment file (the request word).
func OpenShm(dir, prefix string) (*ShmSource, error) {
	r, err := shm.Open(dir, prefix)
	if err != nil {
		return nil, fmt.Errorf("trial api: %w", err)
	}
	q, err := shm.OpenRequester(dir, prefix)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("trial api: %w", err)
	}
	return &ShmSource{q: q, r: r, buf: make([]byte, r.PayloadSize())}, nil
}

// Sample makes a request, waits until it is served and reads a snapshot
// answering it.
func (s *ShmSource) Sample(ctx context.Context) (*Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.q.Request()
	timeout := SampleTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := s.q.Wait(ctx, n, timeout); err != nil {
		return nil, fmt.Errorf("trial api: %w", err)
	}
	smp, err := s.read()
	if err != nil {
		return nil, err
	}
	if !shm.Reached(smp.Served, n) { // cannot happen: served only grows
		return nil, fmt.Errorf("trial api: snapshot answers request %d, not %d: %w", smp.Served, n, shm.ErrNotServed)
	}
	return smp, nil
}

// Latest reads the newest snapshot.
func (s *ShmSource) Latest() (*Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

func (s *ShmSource) read() (*Sample, error) {
	h, err := s.r.Read(s.buf)
	if err != nil {
		return nil, fmt.Errorf("trial api: %w", err)
	}
	sc, off, err := snapshot.Decode(s.buf)
	if err != nil {
		return nil, fmt.Errorf("trial api: %w", err)
	}
	vals := make([]uint64, sc.Values)
	for i := range vals {
		vals[i] = snapshot.ValueAt(s.buf, off, i)
	}
	return &Sample{At: time.Unix(0, h.Heartbeat), Served: h.Served, Samples: h.Samples, Schema: sc, Values: vals}, nil
}

// Close detaches from the segment.
func (s *ShmSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errorsJoin(s.q.Close(), s.r.Close())
}
