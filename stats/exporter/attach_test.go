package exporter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAttachServesTheOnlySegment(t *testing.T) {
	dir := t.TempDir()
	f := newFakeRX(t, dir, "run1", time.Second, 0)
	f.publish(time.Now(), f.sampleValues())
	a, err := Attach(context.Background(), AttachOptions{Dir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Prefix != "run1" {
		t.Errorf("prefix %q, want run1", a.Prefix)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	code, body := get(t, "http://"+a.Addr()+"/metrics")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if code != 200 || !strings.Contains(body, `rxprobe_rx_packets_total{port="p0",queue="0"} 1000`) {
		t.Errorf("GET /metrics: %d\n%s", code, body)
	}
}

func TestAttachRefusesWhatItCannotServe(t *testing.T) {
	dir := t.TempDir()
	_, err := Attach(context.Background(), AttachOptions{Dir: dir, Addr: "127.0.0.1:0"})
	if !errors.Is(err, ErrNoSegment) {
		t.Errorf("empty dir, no wait: %v, want ErrNoSegment", err)
	}
	_, err = Attach(context.Background(), AttachOptions{Dir: dir, Prefix: "missing", Addr: "127.0.0.1:0"})
	if !errors.Is(err, ErrNoSegment) || !strings.Contains(err.Error(), "rxprobe-missing not found") {
		t.Errorf("missing prefix: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Attach(ctx, AttachOptions{Dir: dir, Wait: time.Hour}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v, want context.Canceled", err)
	}
	newFakeRX(t, dir, "a", time.Second, 0)
	newFakeRX(t, dir, "b", time.Second, 0)
	_, err = Attach(context.Background(), AttachOptions{Dir: dir, Wait: time.Hour})
	if err == nil || errors.Is(err, ErrNoSegment) || !strings.Contains(err.Error(), "2 rxprobe segments") {
		t.Errorf("two segments: %v, want an immediate 'choose one' error", err)
	}
	a, err := Attach(context.Background(), AttachOptions{Dir: dir, Prefix: "a", Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := Attach(context.Background(), AttachOptions{Dir: dir, Prefix: "b", Addr: a.Addr()}); !errors.Is(err, ErrAddrInUse) {
		t.Errorf("address in use: %v, want ErrAddrInUse", err)
	}
}
