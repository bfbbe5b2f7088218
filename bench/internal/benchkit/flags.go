package benchkit

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Common are the settings every harness has.
type Common struct {
	Rounds       int    // rounds; fewer than MinRounds are not a result
	CPU          int    // the measured CPU: the RX loop's (the config's rx_cpus)
	Housekeeping int    // EAL's main lcore, the Go runtime, the harness itself
	Config       string // rxprobe config
	Rxprobe      string // the rxprobe binary measured
	Markdown     string // also write the block here (results only)
}

// Flags is a harness's flag set. Its Env gives flags their defaults from
// BENCH_* variables and remembers those that do not parse.
type Flags struct {
	*flag.FlagSet
	Env Env
}

// NewFlags returns name's flag set with c's flags registered; -rounds
// defaults to rounds (BENCH_ROUNDS).
func NewFlags(name string, stderr io.Writer, c *Common, rounds int) *Flags {
	f := &Flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.SetOutput(stderr)
	f.IntVar(&c.Rounds, "rounds", f.Env.Int("BENCH_ROUNDS", rounds), fmt.Sprintf("rounds, the order of the tools reversed every other round; fewer than %d are not a result (env BENCH_ROUNDS)", MinRounds))
	f.IntVar(&c.CPU, "cpu", f.Env.Int("BENCH_RX_CPU", 1), "measured CPU: the RX loop's, the config's rx_cpus (env BENCH_RX_CPU)")
	f.IntVar(&c.Housekeeping, "housekeeping", f.Env.Int("BENCH_HK_CPU", 0), "housekeeping CPU: EAL's main lcore, the Go runtime, this harness (env BENCH_HK_CPU)")
	f.StringVar(&c.Config, "config", "configs/null.yaml", "rxprobe config (one net_null port, one queue)")
	f.StringVar(&c.Rxprobe, "rxprobe", f.Env.String("RXPROBE", "bin/rxprobe"), "rxprobe binary measured (env RXPROBE)")
	f.StringVar(&c.Markdown, "markdown", "", "also write the Markdown result block to this file (only for a result)")
	return f
}

// Parse parses args and checks what every harness needs: environment
// variables that parse, no stray arguments, at least one round, two
// different CPUs.
func (f *Flags) Parse(args []string, c *Common) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	switch {
	case len(f.Env.Errs) > 0:
		return errors.Join(f.Env.Errs...)
	case f.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", f.Arg(0))
	case c.Rounds < 1:
		return fmt.Errorf("-rounds %d: want at least 1 (%d for a result)", c.Rounds, MinRounds)
	case c.CPU < 0 || c.Housekeeping < 0 || c.CPU == c.Housekeeping:
		return fmt.Errorf("-cpu %d, -housekeeping %d: want two different CPUs", c.CPU, c.Housekeeping)
	}
	return nil
}
