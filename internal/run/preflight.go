package run

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/isolation"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

// ErrPreflight is matched by the error of a run refused by the preflight
// checks.
var ErrPreflight = errors.New("preflight failed")

// Spec is what preflight checks for cfg on host: the RX and housekeeping
// CPUs, the PCI devices and the hugepages each NUMA node needs.
func Spec(cfg *config.Config, host hostfs.FS) isolation.Spec {
	return isolation.Spec{
		RXCPUs:       cfg.RXCPUSet(),
		Housekeeping: cfg.HousekeepingSet(),
		PCIDevices:   cfg.PCIDevices(),
		Huge:         cfg.HugepageNeeds(rx.NodeOf(host)),
	}
}

// preflightGate runs the host checks before anything starts. A failure
// stops the run unless the config allows an unisolated host; then it is
// returned as a degradation.
func preflightGate(cfg *config.Config, host hostfs.FS) ([]string, error) {
	spec := Spec(cfg, host)
	spec.ExcludePID = os.Getpid()
	rep := isolation.Run(host, spec)
	var failed []string
	for _, r := range rep.Results {
		if r.Status == isolation.StatusFail {
			failed = append(failed, r.ID)
		}
	}
	if len(failed) == 0 {
		return nil, nil
	}
	if !cfg.Run.AllowUnisolated {
		return nil, fmt.Errorf("%w (%s): see `rxprobe preflight --config FILE` for remedies, or pass --allow-unisolated on a development host", ErrPreflight, strings.Join(failed, ", "))
	}
	return []string{"unisolated: preflight failed " + strings.Join(failed, ", ") + " (--allow-unisolated)"}, nil
}
