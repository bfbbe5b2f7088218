package main

import (
	"fmt"

	"github.com/spf13/viper"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/internal/run"
	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

// loadConfig reads and validates the config at path against the host's
// online CPUs. Every error is a usage error (exit 2) on one line.
func loadConfig(path, hostRoot string, v *viper.Viper) (*config.Config, hostfs.FS, error) {
	host := hostfs.New(hostRoot)
	cfg, err := config.Load(path, v)
	if err != nil {
		return nil, host, usageError(err)
	}
	online, err := host.OnlineCPUs()
	if err != nil {
		return nil, host, usageError(fmt.Errorf("reading online CPUs: %w", err))
	}
	if err := cfg.Validate(online); err != nil {
		return nil, host, usageError(err)
	}
	if err := rx.CheckCaptureFilter(cfg); err != nil {
		return nil, host, usageError(err)
	}
	return cfg, host, nil
}

// loadSpec reads the config at configPath and returns what preflight and
// `hugepages reserve --config` check for it on the host at hostRoot.
func loadSpec(configPath, hostRoot string) (isolation.Spec, error) {
	cfg, host, err := loadConfig(configPath, hostRoot, nil)
	if err != nil {
		return isolation.Spec{}, err
	}
	return run.Spec(cfg, host), nil
}
