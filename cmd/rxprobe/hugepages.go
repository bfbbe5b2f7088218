package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

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
			printHugepagesStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "host-root", "/", "read /proc and /sys under this root")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printHugepagesStatus(out io.Writer, st hugepages.Status) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "NODE\tSIZE\tTOTAL\tFREE\tSURPLUS\tRESERVED\t")
	for _, p := range st.Pools {
		node, resv := fmt.Sprint(p.Node), "-"
		if p.Node < 0 {
			node, resv = "all", fmt.Sprint(p.Reserved)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t\n", node, p.Size, p.Total, p.Free, p.Surplus, resv)
	}
	tw.Flush()
	if len(st.Mounts) == 0 {
		fmt.Fprintln(out, "\nno hugetlbfs mounted")
		return
	}
	fmt.Fprintln(out, "\nhugetlbfs mounts:")
	for _, m := range st.Mounts {
		fmt.Fprintf(out, "  %s (%s)\n", m.Path, m.Size)
	}
}

// hugepagesError turns a hugepages error into a one-line command error:
// a partial grant is "ran and found a problem" (exit 1), anything else
// means the command could not do its job (exit 2).
func hugepagesError(err error) error {
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
			out := cmd.OutOrStdout()
			if f.config != "" {
				if cmd.Flags().Changed("size") || cmd.Flags().Changed("pages") || cmd.Flags().Changed("node") {
					return usageError(errors.New("--config cannot be combined with --size, --pages or --node"))
				}
				spec, err := loadSpec(f.config, f.root)
				if err != nil {
					return err
				}
				return reserveForNeeds(out, fs, spec.Huge, f.mount)
			}
			if !cmd.Flags().Changed("size") || !cmd.Flags().Changed("pages") {
				return usageError(errors.New("reserve needs --size and --pages (or --config FILE)"))
			}
			size, err := hugepages.ParseSize(f.size)
			if err != nil {
				return usageError(err)
			}
			if err := reservePages(out, fs, f.node, size, f.pages); err != nil {
				return err
			}
			if f.mount != "" {
				return ensureMount(out, fs, f.mount, size)
			}
			return nil
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

func reservePages(out io.Writer, fs hugepages.FS, node int, size hugepages.Size, pages uint64) error {
	granted, err := fs.Reserve(node, size, pages)
	if err != nil {
		var pe *hugepages.PartialGrantError
		if errors.As(err, &pe) {
			fmt.Fprintf(out, "%s %s: granted %d of %d pages\n", hugepages.NodeLabel(node), size.Flag(), granted, pages)
		}
		return hugepagesError(err)
	}
	fmt.Fprintf(out, "%s %s: reserved %d pages\n", hugepages.NodeLabel(node), size.Flag(), granted)
	return nil
}

// reserveForNeeds reserves the pages each need lacks and mounts
// hugetlbfs for each size that has no mount (hugepages.FS.Ensure, which
// `rxprobe demo` uses too).
func reserveForNeeds(out io.Writer, fs hugepages.FS, needs []hugepages.Need, mountDir string) error {
	if len(hugepages.MergeNeeds(needs)) == 0 {
		fmt.Fprintln(out, "config runs with no_huge: nothing to reserve")
		return nil
	}
	_, err := fs.Ensure(needs, mountDir, func(s string) { fmt.Fprintln(out, s) })
	if err != nil {
		return hugepagesError(err)
	}
	return nil
}

func ensureMount(out io.Writer, fs hugepages.FS, dir string, size hugepages.Size) error {
	mounted, err := fs.EnsureMount(dir, size)
	if err != nil {
		return hugepagesError(err)
	}
	if mounted {
		fmt.Fprintln(out, hugepages.MountedLine(dir, size))
	}
	return nil
}

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
			if err := hugepages.New(root).Release(node, size, pages); err != nil {
				return hugepagesError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: released %d pages\n", hugepages.NodeLabel(node), size.Flag(), pages)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&root, "host-root", "/", "act on /proc and /sys under this root")
	fl.StringVar(&sizeFlag, "size", "", "page size: 2M or 1G")
	fl.Uint64Var(&pages, "pages", 0, "how many free pages to give back")
	fl.IntVar(&node, "node", -1, "NUMA node (-1: the global pool)")
	return cmd
}
