package live

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
)

// ErrSetup is matched when the veth pair or namespace cannot be made.
var ErrSetup = errors.New("veth setup failed")

// Veth is a veth pair, its generator end (B) in a network namespace of its
// own.
type Veth struct {
	NS, A, B string
}

var vethSeq atomic.Int32

// NewVeth creates a veth pair with names unique to this process
// (rxb<pid><n>a/b, namespace rxbench-<pid>-<n>), both ends up and without
// IPv6 (router solicitations would be traffic the generator did not send).
// On failure nothing is left behind.
func NewVeth() (*Veth, error) {
	id, n := os.Getpid()%100000, vethSeq.Add(1)%10
	v := &Veth{NS: fmt.Sprintf("rxbench-%d-%d", id, n), A: fmt.Sprintf("rxb%d%da", id, n), B: fmt.Sprintf("rxb%d%db", id, n)}
	if err := ip("netns", "add", v.NS); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"link", "add", v.A, "type", "veth", "peer", "name", v.B, "netns", v.NS},
		{"link", "set", v.A, "up"},
		{"netns", "exec", v.NS, "ip", "link", "set", "lo", "up"},
		{"netns", "exec", v.NS, "ip", "link", "set", v.B, "up"},
		{"netns", "exec", v.NS, "sysctl", "-qw", "net.ipv6.conf." + v.B + ".disable_ipv6=1"},
	} {
		if err := ip(args...); err != nil {
			return nil, errors.Join(err, v.Close())
		}
	}
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+v.A+"/disable_ipv6", []byte("1"), 0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("live: %w: %w", ErrSetup, err), v.Close())
	}
	return v, nil
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("live: %w: ip %s: %s (run as root with iproute2)", ErrSetup, strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return nil
}

// Close removes the namespace (and with it B) and A.
func (v *Veth) Close() error {
	_ = exec.Command("ip", "netns", "del", v.NS).Run()
	_ = exec.Command("ip", "link", "del", v.A).Run()
	if _, err := os.Stat("/run/netns/" + v.NS); err == nil {
		return fmt.Errorf("live: netns %s is left behind: remove it with `ip netns del %s`", v.NS, v.NS)
	}
	return nil
}
