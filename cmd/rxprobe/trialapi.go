package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/internal/parent"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/stats/exporter"
	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/trialapi"
)

func init() {
	rootCmd.AddCommand(newTrialAPICmd())
}

// trialAPIFlags are the listen flags shared by `rxprobe run` and
// `rxprobe trial-api`, so that errors name the same flags in both.
type trialAPIFlags struct {
	addr      string
	public    bool
	tokenFile string
}

func (f *trialAPIFlags) register(cmd *cobra.Command, def string) {
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "trial-api", def, "serve the trial API (POST /v1/trials, ...) on HOST:PORT, loopback unless --trial-api-public")
	fl.BoolVar(&f.public, "trial-api-public", false, "allow a non-loopback --trial-api address (needs --trial-api-token-file)")
	fl.StringVar(&f.tokenFile, "trial-api-token-file", "", "file whose first line is the bearer token every trial API request must carry")
}

// check validates the flags of `rxprobe run` before anything starts.
func (f *trialAPIFlags) check(noStats bool) error {
	if f.addr == "" {
		if f.public || f.tokenFile != "" {
			return errors.New("--trial-api-public and --trial-api-token-file need --trial-api HOST:PORT")
		}
		return nil
	}
	if noStats {
		return errors.New("--trial-api needs the stats thread: drop --debug-no-stats")
	}
	_, err := trialapi.CheckListen(f.addr, f.public, f.tokenFile)
	return err
}

type trialAPICmdFlags struct {
	trialAPIFlags
	attach    string
	shmDir    string
	parentPID int
	wait      time.Duration
	hostRoot  string
}

func newTrialAPICmd() *cobra.Command {
	var f trialAPICmdFlags
	cmd := &cobra.Command{
		Use:   "trial-api [--attach PREFIX] [--trial-api 127.0.0.1:9471]",
		Short: "Serve the trial API of a running 'rxprobe run' (exact counters at a trial's start and stop)",
		Long: `Serve the trial API of a running 'rxprobe run'.

A separate process, like the exporter: it maps the RX process's segment
DIR/rxprobe-PREFIX, asks its stats thread for a sample at each trial
boundary and returns the deltas as JSON. 'rxprobe run --trial-api ADDR'
starts it as a child; run it yourself to attach to a run started without.
Without --attach it uses the only segment in DIR. It exits 0 on SIGINT or
SIGTERM and, with --parent-pid, as soon as that process is gone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTrialAPI(cmd.Context(), cmd.ErrOrStderr(), f)
		},
	}
	f.register(cmd, trialapi.DefaultAddr)
	fl := cmd.Flags()
	fl.StringVar(&f.attach, "attach", "", "segment prefix to attach to (DIR/rxprobe-PREFIX); default: the only segment in DIR")
	fl.StringVar(&f.shmDir, "shm-dir", shm.DefaultDir, "directory of the shared-memory segments")
	fl.IntVar(&f.parentPID, "parent-pid", 0, "exit when this process is gone (0: never)")
	fl.DurationVar(&f.wait, "wait", 10*time.Second, "how long to wait for the segment to appear")
	fl.StringVar(&f.hostRoot, "host-root", "/", "read etc/machine-id and the boot id (the probe's clock, for latency trials) under this root")
	return cmd
}

func runTrialAPI(ctx context.Context, stderr io.Writer, f trialAPICmdFlags) error {
	token, err := trialapi.CheckListen(f.addr, f.public, f.tokenFile)
	if err != nil {
		return usageError(err)
	}
	if f.wait < 0 || f.parentPID < 0 {
		return usageError(fmt.Errorf("trial-api: --wait %s and --parent-pid %d must not be negative", f.wait, f.parentPID))
	}
	ctx, stop := childContext(ctx, f.parentPID)
	defer stop()
	prefix, err := exporter.WaitForSegment(ctx, f.shmDir, f.attach, f.wait)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return usageError(fmt.Errorf("trial-api: %w", err))
	}
	src, err := trialapi.OpenShm(f.shmDir, prefix)
	if err != nil {
		return usageError(err)
	}
	defer src.Close()
	srv, err := exporter.Listen(f.addr, trialapi.NewHandler(src, trialapi.Options{Token: token, ProbeClock: rx.ReadHostClock(f.hostRoot, 0)}))
	if errors.Is(err, exporter.ErrAddrInUse) {
		return usageError(fmt.Errorf("trial-api: %s is in use: choose another with --trial-api", f.addr))
	}
	if err != nil {
		return usageError(fmt.Errorf("trial-api: %w", err))
	}
	auth := ""
	if token != "" {
		auth = " (bearer token required)"
	}
	fmt.Fprintf(stderr, "rxprobe trial-api: serving http://%s/v1/trials for %s%s\n", srv.Addr(), prefix, auth)
	if err := srv.Serve(ctx); err != nil {
		return failError(err)
	}
	if parent.IsGone(ctx) {
		fmt.Fprintf(stderr, "rxprobe trial-api: parent pid %d is gone, exiting\n", f.parentPID)
	}
	return nil
}
