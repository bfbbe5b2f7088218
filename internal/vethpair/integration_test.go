package vethpair_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rxprobe/rxprobe/internal/vethpair"
	"github.com/rxprobe/rxprobe/internal/vethpair/vethpairtest"
)

// Detectors that do not share code with the package: /sys/class/net for
// the caller's namespace, `ip netns list`, `ip -n` and `ip netns exec`.

func hostLink(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}

func netnsListed(t *testing.T, ns string) bool {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == ns {
			return true
		}
	}
	return false
}

// linkFlags is the flag list `ip -o link show` prints for dev in ns ("" for
// the caller's namespace), "" when there is no such link.
func linkFlags(ns, dev string) string {
	args := []string{"-o", "link", "show", "dev", dev}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).Output()
	if err != nil {
		return ""
	}
	s := string(out)
	if i, j := strings.IndexByte(s, '<'), strings.IndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return ""
}

func isUp(ns, dev string) bool {
	for _, f := range strings.Split(linkFlags(ns, dev), ",") {
		if f == "UP" {
			return true
		}
	}
	return false
}

func ipv6Off(t *testing.T, ns, dev string) bool {
	t.Helper()
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		return true
	}
	path := "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6"
	cmd := exec.Command("cat", path)
	if ns != "" {
		cmd = exec.Command("ip", "netns", "exec", ns, "cat", path)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v: %s", cmd.Args, err, out)
	}
	return strings.TrimSpace(string(out)) == "1"
}

func TestIntegrationPairInNetns(t *testing.T) {
	p := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: "vpt"})
	if !strings.HasPrefix(p.A, "vpt") || !strings.HasPrefix(p.B, "vpt") || !strings.HasPrefix(p.NS, "vpt-") {
		t.Errorf("names %+v: want the prefix vpt", p.Names)
	}
	if !hostLink(p.A) || hostLink(p.B) {
		t.Errorf("in our namespace: %s %v (want true), %s %v (want false)", p.A, hostLink(p.A), p.B, hostLink(p.B))
	}
	if !netnsListed(t, p.NS) {
		t.Fatalf("netns %s not listed", p.NS)
	}
	if linkFlags(p.NS, p.B) == "" {
		t.Fatalf("%s not in netns %s", p.B, p.NS)
	}
	for _, c := range []struct{ ns, dev string }{{"", p.A}, {p.NS, p.B}, {p.NS, "lo"}} {
		if !isUp(c.ns, c.dev) {
			t.Errorf("%s (netns %q) is not up: <%s>", c.dev, c.ns, linkFlags(c.ns, c.dev))
		}
	}
	for _, c := range []struct{ ns, dev string }{{"", p.A}, {p.NS, p.B}} {
		if !ipv6Off(t, c.ns, c.dev) {
			t.Errorf("IPv6 is on on %s (netns %q)", c.dev, c.ns)
		}
	}
	// The detectors above saw the pair; after Close they must not.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if hostLink(p.A) || netnsListed(t, p.NS) {
		t.Errorf("after Close: link %s %v, netns %s listed %v (want neither)", p.A, hostLink(p.A), p.NS, netnsListed(t, p.NS))
	}
	if _, err := os.Stat("/run/netns/" + p.NS); err == nil {
		t.Errorf("/run/netns/%s is left", p.NS)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestIntegrationPairWithoutNetns(t *testing.T) {
	p := vethpairtest.New(t, vethpair.Options{Prefix: "vpt"})
	if p.NS != "" {
		t.Errorf("netns %q without Options.Netns", p.NS)
	}
	for _, dev := range []string{p.A, p.B} {
		if !hostLink(dev) || !isUp("", dev) || !ipv6Off(t, "", dev) {
			t.Errorf("%s: exists %v, flags <%s>, IPv6 off %v", dev, hostLink(dev), linkFlags("", dev), ipv6Off(t, "", dev))
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if hostLink(p.A) || hostLink(p.B) {
		t.Errorf("after Close: %s %v, %s %v (want both gone)", p.A, hostLink(p.A), p.B, hostLink(p.B))
	}
}

func TestIntegrationNamesUnique(t *testing.T) {
	p1 := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: "vpt"})
	p2 := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: "vpt"})
	seen := map[string]bool{}
	for _, n := range []string{p1.NS, p1.A, p1.B, p2.NS, p2.A, p2.B} {
		if seen[n] {
			t.Errorf("name %s used twice: %+v, %+v", n, p1.Names, p2.Names)
		}
		seen[n] = true
	}
	if !hostLink(p1.A) || !hostLink(p2.A) || !netnsListed(t, p1.NS) || !netnsListed(t, p2.NS) {
		t.Errorf("both pairs should exist: %+v, %+v", p1.Names, p2.Names)
	}
}

