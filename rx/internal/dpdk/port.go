package dpdk

/*
#include <stdlib.h>
#include <rte_ethdev.h>
#include "rxp.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"unsafe"
)

// ErrNoPort is returned when no ethdev port has the requested name.
var ErrNoPort = errors.New("dpdk: no such port")

// PortByName returns the port id of a probed device ("net_null0",
// "0000:3b:00.0", ...).
func PortByName(name string) (uint16, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var id C.uint16_t
	if rc := C.rte_eth_dev_get_port_by_name(cname, &id); rc != 0 {
		return 0, fmt.Errorf("%w: %q (%v)", ErrNoPort, name, errno(rc))
	}
	return uint16(id), nil
}

// PortInfo is what rxprobe needs from rte_eth_dev_info.
type PortInfo struct {
	Driver      string
	Socket      int // -1 when unknown
	MaxRXQueues uint16
	MaxTXQueues uint16
	RSSOffloads uint64
	RXDescMax   uint16
	RXDescMin   uint16
	RXDescAlign uint16
	// RXTimestamp: the port offers RTE_ETH_RX_OFFLOAD_TIMESTAMP (the NIC
	// stamps each packet on arrival; mlx5 does).
	RXTimestamp bool
}

// Info returns the port's driver facts.
func Info(port uint16) (PortInfo, error) {
	var pi C.struct_rxp_port_info
	if rc := C.rxp_port_info(C.uint16_t(port), &pi); rc != 0 {
		return PortInfo{}, fmt.Errorf("dpdk: port %d: dev_info: %w", port, errno(rc))
	}
	return PortInfo{
		Driver:      C.GoString(&pi.driver[0]),
		Socket:      int(pi.socket),
		MaxRXQueues: uint16(pi.max_rx_queues),
		MaxTXQueues: uint16(pi.max_tx_queues),
		RSSOffloads: uint64(pi.rss_offloads),
		RXDescMax:   uint16(pi.rx_desc_max),
		RXDescMin:   uint16(pi.rx_desc_min),
		RXDescAlign: uint16(pi.rx_desc_align),
		RXTimestamp: pi.rx_offload_capa&C.RTE_ETH_RX_OFFLOAD_TIMESTAMP != 0,
	}, nil
}

// PortConfig describes how to set a port up.
type PortConfig struct {
	RXQueues uint16
	TXQueues uint16
	RXRing   uint16
	TXRing   uint16
	RSS      bool // spread over RX queues by IP/UDP/TCP hash when RXQueues > 1
	Promisc  bool
	// RXTimestamp enables the NIC's RX timestamps (check
	// PortInfo.RXTimestamp first).
	RXTimestamp bool
}

// Configure configures the port and sets up its queues; RX queues take
// mbufs from pool. Link-state and removal events are counted (ReadEvents).
func Configure(port uint16, cfg PortConfig, pool *Mempool, socket int) error {
	var offloads C.uint64_t
	if cfg.RXTimestamp {
		offloads |= C.RTE_ETH_RX_OFFLOAD_TIMESTAMP
	}
	rc := C.rxp_port_configure(C.uint16_t(port), C.uint16_t(cfg.RXQueues), C.uint16_t(cfg.TXQueues), cbool(cfg.RSS), 1, offloads)
	if rc != 0 {
		return fmt.Errorf("dpdk: port %d: configure %d rx / %d tx queues: %w", port, cfg.RXQueues, cfg.TXQueues, errno(rc))
	}
	nrx, ntx := C.uint16_t(cfg.RXRing), C.uint16_t(cfg.TXRing)
	if rc := C.rte_eth_dev_adjust_nb_rx_tx_desc(C.uint16_t(port), &nrx, &ntx); rc != 0 {
		return fmt.Errorf("dpdk: port %d: ring sizes %d/%d: %w", port, cfg.RXRing, cfg.TXRing, errno(rc))
	}
	for q := uint16(0); q < cfg.RXQueues; q++ {
		if rc := C.rte_eth_rx_queue_setup(C.uint16_t(port), C.uint16_t(q), nrx, C.uint(socket), nil, pool.p); rc != 0 {
			return fmt.Errorf("dpdk: port %d: rx queue %d setup (%d descriptors): %w", port, q, nrx, errno(rc))
		}
	}
	for q := uint16(0); q < cfg.TXQueues; q++ {
		if rc := C.rte_eth_tx_queue_setup(C.uint16_t(port), C.uint16_t(q), ntx, C.uint(socket), nil); rc != 0 {
			return fmt.Errorf("dpdk: port %d: tx queue %d setup (%d descriptors): %w", port, q, ntx, errno(rc))
		}
	}
	if rc := C.rxp_port_register_events(C.uint16_t(port)); rc != 0 && !errors.Is(errno(rc), syscall.ENOTSUP) {
		return fmt.Errorf("dpdk: port %d: register events: %w", port, errno(rc))
	}
	if cfg.Promisc {
		// Not every PMD has a promiscuous mode (net_null does not); that is fine.
		if rc := C.rte_eth_promiscuous_enable(C.uint16_t(port)); rc != 0 && !errors.Is(errno(rc), syscall.ENOTSUP) {
			return fmt.Errorf("dpdk: port %d: promiscuous: %w", port, errno(rc))
		}
	}
	return nil
}

// Start starts the port.
func Start(port uint16) error {
	if rc := C.rte_eth_dev_start(C.uint16_t(port)); rc != 0 {
		return fmt.Errorf("dpdk: port %d: start: %w", port, errno(rc))
	}
	return nil
}

// Stop stops the port.
func Stop(port uint16) error {
	if rc := C.rte_eth_dev_stop(C.uint16_t(port)); rc != 0 {
		return fmt.Errorf("dpdk: port %d: stop: %w", port, errno(rc))
	}
	return nil
}

// Close closes the port and releases its queues.
func Close(port uint16) error {
	if rc := C.rte_eth_dev_close(C.uint16_t(port)); rc != 0 {
		return fmt.Errorf("dpdk: port %d: close: %w", port, errno(rc))
	}
	return nil
}

// Link is a port's link state.
type Link struct {
	Up         bool
	SpeedMbps  uint32
	FullDuplex bool
}

// LinkStatus returns the link state without waiting.
func LinkStatus(port uint16) (Link, error) {
	var speed C.uint32_t
	var up, fd C.int
	if rc := C.rxp_link(C.uint16_t(port), &speed, &up, &fd); rc != 0 {
		return Link{}, fmt.Errorf("dpdk: port %d: link: %w", port, errno(rc))
	}
	return Link{Up: up != 0, SpeedMbps: uint32(speed), FullDuplex: fd != 0}, nil
}

// MACAddr returns the port's MAC address.
func MACAddr(port uint16) (net.HardwareAddr, error) {
	var a C.struct_rte_ether_addr
	if rc := C.rte_eth_macaddr_get(C.uint16_t(port), &a); rc != 0 {
		return nil, fmt.Errorf("dpdk: port %d: mac: %w", port, errno(rc))
	}
	return C.GoBytes(unsafe.Pointer(&a.addr_bytes[0]), 6), nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
