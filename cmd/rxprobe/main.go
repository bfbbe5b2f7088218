// Command rxprobe is a DPDK poll-mode packet probe with a jitter guard.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and found a problem (e.g. a failed preflight check)
	exitUsage   = 2 // the command could not run: bad flags, bad config, missing resources
)

// exitError carries an exit code with the error that caused it. Commands
// return it (wrapped or not); main prints the error on one line and exits
// with Code.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string { return e.Err.Error() }
func (e *exitError) Unwrap() error { return e.Err }

// usageError marks err as "the command could not run" (exit 2).
func usageError(err error) error { return &exitError{Code: exitUsage, Err: err} }

// failError marks err as "the command ran and found a problem" (exit 1).
func failError(err error) error { return &exitError{Code: exitFailure, Err: err} }

// silentExit exits with code without printing anything more.
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit %d", int(s)) }

var rootCmd = &cobra.Command{
	Use:           "rxprobe",
	Short:         "DPDK poll-mode packet probe with a jitter guard",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs the command line args and returns the exit code.
func execute(args []string) int {
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	if err == nil {
		return exitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return int(se)
	}
	fmt.Fprintf(os.Stderr, "rxprobe: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	// Cobra's own errors (unknown flag, bad argument count) are usage errors.
	return exitUsage
}
