package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rxprobe/rxprobe/internal/vethpair"
)

// cleanup runs undo steps in reverse order, each once; it is safe to call
// from a deferred call after an interrupt.
type cleanup struct {
	steps []func() error
	log   io.Writer
}

func (c *cleanup) add(f func() error) { c.steps = append(c.steps, f) }

// run undoes everything added, last first, and reports what failed.
func (c *cleanup) run() {
	for i := len(c.steps) - 1; i >= 0; i-- {
		if err := c.steps[i](); err != nil {
			fmt.Fprintf(c.log, "benchcapture: cleanup: %v\n", err)
		}
	}
	c.steps = nil
}

// command runs name with args and returns its combined output, wrapped
// in an error naming the command when it fails.
func command(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// vethPair is the feed: A is polled by the tool in the host namespace, B
// lives in namespace NS where the generator sends into it.
type vethPair struct{ NS, A, B string }

// newVeth creates the pair and namespace (vethpair, names bcap<pid>-<n>a/b
// and bcap-<pid>-<n>, unique to this process); c removes them.
func newVeth(c *cleanup) (vethPair, error) {
	p, err := vethpair.New(vethpair.Options{Netns: true, Prefix: "bcap"})
	if err != nil {
		return vethPair{}, err
	}
	c.add(p.Close)
	return vethPair(p.Names), nil
}

// mountTmpfs mounts a tmpfs of sizeMB at a new directory under base; c
// unmounts it and removes the directory.
func mountTmpfs(c *cleanup, base string, sizeMB int) (string, error) {
	dir, err := os.MkdirTemp(base, "benchcapture-tmpfs-")
	if err != nil {
		return "", err
	}
	if _, err := command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), "benchcapture", dir); err != nil {
		_ = os.Remove(dir)
		return "", err
	}
	c.add(func() error {
		_, err := command("umount", dir)
		return errors.Join(err, os.Remove(dir))
	})
	return dir, nil
}

// makeDir creates a new directory under base that c removes with its
// contents.
func makeDir(c *cleanup, base, pattern string) (string, error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(base, pattern)
	if err != nil {
		return "", err
	}
	c.add(func() error { return os.RemoveAll(dir) })
	return dir, nil
}

// emptyDir removes every file in dir (the previous trial's captures).
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}
