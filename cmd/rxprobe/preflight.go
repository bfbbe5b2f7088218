package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

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
				printPreflight(out, rep, out == io.Writer(os.Stdout) && isTerminal(int(os.Stdout.Fd())))
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

// statusColour is the ANSI colour of each status on a terminal.
var statusColour = map[isolation.Status]string{
	isolation.StatusPass: "\x1b[32m",
	isolation.StatusWarn: "\x1b[33m",
	isolation.StatusFail: "\x1b[31m",
	isolation.StatusSkip: "\x1b[90m",
}

// printPreflight writes the report as a table, with expected value,
// reason, remedy and details under every check that did not pass.
func printPreflight(out io.Writer, rep isolation.Report, colour bool) {
	if rep.Host != "" {
		fmt.Fprintf(out, "host %s\n\n", rep.Host)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tOBSERVED")
	counts := map[isolation.Status]int{}
	for _, r := range rep.Results {
		counts[r.Status]++
		st := strings.ToUpper(string(r.Status))
		if colour {
			// Pad before colouring so the escape codes do not upset the columns.
			st = statusColour[r.Status] + fmt.Sprintf("%-4s", st) + "\x1b[0m"
		}
		obs := r.Observed
		if r.Status == isolation.StatusSkip {
			obs = r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st, r.ID, oneLine(obs))
	}
	tw.Flush()
	for _, r := range rep.Results {
		if r.Status != isolation.StatusWarn && r.Status != isolation.StatusFail {
			continue
		}
		fmt.Fprintf(out, "\n%s %s: %s\n", strings.ToUpper(string(r.Status)), r.ID, r.Title)
		if r.Reason != "" {
			fmt.Fprintf(out, "  why:      %s\n", oneLine(r.Reason))
		}
		fmt.Fprintf(out, "  expected: %s\n", oneLine(r.Expected))
		if r.Remedy != "" {
			fmt.Fprintf(out, "  remedy:   %s\n", oneLine(r.Remedy))
		}
		for _, d := range r.Details {
			fmt.Fprintf(out, "    - %s\n", oneLine(d))
		}
	}
	fmt.Fprintf(out, "\n%d pass, %d warn, %d fail, %d skip\n",
		counts[isolation.StatusPass], counts[isolation.StatusWarn], counts[isolation.StatusFail], counts[isolation.StatusSkip])
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
