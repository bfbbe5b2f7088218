package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/stats/exporter"
	"github.com/rxprobe/rxprobe/stats/shm"
)

func init() {
	rootCmd.AddCommand(newExporterCmd())
}

// parentPollInterval is how often the exporter checks --parent-pid.
const parentPollInterval = 500 * time.Millisecond

// segmentPollInterval is how often it looks for the segment while waiting.
const segmentPollInterval = 50 * time.Millisecond

type exporterFlags struct {
	attach    string
	shmDir    string
	addr      string
	parentPID int
	wait      time.Duration
	goMetrics bool
}

func newExporterCmd() *cobra.Command {
	var f exporterFlags
	cmd := &cobra.Command{
		Use:   "exporter",
		Short: "Serve the snapshot of a running 'rxprobe run' as Prometheus metrics",
		Long: `Serve the snapshot of a running 'rxprobe run' as Prometheus metrics.

The exporter is a separate process: it maps the RX process's shared-memory
segment DIR/rxprobe-PREFIX read-only and serves /metrics, /healthz and / on
ADDR. Without --attach it uses the only segment in DIR. It waits up to
--wait for the segment to appear, exits 0 on SIGINT or SIGTERM, and with
--parent-pid exits 0 as soon as that process is gone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExporter(cmd.Context(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.attach, "attach", "", "segment prefix to attach to (DIR/rxprobe-PREFIX); default: the only segment in DIR")
	fl.StringVar(&f.shmDir, "shm-dir", shm.DefaultDir, "directory of the shared-memory segments")
	fl.StringVar(&f.addr, "metrics-addr", exporter.DefaultAddr, "listen address for /metrics")
	fl.IntVar(&f.parentPID, "parent-pid", 0, "exit when this process is gone (0: never)")
	fl.DurationVar(&f.wait, "wait", 10*time.Second, "how long to wait for the segment to appear")
	fl.BoolVar(&f.goMetrics, "go-metrics", false, "also export the exporter process's own go_* and process_* metrics")
	return cmd
}

// errNoSegment: the segment asked for (or any segment) is not there yet.
var errNoSegment = errors.New("no rxprobe segment")

func runExporter(ctx context.Context, stderr io.Writer, f exporterFlags) error {
	if f.wait < 0 {
		return usageError(fmt.Errorf("exporter: --wait %s is negative", f.wait))
	}
	if f.parentPID < 0 {
		return usageError(fmt.Errorf("exporter: --parent-pid %d is negative", f.parentPID))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var parentGone <-chan struct{}
	if f.parentPID > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		gone := make(chan struct{})
		parentGone = gone
		go watchParent(ctx, f.parentPID, func() { close(gone); cancel() })
	}
	exitQuietly := func() error {
		select {
		case <-parentGone:
			fmt.Fprintf(stderr, "rxprobe exporter: parent pid %d is gone, exiting\n", f.parentPID)
		default:
		}
		return nil
	}

	prefix, err := waitForSegment(ctx, f.shmDir, f.attach, f.wait)
	if ctx.Err() != nil {
		return exitQuietly()
	}
	if err != nil {
		return usageError(err)
	}
	c, err := exporter.NewCollector(exporter.Options{Dir: f.shmDir, Prefix: prefix})
	if err != nil {
		return usageError(err)
	}
	defer c.Close()
	h, err := exporter.NewHandler(c, exporter.HandlerOptions{
		GoMetrics: f.goMetrics,
		ErrorLog:  log.New(stderr, "rxprobe exporter: ", 0),
	})
	if err != nil {
		return failError(err)
	}
	srv, err := exporter.Listen(f.addr, h)
	if err != nil {
		if errors.Is(err, exporter.ErrAddrInUse) {
			return usageError(fmt.Errorf("%w (another exporter? choose one with --metrics-addr)", err))
		}
		return usageError(err)
	}
	fmt.Fprintf(stderr, "rxprobe exporter: serving http://%s/metrics for %s\n", srv.Addr(), prefix)
	if err := srv.Serve(ctx); err != nil {
		return failError(err)
	}
	return exitQuietly()
}

// waitForSegment returns the prefix to serve: attach itself once its
// segment opens, or the only segment in dir. It polls until wait has
// passed while there is no segment, and fails at once when there are
// several or the segment is not a readable rxprobe segment. It returns
// ctx's error when ctx ends first.
func waitForSegment(ctx context.Context, dir, attach string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		prefix, err := findSegment(dir, attach)
		if !errors.Is(err, errNoSegment) {
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

// findSegment looks once; errNoSegment means "not yet".
func findSegment(dir, attach string) (string, error) {
	if attach != "" {
		r, err := shm.Open(dir, attach)
		if errors.Is(err, shm.ErrNotFound) {
			return "", fmt.Errorf("%w: %s%s not found in %s", errNoSegment, shm.FilePrefix, attach, dir)
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
		return "", fmt.Errorf("%w in %s", errNoSegment, dir)
	case 1:
		return prefixes[0], nil
	}
	return "", fmt.Errorf("exporter: %d rxprobe segments in %s (%s): choose one with --attach", len(prefixes), dir, strings.Join(prefixes, ", "))
}

// watchParent calls gone once pid has exited, checking at once and then
// every parentPollInterval, until ctx ends. A process that has exited but
// is not reaped yet (a zombie) still answers kill(pid, 0); when pid was
// this process's parent at start, the exporter also notices at once
// through getppid, since the kernel reparents the children of a process
// as soon as it exits.
func watchParent(ctx context.Context, pid int, gone func()) {
	wasParent := os.Getppid() == pid
	tick := time.NewTicker(parentPollInterval)
	defer tick.Stop()
	for {
		if (wasParent && os.Getppid() != pid) || unix.Kill(pid, 0) == unix.ESRCH {
			gone()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
