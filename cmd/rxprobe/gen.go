package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
			err := serveTrials(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), gen)
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

// trialRunner is what serveTrials drives (*rx.Generator).
type trialRunner interface {
	Trial(ctx context.Context, spec rx.TrialSpec) (rx.GenReport, error)
}

// serveRequest is one line of `rxprobe gen --serve`'s input.
type serveRequest struct {
	rx.TrialSpec
	// Duration ends the trial if Count was not sent by then; it is
	// required when Count is 0.
	Duration string `json:"duration"`
}

// serveReply is one line of its output: the trial's report, or Error.
type serveReply struct {
	rx.GenReport
	Error string `json:"error,omitempty"`
}

// maxTrial bounds one served trial.
const maxTrial = time.Hour

// serveTrials runs one trial per JSON line of in and writes one JSON
// reply line per trial to out, until in ends or ctx is done. A bad line
// gets an error reply and the next line is read.
func serveTrials(ctx context.Context, in io.Reader, out io.Writer, gen trialRunner) error {
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for sc.Scan() && ctx.Err() == nil {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var req serveRequest
		var rep serveReply
		d, err := parseServeRequest(line, &req)
		if err == nil {
			tctx, cancel := context.WithTimeout(ctx, d)
			rep.GenReport, err = gen.Trial(tctx, req.TrialSpec)
			cancel()
		}
		if err != nil {
			rep.Error = err.Error()
		}
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("gen --serve: writing a reply: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("gen --serve: reading trials: %w", err)
	}
	return nil
}

// parseServeRequest decodes one trial line and returns its time bound.
func parseServeRequest(line string, req *serveRequest) (time.Duration, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return 0, fmt.Errorf("trial %q: %v: send {\"rate_pps\": R, \"count\": N, \"duration\": \"2s\"}", line, err)
	}
	d := maxTrial
	if req.Duration != "" {
		v, err := time.ParseDuration(req.Duration)
		if err != nil || v <= 0 || v > maxTrial {
			return 0, fmt.Errorf("trial duration %q: give a Go duration from 1ms to %v", req.Duration, maxTrial)
		}
		d = v
	} else if req.Count == 0 {
		return 0, fmt.Errorf("trial %q: count 0 runs until stopped: give a duration", line)
	}
	return d, nil
}
