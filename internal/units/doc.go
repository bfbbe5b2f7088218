// Package units formats numbers for people without allocating: durations
// in ns, µs, ms or s, and fixed-point decimals. The status line, the
// guard's event lines and the run summary share it, so a gap reads the
// same everywhere.
package units
