package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// syncBuffer is an output buffer safe to read while a process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a started tool whose output is kept.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  syncBuffer // stdout and stderr
	done chan error
}

// start starts name with args; ctx's end (the harness interrupted) sends
// it stop (SIGTERM or SIGINT) and, 10 s later, SIGKILL.
func start(ctx context.Context, stop syscall.Signal, env []string, name string, args ...string) (*proc, error) {
	p := &proc{name: name, done: make(chan error, 1)}
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(stop) }
	p.cmd.WaitDelay = 10 * time.Second
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p, nil
}

// errExited means a tool stopped before it was ready.
var errExited = errors.New("exited before it was ready")

// waitFor waits until ready() holds, the process exits, or timeout.
func (p *proc) waitFor(ctx context.Context, timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s: %w (%v): %s", p.name, errExited, err, tail(p.out.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready after %s: %s", p.name, timeout, tail(p.out.String()))
		}
	}
	return nil
}

// waitOutput waits until the output holds s.
func (p *proc) waitOutput(ctx context.Context, timeout time.Duration, s string) error {
	return p.waitFor(ctx, timeout, func() bool { return strings.Contains(p.out.String(), s) })
}

// stop sends sig and waits for the exit (SIGKILL after 15 s).
func (p *proc) stop(sig syscall.Signal) error {
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		err := <-p.done
		p.done <- err
		return fmt.Errorf("%s: killed, it did not stop within 15 s of %v", p.name, sig)
	}
}

// tail is the last lines of a tool's output, for error messages.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return s
}
