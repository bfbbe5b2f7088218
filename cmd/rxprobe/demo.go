package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/internal/demo"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

func newDemoCmd() *cobra.Command {
	o := demo.Options{}
	cmd := &cobra.Command{
		Use:   "demo [--duration 20s] [--rate PPS] [--driver auto|af_xdp|af_packet] [--report FILE]",
		Short: "Run the embedded default: a veth pair, rxprobe gen on one end, rxprobe run on the other",
		Long: `demo creates a veth pair with one end in the network namespace ` + demo.NS + `,
sends paced UDP frames from the namespace with 'rxprobe gen' and receives them
with 'rxprobe run' over AF_XDP (AF_PACKET when AF_XDP cannot start), shows the
live view and prints the summary. It mounts tracefs and bpffs when missing
(the flight recorder and libxdp need them) and reserves the hugepages it
lacks; at the end it removes what it created (namespace, veth pair, the
mounts it made) and gives back exactly the hugepages it added. The run's
report stays at --report.
Without the privileges for that it says so and runs net_null with --no-huge.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().DurationVar(&o.Duration, "duration", 20*time.Second, "how long rxprobe run polls (>= 6s)")
	cmd.Flags().Float64Var(&o.Rate, "rate", 100000, "generator packets per second")
	cmd.Flags().StringVar(&o.Driver, "driver", "auto", "auto, af_xdp or af_packet")
	cmd.Flags().StringVar(&o.Report, "report", demo.DefaultReport, "where the run's JSON report is kept")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o.Out = cmd.OutOrStdout()
		self, err := os.Executable()
		if err != nil {
			return usageError(fmt.Errorf("demo: finding own binary: %w", err))
		}
		o.Self = self
		err = demo.Run(o)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, demo.ErrSetup):
			return usageError(err)
		}
		return failError(err)
	}
	return cmd
}
