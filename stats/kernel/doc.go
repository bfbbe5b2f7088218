// Package kernel reads kernel packet and interrupt counters without
// allocating, for use on the periodic stats thread of the RX process.
//
// # Why
//
// A thread of the RX process that allocates eventually makes the Go
// runtime collect garbage and return memory with madvise/munmap; unmapping
// memory sends TLB-shootdown IPIs to every CPU running a thread of the
// process, including the isolated RX cores, which then drop packets. The
// readers here therefore never allocate per sample, and never map or unmap
// memory.
//
// # Contract
//
//   - Every path is ROOT + "/proc/..." or ROOT + "/sys/..."; constructors
//     take the root ("" means "/"), so tests run on fixtures.
//   - Reading and parsing are separate. Each file has a Parse function over
//     []byte that fills a caller-owned value (ParseInterrupts, ParseSoftnet,
//     ParseNetDev, ParseSNMP, ParseUDP, ParseCounter) and a reader whose
//     ReadInto fills the same type from the live file.
//   - No method allocates after construction and warm-up on the success
//     path. Buffers are sized at construction (at least twice the file's size
//     then); if a file outgrows its buffer, ReadInto returns ErrBufferFull
//     instead of growing. Bounded, one-time growth exists in exactly three
//     places, each documented where it happens: a never-seen-before IRQ row
//     or net device name is interned (one allocation, once per name), and
//     the row slices of Interrupts/Softnet/NetDev grow if a sample has more
//     rows than their capacity (made at twice the rows seen at
//     construction). Error paths allocate (wrapped errors with context).
//   - Fields the kernel may not report carry a presence bit set (SoftnetField,
//     UDPField, Counters.Present, InterruptRow.PerCPU), never pointers.
//   - Parse errors wrap ErrFormat; I/O errors wrap the unix.Errno, so
//     errors.Is(err, fs.ErrNotExist) works for a missing file.
//   - When a parse fails, the destination holds partial results; use it only
//     after a nil error.
//   - Values are not safe for concurrent use; one stats goroutine owns them.
//
// # Kept descriptors and pread
//
// Readers open their file once and then read it with pread at offset 0
// (looping on the following offsets until pread returns 0), instead of
// open/read/close per sample. /proc seq_file files restart their iterator
// at offset 0 and sysfs attributes re-run show() at offset 0, so each
// pread returns fresh content (TestPreadSeesFreshData proves it on this
// machine). This avoids the allocation that unix.Open makes to convert its
// path, saves two syscalls and a path walk per sample, and holds the same
// network namespace for the reader's life. On a read error the reader
// reopens the file once (the reopen uses a prebuilt NUL-terminated path and
// does not allocate either), which covers a sysfs file whose device was
// re-created.
//
// For the many small sysfs counter files, CounterReader keeps one
// descriptor per file and reads each into one shared 64-byte buffer with a
// single pread: a sysfs attribute is rendered by one show() call, so one
// read returns it whole. Descriptors are cheap and the set of counters is
// small (a few per port); reopening per sample would cost an open and a
// path walk per file per sample for nothing.
package kernel
