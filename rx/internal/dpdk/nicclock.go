package dpdk

/*
#include <time.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>
#include "cap.h"

static int rxp_rx_ts_register(int *off, uint64_t *flag)
{
	return rte_mbuf_dyn_rx_timestamp_register(off, flag);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoNICClock is matched (errors.Is) when a port's device clock cannot
// be read (rte_eth_read_clock), so its RX timestamps cannot be converted.
var ErrNoNICClock = errors.New("device clock not readable")

// NICTimestamps is how a capture writer reads and converts a port's RX
// timestamps: the mbuf dynamic field and flag the PMD fills, and the
// device clock's rate measured at start.
type NICTimestamps struct {
	// Offset and Flag are rte_mbuf_dyn_rx_timestamp_register's field
	// offset and ol_flags bit.
	Offset int
	Flag   uint64
	// Mult is ns per device clock tick in 32.32 fixed point.
	Mult uint64
}

// RegisterRXTimestamp registers (or finds) the RX timestamp dynamic field
// and flag. Call it before the port's RX queues are set up.
func RegisterRXTimestamp() (NICTimestamps, error) {
	var off C.int
	var flag C.uint64_t
	if rc := C.rxp_rx_ts_register(&off, &flag); rc != 0 {
		return NICTimestamps{}, fmt.Errorf("dpdk: register the RX timestamp field: %w", rteErr())
	}
	return NICTimestamps{Offset: int(off), Flag: uint64(flag)}, nil
}

// ReadClock reads the port's device clock: the clock of its RX timestamps.
func ReadClock(port uint16) (uint64, error) {
	var v C.uint64_t
	if rc := C.rte_eth_read_clock(C.uint16_t(port), &v); rc != 0 {
		return 0, fmt.Errorf("dpdk: port %d: %w: %w", port, ErrNoNICClock, errno(rc))
	}
	return uint64(v), nil
}

// CalibrateNICClock measures the port's device clock rate against
// CLOCK_REALTIME over d and stores it in t.Mult. The first read also
// lets the PMD map what it reads the clock from (mlx5 maps a BAR), before
// any loop runs.
func CalibrateNICClock(port uint16, d time.Duration, t *NICTimestamps) error {
	var c NICClock
	for i := 0; i < 2; i++ {
		if i == 1 {
			time.Sleep(d)
		}
		t0 := time.Now()
		nic, err := ReadClock(port)
		if err != nil {
			return err
		}
		t1 := time.Now()
		c.Anchor(nic, uint64(t0.UnixNano())+uint64(t1.Sub(t0).Nanoseconds())/2)
	}
	if c.Mult == 0 {
		return fmt.Errorf("dpdk: port %d: %w: the device clock did not advance in %v", port, ErrNoNICClock, d)
	}
	t.Mult = c.Mult
	return nil
}

// NICClock is struct rxp_nicclk, the writer's conversion of device clock
// readings to UTC ns (exposed for tests of the math).
type NICClock struct {
	NIC, UTCNs, Mult uint64
}

// Anchor moves the anchor to (nic, ns) as the writer does each second
// (rxp_nicclk_anchor).
func (c *NICClock) Anchor(nic, ns uint64) {
	cc := C.struct_rxp_nicclk{nic: C.uint64_t(c.NIC), ns: C.uint64_t(c.UTCNs), mult: C.uint64_t(c.Mult)}
	C.rxp_nicclk_anchor(&cc, C.uint64_t(nic), C.uint64_t(ns))
	c.NIC, c.UTCNs, c.Mult = uint64(cc.nic), uint64(cc.ns), uint64(cc.mult)
}

// ToUTC converts a device clock reading to UTC ns (rxp_nicclk_ns).
func (c NICClock) ToUTC(ts uint64) uint64 {
	cc := C.struct_rxp_nicclk{nic: C.uint64_t(c.NIC), ns: C.uint64_t(c.UTCNs), mult: C.uint64_t(c.Mult)}
	return uint64(C.rxp_nicclk_ns(&cc, C.uint64_t(ts)))
}
