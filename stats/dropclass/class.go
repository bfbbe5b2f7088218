package dropclass

// Class is a drop class: the layer of the path that lost a packet.
type Class int

// The drop classes, in ledger order. The order and names are published
// (ledger, rxprobe_drops_total's layer label): append, never reorder.
const (
	// PortBuffer: the NIC's port buffer overflowed before DMA.
	PortBuffer Class = iota
	// HostTooSlow: descriptors were not refilled in time.
	HostTooSlow
	// MempoolEmpty: no free mbuf to refill the RX ring.
	MempoolEmpty
	// CaptureRing: the capture ring was full.
	CaptureRing
	// KernelPath: the kernel dropped frames before the probe's socket.
	KernelPath
	// Errors: frames received in error (CRC, length, symbol).
	Errors
	// NumClasses is the number of classes.
	NumClasses
)

// Names are the classes' labels (ledger layer, metric label).
var Names = [NumClasses]string{"port_buffer", "host_too_slow", "mempool_empty", "capture_ring", "kernel_path", "errors"}

// Why explains each class in one sentence.
var Why = [NumClasses]string{
	"the NIC's port buffer overflowed before DMA (rx_discards_phy; mlx5: rx_phy_discard_packets): more traffic than the PCIe/host path drains, or pause frames",
	"descriptors were not refilled in time (imissed, rx_out_of_buffer): the RX loop fell behind",
	"no free mbuf to refill the RX ring (rx_nombuf): the mempool is too small or mbufs are held elsewhere",
	"the capture ring was full: the capture writer fell behind",
	"the kernel dropped frames before the probe's socket saw them (the bound interface's rx_dropped, backlog drops included)",
	"frames arrived in error and were dropped by the NIC (ierrors: CRC, length, symbol errors)",
}

// AfterLoop says whether the class loses packets the RX loop already
// received (capture_ring) rather than before the loop saw them. What a
// sender offered is the loop's received packets plus the drops of the
// classes before the loop; after-loop drops are part of the received.
func (c Class) AfterLoop() bool { return c == CaptureRing }

// BeforeLoop sums the classes that lost packets before the RX loop saw
// them: offered = received + BeforeLoop.
func (d *Drops) BeforeLoop() uint64 {
	var t uint64
	for c, n := range d {
		if !Class(c).AfterLoop() {
			t += n
		}
	}
	return t
}

// String is the class's name.
func (c Class) String() string {
	if c < 0 || c >= NumClasses {
		return "unknown"
	}
	return Names[c]
}

// Drops are drops by class.
type Drops [NumClasses]uint64

// Total sums every class.
func (d *Drops) Total() uint64 {
	var t uint64
	for _, n := range d {
		t += n
	}
	return t
}

// Sub is d - o by class (0 where a counter went backwards).
func (d Drops) Sub(o Drops) Drops {
	for c := range d {
		if d[c] >= o[c] {
			d[c] -= o[c]
		} else {
			d[c] = 0
		}
	}
	return d
}
