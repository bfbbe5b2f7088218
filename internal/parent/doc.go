// Package parent ends a helper process's work when the process that
// started it is gone. `rxprobe exporter` and `rxprobe watch` are started
// by `rxprobe run` with --parent-pid; both use Watch, so both notice the
// same way and at the same speed.
package parent
