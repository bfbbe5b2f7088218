package parent

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// exitedPID returns the pid of a process that has exited and been reaped.
func exitedPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return c.Process.Pid
}

func TestWatchNoticesAReapedProcess(t *testing.T) {
	ctx, stop := Watch(context.Background(), exitedPID(t))
	defer stop()
	<-ctx.Done()
	if !IsGone(ctx) {
		t.Fatalf("cause %v, want ErrGone", context.Cause(ctx))
	}
}

func TestWatchNoticesAProcessExitingLater(t *testing.T) {
	c := exec.Command("sleep", "3600")
	if err := c.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	ctx, stop := Watch(context.Background(), c.Process.Pid)
	defer stop()
	if ctx.Err() != nil {
		t.Fatal("a live process was taken for gone")
	}
	_ = c.Process.Kill()
	_ = c.Wait()
	<-ctx.Done()
	if !IsGone(ctx) {
		t.Fatalf("cause %v, want ErrGone", context.Cause(ctx))
	}
}

func TestWatchLiveParentAndCancel(t *testing.T) {
	ctx, stop := Watch(context.Background(), os.Getppid())
	if ctx.Err() != nil {
		t.Fatal("the live parent was taken for gone")
	}
	stop()
	<-ctx.Done()
	if IsGone(ctx) {
		t.Fatal("a cancelled watch reports the parent gone")
	}
	ctx, stop = Watch(context.Background(), 0)
	defer stop()
	if ctx.Err() != nil || IsGone(ctx) {
		t.Fatal("pid 0 must watch nothing")
	}
}
