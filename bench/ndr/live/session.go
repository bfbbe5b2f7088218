package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rxprobe/rxprobe/rx/config"
)

// Files a session writes in its output directory.
const (
	DUTConfigFile = "dut.yaml"
	RunReportFile = "run.json"
	RunLogFile    = "run.log"
	GenLogFile    = "gen.log"
)

// startTimeout bounds the DUT's start-up (EAL, ports, trial API).
const startTimeout = 90 * time.Second

// Session is a running bench setup: the veth pair (setup veth), one
// `rxprobe run` serving the trial API and the generator. Close stops and
// removes all of it.
type Session struct {
	Runner *Runner
	// RunReport is the run's JSON report, written when Close stopped it.
	RunReport string
	veth      *Veth
	run       *exec.Cmd
	runDone   chan error
	logs      []*os.File
}

// Open sets the scenario up: exe is the rxprobe binary, out the output
// directory (configs, logs and the run's report go there). On failure
// nothing is left running.
func Open(ctx context.Context, s *Scenario, cfg *config.Config, exe, out string) (_ *Session, err error) {
	ss := &Session{RunReport: filepath.Join(out, RunReportFile)}
	defer func() {
		if err != nil {
			err = errors.Join(err, ss.Close())
		}
	}()
	dutCfg := s.Config
	if s.Setup == SetupVeth {
		if ss.veth, err = NewVeth(); err != nil {
			return nil, err
		}
		c := *cfg
		c.Ports = append([]config.Port(nil), cfg.Ports...)
		c.Ports[0].Devargs, _ = withIface(c.Ports[0].Devargs, ss.veth.A)
		if cfg.Generator != nil {
			g := *cfg.Generator
			g.Devargs, _ = withIface(g.Devargs, ss.veth.B)
			c.Generator = &g
		}
		dutCfg = filepath.Join(out, DUTConfigFile)
		b, err := yaml.Marshal(&c)
		if err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
		if err := os.WriteFile(dutCfg, b, 0o644); err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runLog, err := ss.log(filepath.Join(out, RunLogFile))
	if err != nil {
		return nil, err
	}
	ready := filepath.Join(out, ".run-ready")
	args := []string{"run", "--config", dutCfg, "--trial-api", addr, "--report", ss.RunReport, "--ready-file", ready}
	if s.Latency {
		args = append(args, "--latency")
	}
	ss.run = exec.Command(exe, args...)
	ss.run.SysProcAttr = childAttr()
	ss.run.Stdout, ss.run.Stderr = runLog, runLog
	if err := ss.run.Start(); err != nil {
		return nil, fmt.Errorf("live: starting rxprobe run: %w", err)
	}
	ss.runDone = make(chan error, 1)
	go func() { ss.runDone <- ss.run.Wait() }()
	api := NewAPI(addr)
	if err := ss.waitReady(ctx, ready, api); err != nil {
		return nil, err
	}
	genLog, err := ss.log(filepath.Join(out, GenLogFile))
	if err != nil {
		return nil, err
	}
	var ns string
	if ss.veth != nil {
		ns = ss.veth.NS
	}
	var gen Generator = &ServeGen{Exe: exe, Config: dutCfg, NetNS: ns, Stderr: genLog, Latency: s.Latency}
	if s.Generator == GenExternal {
		gen = &External{Start: s.External.Start, NetNS: ns, Stderr: genLog,
			Vars: map[string]string{"gen_config": dutCfg, "rxprobe": exe}}
	}
	ss.Runner = &Runner{API: api, Gen: gen, Drain: s.Drain, MaxDrain: s.MaxDrain}
	return ss, nil
}

func (ss *Session) log(path string) (*os.File, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	ss.logs = append(ss.logs, f)
	return f, nil
}

// waitReady waits for the run's ready file and a healthy trial API.
func (ss *Session) waitReady(ctx context.Context, ready string, api *API) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := os.Stat(ready); err == nil && api.Healthy(ctx) {
			return nil
		}
		select {
		case err := <-ss.runDone:
			// reported here, once: Close has no run left to stop
			ss.run = nil
			return fmt.Errorf("live: rxprobe run exited during start-up (%v): see %s", err, ss.logs[0].Name())
		case <-ctx.Done():
			return fmt.Errorf("live: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("live: rxprobe run did not serve the trial API within %v: see %s", startTimeout, ss.logs[0].Name())
		}
	}
}

// freeAddr is a free loopback TCP address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("live: finding a free port for the trial API: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Close stops the generator and the run (SIGTERM; it writes its report)
// and removes the veth pair. It may be called more than once.
func (ss *Session) Close() error {
	var errs []error
	if ss.Runner != nil {
		errs = append(errs, ss.Runner.Gen.Close())
		ss.Runner = nil
	}
	if ss.run != nil {
		_ = ss.run.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-ss.runDone:
			if err != nil {
				errs = append(errs, fmt.Errorf("live: rxprobe run: %w (see %s)", err, ss.logs[0].Name()))
			}
		case <-time.After(30 * time.Second):
			_ = ss.run.Process.Kill()
			<-ss.runDone
			errs = append(errs, errors.New("live: rxprobe run did not stop within 30 s of SIGTERM and was killed"))
		}
		ss.run = nil
	}
	if ss.veth != nil {
		errs = append(errs, ss.veth.Close())
		ss.veth = nil
	}
	for _, f := range ss.logs {
		_ = f.Close()
	}
	ss.logs = nil
	return errors.Join(errs...)
}

// RunFacts are what the run's report says of the DUT port.
type RunFacts struct {
	Device, Driver string
}

// ReadRunFacts reads the DUT port's device and driver from the run's
// report (after Close).
func ReadRunFacts(path string) (RunFacts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return RunFacts{}, fmt.Errorf("live: %w", err)
	}
	var r struct {
		Ports []struct {
			Device string `json:"device"`
			Driver string `json:"driver"`
		} `json:"ports"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return RunFacts{}, fmt.Errorf("live: %s: %w", path, err)
	}
	if len(r.Ports) == 0 {
		return RunFacts{}, fmt.Errorf("live: %s has no ports: %w", path, io.ErrUnexpectedEOF)
	}
	return RunFacts{Device: r.Ports[0].Device, Driver: r.Ports[0].Driver}, nil
}

// childAttr makes a child of the bench die with it: a bench killed
// outright (SIGKILL, a test's timeout) runs no Close, and a DUT run left
// behind would poll its RX CPU until someone noticed.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
