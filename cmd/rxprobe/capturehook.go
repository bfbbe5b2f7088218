package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/run"
)

func init() {
	rootCmd.AddCommand(newCaptureHookCmd())
}

// newCaptureHookCmd is the hidden `rxprobe capture-hook`, the child that
// `rxprobe run` starts for capture.on_file: it reads the finished files
// on fd 3 and runs the command on each (see run.RunCaptureHook).
func newCaptureHookCmd() *cobra.Command {
	var command, tally string
	cmd := &cobra.Command{
		Use:    "capture-hook --command CMD [--tally FILE]",
		Short:  "Run capture.on_file on each finished capture file named on fd 3 (started by rxprobe run)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if command == "" {
				return usageError(fmt.Errorf("capture-hook: --command is empty"))
			}
			// fd 3 is the pipe from the run; the commands must not
			// inherit it
			if _, err := unix.FcntlInt(run.HookFD, unix.F_GETFD, 0); err != nil {
				return usageError(fmt.Errorf("capture-hook: fd %d: %w: rxprobe run starts this command with the pipe there", run.HookFD, err))
			}
			unix.CloseOnExec(run.HookFD)
			in := os.NewFile(run.HookFD, "capture-hook-pipe")
			defer in.Close()
			_, err := run.RunCaptureHook(in, command, tally, os.Stdout, os.Stderr)
			return err
		},
	}
	cmd.Flags().StringVar(&command, "command", "", "the shell command ({file}: the finished file)")
	cmd.Flags().StringVar(&tally, "tally", "", "rewrite this file with the commands run and failed after each")
	return cmd
}
