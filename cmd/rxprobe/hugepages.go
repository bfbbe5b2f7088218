package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/hugepages"
)

func init() {
	rootCmd.AddCommand(newHugepagesCmd())
}

func newHugepagesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hugepages",
		Short: "Show, reserve and release hugepages",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newHugepagesStatusCmd(), newHugepagesReserveCmd(), newHugepagesReleaseCmd())
	return cmd
}

func newHugepagesStatusCmd() *cobra.Command {
	var root string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--host-root DIR] [--json]",
		Short: "Hugepages per NUMA node and size, and hugetlbfs mounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := hugepages.New(root).ReadStatus()
			if err != nil {
				return usageError(err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			st.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "host-root", "/", "read /proc and /sys under this root")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// hugepagesError turns a hugepages error into a one-line command error:
// a partial grant is "ran and found a problem" (exit 1), anything else
// means the command could not do its job (exit 2). nil stays nil.
func hugepagesError(err error) error {
	if err == nil {
		return nil
	}
	var pe *hugepages.PartialGrantError
	switch {
	case errors.As(err, &pe):
		return failError(err)
	case errors.Is(err, hugepages.ErrNotRoot):
		return usageError(fmt.Errorf("%w (run as root)", err))
	case errors.Is(err, hugepages.ErrSizeUnsupported):
		return usageError(fmt.Errorf("%w (see rxprobe hugepages status)", err))
	}
	return usageError(err)
}

type reserveFlags struct {
	root, size, mount, config string
	pages                     uint64
	node                      int
}

func newHugepagesReserveCmd() *cobra.Command {
	var f reserveFlags
	cmd := &cobra.Command{
		Use:   "reserve (--size 2M|1G --pages N [--node K] [--mount DIR] | --config FILE)",
		Short: "Add hugepages to a pool (and mount hugetlbfs), or reserve what a config lacks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := hugepages.New(f.root)
			say := sayTo(cmd.OutOrStdout())
			if f.config != "" {
				if cmd.Flags().Changed("size") || cmd.Flags().Changed("pages") || cmd.Flags().Changed("node") {
					return usageError(errors.New("--config cannot be combined with --size, --pages or --node"))
				}
				spec, err := loadSpec(f.config, f.root)
				if err != nil {
					return err
				}
				if len(hugepages.MergeNeeds(spec.Huge)) == 0 {
					say("config runs with no_huge: nothing to reserve")
					return nil
				}
				_, err = fs.Ensure(spec.Huge, f.mount, say)
				return hugepagesError(err)
			}
			if !cmd.Flags().Changed("size") || !cmd.Flags().Changed("pages") {
				return usageError(errors.New("reserve needs --size and --pages (or --config FILE)"))
			}
			size, err := hugepages.ParseSize(f.size)
			if err != nil {
				return usageError(err)
			}
			if _, err := fs.ReserveSaying(f.node, size, f.pages, say); err != nil || f.mount == "" {
				return hugepagesError(err)
			}
			return hugepagesError(fs.EnsureMountSaying(f.mount, size, say))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.root, "host-root", "/", "act on /proc and /sys under this root")
	fl.StringVar(&f.size, "size", "", "page size: 2M or 1G")
	fl.Uint64Var(&f.pages, "pages", 0, "how many pages to add")
	fl.IntVar(&f.node, "node", -1, "NUMA node (-1: let the kernel spread them)")
	fl.StringVar(&f.mount, "mount", "", "mount hugetlbfs for the size here if none is mounted")
	fl.StringVarP(&f.config, "config", "c", "", "reserve exactly what this rxprobe config lacks")
	return cmd
}

// sayTo returns a say function that writes each line to out.
func sayTo(out io.Writer) func(string) { return func(s string) { fmt.Fprintln(out, s) } }

func newHugepagesReleaseCmd() *cobra.Command {
	var root, sizeFlag string
	var pages uint64
	var node int
	cmd := &cobra.Command{
		Use:   "release --size 2M|1G --pages N [--node K]",
		Short: "Give free hugepages back to the kernel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("size") || !cmd.Flags().Changed("pages") {
				return usageError(errors.New("release needs --size and --pages"))
			}
			size, err := hugepages.ParseSize(sizeFlag)
			if err != nil {
				return usageError(err)
			}
			return hugepagesError(hugepages.New(root).ReleaseSaying(node, size, pages, sayTo(cmd.OutOrStdout())))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&root, "host-root", "/", "act on /proc and /sys under this root")
	fl.StringVar(&sizeFlag, "size", "", "page size: 2M or 1G")
	fl.Uint64Var(&pages, "pages", 0, "how many free pages to give back")
	fl.IntVar(&node, "node", -1, "NUMA node (-1: the global pool)")
	return cmd
}
