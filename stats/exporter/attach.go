package exporter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rxprobe/rxprobe/stats/shm"
)

// ErrNoSegment: the segment asked for (or any segment) is not there yet.
var ErrNoSegment = errors.New("no rxprobe segment")

// segmentPollInterval is how often Attach looks for the segment while
// waiting.
const segmentPollInterval = 50 * time.Millisecond

// AttachOptions say which segment to serve and where.
type AttachOptions struct {
	// Dir holds the segments (shm.DefaultDir when "").
	Dir string
	// Prefix is the segment to serve (Dir/rxprobe-PREFIX); "" serves the
	// only segment in Dir.
	Prefix string
	// Addr is the listen address (DefaultAddr when "").
	Addr string
	// Wait is how long to wait for the segment to appear.
	Wait      time.Duration
	GoMetrics bool
	// ErrorLog receives errors met while gathering or encoding metrics
	// (nil: none).
	ErrorLog promhttp.Logger
}

// Attached is an exporter attached to a segment, bound to its address
// and ready to Serve.
type Attached struct {
	*Server
	// Prefix is the segment served.
	Prefix string
	col    *Collector
}

// Attach waits up to o.Wait for the segment, attaches a Collector to it
// and binds o.Addr. It fails at once when Dir holds several segments and
// no Prefix is given, or the segment is not a readable rxprobe segment;
// an address in use matches ErrAddrInUse. It returns ctx's error when ctx
// ends while it waits.
func Attach(ctx context.Context, o AttachOptions) (*Attached, error) {
	if o.Dir == "" {
		o.Dir = shm.DefaultDir
	}
	prefix, err := WaitForSegment(ctx, o.Dir, o.Prefix, o.Wait)
	if err != nil {
		return nil, err
	}
	c, err := NewCollector(Options{Dir: o.Dir, Prefix: prefix})
	if err != nil {
		return nil, err
	}
	h, err := NewHandler(c, HandlerOptions{GoMetrics: o.GoMetrics, ErrorLog: o.ErrorLog})
	if err != nil {
		c.Close()
		return nil, err
	}
	srv, err := Listen(o.Addr, h)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Attached{Server: srv, Prefix: prefix, col: c}, nil
}

// Close closes the listener (when not serving) and detaches from the
// segment.
func (a *Attached) Close() error {
	_ = a.Server.Close()
	return a.col.Close()
}

// WaitForSegment returns the prefix to serve: attach itself once its
// segment opens, or the only segment in dir. It polls until wait has
// passed while there is no segment, and fails at once when there are
// several or the segment is not a readable rxprobe segment. It returns
// ctx's error when ctx ends first. The trial API attaches with it too.
func WaitForSegment(ctx context.Context, dir, attach string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		prefix, err := findSegment(dir, attach)
		if !errors.Is(err, ErrNoSegment) {
			return prefix, err
		}
		if !time.Now().Before(deadline) {
			return "", fmt.Errorf("exporter: %w (waited %s)", err, wait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(segmentPollInterval):
		}
	}
}

// findSegment looks once; ErrNoSegment means "not yet".
func findSegment(dir, attach string) (string, error) {
	if attach != "" {
		r, err := shm.Open(dir, attach)
		if errors.Is(err, shm.ErrNotFound) {
			return "", fmt.Errorf("%w: %s%s not found in %s", ErrNoSegment, shm.FilePrefix, attach, dir)
		}
		if err != nil {
			return "", fmt.Errorf("exporter: %w", err)
		}
		r.Close()
		return attach, nil
	}
	prefixes, err := shm.List(dir)
	if err != nil {
		return "", fmt.Errorf("exporter: %w", err)
	}
	switch len(prefixes) {
	case 0:
		return "", fmt.Errorf("%w in %s", ErrNoSegment, dir)
	case 1:
		return prefixes[0], nil
	}
	return "", fmt.Errorf("exporter: %d rxprobe segments in %s (%s): choose one with --attach", len(prefixes), dir, strings.Join(prefixes, ", "))
}
