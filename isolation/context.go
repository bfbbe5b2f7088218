package isolation

import (
	"fmt"
	"slices"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// ctx holds what several checks share, read once.
type ctx struct {
	h    hostfs.FS
	spec Spec
	rx   cpuset.Set
	hk   cpuset.Set // housekeeping CPUs used in remedies

	cmd    cmdline
	cmdErr error

	isolated    cpuset.Set // from sysfs, else isolcpus=
	isolatedErr error
	nohz        cpuset.Set // from sysfs, else nohz_full=
	nohzErr     error
}

const grubHint = " (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)"

func newCtx(h hostfs.FS, spec Spec) *ctx {
	c := &ctx{h: h, spec: spec, rx: spec.RXCPUs, hk: spec.Housekeeping}
	if b, err := h.ReadFile("proc/cmdline", hostfs.MaxSmall); err != nil {
		c.cmdErr = fmt.Errorf("cannot read /proc/cmdline: %w", err)
	} else if c.cmd, err = parseCmdline(b); err != nil {
		c.cmdErr = fmt.Errorf("/proc/cmdline: %w", err)
	}
	if c.hk.IsEmpty() {
		if online, err := h.OnlineCPUs(); err == nil {
			c.hk = online.Difference(c.rx)
		}
	}
	c.isolated, c.isolatedErr = c.kernelSet(h.IsolatedCPUs, "isolcpus")
	c.nohz, c.nohzErr = c.kernelSet(h.NohzFull, "nohz_full")
	return c
}

// kernelSet is a CPU set the kernel exposes in sysfs (read), or, when the
// file is absent (an older kernel, a partial copy of a host), the boot
// parameter param.
func (c *ctx) kernelSet(read func() (cpuset.Set, error), param string) (cpuset.Set, error) {
	set, err := read()
	if err == nil || !hostfs.NotExist(err) {
		return set, err
	}
	if c.cmdErr != nil {
		return cpuset.Set{}, c.cmdErr
	}
	v, ok := c.cmd.get(param)
	if !ok {
		return cpuset.Set{}, nil
	}
	if param == "isolcpus" {
		_, set, err := parseIsolcpus(v)
		return set, err
	}
	return cpuset.Parse(v)
}

// hkList is the housekeeping list for remedies ("0-1"), or a placeholder.
func (c *ctx) hkList() string {
	if c.hk.IsEmpty() {
		return "<housekeeping CPUs>"
	}
	return c.hk.String()
}

// hkMask is the housekeeping hex mask for remedies, or a placeholder.
func (c *ctx) hkMask() string {
	if c.hk.IsEmpty() {
		return "<housekeeping mask>"
	}
	return c.hk.Mask()
}

func skip(reason string) Result { return Result{Status: StatusSkip, Reason: reason} }

// orNone prints an empty set as "none".
func orNone(s cpuset.Set) string {
	if s.IsEmpty() {
		return "none"
	}
	return s.String()
}

// capDetails keeps at most max lines, with a closing count of the rest.
func capDetails(d []string, max int) []string {
	if len(d) <= max {
		return d
	}
	out := slices.Clone(d[:max])
	return append(out, fmt.Sprintf("… and %d more", len(d)-max))
}
