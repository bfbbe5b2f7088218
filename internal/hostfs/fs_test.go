package hostfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hosts = "../../testdata/hosts"

func fixture(name string) FS { return New(filepath.Join(hosts, name)) }

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
