// Package trialapi is the trial API of rxprobe, for benchmark harnesses
// that bring their own generator: POST /v1/trials reads exact counters
// and keeps them as the trial's start; POST /v1/trials/{id}/stop reads
// them again and returns the changes as JSON — packets and bytes per port
// and queue, the drop ledger per layer (after-loop layers marked, the
// before-loop sum), the guard's events and the interrupts on the RX CPUs
// by kind, the loop-gap histograms and the duration; with a run that
// records latency, the one-way latency per queue and in total, valid only
// when the stop call's generator clock names the probe's host and boot.
//
// Contract:
//   - It runs in its own process (`rxprobe trial-api`, a child of `rxprobe
//     run --trial-api ADDR` or standalone), never in the RX process: it
//     reads the shared-memory snapshot and allocates freely.
//   - "Exact" means each boundary is a snapshot answering a sample request
//     made by that call (stats/shm: samples on request): its counters were
//     read after the request, not up to one stats interval before it. The
//     guard judges whole seconds; its events count in the trial whose
//     window holds the end of their second. Interrupt counts are exact.
//   - A trial never blocks the RX loops: a request wakes the stats thread
//     on a housekeeping CPU, and the API reads the snapshot like the
//     exporter does.
//   - It listens on loopback unless CheckListen allowed otherwise: beyond
//     loopback only with the public flag and a bearer token, compared in
//     constant time. Errors are JSON {"error": "..."}: 404 for an unknown
//     trial, 409 for stopping one twice, 401 without the token, 503 when
//     no exact sample could be had.
package trialapi
