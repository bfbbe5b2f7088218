package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/internal/parent"
	"github.com/rxprobe/rxprobe/stats/exporter"
	"github.com/rxprobe/rxprobe/stats/shm"
)

func init() {
	rootCmd.AddCommand(newExporterCmd())
}

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

// childContext is the context of a child command (exporter, trial API):
// it ends on SIGINT or SIGTERM and, when parentPID is not 0, as soon as
// that process is gone (parent.IsGone then says so). ctx may be nil.
func childContext(ctx context.Context, parentPID int) (context.Context, func()) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	ctx, unwatch := parent.Watch(ctx, parentPID)
	return ctx, func() { unwatch(); stop() }
}

func runExporter(ctx context.Context, stderr io.Writer, f exporterFlags) error {
	if f.wait < 0 {
		return usageError(fmt.Errorf("exporter: --wait %s is negative", f.wait))
	}
	if f.parentPID < 0 {
		return usageError(fmt.Errorf("exporter: --parent-pid %d is negative", f.parentPID))
	}
	ctx, stop := childContext(ctx, f.parentPID)
	defer stop()
	exitQuietly := func() error {
		if parent.IsGone(ctx) {
			fmt.Fprintf(stderr, "rxprobe exporter: parent pid %d is gone, exiting\n", f.parentPID)
		}
		return nil
	}

	srv, err := exporter.Attach(ctx, exporter.AttachOptions{Dir: f.shmDir, Prefix: f.attach, Addr: f.addr, Wait: f.wait,
		GoMetrics: f.goMetrics, ErrorLog: log.New(stderr, "rxprobe exporter: ", 0)})
	if ctx.Err() != nil {
		if srv != nil {
			srv.Close()
		}
		return exitQuietly()
	}
	if errors.Is(err, exporter.ErrAddrInUse) {
		return usageError(fmt.Errorf("%w (another exporter? choose one with --metrics-addr)", err))
	}
	if err != nil {
		return usageError(err)
	}
	defer srv.Close()
	fmt.Fprintf(stderr, "rxprobe exporter: serving http://%s/metrics for %s\n", srv.Addr(), srv.Prefix)
	if err := srv.Serve(ctx); err != nil {
		return failError(err)
	}
	return exitQuietly()
}
