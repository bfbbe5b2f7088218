// Package cpuset is a fixed-size set of CPU numbers.
//
// A Set is a value type backed by a fixed bitset of MaxCPUs bits, so it can
// be copied, compared with Equal and used on hot paths: Has, Add, Remove and
// Len never allocate. The zero Set is empty and ready to use.
//
// Sets are written and read in the two formats the Linux kernel uses:
//
//   - cpulist ("0-3,8,10-11"), as in /sys/devices/system/cpu/online,
//     isolcpus= and smp_affinity_list; see Parse and Set.String;
//   - hex mask ("ff,ffffffff"), comma-separated 32-bit words with the most
//     significant word first, as in /proc/irq/*/smp_affinity; see ParseMask
//     and Set.Mask.
//
// Set implements encoding.TextMarshaler and encoding.TextUnmarshaler using
// the cpulist format, so configuration files can carry "1-3" strings.
// CPU numbers outside [0, MaxCPUs) are rejected by the parsers and ignored
// by the mutating methods.
package cpuset
