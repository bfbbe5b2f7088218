package dpdk

/*
#cgo pkg-config: libdpdk
#cgo CFLAGS: -O3 -Wno-deprecated-declarations
#include <stdlib.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_version.h>
#include <signal.h>
#include <pthread.h>
#include "rxp.h"

// rxp_eal_init runs rte_eal_init with every signal blocked in the calling
// thread, so that the threads EAL creates (the RX and TX lcores, its
// interrupt and telemetry threads) inherit a mask that blocks them all:
// a signal to the process (SIGUSR1 for a capture trigger, SIGTERM) is then
// never run on an RX core. The caller's mask is restored.
static int rxp_eal_init(int argc, char **argv)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = rte_eal_init(argc, argv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// ErrNotInitialized is returned by calls that need the EAL before Init succeeded.
var ErrNotInitialized = errors.New("dpdk: EAL not initialized")

var (
	initOnce sync.Once
	initErr  error
	initDone bool
)

// Init initialises the EAL with args (args[0] is the program name). It runs
// rte_eal_init at most once per process; every later call returns the first
// call's result. The argument strings are copied to C memory that is never
// freed, as EAL may keep pointers into argv.
func Init(args []string) error {
	initOnce.Do(func() {
		argv := C.malloc(C.size_t(len(args)+1) * C.size_t(unsafe.Sizeof(uintptr(0))))
		av := unsafe.Slice((**C.char)(argv), len(args)+1)
		for i, a := range args {
			av[i] = C.CString(a)
		}
		av[len(args)] = nil
		rc := C.rxp_eal_init(C.int(len(args)), (**C.char)(argv))
		if rc < 0 {
			initErr = fmt.Errorf("dpdk: rte_eal_init: %w", rteErr())
			return
		}
		initDone = true
	})
	return initErr
}

// RuntimeDir is EAL's runtime directory (/var/run/dpdk/<prefix> as root),
// or "" before Init. EAL leaves it behind on cleanup; callers remove it.
func RuntimeDir() string {
	if !initDone {
		return ""
	}
	return C.GoString(C.rte_eal_get_runtime_dir())
}

// Cleanup releases EAL resources (rte_eal_cleanup). Safe to call when Init
// failed or never ran.
func Cleanup() error {
	if !initDone {
		return nil
	}
	if rc := C.rte_eal_cleanup(); rc < 0 {
		return fmt.Errorf("dpdk: rte_eal_cleanup: %w", errno(rc))
	}
	initDone = false
	return nil
}

// rteErr returns rte_errno as an error.
func rteErr() error {
	e := C.rxp_errno()
	if e == 0 {
		return syscall.EINVAL
	}
	if e >= 1000 { // DPDK's own codes (RTE_MIN_ERRNO and above)
		return &RteError{Code: int(e), Msg: C.GoString(C.rte_strerror(e))}
	}
	return syscall.Errno(e)
}

// RteError is a DPDK-specific error code (rte_errno >= RTE_MIN_ERRNO).
type RteError struct {
	Code int
	Msg  string
}

func (e *RteError) Error() string { return fmt.Sprintf("%s (rte_errno %d)", e.Msg, e.Code) }

// errno converts a negative DPDK return code to an error.
func errno(rc C.int) error {
	if rc >= 0 {
		return nil
	}
	return syscall.Errno(-rc)
}

// TSCHz is the TSC frequency EAL measured.
func TSCHz() uint64 { return uint64(C.rte_get_tsc_hz()) }

// TSC reads the time-stamp counter.
func TSC() uint64 { return uint64(C.rte_rdtsc()) }

// WorkerLcores lists the worker lcore ids in order.
func WorkerLcores() []uint {
	var out []uint
	for id := C.rte_get_next_lcore(^C.uint(0), 1, 0); id < C.RTE_MAX_LCORE; id = C.rte_get_next_lcore(id, 1, 0) {
		out = append(out, uint(id))
	}
	return out
}

// LcoreCPU is the first CPU lcore id is pinned to, or -1.
func LcoreCPU(lcore uint) int {
	return int(C.rte_lcore_to_cpu_id(C.int(lcore)))
}

// SetStop sets (or clears) the process-wide stop flag every loop polls.
func SetStop(stop bool) {
	var v C.uint32_t
	if stop {
		v = 1
	}
	C.rxp_set_stop(v)
}

// WaitAll waits for every worker lcore to return (rte_eal_mp_wait_lcore).
func WaitAll() { C.rte_eal_mp_wait_lcore() }

// Events are the link-state and removal events seen since Init.
type Events = counters.Events

// ReadEvents returns the event counters.
func ReadEvents() Events {
	e := C.rxp_get_events()
	return Events{LinkChanges: uint64(e.lsc), Removals: uint64(e.rmv)}
}

// Version is the DPDK library version string (rte_version).
func Version() string { return C.GoString(C.rte_version()) }
