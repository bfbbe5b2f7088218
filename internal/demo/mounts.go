package demo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelFS is a kernel filesystem the demo mounts when it is missing.
type kernelFS struct {
	fsType, path, why string
}

// kernelFSes: tracefs for the flight recorder's attribution, bpffs for
// libxdp's AF_XDP program.
var kernelFSes = []kernelFS{
	{"tracefs", "/sys/kernel/tracing", "the flight recorder's attribution"},
	{"bpf", "/sys/fs/bpf", "libxdp"},
}

// mounter mounts and unmounts; tests replace it.
type mounter struct {
	root    string // host root of proc/mounts
	mount   func(fsType, target string) error
	unmount func(target string) error
}

var liveMounter = mounter{
	root:  "/",
	mount: func(fsType, target string) error { return unix.Mount("nodev", target, fsType, 0, "") },
	unmount: func(target string) error {
		// A process that still holds a file open keeps the mount busy:
		// detach it then, the kernel drops it with the last user.
		if err := unix.Unmount(target, 0); err != unix.EBUSY {
			return err
		}
		return unix.Unmount(target, unix.MNT_DETACH)
	},
}

// mounted reports whether a filesystem of fsType is mounted at path.
func (m mounter) mounted(fsType, path string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(m.root, "proc/mounts"))
	if err != nil {
		return false, fmt.Errorf("reading mounts: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[1] == path && f[2] == fsType {
			return true, nil
		}
	}
	return false, nil
}

// ensureKernelFS mounts each of kernelFSes that is missing and registers
// its unmount; what was already mounted is left alone. A mount that fails
// is one line and no error: the run then reports what it lacks.
func (m mounter) ensureKernelFS(say func(string), u *undo) error {
	for _, k := range kernelFSes {
		ok, err := m.mounted(k.fsType, k.path)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if err := m.mount(k.fsType, k.path); err != nil {
			say(fmt.Sprintf("cannot mount %s at %s (%v): %s will be unavailable", k.fsType, k.path, err, k.why))
			continue
		}
		say(fmt.Sprintf("mounted %s at %s for %s", k.fsType, k.path, k.why))
		k := k
		u.add(func() {
			if err := m.unmount(k.path); err != nil {
				say(fmt.Sprintf("unmount %s: %v", k.path, err))
				return
			}
			say("unmounted " + k.path)
		})
	}
	return nil
}
