package rx

import (
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/counters"
)

// ReadHostClock identifies this host's TSC: /etc/machine-id and
// /proc/sys/kernel/random/boot_id under root, and tscHz. A file that
// cannot be read leaves its field empty (counters.SameTSC then refuses).
func ReadHostClock(root string, tscHz uint64) counters.HostClock {
	fs := hostfs.New(root)
	c := counters.HostClock{TSCHz: tscHz}
	c.MachineID, _ = fs.ReadString("etc/machine-id")
	c.BootID, _ = fs.ReadString("proc/sys/kernel/random/boot_id")
	return c
}
