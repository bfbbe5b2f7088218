package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

func init() { rootCmd.AddCommand(newBenchCmd()) }

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks: zero-loss throughput search (ndr) and the comparison of two results (compare)",
	}
	cmd.AddCommand(newBenchNDRCmd(), newBenchCompareCmd(), newBenchReportCmd())
	return cmd
}

// benchNDRFlags are `rxprobe bench ndr`'s flags as typed.
type benchNDRFlags struct {
	config, frameSizes, out, search, precision, pdrLoss, sim, hostRoot string
	scenario, maxRate                                                  string
	trial, short                                                       time.Duration
	confirm                                                            int
	dryRun, latency                                                    bool
	// changed reports whether a flag was given (cobra's Changed).
	changed func(name string) bool
}

// settings turns the flags into validated search settings (line rate from
// the config's first port), or one line saying what is wrong.
func (f *benchNDRFlags) settings(cfg *config.Config) (ndr.Config, error) {
	var c ndr.Config
	text := ndr.Text{FrameSizes: f.frameSizes, Precision: f.precision, PDRLoss: f.pdrLoss, MaxRate: f.maxRate}
	if err := text.Parse(&c, func(key string) string { return "--" + strings.ReplaceAll(key, "_", "-") }); err != nil {
		return c, err
	}
	c.Algorithm, c.TrialDuration, c.ShortDuration, c.Confirm = f.search, f.trial, f.short, f.confirm
	if cfg != nil && len(cfg.Ports) > 0 {
		c.LineRateGbps = cfg.Ports[0].LineRateGbps
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		if c.LineRateGbps == 0 && c.MaxRatePPS == 0 {
			return c, fmt.Errorf("config %s: ports[0].line_rate_gbps is 0: set the DUT port's link speed or --max-rate so the search has a maximum", f.config)
		}
		return c, err
	}
	return c, nil
}

