package exporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"
)

// DefaultAddr is where the exporter listens unless told otherwise:
// loopback only, since /metrics has no authentication.
const DefaultAddr = "127.0.0.1:9470"

// MaxRequestsInFlight bounds concurrent /metrics requests; more get 503.
const MaxRequestsInFlight = 4

// ErrAddrInUse: the listen address is taken (typically by another
// exporter). Listen wraps it with the address.
var ErrAddrInUse = errors.New("exporter: address already in use")

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// GoMetrics adds the Go runtime and process collectors of the exporter
	// process itself (go_*, process_*). Off by default: they describe the
	// exporter, not the RX process.
	GoMetrics bool
	// ErrorLog receives errors met while gathering or encoding metrics;
	// nil discards them (the scrape still serves what it could).
	ErrorLog promhttp.Logger
}

// NewHandler returns the exporter's HTTP handler: /metrics served from a
// private registry holding c, /healthz (200 when c reports up, 503 with the
// reason otherwise) and a short text page on /.
func NewHandler(c *Collector, opts HandlerOptions) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("exporter: register collector: %w", err)
	}
	if opts.GoMetrics {
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, fmt.Errorf("exporter: register Go collector: %w", err)
		}
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, fmt.Errorf("exporter: register process collector: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            opts.ErrorLog,
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: MaxRequestsInFlight,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		st := c.Status()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !st.Up {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "down: %v\n", st.Err)
			return
		}
		fmt.Fprintf(w, "up: snapshot of %s, %.3fs old\n", c.Prefix(), st.Age.Seconds())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "rxprobe exporter for %s\n\n/metrics  Prometheus metrics\n/healthz  200 when the snapshot is fresh, 503 and the reason otherwise\n", c.Path())
	})
	return mux, nil
}

// Server is an HTTP server bound to its address.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr ("" means DefaultAddr) for h. An address in use gives
// an error matching ErrAddrInUse.
func Listen(addr string, h http.Handler) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, unix.EADDRINUSE) {
		return nil, fmt.Errorf("%w: %s", ErrAddrInUse, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("exporter: listen %s: %w", addr, err)
	}
	return &Server{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr returns the bound address (with the actual port when addr had
// port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is done, then shuts down, giving requests in
// flight up to a second, and returns nil. It returns an error only when
// serving fails.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("exporter: serve %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	<-errc // http.ErrServerClosed
	return nil
}

// Close closes the listener of a Server that is not serving.
func (s *Server) Close() error { return s.ln.Close() }
