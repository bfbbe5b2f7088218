package exporter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// serve starts a real Server for c on a free loopback port and returns its
// base URL; it stops when the test ends.
func serve(t *testing.T, c *Collector, opts HandlerOptions) string {
	t.Helper()
	h, err := NewHandler(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHandlerEndpoints(t *testing.T) {
	dir := t.TempDir()
	f := newFakeRX(t, dir, "t", time.Second, 0)
	hb := time.Unix(1_700_000_000, 0)
	f.publish(hb, f.sampleValues())
	now := hb.Add(time.Second)
	c := newCollector(t, dir, "t", &now)
	base := serve(t, c, HandlerOptions{})

	code, body := get(t, base+"/metrics")
	for _, want := range []string{
		"rxprobe_rx_packets_total" + lblQ0 + " 1000\n",
		`rxprobe_loop_gap_seconds_bucket{port="p0",queue="0",le="1e-05"} 8` + "\n",
		"rxprobe_snapshot_up 1\n",
		"rxprobe_snapshot_age_seconds 1\n",
		"# TYPE rxprobe_rx_packets_total counter\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code != http.StatusOK || strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: status %d, Go metrics present %v (want 200 without them)", code, strings.Contains(body, "go_goroutines"))
	}
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || !strings.HasPrefix(body, "up:") {
		t.Errorf("/healthz of a fresh snapshot: %d %q", code, body)
	}
	if code, body := get(t, base+"/"); code != http.StatusOK || !strings.Contains(body, c.Path()) {
		t.Errorf("/: %d %q", code, body)
	}
	if code, _ := get(t, base+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: %d, want 404", code)
	}

	now = hb.Add(time.Minute)
	if code, body := get(t, base+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "stale") {
		t.Errorf("/healthz of a stale snapshot: %d %q, want 503 naming staleness", code, body)
	}
	f.w.Close()
	if code, body := get(t, base+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not found") {
		t.Errorf("/healthz without a segment: %d %q, want 503", code, body)
	}
}

func TestHandlerGoMetrics(t *testing.T) {
	now := time.Now()
	c := newCollector(t, t.TempDir(), "t", &now)
	_, body := get(t, serve(t, c, HandlerOptions{GoMetrics: true})+"/metrics")
	for _, want := range []string{"go_goroutines ", "process_start_time_seconds ", "rxprobe_snapshot_up 0\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics with GoMetrics lacks %q", want)
		}
	}
}

// TestPromtoolCheckMetrics lints a real scrape of the exporter with
// promtool, fresh, stale and with the Go metrics.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus)")
	}
	dir := t.TempDir()
	f := newFakeRX(t, dir, "t", time.Second, 0)
	hb := time.Now()
	f.publish(hb, f.sampleValues())
	for _, tc := range []struct {
		name string
		age  time.Duration
		opts HandlerOptions
	}{
		{"fresh", 0, HandlerOptions{}},
		{"stale with Go metrics", time.Hour, HandlerOptions{GoMetrics: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := hb.Add(tc.age)
			c := newCollector(t, dir, "t", &now)
			code, body := get(t, serve(t, c, tc.opts)+"/metrics")
			if code != http.StatusOK || !strings.Contains(body, "rxprobe_loop_gap_seconds_bucket") {
				t.Fatalf("/metrics: %d, %d bytes without the histogram", code, len(body))
			}
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil || out.Len() > 0 {
				t.Errorf("promtool check metrics: %v\n%s\nscrape:\n%s", err, out.String(), body)
			}
		})
	}
}

func TestListenAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := Listen(ln.Addr().String(), http.NotFoundHandler())
	if !errors.Is(err, ErrAddrInUse) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Listen on a bound address: %v, want ErrAddrInUse", err)
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

// TestServeStops: Serve returns nil once its context is done.
func TestServeStops(t *testing.T) {
	s, err := Listen("127.0.0.1:0", http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Serve(ctx); err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/"); err == nil {
		t.Error("the server still answers after Serve returned")
	}
}
