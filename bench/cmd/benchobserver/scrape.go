package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// scrapeStats counts a scraper's requests.
type scrapeStats struct {
	OK, Failed int
	Bytes      int64
	FirstErr   string
	Missing    bool // a 200 answer lacked the expected metric
}

// scrape GETs url every period until ctx ends, like a Prometheus server
// with a short scrape interval: one keep-alive connection, the whole body
// read and discarded. want, when not empty, must occur in every answer.
func scrape(ctx context.Context, url string, period time.Duration, want string) scrapeStats {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: false}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: period * 9 / 10}
	var st scrapeStats
	tick := time.NewTicker(period)
	defer tick.Stop()
	var buf strings.Builder
	for {
		select {
		case <-ctx.Done():
			return st
		case <-tick.C:
		}
		buf.Reset()
		err := get(ctx, client, url, &buf)
		switch {
		case err != nil && ctx.Err() != nil:
			return st
		case err != nil:
			st.Failed++
			if st.FirstErr == "" {
				st.FirstErr = err.Error()
			}
		default:
			st.OK++
			st.Bytes += int64(buf.Len())
			if want != "" && !strings.Contains(buf.String(), want) {
				st.Missing = true
			}
		}
	}
}

func get(ctx context.Context, c *http.Client, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// dummyServer serves a fixed text body on a loopback port: what the
// scraper talks to in the baseline, which has no exporter, so that the
// bench process does the same work in every scenario.
type dummyServer struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// dummyBody is about the size of a real scrape of one net_null port.
func dummyBody(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "dummy_metric_total{n=\"%d\"} %d\n", i, i)
	}
	return []byte(b.String())
}

func startDummy(body []byte) (*dummyServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(body)
	})
	d := &dummyServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return d, nil
}

func (d *dummyServer) url() string { return "http://" + d.ln.Addr().String() + "/metrics" }

func (d *dummyServer) close() {
	_ = d.srv.Close()
	<-d.done
}

// metricsAddr returns addr when it is free, else a free loopback port:
// on a shared machine another exporter may hold the default, and
// scraping it instead of the run's would measure the wrong process.
func metricsAddr(addr string) (string, error) {
	if ln, err := net.Listen("tcp", addr); err == nil {
		return addr, ln.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scraperGroup runs one scraper and collects its result.
type scraperGroup struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	st     scrapeStats
}

func startScraper(ctx context.Context, url string, period time.Duration, want string) *scraperGroup {
	ctx, cancel := context.WithCancel(ctx)
	g := &scraperGroup{cancel: cancel}
	g.wg.Add(1)
	go func() { defer g.wg.Done(); g.st = scrape(ctx, url, period, want) }()
	return g
}

func (g *scraperGroup) stop() scrapeStats {
	g.cancel()
	g.wg.Wait()
	return g.st
}
