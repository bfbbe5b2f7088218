package demo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rxprobe/rxprobe/configs"
	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/internal/vethpair"
	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/config"
)

// Names the demo creates; stale ones from a killed demo are removed first.
const (
	NS   = "rxprobe-demo"
	RXIf = "rxpdemo0"
	TXIf = "rxpdemo1"
)

// DefaultReport is where the run's report is kept unless Options.Report
// says otherwise (relative to the working directory).
const DefaultReport = "rxprobe-demo-report.json"

// MinDuration is the shortest run the demo accepts: the generator starts
// after the loops run and stops 4 s before the run ends.
const MinDuration = 6 * time.Second

// ErrSetup matches errors that mean the demo could not be set up (bad
// options, a missing binary, a namespace it could not build).
var ErrSetup = errors.New("demo could not be set up")

// Options configure Run.
type Options struct {
	Duration time.Duration // how long rxprobe run polls (>= MinDuration)
	Rate     float64       // generator packets per second
	Driver   string        // auto, af_xdp or af_packet
	Self     string        // the rxprobe binary to run
	Report   string        // the run's report; "" means DefaultReport
	Out      io.Writer     // the demo's own lines
}

func setupErr(err error) error { return fmt.Errorf("%w: %w", ErrSetup, err) }

// Check validates o and fills its defaults.
func (o *Options) Check() error {
	if o.Duration < MinDuration {
		return setupErr(fmt.Errorf("--duration %v: the demo needs at least %v", o.Duration, MinDuration))
	}
	if o.Driver != "auto" && o.Driver != "af_xdp" && o.Driver != "af_packet" {
		return setupErr(fmt.Errorf("--driver %q: use auto, af_xdp or af_packet", o.Driver))
	}
	if o.Report == "" {
		o.Report = DefaultReport
	}
	abs, err := filepath.Abs(o.Report)
	if err != nil {
		return setupErr(err)
	}
	o.Report = abs
	if o.Out == nil {
		o.Out = io.Discard
	}
	return nil
}

// Run runs the demo and removes everything it set up, however it ends.
func Run(o Options) error {
	if err := o.Check(); err != nil {
		return err
	}
	say := func(s string) { fmt.Fprintln(o.Out, "demo: "+s) }
	tmp, err := os.MkdirTemp("", "rxprobe-demo-")
	if err != nil {
		return setupErr(err)
	}
	var cleanup undo
	cleanup.add(func() { os.RemoveAll(tmp) })
	defer cleanup.run()

	// Privilege is probed by trying, not by looking at the uid. Names are
	// fixed: a pair and namespace a killed demo left are replaced.
	pair, err := vethpair.New(vethpair.Options{Netns: true, Names: vethpair.Names{NS: NS, A: RXIf, B: TXIf}, Replace: true})
	switch {
	case errors.Is(err, vethpair.ErrNoIP):
		say("`ip` (iproute2) not found: running net_null with --no-huge instead (install iproute2 for the veth demo)")
		return runNull(o)
	case errors.Is(err, vethpair.ErrNotPermitted):
		say(fmt.Sprintf("no veth pair (%v): running net_null with --no-huge instead", err))
		return runNull(o)
	case err != nil:
		return setupErr(err)
	}
	cleanup.add(func() {
		if err := pair.Close(); err != nil {
			say(err.Error())
		}
	})
	if err := liveMounter.ensureKernelFS(say, &cleanup); err != nil {
		return setupErr(err)
	}
	base, err := baseConfig(tmp)
	if err != nil {
		return setupErr(err)
	}
	if err := reserveHugepages(base, say, &cleanup); err != nil {
		return setupErr(err)
	}

	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)

	drivers := []string{"af_xdp", "af_packet"}
	if o.Driver != "auto" {
		drivers = []string{o.Driver}
	}
	var lastErr error
	for i, drv := range drivers {
		cfgPath := filepath.Join(tmp, "demo-"+drv+".yaml")
		if err := writeConfig(forDriver(base, drv, o.Rate), cfgPath); err != nil {
			return setupErr(err)
		}
		say(fmt.Sprintf("%s ⇄ %s (netns %s), rxprobe run over %s on CPU 1, gen at %.0f pps for %v",
			RXIf, TXIf, NS, strings.ToUpper(strings.ReplaceAll(drv, "_", "-")), o.Rate, o.Duration))
		r := runner{o: o, tmp: tmp, cfg: cfgPath, sigc: sigc, housekeeping: base.HousekeepingSet()}
		started, err := r.run()
		if err == nil {
			return nil
		}
		lastErr = err
		if started || i == len(drivers)-1 {
			break
		}
		say(fmt.Sprintf("%s did not start (%v); falling back to %s", drv, err, drivers[i+1]))
	}
	return fmt.Errorf("demo: %w", lastErr)
}

// reserveHugepages reserves what the run and the generator lack and
// mounts hugetlbfs if needed, the way `rxprobe hugepages reserve --config`
// does (hugepages.FS.Ensure), and registers giving back exactly that.
func reserveHugepages(cfg *config.Config, say func(string), cleanup *undo) error {
	host := hostfs.New("/")
	online, err := host.OnlineCPUs()
	if err != nil {
		return fmt.Errorf("reading online CPUs: %w", err)
	}
	if err := cfg.Validate(online); err != nil {
		return err
	}
	needs := append(cfg.HugepageNeeds(rx.NodeOf(host)), cfg.GenHugepageNeeds(0)...)
	change, err := hugepages.New("/").Ensure(needs, "", func(s string) { say("hugepages: " + s) })
	cleanup.add(func() {
		// The run and the generator have exited, but the kernel may
		// still hold some pages for a moment (AF_XDP UMEM is unpinned by
		// a work item after its socket closes).
		change.WaitFree(5 * time.Second)
		if err := change.Undo(func(s string) { say("hugepages: " + s) }); err != nil {
			say(err.Error())
		}
	})
	if err != nil {
		return fmt.Errorf("hugepages: %w", err)
	}
	return nil
}

// runNull is the unprivileged demo: net_null without hugepages.
func runNull(o Options) error {
	tmp, err := os.MkdirTemp("", "rxprobe-demo-null-")
	if err != nil {
		return setupErr(err)
	}
	defer os.RemoveAll(tmp)
	b, err := configs.Files.ReadFile("null.yaml")
	if err != nil {
		return setupErr(err)
	}
	path := filepath.Join(tmp, "null.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return setupErr(err)
	}
	run := exec.Command(o.Self, "run", "--config", path, "--duration", o.Duration.String(), "--report", o.Report)
	run.Env = append(os.Environ(), "RXPROBE_EAL_NO_HUGE=true")
	run.Stdout, run.Stderr = os.Stdout, os.Stderr
	if err := run.Run(); err != nil {
		return fmt.Errorf("demo: rxprobe run: %w", err)
	}
	return nil
}
