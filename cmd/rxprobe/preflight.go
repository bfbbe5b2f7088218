package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/isolation"
)

func init() {
	rootCmd.AddCommand(newPreflightCmd())
}

type preflightFlags struct {
	config, root, rxCPUs, housekeeping string
	pci                                []string
	asJSON                             bool
}

func newPreflightCmd() *cobra.Command {
	var f preflightFlags
	cmd := &cobra.Command{
		Use:   "preflight [--config FILE | --rx-cpus LIST] [--json] [--host-root DIR]",
		Short: "Check that the host is ready: isolation, interrupts, hugepages, NUMA, power",
		Long: `Check that the host is ready to poll without interruption.

Exit status: 0 nothing failed, 1 a check failed, 2 the checks could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := preflightSpec(cmd, f)
			if err != nil {
				return err
			}
			rep := isolation.Run(hostfs.New(f.root), spec)
			out := cmd.OutOrStdout()
			if f.asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return usageError(err)
				}
			} else {
				rep.WriteText(out, out == io.Writer(os.Stdout) && isTerminal(int(os.Stdout.Fd())))
			}
			if rep.Failed() {
				return silentExit(exitFailure)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "rxprobe YAML config to check the host against")
	fl.StringVar(&f.root, "host-root", "/", "read /proc, /sys and /etc under this root")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fl.StringVar(&f.rxCPUs, "rx-cpus", "", "RX CPUs (cpulist) when there is no --config")
	fl.StringVar(&f.housekeeping, "housekeeping", "", "housekeeping CPUs (cpulist) when there is no --config")
	fl.StringSliceVar(&f.pci, "pci", nil, "PCI addresses of the ports (0000:3b:00.0 or 3b:00.0) when there is no --config")
	return cmd
}

// preflightSpec builds the spec from --config, or from --rx-cpus and
// friends.
func preflightSpec(cmd *cobra.Command, f preflightFlags) (isolation.Spec, error) {
	if f.config != "" {
		for _, name := range []string{"rx-cpus", "housekeeping", "pci"} {
			if cmd.Flags().Changed(name) {
				return isolation.Spec{}, usageError(fmt.Errorf("--%s cannot be combined with --config", name))
			}
		}
		return loadSpec(f.config, f.root)
	}
	if f.rxCPUs == "" {
		return isolation.Spec{}, usageError(errors.New("preflight needs --config FILE or --rx-cpus LIST"))
	}
	var spec isolation.Spec
	var err error
	if spec.RXCPUs, err = cpuset.Parse(f.rxCPUs); err != nil {
		return spec, usageError(fmt.Errorf("--rx-cpus: %w", err))
	}
	if spec.Housekeeping, err = cpuset.Parse(f.housekeeping); err != nil {
		return spec, usageError(fmt.Errorf("--housekeeping: %w", err))
	}
	for _, a := range f.pci {
		canon, err := hostfs.CanonicalPCI(a)
		if err != nil {
			return spec, usageError(fmt.Errorf("--pci: %w", err))
		}
		spec.PCIDevices = append(spec.PCIDevices, canon)
	}
	return spec, nil
}
