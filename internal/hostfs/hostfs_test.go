package hostfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fixture is a host copied under testdata/hosts.
func fixture(name string) FS { return New(filepath.Join("../../testdata/hosts", name)) }

func TestRootAndPaths(t *testing.T) {
	for _, fs := range []FS{{}, New(""), New("/")} {
		if fs.Root() != "/" {
			t.Errorf("Root() = %q, want / for the live host", fs.Root())
		}
		if got := fs.Proc("interrupts"); got != "/proc/interrupts" {
			t.Errorf("Proc(interrupts) = %q", got)
		}
	}
	fs := New("/srv/copy")
	for _, tt := range []struct{ got, want string }{
		{fs.Proc("net", "dev"), "/srv/copy/proc/net/dev"},
		{fs.Sys("devices/system/cpu/online"), "/srv/copy/sys/devices/system/cpu/online"},
		{fs.Etc("default/irqbalance"), "/srv/copy/etc/default/irqbalance"},
		{fs.Path("proc/cmdline"), "/srv/copy/proc/cmdline"},
		{fs.PCIDevice(PCIAddr{Bus: 0x3b}, "numa_node"), "/srv/copy/sys/bus/pci/devices/0000:3b:00.0/numa_node"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), []byte(" 12345 \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := New(root)
	if s, err := fs.ReadString("f"); err != nil || s != "12345" {
		t.Errorf("ReadString = %q, %v", s, err)
	}
	if _, err := fs.ReadFile("f", 4); err == nil || !strings.Contains(err.Error(), "longer than 4 bytes") {
		t.Errorf("ReadFile over the limit: %v, want an error", err)
	}
	if _, err := fs.ReadFile("absent", 4); !NotExist(err) {
		t.Errorf("ReadFile(absent) = %v, want not-exist", err)
	}
	if !fs.Exists("f") || fs.Exists("absent") {
		t.Errorf("Exists wrong")
	}
}

func TestTopology(t *testing.T) {
	h := fixture("isolated-2socket")
	online, err := h.OnlineCPUs()
	if err != nil || online.String() != "0-31" {
		t.Errorf("OnlineCPUs() = %v, %v; want 0-31", online, err)
	}
	nodes, err := h.Nodes()
	if diff := cmp.Diff([]int{0, 1}, nodes); err != nil || diff != "" {
		t.Errorf("Nodes() = %v, %v; mismatch (-want +got):\n%s", nodes, err, diff)
	}
	for cpu, want := range map[int]int{0: 0, 7: 0, 8: 1, 16: 0, 23: 0, 24: 1, 31: 1} {
		if got, err := h.CPUNode(cpu); err != nil || got != want {
			t.Errorf("CPUNode(%d) = %d, %v; want %d", cpu, got, err, want)
		}
	}
	if _, err := h.CPUNode(64); !errors.Is(err, ErrNoSuchCPU) {
		t.Errorf("CPUNode(64) error = %v, want ErrNoSuchCPU", err)
	}
	if h.Hostname() != "probe-a1" {
		t.Errorf("Hostname() = %q", h.Hostname())
	}
	for name, want := range map[string]string{"nohz_full": "2-7,18-23", "isolated": "2-7,18-23"} {
		got, err := h.kernelCPUs(name)
		if err != nil || got.String() != want {
			t.Errorf("%s = %v, %v; want %s", name, got, err, want)
		}
	}
}

func TestPCINode(t *testing.T) {
	tests := []struct {
		name, host, addr string
		want             int
		err              error // errors.Is target; nil: success
		anyErr           bool  // an error without a sentinel
	}{
		{name: "full address", host: "isolated-2socket", addr: "0000:3b:00.0", want: 0},
		{name: "short address, same device", host: "isolated-2socket", addr: "3b:00.0", want: 0},
		{name: "upper case", host: "isolated-2socket", addr: "0000:AF:00.0", want: 1},
		{name: "short upper case", host: "isolated-2socket", addr: "AF:00.0", want: 1},
		{name: "-1 on two nodes", host: "isolated-2socket", addr: "5e:00.0", err: ErrNoLocality},
		{name: "-1 on one node is node 0", host: "no-numa", addr: "00:03.0", want: 0},
		{name: "no numa_node file on one node is node 0", host: "no-numa", addr: "0000:00:04.0", want: 0},
		{name: "device absent", host: "isolated-2socket", addr: "0000:00:1f.0", err: ErrNoDevice},
		{name: "bad address", host: "isolated-2socket", addr: "../../../etc", err: ErrBadPCIAddr},
		{name: "path escape", host: "isolated-2socket", addr: "0000:3b:00.0/../x", err: ErrBadPCIAddr},
		{name: "garbled numa_node", host: "garbled", addr: "3b:00.0", anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fixture(tt.host).PCINode(tt.addr)
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Errorf("PCINode(%q) = %d, %v; want %v", tt.addr, got, err, tt.err)
				}
			case tt.anyErr:
				if err == nil {
					t.Errorf("PCINode(%q) = %d, want an error", tt.addr, got)
				}
			case err != nil || got != tt.want:
				t.Errorf("PCINode(%q) = %d, %v; want %d", tt.addr, got, err, tt.want)
			}
		})
	}
}

func TestNoNUMA(t *testing.T) {
	h := fixture("no-numa")
	if h.HasNUMA() {
		t.Fatalf("no-numa fixture has a node directory")
	}
	nodes, err := h.Nodes()
	if diff := cmp.Diff([]int{0}, nodes); err != nil || diff != "" {
		t.Errorf("Nodes() without NUMA = %v, %v", nodes, err)
	}
	if cpus, err := h.NodeCPUs(0); err != nil || cpus.String() != "0-3" {
		t.Errorf("NodeCPUs(0) = %v, %v; want every online CPU", cpus, err)
	}
	if _, err := h.NodeCPUs(1); err == nil {
		t.Errorf("NodeCPUs(1) without NUMA succeeded")
	}
	if n, err := h.CPUNode(3); err != nil || n != 0 {
		t.Errorf("CPUNode(3) = %d, %v", n, err)
	}
	if s, err := h.NohzFull(); err != nil || !s.IsEmpty() {
		t.Errorf(`NohzFull() of "(null)" = %v, %v; want empty`, s, err)
	}
	if s, err := h.IsolatedCPUs(); err != nil || !s.IsEmpty() {
		t.Errorf("IsolatedCPUs() of an empty line = %v, %v; want empty", s, err)
	}
	empty := New(t.TempDir())
	if _, err := empty.OnlineCPUs(); err == nil {
		t.Errorf("OnlineCPUs() on an empty root succeeded")
	}
	if _, err := empty.CPUNode(0); err == nil {
		t.Errorf("CPUNode(0) on an empty root succeeded")
	}
	if _, err := empty.NohzFull(); !NotExist(err) {
		t.Errorf("NohzFull() on an empty root = %v, want not-exist", err)
	}
}

func TestGarbled(t *testing.T) {
	h := fixture("garbled")
	if _, err := h.OnlineCPUs(); err == nil {
		t.Errorf(`OnlineCPUs() of "0-" succeeded`)
	}
	if _, err := h.IsolatedCPUs(); err == nil {
		t.Errorf(`IsolatedCPUs() of "abc" succeeded`)
	}
}
