package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/live"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/config"
)

// liveScenario is the scenario `bench ndr` runs without --sim: the
// --scenario file, or with --config alone a veth scenario around that
// config; flags given override the file's settings.
func (f *benchNDRFlags) liveScenario() (*live.Scenario, error) {
	var sc *live.Scenario
	switch {
	case f.scenario != "" && f.changed("config"):
		return nil, errors.New("--scenario and --config: the scenario names the DUT config; drop --config")
	case f.scenario != "":
		var err error
		if sc, err = live.LoadScenario(f.scenario); err != nil {
			return nil, err
		}
	case f.config != "":
		sc = live.NewScenario(f.config, live.SetupVeth)
	default:
		return nil, errors.New("--scenario is missing: name a scenario (e.g. bench/scenarios/veth-quick.yaml) or the DUT config with --config")
	}
	// The flags' own syntax first, with their names in the errors; a
	// duration not given is not held against one given (the scenario's
	// own then decides).
	g := *f
	if !f.changed("trial") {
		g.trial = max(g.trial, g.short)
	}
	if !f.changed("short") {
		g.short = min(g.short, g.trial)
	}
	if _, err := g.settings(&config.Config{Ports: []config.Port{{LineRateGbps: 1e6}}}); err != nil {
		return nil, err
	}
	for _, o := range []struct {
		flag string
		dst  *string
		val  string
	}{{"frame-sizes", &sc.FrameSizes, f.frameSizes}, {"search", &sc.Search, f.search}, {"precision", &sc.Precision, f.precision},
		{"pdr-loss", &sc.PDRLoss, f.pdrLoss}, {"max-rate", &sc.MaxRate, f.maxRate}} {
		if f.changed(o.flag) || f.scenario == "" {
			*o.dst = o.val
		}
	}
	if f.changed("latency") || f.scenario == "" {
		sc.Latency = f.latency
	}
	if f.changed("confirm") || f.scenario == "" {
		sc.Confirm = f.confirm
	}
	if f.changed("trial") || f.scenario == "" {
		sc.Trial = f.trial
	}
	if f.changed("short") || f.scenario == "" {
		sc.Short = f.short
	}
	return sc, nil
}

// runLive is `bench ndr` against a real DUT: a scenario's setup, one
// `rxprobe run` with the trial API, and its generator.
func (f *benchNDRFlags) runLive(ctx context.Context, out, errw io.Writer) error {
	sc, err := f.liveScenario()
	if err != nil {
		return usageError(err)
	}
	host := hostfs.New(f.hostRoot)
	online := live.AnyCPUs()
	if !f.dryRun {
		if online, err = host.OnlineCPUs(); err != nil {
			return usageError(fmt.Errorf("reading online CPUs: %w", err))
		}
	}
	cfg, err := sc.LoadConfig(online)
	if err != nil {
		return usageError(err)
	}
	if err := sc.Validate(cfg); err != nil {
		return usageError(err)
	}
	settings, err := sc.Settings(cfg)
	if err != nil {
		return usageError(err)
	}
	if f.dryRun {
		names := make([]string, len(settings.FrameSizes))
		for i, s := range settings.FrameSizes {
			names[i] = s.String()
		}
		fmt.Fprintf(out, "scenario valid (CPUs not checked against this host): DUT %s (%s), setup %s, generator %s, frame sizes %s, %s search, trials %v (short %v), precision %s, PDR loss %s, NDR repeated %d times\n",
			cfg.Ports[0].Name, cfg.Ports[0].Device, sc.Setup, sc.Generator, strings.Join(names, ","), settings.Algorithm,
			settings.TrialDuration, settings.ShortDuration, sc.Precision, sc.PDRLoss, settings.Confirm)
		return nil
	}
	if os.Geteuid() != 0 {
		return usageError(errors.New("bench ndr on a real DUT needs root (DPDK, veth pair, network namespace): run it as root, or use --sim or --dry-run"))
	}
	exe, err := os.Executable()
	if err != nil {
		return usageError(fmt.Errorf("finding the rxprobe binary: %w", err))
	}
	res, err := live.Bench(ctx, sc, cfg, settings, exe, f.out, machineFacts(host, cfg), errw)
	if res == nil {
		return usageError(err)
	}
	if err != nil {
		return failError(err)
	}
	fmt.Fprintf(out, "wrote %s\n", filepath.Join(f.out, ndr.IndexFile))
	return nil
}
