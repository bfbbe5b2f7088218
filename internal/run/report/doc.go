// Package report is the one report of an `rxprobe run`: its JSON types,
// its assembly from plain counter values (Build), the join of the flight
// recorder's attribution into the guard's events, and the summary printed
// at the end of a run (WriteSummary).
//
// Contract:
//   - It does not import DPDK, cgo or the engine: everything it needs is a
//     plain value in Input, so it is tested on fixtures without root.
//   - The JSON field names are read by other tools (benchmarks, the demo,
//     dashboards): fields may be added, never renamed.
//   - Build is the only place that puts a report together; dropTotal is
//     the only place that decides what the report's rx_dropped sums.
package report
