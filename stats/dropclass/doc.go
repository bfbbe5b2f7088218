// Package dropclass is the one definition of rxprobe's drop classes: the
// layers of the drop ledger, which counter of which DPDK driver feeds
// each, the stable metric names those counters are exported under, and
// the classification of a port's counters into per-class drops and a
// total. The report's rx_dropped, the ledger and the rxprobe_drops_total
// metric all come from Classify.
//
// Contract:
//   - Drivers lists, per DPDK driver, the xstat names that carry drops,
//     each with the DPDK 22.11 source file the name comes from. A driver
//     not listed is classified from the basic ethdev counters alone
//     (imissed, ierrors, rx_nombuf) and Plan.Known says so.
//   - Resolve runs once per port at start-up (it allocates); Classify runs
//     every sample and never allocates.
//   - It imports no cgo and nothing of rxprobe: it builds and tests
//     anywhere.
package dropclass
