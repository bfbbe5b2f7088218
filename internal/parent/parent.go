package parent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrGone is the cause of a context that Watch cancelled because the
// watched process exited.
var ErrGone = errors.New("parent process is gone")

// PollInterval is how often Watch checks the process.
const PollInterval = 500 * time.Millisecond

// Watch returns a context cancelled, with a cause matching ErrGone, once
// process pid has exited; and when ctx ends. pid <= 0 watches nothing.
//
// It checks at once and then every PollInterval. A process is gone when
// kill(pid, 0) says ESRCH (no such process; EPERM means it lives under
// another user), or, when pid was this process's parent at the time of
// the call, as soon as this process is reparented: the kernel reparents
// the children of a process the moment it exits, while the exited process
// itself still answers kill(pid, 0) until it is reaped.
func Watch(ctx context.Context, pid int) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := func() { cancel(context.Canceled) }
	if pid <= 0 {
		return ctx, stop
	}
	wasParent := os.Getppid() == pid
	gone := func() bool { return (wasParent && os.Getppid() != pid) || unix.Kill(pid, 0) == unix.ESRCH }
	if gone() {
		cancel(fmt.Errorf("pid %d: %w", pid, ErrGone))
		return ctx, stop
	}
	go func() {
		tick := time.NewTicker(PollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if gone() {
				cancel(fmt.Errorf("pid %d: %w", pid, ErrGone))
				return
			}
		}
	}()
	return ctx, stop
}

// IsGone reports whether ctx was cancelled by Watch because the process
// exited.
func IsGone(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrGone) }
