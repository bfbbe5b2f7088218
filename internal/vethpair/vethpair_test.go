package vethpair

import (
	"errors"
	"strings"
	"testing"
)

func TestGeneratedNamesFit(t *testing.T) {
	max := generate("abcd", 4194304, 36*36-1, true) // the largest pid_max
	for _, n := range []string{max.A, max.B} {
		if len(n) > maxIfName {
			t.Errorf("%q: %d characters, the kernel takes %d", n, len(n), maxIfName)
		}
	}
	// pid 12 pair 34 and pid 123 pair 4 must not meet.
	if a, b := generate("vp", 12, 34, true), generate("vp", 123, 4, true); a.A == b.A || a.NS == b.NS {
		t.Errorf("%+v and %+v share names", a, b)
	}
	if a, b := generate("vp", 1, 5, false), generate("vp", 1, 6, false); a.A == b.A || a.NS != "" {
		t.Errorf("%+v and %+v", a, b)
	}
}

func TestOptionsRejected(t *testing.T) {
	for name, o := range map[string]Options{
		"long prefix":          {Prefix: "abcde"},
		"upper-case prefix":    {Prefix: "Ab"},
		"long name":            {Names: Names{A: "abcdefghijklmnop", B: "b"}},
		"name with slash":      {Names: Names{A: "a/b", B: "b"}},
		"same names":           {Names: Names{A: "x0", B: "x0"}},
		"no B":                 {Names: Names{A: "x0"}},
		"netns without name":   {Netns: true, Names: Names{A: "x0", B: "x1"}},
		"netns name unwanted":  {Names: Names{NS: "n", A: "x0", B: "x1"}},
		"replace without name": {Replace: true},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := o.names(); err == nil {
				t.Errorf("%+v accepted", o)
			}
		})
	}
	if _, err := (Options{Netns: true, Names: Names{NS: "n", A: "x0", B: "x1"}}).names(); err != nil {
		t.Errorf("valid names rejected: %v", err)
	}
}

func TestNoIP(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := New(Options{Netns: true})
	if !errors.Is(err, ErrNoIP) {
		t.Fatalf("got %v, want ErrNoIP", err)
	}
	if s := err.Error(); strings.Contains(s, "\n") || !strings.Contains(s, "install iproute2") {
		t.Errorf("%q: want one line with the remedy", s)
	}
}

func TestDeniedOutput(t *testing.T) {
	for out, want := range map[string]bool{
		"mkdir /run/netns failed: Permission denied":                                       true,
		`Failed to create a new network namespace "x": Operation not permitted`:            true,
		"RTNETLINK answers: Operation not permitted":                                       true,
		"RTNETLINK answers: File exists":                                                   false,
		`Cannot create namespace file "/run/netns/x": File exists`:                         false,
		`Cannot find device "x"`:                                                           false,
		"Error: argument \"abcdefghijklmnop\" is wrong: \"name\" not a valid ifname":       false,
		"Cannot open network namespace \"x\": No such file or directory":                   false,
		"Error: Peer netns reference is invalid.":                                          false,
		"Cannot remove namespace file \"/run/netns/x\": Device or resource busy":           false,
		"Error: either \"dev\" is duplicate, or \"peer\" is a garbage.":                    false,
		"RTNETLINK answers: Operation not supported":                                       false,
		"open(\"/proc/sys/net/ipv6/conf/x/disable_ipv6\") failed: Operation not permitted": true,
		"unshare failed: Operation not permitted":                                          true,
		"mount --make-shared /run/netns failed: Operation not permitted":                   true,
		"": false,
	} {
		if got := deniedOutput(out); got != want {
			t.Errorf("deniedOutput(%q) = %v, want %v", out, got, want)
		}
	}
}