func newBenchNDRCmd() *cobra.Command {
	var f benchNDRFlags
	cmd := &cobra.Command{
		Use:   "ndr (--scenario FILE | --config FILE) --out DIR [--frame-sizes LIST] [--search mlr|binary] [--trial D] [--short D] [--precision P] [--pdr-loss P] [--confirm N] [--latency] [--max-rate R] [--sim knee:RATE] [--dry-run]",
		Short: "Find the zero-loss (NDR) and partial-drop (PDR) throughput per frame size, RFC 2544 style",
		Args:  cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "", "bench scenario (bench/scenarios/*.yaml): the DUT config, setup, generator and search settings; flags given override it")
	fl.StringVarP(&f.config, "config", "c", "", "rxprobe YAML config of the DUT without --scenario: a veth pair is created and its generator section sends (ports[0].line_rate_gbps or --max-rate sets the maximum rate)")
	fl.StringVar(&f.maxRate, "max-rate", "", "highest rate searched, the generator's maximum (e.g. 2Mpps; default: line rate)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "load and validate the scenario and its config (CPUs not checked against this host), then exit")
	fl.StringVar(&f.frameSizes, "frame-sizes", ndr.DefaultFrameSizes, "frame sizes in bytes, FCS included, or imix")
	fl.StringVar(&f.out, "out", "", "directory for results.json, report.md, the SVG plots and index.html")
	fl.StringVar(&f.search, "search", ndr.MLR, "search algorithm: mlr (short trials, full-duration confirmation) or binary")
	fl.DurationVar(&f.trial, "trial", ndr.DefaultTrial, "full trial duration")
	fl.DurationVar(&f.short, "short", ndr.DefaultShort, "short trial duration (mlr)")
	fl.StringVar(&f.precision, "precision", "0.5%", "interval width to reach: relative (0.5%) or absolute (1000pps)")
	fl.StringVar(&f.pdrLoss, "pdr-loss", "0.5%", "loss the PDR allows")
	fl.BoolVar(&f.latency, "latency", false, "latency trials (scenario latency: true): the DUT runs with --latency, rxprobe gen stamps its frames, and each size's search is followed by trials at 10/50/90 % of the PDR")
	fl.IntVar(&f.confirm, "confirm", 0, "repeat each frame size's NDR trial N times at full duration after the search (0: not repeated)")
	fl.StringVar(&f.sim, "sim", "", "run against a simulated DUT: knee:RATE, noisy:RATE[:SEED] or gen:GENRATE:RATE")
	fl.StringVar(&f.hostRoot, "host-root", "/", "read /proc and /sys under this root")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		f.changed = fl.Changed
		return f.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	return cmd
}

// run is `bench ndr` after flag parsing: progress goes to errw. When ctx
// is cancelled (Ctrl-C) it writes what was measured, marked incomplete.
func (f *benchNDRFlags) run(ctx context.Context, out, errw io.Writer) error {
	if f.out == "" && !f.dryRun {
		return usageError(errors.New("--out is missing: name the directory for results.json, report.md and the plots"))
	}
	if f.sim == "" {
		return f.runLive(ctx, out, errw)
	}
	if f.scenario != "" {
		return usageError(errors.New("--sim and --scenario: a simulated DUT takes --config only; drop one"))
	}
	if f.config == "" {
		return usageError(errors.New("--config is missing: name the rxprobe config of the DUT"))
	}
	text, err := os.ReadFile(f.config)
	if err != nil {
		return usageError(fmt.Errorf("--config: %w", err))
	}
	cfg, host, err := loadConfig(f.config, f.hostRoot, nil)
	if err != nil {
		return err
	}
	settings, err := f.settings(cfg)
	if err != nil {
		return usageError(err)
	}
	dut, err := sim.Parse(f.sim)
	if err != nil {
		return usageError(err)
	}
	dut.Latency = true
	settings.LatencyLoads = ndr.DefaultLatencyLoads
	m := machineFacts(host, cfg)
	m.NIC, m.Driver = "simulated DUT ("+f.sim+")", "simulated"
	res, runErr := ndr.Run(ctx, settings, dut, ndr.Options{Machine: m, ConfigPath: f.config, ConfigText: string(text),
		Simulated: f.sim, Progress: errw})
	if res == nil {
		return usageError(runErr)
	}
	if err := ndr.WriteAll(f.out, res); err != nil {
		return failError(err)
	}
	if runErr != nil {
		return failError(fmt.Errorf("%w: incomplete results written to %s", runErr, f.out))
	}
	fmt.Fprintf(out, "wrote %s\n", filepath.Join(f.out, ndr.IndexFile))
	return nil
}

// machineFacts reads what identifies the host and the code measured; the
// NIC and driver are the config's first port until a runner opens it.
func machineFacts(host hostfs.FS, cfg *config.Config) ndr.Machine {
	m := ndr.Machine{Host: host.Hostname(), DPDKVersion: rx.DPDKVersion(),
		RxprobeVersion: fmt.Sprintf("rxprobe %s (commit %s, %s)", version, commit, runtime.Version())}
	if b, err := host.ReadFile("proc/cpuinfo", 4<<20); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	m.Kernel, _ = host.ReadString("proc/sys/kernel/osrelease")
	if len(cfg.Ports) > 0 {
		m.NIC, m.Driver = cfg.Ports[0].Device, "opened by the trial runner"
	}
	return m
}

func newBenchCompareCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "compare A B",
		Short: "Print the change in every figure between two bench results (results.json or its directory)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs [2]*ndr.Results
			for i, p := range args {
				r, err := readResults(p)
				if err != nil {
					return usageError(err)
				}
				rs[i] = r
			}
			ndr.Compare(cmd.OutOrStdout(), rs[0], rs[1])
			return nil
		},
	}
}

// readResults reads a results.json, given as the file or its directory.
func readResults(p string) (*ndr.Results, error) {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, ndr.ResultsFile)
	}
	return ndr.ReadJSON(p)
}

func newBenchReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report RESULTS --out DIR",
		Short: "Write report.md, the SVG plots and index.html again from a results.json (or its directory), e.g. with a newer rxprobe",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError(errors.New("--out is missing: name the directory for report.md, the plots and index.html"))
			}
			r, err := readResults(args[0])
			if err != nil {
				return usageError(err)
			}
			if err := ndr.WriteAll(out, r); err != nil {
				return failError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, ndr.IndexFile))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for results.json, report.md, the SVG plots and index.html")
	return cmd
}
