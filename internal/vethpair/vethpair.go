package vethpair

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrNoIP is matched when iproute2's `ip` is not in PATH.
var ErrNoIP = errors.New("`ip` (iproute2) not found in PATH: install iproute2")

// ErrNotPermitted is matched when the kernel refuses to create the
// namespace or the pair for lack of privilege.
var ErrNotPermitted = errors.New("not permitted: run as root (needs CAP_NET_ADMIN and CAP_SYS_ADMIN)")

// maxIfName is the longest interface name the kernel takes (IFNAMSIZ-1).
const maxIfName = 15

// maxPrefix keeps generated link names within maxIfName: a prefix, a pid
// of up to 7 digits, "-", a sequence number of up to 2 base-36 digits and
// "a" or "b".
const maxPrefix = 4

// DefaultPrefix starts generated names when Options.Prefix is empty.
const DefaultPrefix = "vp"

// runDir is where `ip netns` keeps named namespaces.
const runDir = "/run/netns/"

// Names are the names of a pair and its namespace.
type Names struct {
	NS   string // the namespace B lives in; "" without Options.Netns
	A, B string // the two ends; A stays in the caller's namespace
}

// Options configure New. The zero value is a pair with generated names,
// both ends in the caller's namespace.
type Options struct {
	// Netns puts B in a new network namespace of its own.
	Netns bool
	// Prefix starts generated names: 1 to 4 lower-case letters or
	// digits, DefaultPrefix when empty. Ignored when Names.A is set.
	Prefix string
	// Names, when Names.A is not empty, are used instead of generated
	// ones; Names.B and, with Netns, Names.NS must be set too.
	Names Names
	// Replace first removes what has the given Names (a pair and
	// namespace left by an earlier run that was killed). Only with Names.
	Replace bool
}

// Pair is a veth pair New created. Its fields are for reading; Close
// removes what New created under those names (nothing for a zero Pair).
type Pair struct {
	Names

	mu      sync.Mutex
	made    Names // what New created and Close has not removed yet
	netns   bool
	linkOut bool // A's link exists and is ours
	nsOut   bool // the namespace exists and is ours
}

var seq atomic.Uint32

// New creates a veth pair as o says: both ends up and without IPv6. On
// failure nothing it created is left behind.
func New(o Options) (*Pair, error) {
	names, err := o.names()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("vethpair: %w", ErrNoIP)
	}
	p := &Pair{Names: names, made: names, netns: o.Netns}
	if o.Replace {
		if err := removeStale(names, o.Netns); err != nil {
			return nil, err
		}
	}
	if err := p.create(); err != nil {
		return nil, errors.Join(fmt.Errorf("vethpair: %w", err), p.Close())
	}
	return p, nil
}

// names returns the names o gives or generates new ones.
func (o Options) names() (Names, error) {
	n := o.Names
	if n.A == "" {
		if o.Replace {
			return Names{}, errors.New("vethpair: Replace needs given Names: generated names are never taken over")
		}
		prefix := o.Prefix
		if prefix == "" {
			prefix = DefaultPrefix
		}
		if err := checkPrefix(prefix); err != nil {
			return Names{}, err
		}
		n = generate(prefix, os.Getpid(), seq.Add(1), o.Netns)
	}
	for _, name := range []string{n.A, n.B} {
		if err := checkIfName(name); err != nil {
			return Names{}, err
		}
	}
	if n.A == n.B {
		return Names{}, fmt.Errorf("vethpair: both ends named %q: give them different names", n.A)
	}
	switch {
	case o.Netns && (n.NS == "" || strings.ContainsRune(n.NS, '/') || n.NS == "." || n.NS == ".."):
		return Names{}, fmt.Errorf("vethpair: namespace name %q: give a name without '/'", n.NS)
	case !o.Netns && n.NS != "":
		return Names{}, fmt.Errorf("vethpair: namespace %q given without Options.Netns: set Netns or drop the name", n.NS)
	}
	return n, nil
}

// generate names pair n of process pid: the pid keeps processes apart,
// n (mod 36², base 36) the pairs of one process.
func generate(prefix string, pid int, n uint32, netns bool) Names {
	id := strconv.Itoa(pid) + "-" + strconv.FormatUint(uint64(n%(36*36)), 36)
	names := Names{A: prefix + id + "a", B: prefix + id + "b"}
	if netns {
		names.NS = prefix + "-" + id
	}
	return names
}

func checkPrefix(p string) error {
	if len(p) > maxPrefix {
		return fmt.Errorf("vethpair: prefix %q: at most %d characters (the kernel takes names of %d)", p, maxPrefix, maxIfName)
	}
	for _, c := range p {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Errorf("vethpair: prefix %q: use lower-case letters and digits only", p)
		}
	}
	return nil
}

func checkIfName(n string) error {
	if n == "" || len(n) > maxIfName || n == "." || n == ".." || strings.ContainsAny(n, "/: \t\n") {
		return fmt.Errorf("vethpair: interface name %q: use 1 to %d characters without '/', ':' or spaces", n, maxIfName)
	}
	return nil
}

