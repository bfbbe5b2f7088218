package run

import (
	"context"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/rxprobe/rxprobe/rx/config"
	"github.com/rxprobe/rxprobe/stats/exporter"
	"github.com/rxprobe/rxprobe/stats/sampler"
)

// plantMunmapFault is the test-only planted fault: a thread of the RX
// process that maps, touches and unmaps a page at hz, as stdio's fclose
// did. Each munmap is a TLB shootdown on every CPU running a thread of the
// process — the RX CPUs included. Its thread is named "rxp-munmap". It
// returns when ctx ends.
func plantMunmapFault(ctx context.Context, hz int) {
	runtime.LockOSThread()
	sampler.SetThreadName("rxp-munmap")
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		addr, _, errno := syscall.Syscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0)
		if errno != 0 {
			continue
		}
		*(*byte)(unsafe.Add(unsafe.Pointer(nil), addr)) = 1
		syscall.Syscall(syscall.SYS_MUNMAP, addr, 4096, 0)
	}
}

// inprocExporter serves /metrics from inside the RX process. It exists for
// the observer benchmark only: its allocations, GC and scavenger run in the
// RX process's address space, which is exactly what the separate exporter
// process avoids.
type inprocExporter struct {
	*exporter.Attached
	cancel context.CancelFunc
}

func startInprocExporter(cfg *config.Config, prefix string) (*inprocExporter, error) {
	a, err := exporter.Attach(context.Background(), exporter.AttachOptions{Dir: cfg.Stats.ShmDir, Prefix: prefix, Addr: cfg.Stats.MetricsAddr})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = a.Serve(ctx) }()
	return &inprocExporter{Attached: a, cancel: cancel}, nil
}

func (e *inprocExporter) stop() {
	if e == nil {
		return
	}
	e.cancel()
	_ = e.Close()
}
