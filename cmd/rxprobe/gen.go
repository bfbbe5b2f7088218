package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/rx"
)

func init() { rootCmd.AddCommand(newGenCmd()) }

func newGenCmd() *cobra.Command {
	var (
		cfgPath, hostRoot, report string
		rate                      float64
		size                      int
		count                     uint64
		duration                  time.Duration
		serve, latency            bool
	)
	cmd := &cobra.Command{
		Use:   "gen --config FILE [--rate PPS] [--size BYTES] [--count N | --duration D]",
		Short: "Send paced UDP frames from the config's generator port (for demos, tests and benchmarks)",
		Args:  cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVarP(&cfgPath, "config", "c", "", "YAML config file with a generator section")
	fl.Float64Var(&rate, "rate", 0, "packets per second (0: as fast as possible; default from config)")
	fl.IntVar(&size, "size", 0, "frame size in bytes without FCS (default from config)")
	fl.Uint64Var(&count, "count", 0, "send exactly this many packets, then stop")
	fl.DurationVar(&duration, "duration", 0, "stop after this long")
	fl.StringVar(&hostRoot, "host-root", "/", "read /proc and /sys under this root")
	fl.StringVar(&report, "report", "", "write a JSON report here")
	fl.BoolVar(&serve, "serve", false, "serve trials: read one JSON trial per line on stdin ({\"rate_pps\": R, \"count\": N, \"duration\": \"2s\", \"latency\": true}), answer one JSON report per line on stdout, until EOF")
	fl.BoolVar(&latency, "latency", false, "stamp every frame with the TSC and a marker for `rxprobe run --latency` (generator.latency)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if serve && (fl.Changed("count") || fl.Changed("duration") || fl.Changed("report")) {
			return usageError(fmt.Errorf("--serve takes each trial's count and duration on stdin: drop --count, --duration and --report"))
		}
		if fl.Changed("count") && fl.Changed("duration") {
			return usageError(fmt.Errorf("--count and --duration: give one of them"))
		}
		cfg, host, err := loadConfig(cfgPath, hostRoot, nil)
		if err != nil {
			return err
		}
		if cfg.Generator == nil {
			return usageError(fmt.Errorf("config %s has no generator section: add one (see configs/demo.yaml)", cfgPath))
		}
		g := cfg.Generator
		if fl.Changed("rate") {
			g.Rate = rate
		}
		if fl.Changed("size") {
			g.Size = size
		}
		if fl.Changed("count") {
			g.Count, g.Duration = count, 0
		}
		if fl.Changed("duration") {
			g.Duration, g.Count = duration, 0
		}
		if fl.Changed("latency") {
			g.Latency = latency
		}
		online, _ := host.OnlineCPUs()
		if err := cfg.Validate(online); err != nil { // flags may have broken a value
			return usageError(err)
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		gen, err := rx.OpenGenerator(cfg, rx.Options{HostRoot: host.Root()})
		if err != nil {
			return usageError(err)
		}
		for _, d := range gen.Degraded {
			fmt.Fprintf(cmd.ErrOrStderr(), "rxprobe gen: degraded: %s\n", d)
		}
		if serve {
			err := rx.ServeTrials(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), gen)
			if closeErr := gen.Close(); closeErr != nil && err == nil {
				err = fmt.Errorf("stopping: %w", closeErr)
			}
			if err != nil {
				return failError(err)
			}
			return nil
		}
		if err := gen.Start(); err != nil {
			return usageError(fmt.Errorf("%w (cleanup: %v)", err, gen.Close()))
		}
		if g.Duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, g.Duration)
			defer cancel()
		}
		r, closeErr := gen.Run(ctx)
		fmt.Fprintf(cmd.OutOrStdout(), "rxprobe gen: sent %d tx_dropped %d (%d-byte frames, %.0f pps over %.2f s)\n",
			r.Sent, r.TXDropped, r.Size, r.AchievedPPS, r.DurationS)
		if report != "" {
			b, _ := json.MarshalIndent(r, "", "  ")
			if err := os.WriteFile(report, append(b, '\n'), 0o644); err != nil {
				return failError(err)
			}
		}
		if closeErr != nil {
			return failError(fmt.Errorf("stopping: %w", closeErr))
		}
		return nil
	}
	return cmd
}
