package demo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/run/report"
	"github.com/rxprobe/rxprobe/rx/config"
)

func TestConfigForDriverRoundTrips(t *testing.T) {
	dir := t.TempDir()
	base, err := baseConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, drv := range []string{"af_xdp", "af_packet"} {
		cfg := forDriver(base, drv, 12345)
		path := filepath.Join(dir, drv+".yaml")
		if err := writeConfig(cfg, path); err != nil {
			t.Fatal(err)
		}
		back, err := config.Load(path, nil)
		if err != nil {
			t.Fatalf("%s: the written config does not load: %v", drv, err)
		}
		if diff := cmp.Diff(cfg, back); diff != "" {
			t.Errorf("%s: config changed through YAML (-written +read):\n%s", drv, diff)
		}
		if back.Generator.Rate != 12345 {
			t.Errorf("%s: generator rate %v, want 12345", drv, back.Generator.Rate)
		}
		wantDev, wantArgs := "net_af_xdp0", base.Ports[0].Devargs
		if drv == "af_packet" {
			wantDev, wantArgs = "net_af_packet0", "iface="+RXIf+",qpairs=1"
		}
		if back.Ports[0].Device != wantDev || back.Ports[0].Devargs != wantArgs {
			t.Errorf("%s: port %q %q, want %q %q", drv, back.Ports[0].Device, back.Ports[0].Devargs, wantDev, wantArgs)
		}
	}
	// forDriver copies: the base keeps the embedded port and rate.
	if base.Ports[0].Device != "net_af_xdp0" || base.Generator.Rate != 100000 {
		t.Errorf("forDriver changed the base: %+v, rate %v", base.Ports[0], base.Generator.Rate)
	}
}

func TestCompare(t *testing.T) {
	ledger := []report.LedgerEntry{{Layer: "kernel_path", Drops: 21}, {Layer: "port_buffer", Drops: 0}}
	tests := []struct {
		sent, recv uint64
		ledger     []report.LedgerEntry
		want       string
	}{
		{100, 100, nil, "sent 100, received 100, difference 0: nothing lost"},
		{121, 100, ledger, "sent 121, received 100, difference 21 = the drop ledger (kernel_path 21)"},
		{130, 100, ledger, "sent 130, received 100, difference 30; the drop ledger accounts for 21 (kernel_path 21)"},
		// capture_ring lost packets the loop had received: not part of
		// the difference between sent and received.
		{121, 100, append(ledger, report.LedgerEntry{Layer: "capture_ring", Drops: 50, AfterLoop: true}),
			"sent 121, received 100, difference 21 = the drop ledger (kernel_path 21)"},
	}
	for _, tt := range tests {
		if got := compare(tt.sent, tt.recv, tt.ledger); got != tt.want {
			t.Errorf("compare(%d, %d) = %q, want %q", tt.sent, tt.recv, got, tt.want)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	o := Options{Duration: 5 * time.Second, Driver: "auto"}
	if err := o.Check(); !errors.Is(err, ErrSetup) {
		t.Errorf("5s: %v, want ErrSetup", err)
	}
	o = Options{Duration: 6 * time.Second, Driver: "af_xdp"}
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if o.Report != filepath.Join(wd, DefaultReport) {
		t.Errorf("Report = %q, want %s in the working directory", o.Report, DefaultReport)
	}
}

// fakeMounter records mounts on a fake proc/mounts.
type fakeMounter struct {
	ops  []string
	fail map[string]error
}

func (f *fakeMounter) mounter(t *testing.T, mounts string) mounter {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/mounts"), []byte(mounts), 0o644); err != nil {
		t.Fatal(err)
	}
	return mounter{
		root: root,
		mount: func(fsType, target string) error {
			f.ops = append(f.ops, "mount "+fsType+" "+target)
			return f.fail[target]
		},
		unmount: func(target string) error {
			f.ops = append(f.ops, "umount "+target)
			return nil
		},
	}
}

func TestEnsureKernelFSMountsOnlyWhatIsMissingAndUndoesOnlyThat(t *testing.T) {
	f := &fakeMounter{}
	m := f.mounter(t, "sysfs /sys sysfs rw 0 0\nbpf /sys/fs/bpf bpf rw,relatime 0 0\n")
	var said []string
	var u undo
	if err := m.ensureKernelFS(func(s string) { said = append(said, s) }, &u); err != nil {
		t.Fatal(err)
	}
	u.run()
	want := []string{"mount tracefs /sys/kernel/tracing", "umount /sys/kernel/tracing"}
	if diff := cmp.Diff(want, f.ops); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
	wantSaid := []string{"mounted tracefs at /sys/kernel/tracing for the flight recorder's attribution", "unmounted /sys/kernel/tracing"}
	if diff := cmp.Diff(wantSaid, said); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestEnsureKernelFSFailedMountIsOneLine(t *testing.T) {
	f := &fakeMounter{fail: map[string]error{"/sys/fs/bpf": errors.New("operation not permitted")}}
	m := f.mounter(t, "nodev /sys/kernel/tracing tracefs rw 0 0\n")
	var said []string
	var u undo
	if err := m.ensureKernelFS(func(s string) { said = append(said, s) }, &u); err != nil {
		t.Fatal(err)
	}
	u.run()
	if diff := cmp.Diff([]string{"mount bpf /sys/fs/bpf"}, f.ops); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
	if len(said) != 1 || !strings.Contains(said[0], "cannot mount bpf at /sys/fs/bpf (operation not permitted): libxdp will be unavailable") {
		t.Errorf("lines = %q", said)
	}
}

// The generator starts confined: the child's CPU affinity is the given
// set from its first instruction, not only after it confines itself.
func TestStartOnPinsTheChildFromExec(t *testing.T) {
	cmd := exec.Command("sh", "-c", "grep Cpus_allowed_list /proc/self/status")
	var out strings.Builder
	cmd.Stdout = &out
	if err := startOn(cmd, cpuset.Of(0)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out.String()); len(got) != 2 || got[1] != "0" {
		t.Errorf("child's Cpus_allowed_list = %q, want 0", out.String())
	}
}
