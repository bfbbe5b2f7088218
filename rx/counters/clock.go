package counters

import "fmt"

// HostClock identifies a process's time-stamp counter: the host (its
// machine id), the boot (the TSC restarts with it) and the TSC frequency
// EAL measured. Two processes share a TSC, and a latency taken as the
// difference of their TSC readings is valid, only when MachineID and
// BootID match.
type HostClock struct {
	MachineID string `json:"machine_id"`
	BootID    string `json:"boot_id"`
	TSCHz     uint64 `json:"tsc_hz"`
}

// ClockName names the clock latency figures are taken with.
const ClockName = "same-host TSC"

// SameTSC says whether a latency between a generator on gen and a probe
// on rx is valid; when not, reason says why in one line.
func SameTSC(gen, rx *HostClock) (ok bool, reason string) {
	switch {
	case gen == nil || gen.MachineID == "" || gen.BootID == "":
		return false, "the generator's host clock is unknown: pass the generator report's \"clock\" to compare it with the probe's"
	case rx == nil || rx.MachineID == "" || rx.BootID == "":
		return false, "the probe's host clock is unknown (no /etc/machine-id or boot_id)"
	case gen.MachineID != rx.MachineID:
		return false, fmt.Sprintf("generator on another host (machine id %s, probe %s): TSCs are not comparable, no one-way latency", gen.MachineID, rx.MachineID)
	case gen.BootID != rx.BootID:
		return false, fmt.Sprintf("generator from another boot (boot id %s, probe %s): TSCs are not comparable", gen.BootID, rx.BootID)
	}
	return true, ""
}
