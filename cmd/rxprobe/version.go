package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/rx"
)

// version and commit are set with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print rxprobe's version, commit, Go and DPDK versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "rxprobe %s (commit %s, %s, %s)\n", version, commit, runtime.Version(), rx.DPDKVersion())
			return nil
		},
	})
}
