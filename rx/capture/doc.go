// Package capture is the cgo-free half of rxprobe's packet capture: the
// `capture:` configuration section, its validation and the sizes it
// implies (mempool mbufs, hugepage bytes). The data path itself (filter,
// handoff ring, pcapng writer) is C in rx/internal/dpdk; the pcapng format
// constants and a reader for tests are in rx/capture/pcapng.
//
// Contract: Validate checks everything that can be checked before EAL
// starts except the filter expression, which the caller compiles with
// dpdk.CompileFilter (libpcap, no EAL needed). Every error is a
// *FieldError naming the field and the fix; errors.Is(err, ErrInvalid)
// holds for all of them. The package imports neither the run package nor
// stats.
package capture