// removeStale removes a namespace and links named as n, if any.
func removeStale(n Names, netns bool) error {
	var errs []error
	errs = append(errs, delLink(n.A))
	if !netns {
		errs = append(errs, delLink(n.B))
	} else if exists(runDir + n.NS) {
		errs = append(errs, delNetns(n.NS))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vethpair: removing what an earlier run left: %w", err)
	}
	return nil
}

// create makes the pair step by step, recording what exists for Close.
func (p *Pair) create() error {
	peer := []string{"link", "add", p.A, "type", "veth", "peer", "name", p.B}
	if p.netns {
		if err := ip("netns", "add", p.NS); err != nil {
			return err
		}
		p.nsOut = true
		peer = append(peer, "netns", p.NS)
	}
	if err := ip(peer...); err != nil {
		return err
	}
	p.linkOut = true
	// IPv6 off before the links go up: no solicitation is ever sent.
	if err := disableIPv6(p.A); err != nil {
		return err
	}
	if p.netns {
		if err := inNetns(p.NS, func() error { return disableIPv6(p.B) }); err != nil {
			return err
		}
		for _, dev := range []string{"lo", p.B} {
			if err := ip("-n", p.NS, "link", "set", dev, "up"); err != nil {
				return err
			}
		}
	} else {
		if err := disableIPv6(p.B); err != nil {
			return err
		}
		if err := ip("link", "set", p.B, "up"); err != nil {
			return err
		}
	}
	return ip("link", "set", p.A, "up")
}

// Close removes the pair and the namespace New created. Calling it again
// does nothing once everything is gone.
func (p *Pair) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.linkOut {
		if err := delLink(p.made.A); err != nil {
			errs = append(errs, err)
		} else {
			p.linkOut = false
		}
	}
	if p.nsOut {
		if err := delNetns(p.made.NS); err != nil {
			errs = append(errs, err)
		} else {
			p.nsOut = false
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vethpair: %w", err)
	}
	return nil
}

// delLink deletes link name of the caller's namespace (with its peer).
// A link that is gone, whoever removed it, is not an error.
func delLink(name string) error {
	if !exists("/sys/class/net/" + name) {
		return nil
	}
	err := ip("link", "del", name)
	if !exists("/sys/class/net/" + name) {
		return nil
	}
	return fmt.Errorf("link %s is left behind (remove it with `ip link del %s`): %w", name, name, err)
}

// delNetns deletes namespace ns.
func delNetns(ns string) error {
	err := ip("netns", "del", ns)
	if !exists(runDir + ns) {
		return nil
	}
	return fmt.Errorf("netns %s is left behind (remove it with `ip netns del %s`): %w", ns, ns, err)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// ip runs `ip args...`; its error names the command and quotes its output.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(string(out)), " ")
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("ip %s: %w", strings.Join(args, " "), ErrNoIP)
	}
	if deniedOutput(msg) {
		return fmt.Errorf("ip %s: %s: %w", strings.Join(args, " "), msg, ErrNotPermitted)
	}
	return fmt.Errorf("ip %s: %s: %w", strings.Join(args, " "), msg, err)
}

// deniedOutput tells whether ip's output reports a lack of privilege
// (EPERM or EACCES: ip prints libc's strerror, capitalised, and has no
// other channel for the errno).
func deniedOutput(out string) bool {
	out = strings.ToLower(out)
	return strings.Contains(out, unix.EPERM.Error()) || strings.Contains(out, unix.EACCES.Error())
}

// disableIPv6 turns IPv6 off on dev in the calling thread's namespace. A
// kernel without IPv6 has nothing to turn off.
func disableIPv6(dev string) error {
	if !exists("/proc/sys/net/ipv6") {
		return nil
	}
	path := "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6"
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("turning IPv6 off on %s: %w: %w", dev, err, ErrNotPermitted)
		}
		return fmt.Errorf("turning IPv6 off on %s: %w", dev, err)
	}
	return nil
}

// inNetns runs f on a thread of its own that has entered namespace ns. The
// thread goes back to the caller's namespace afterwards, or, when it
// cannot, ends with its goroutine (it stays locked).
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		stuck := false // in ns and unable to leave: the thread must end
		defer func() {
			if !stuck {
				runtime.UnlockOSThread()
			}
		}()
		errc <- func() error {
			self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("netns %s: opening our own: %w", ns, err)
			}
			defer unix.Close(self)
			target, err := unix.Open(runDir+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("netns %s: %w", ns, err)
			}
			defer unix.Close(target)
			if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
				if errors.Is(err, unix.EPERM) {
					err = fmt.Errorf("%w: %w", err, ErrNotPermitted)
				}
				return fmt.Errorf("netns %s: entering: %w", ns, err)
			}
			ferr := f()
			if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
				stuck = true
				return errors.Join(ferr, fmt.Errorf("netns %s: leaving: %w", ns, err))
			}
			return ferr
		}()
	}()
	return <-errc
}