// A name that is taken fails New after it created the namespace: the
// namespace goes again, and the pair that had the name stays.
func TestIntegrationTakenNameLeavesNothing(t *testing.T) {
	taken := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: "vpt"})
	pid := os.Getpid()
	fresh := vethpair.Names{NS: fmt.Sprintf("vpu-%d", pid), A: fmt.Sprintf("vpu%da", pid), B: fmt.Sprintf("vpu%db", pid)}
	p, err := vethpair.New(vethpair.Options{Netns: true, Names: vethpair.Names{NS: fresh.NS, A: taken.A, B: fresh.B}})
	if err == nil {
		_ = p.Close()
		t.Fatalf("New with the taken name %s succeeded", taken.A)
	}
	t.Log(err)
	if netnsListed(t, fresh.NS) {
		t.Errorf("netns %s left behind after %v", fresh.NS, err)
	}
	if !hostLink(taken.A) || linkFlags(taken.NS, taken.B) == "" {
		t.Errorf("the pair that had the name is damaged: %s %v, %s in %s: <%s>", taken.A, hostLink(taken.A), taken.B, taken.NS, linkFlags(taken.NS, taken.B))
	}
	if hostLink(fresh.B) {
		t.Errorf("link %s left behind", fresh.B)
	}
}

// Someone else deletes the namespace first: the kernel then removes the
// pair asynchronously, and Close must neither fail on an A that vanishes
// under it nor return while A is still there.
func TestIntegrationCloseAfterNetnsDeleted(t *testing.T) {
	p := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: "vpt"})
	if out, err := exec.Command("ip", "netns", "del", p.NS).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del %s: %v: %s", p.NS, err, out)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close after the namespace went: %v", err)
	}
	if hostLink(p.A) || netnsListed(t, p.NS) {
		t.Errorf("after Close: link %s %v, netns %s listed %v (want neither)", p.A, hostLink(p.A), p.NS, netnsListed(t, p.NS))
	}
}

// Replace takes over given names that an earlier, killed run left.
func TestIntegrationReplaceStale(t *testing.T) {
	stale := vethpairtest.New(t, vethpair.Options{Netns: true, Prefix: "vpt"})
	p := vethpairtest.New(t, vethpair.Options{Netns: true, Names: stale.Names, Replace: true})
	if !hostLink(p.A) || linkFlags(p.NS, p.B) == "" || !isUp("", p.A) {
		t.Errorf("replacing pair %+v: A exists %v, B <%s>", p.Names, hostLink(p.A), linkFlags(p.NS, p.B))
	}
}

// TestIntegrationNotRoot runs New as user nobody (a copy of the test
// binary, the go-build directory being private): the error matches
// ErrNotPermitted and reads as one line.
func TestIntegrationNotRoot(t *testing.T) {
	if os.Getenv("VETHPAIR_AS_NOBODY") == "1" {
		_, err := vethpair.New(vethpair.Options{Netns: true, Prefix: "vpn"})
		fmt.Printf("permitted=%v\n%v\n", !errors.Is(err, vethpair.ErrNotPermitted), err)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root") // to become nobody
	}
	dir, err := os.MkdirTemp("", "vethpair-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "vethpair.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestIntegrationNotRoot$")
	cmd.Env = append(os.Environ(), "VETHPAIR_AS_NOBODY=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("as nobody: %s", out)
	lines := strings.Split(string(out), "\n")
	if lines[0] != "permitted=false" || !strings.Contains(lines[1], "run as root") {
		t.Errorf("as nobody, New said:\n%s\nwant ErrNotPermitted in one line naming the remedy", out)
	}
	if left, _ := filepath.Glob("/run/netns/vpn-*"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
