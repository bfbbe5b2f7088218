package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/rx/config"
)

// Bench runs settings' search against the scenario's DUT from start to
// end: it opens the session (setup, `rxprobe run` with the trial API, the
// generator; exe is the rxprobe binary, out the output directory), runs
// ndr.Run, closes the session, takes the DUT port's device and driver
// from the run's report and writes every output file to out.
//
// res is nil when the session could not be opened (nothing was measured;
// nothing is left behind). Otherwise the results are written, complete or
// not, and err reports a search that stopped early, a failed write or a
// session that did not close cleanly.
func Bench(ctx context.Context, sc *Scenario, cfg *config.Config, settings ndr.Config, exe, out string, m ndr.Machine, progress io.Writer) (res *ndr.Results, err error) {
	text, _ := os.ReadFile(sc.Config)
	var scText []byte
	if sc.Path != "" {
		scText, _ = os.ReadFile(sc.Path)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	ss, err := Open(ctx, sc, cfg, exe, out)
	if err != nil {
		return nil, err
	}
	res, runErr := ndr.Run(ctx, settings, ss.Runner, ndr.Options{Machine: m, ConfigPath: sc.Config, ConfigText: string(text),
		ScenarioPath: sc.Path, ScenarioText: string(scText), Progress: progress})
	closeErr := ss.Close()
	if res == nil {
		return nil, errors.Join(runErr, closeErr)
	}
	if facts, err := ReadRunFacts(ss.RunReport); err == nil {
		res.Machine.NIC, res.Machine.Driver = facts.Device, facts.Driver
	} else {
		res.Machine.Driver = "unknown: " + err.Error()
	}
	if err := ndr.WriteAll(out, res); err != nil {
		return res, err
	}
	if runErr != nil {
		runErr = fmt.Errorf("%w: incomplete results written to %s", runErr, out)
	}
	if closeErr != nil {
		closeErr = fmt.Errorf("stopping the bench setup: %w", closeErr)
	}
	return res, errors.Join(runErr, closeErr)
}
