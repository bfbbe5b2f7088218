package main

import (
	"encoding/json"
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

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/rxprobe/rxprobe/configs"
	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/rx"
)

// Names the demo creates; stale ones from a killed demo are removed first.
const (
	demoNS   = "rxprobe-demo"
	demoRXIf = "rxpdemo0"
	demoTXIf = "rxpdemo1"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

type demoOpts struct {
	duration time.Duration
	rate     float64
	driver   string
	out      io.Writer
}

func newDemoCmd() *cobra.Command {
	var o demoOpts
	cmd := &cobra.Command{
		Use:   "demo [--duration 20s] [--rate PPS] [--driver auto|af_xdp|af_packet]",
		Short: "Run the embedded default: a veth pair, rxprobe gen on one end, rxprobe run on the other",
		Long: `demo creates a veth pair with one end in the network namespace ` + demoNS + `,
sends paced UDP frames from the namespace with 'rxprobe gen' and receives them
with 'rxprobe run' over AF_XDP (AF_PACKET when AF_XDP cannot start), shows the
live view, prints the summary and removes everything it created: namespace,
veth pair, hugepages it reserved and hugetlbfs it mounted.
Without the privileges for that it says so and runs net_null with --no-huge.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().DurationVar(&o.duration, "duration", 20*time.Second, "how long rxprobe run polls (>= 6s)")
	cmd.Flags().Float64Var(&o.rate, "rate", 100000, "generator packets per second")
	cmd.Flags().StringVar(&o.driver, "driver", "auto", "auto, af_xdp or af_packet")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o.out = cmd.OutOrStdout()
		if o.duration < 6*time.Second {
			return usageError(fmt.Errorf("--duration %v: the demo needs at least 6s", o.duration))
		}
		if o.driver != "auto" && o.driver != "af_xdp" && o.driver != "af_packet" {
			return usageError(fmt.Errorf("--driver %q: use auto, af_xdp or af_packet", o.driver))
		}
		return runDemo(o)
	}
	return cmd
}

// undo collects cleanup steps and runs them in reverse order.
type undo []func()

func (u *undo) add(f func()) { *u = append(*u, f) }
func (u *undo) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
	*u = nil
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return nil
}

func runDemo(o demoOpts) error {
	self, err := os.Executable()
	if err != nil {
		return usageError(fmt.Errorf("demo: finding own binary: %w", err))
	}
	tmp, err := os.MkdirTemp("", "rxprobe-demo-")
	if err != nil {
		return usageError(err)
	}
	var cleanup undo
	cleanup.add(func() { os.RemoveAll(tmp) })
	defer cleanup.run()

	// Privilege is probed by trying, not by looking at the uid.
	if _, err := exec.LookPath("ip"); err != nil {
		fmt.Fprintln(o.out, "demo: `ip` (iproute2) not found: running net_null with --no-huge instead (install iproute2 for the veth demo)")
		return demoNull(o, self, tmp)
	}
	_ = exec.Command("ip", "netns", "del", demoNS).Run() // stale from a killed demo
	_ = exec.Command("ip", "link", "del", demoRXIf).Run()
	if err := ipCmd("netns", "add", demoNS); err != nil {
		fmt.Fprintf(o.out, "demo: cannot create a network namespace (%v): not root? running net_null with --no-huge instead\n", err)
		return demoNull(o, self, tmp)
	}
	cleanup.add(func() { _ = exec.Command("ip", "netns", "del", demoNS).Run() })
	cleanup.add(func() { _ = exec.Command("ip", "link", "del", demoRXIf).Run() })
	steps := [][]string{
		{"link", "add", demoRXIf, "type", "veth", "peer", "name", demoTXIf, "netns", demoNS},
		{"link", "set", demoRXIf, "up"},
		{"netns", "exec", demoNS, "ip", "link", "set", "lo", "up"},
		{"netns", "exec", demoNS, "ip", "link", "set", demoTXIf, "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return usageError(fmt.Errorf("demo: %w", err))
		}
	}
	// No IPv6 on the pair: router and neighbour solicitations would be
	// counted as traffic the generator did not send.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+demoRXIf+"/disable_ipv6", []byte("1"), 0o644)
	_ = exec.Command("ip", "netns", "exec", demoNS, "sysctl", "-qw", "net.ipv6.conf."+demoTXIf+".disable_ipv6=1").Run()

	base, err := demoConfig()
	if err != nil {
		return usageError(err)
	}
	if err := demoHugepages(base, &cleanup, o.out); err != nil {
		return usageError(err)
	}

	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)

	drivers := []string{"af_xdp", "af_packet"}
	if o.driver != "auto" {
		drivers = []string{o.driver}
	}
	var lastErr error
	for i, drv := range drivers {
		cfgPath := filepath.Join(tmp, "demo-"+drv+".yaml")
		if err := writeDemoConfig(base, drv, o.rate, cfgPath); err != nil {
			return usageError(err)
		}
		fmt.Fprintf(o.out, "demo: %s ⇄ %s (netns %s), rxprobe run over %s on CPU 1, gen at %.0f pps for %v\n",
			demoRXIf, demoTXIf, demoNS, strings.ToUpper(strings.ReplaceAll(drv, "_", "-")), o.rate, o.duration)
		started, err := demoRun(o, self, tmp, cfgPath, sigc)
		if err == nil {
			return nil
		}
		lastErr = err
		if started || i == len(drivers)-1 {
			break
		}
		fmt.Fprintf(o.out, "demo: %s did not start (%v); falling back to %s\n", drv, err, drivers[i+1])
	}
	return failError(fmt.Errorf("demo: %w", lastErr))
}

// demoRun starts `rxprobe run`, waits until its loops run, starts the
// generator in the namespace and compares what was sent with what arrived.
// started tells whether the RX side came up (so a fallback makes no sense).
func demoRun(o demoOpts, self, tmp, cfgPath string, sigc chan os.Signal) (started bool, err error) {
	ready := filepath.Join(tmp, "ready")
	runRep, genRep := filepath.Join(tmp, "run.json"), filepath.Join(tmp, "gen.json")
	run := exec.Command(self, "run", "--config", cfgPath, "--duration", o.duration.String(), "--report", runRep, "--ready-file", ready)
	run.Stdout, run.Stderr = os.Stdout, os.Stderr
	if err := run.Start(); err != nil {
		return false, err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- run.Wait() }()

	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case err := <-runDone:
			return false, fmt.Errorf("rxprobe run exited before its loops ran: %v", err)
		case <-sigc:
			_ = run.Process.Signal(syscall.SIGTERM)
			<-runDone
			return false, errors.New("interrupted")
		case <-deadline:
			_ = run.Process.Kill()
			<-runDone
			return false, errors.New("rxprobe run did not start within 60s")
		case <-time.After(50 * time.Millisecond):
			if _, err := os.Stat(ready); err == nil {
				break wait
			}
		}
	}
	genFor := o.duration - 4*time.Second
	gen := exec.Command("ip", "netns", "exec", demoNS, self, "gen", "--config", cfgPath, "--duration", genFor.String(), "--report", genRep)
	gen.Stdout, gen.Stderr = os.Stdout, io.Discard
	genErr := gen.Start()
	genDone := make(chan error, 1)
	if genErr == nil {
		go func() { genDone <- gen.Wait() }()
	} else {
		genDone <- genErr
	}
	var runErr error
	for runDone != nil {
		select {
		case s := <-sigc:
			_ = run.Process.Signal(s)
			if gen.Process != nil {
				_ = gen.Process.Signal(s)
			}
		case genErr = <-genDone:
			genDone = nil
		case runErr = <-runDone:
			runDone = nil
		}
	}
	if genDone != nil {
		genErr = <-genDone
	}
	if runErr != nil {
		return true, fmt.Errorf("rxprobe run: %w", runErr)
	}
	if genErr != nil {
		return true, fmt.Errorf("rxprobe gen: %w", genErr)
	}
	var rr rx.Report
	var gr GenReport
	if err := readJSON(runRep, &rr); err != nil {
		return true, err
	}
	if err := readJSON(genRep, &gr); err != nil {
		return true, err
	}
	lost := int64(gr.Sent) - int64(rr.RXPackets)
	fmt.Fprintf(o.out, "demo: sent %d, received %d, difference %d", gr.Sent, rr.RXPackets, lost)
	var ledger uint64
	var parts []string
	for _, l := range rr.Ledger {
		ledger += l.Drops
		if l.Drops > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", l.Layer, l.Drops))
		}
	}
	switch {
	case lost == 0:
		fmt.Fprintln(o.out, ": nothing lost")
	case uint64(lost) == ledger:
		fmt.Fprintf(o.out, " = the drop ledger (%s)\n", strings.Join(parts, ", "))
	default:
		fmt.Fprintf(o.out, "; the drop ledger accounts for %d (%s)\n", ledger, strings.Join(parts, ", "))
	}
	return true, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// demoNull is the unprivileged demo: net_null without hugepages.
func demoNull(o demoOpts, self, tmp string) error {
	b, err := configs.Files.ReadFile("null.yaml")
	if err != nil {
		return err
	}
	path := filepath.Join(tmp, "null.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	run := exec.Command(self, "run", "--config", path, "--duration", o.duration.String())
	run.Env = append(os.Environ(), "RXPROBE_EAL_NO_HUGE=true")
	run.Stdout, run.Stderr = os.Stdout, os.Stderr
	if err := run.Run(); err != nil {
		return failError(fmt.Errorf("demo: rxprobe run: %w", err))
	}
	return nil
}

func demoConfig() (map[string]any, error) {
	b, err := configs.Files.ReadFile("demo.yaml")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("demo: embedded config: %w", err)
	}
	return m, nil
}

// writeDemoConfig writes the demo config for driver (af_xdp keeps the
// embedded port; af_packet swaps it) and rate.
func writeDemoConfig(base map[string]any, driver string, rate float64, path string) error {
	b, _ := yaml.Marshal(base)
	var m map[string]any
	_ = yaml.Unmarshal(b, &m) // deep copy
	port := m["ports"].([]any)[0].(map[string]any)
	if driver == "af_packet" {
		port["device"] = "net_af_packet0"
		port["devargs"] = "iface=" + demoRXIf + ",qpairs=1"
	}
	m["generator"].(map[string]any)["rate"] = rate
	out, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// demoHugepages reserves what the run and the generator lack and mounts
// hugetlbfs if needed, registering the undo of both.
func demoHugepages(base map[string]any, cleanup *undo, out io.Writer) error {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("rxprobe-demo-sizing-%d.yaml", os.Getpid()))
	b, _ := yaml.Marshal(base)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	defer os.Remove(path)
	cfg, host, err := loadConfig(path, "/", nil)
	if err != nil {
		return err
	}
	needs := hugepages.MergeNeeds(append(cfg.HugepageNeeds(rx.NodeOf(host)), cfg.GenHugepageNeeds(0)...))
	fs := hugepages.New("/")
	size := cfg.PageSize()
	mounted, err := fs.EnsureMount(hugepages.DefaultMountDir(size), size)
	if err != nil {
		return fmt.Errorf("demo: mounting hugetlbfs: %w", err)
	}
	if mounted {
		dir := hugepages.DefaultMountDir(size)
		fmt.Fprintf(out, "demo: mounted hugetlbfs (%s) at %s\n", size, dir)
		cleanup.add(func() { _ = syscall.Unmount(dir, 0); _ = os.Remove(dir) })
	}
	for _, n := range needs {
		free, err := fs.Free(n.Node, n.Size)
		if err != nil {
			return err
		}
		if free >= n.Pages() {
			continue
		}
		add := n.Pages() - free
		granted, err := fs.Reserve(n.Node, n.Size, add)
		if granted > 0 {
			node, sz, g := n.Node, n.Size, granted
			fmt.Fprintf(out, "demo: reserved %d × %s hugepages on node %d\n", g, sz, node)
			cleanup.add(func() { _ = fs.Release(node, sz, g) })
		}
		if err != nil {
			return fmt.Errorf("demo: reserving hugepages: %w", err)
		}
	}
	return nil
}
