package capture

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// ErrInvalid is matched (errors.Is) by every validation error.
var ErrInvalid = errors.New("invalid capture configuration")

// FieldError names the capture field at fault and the fix.
type FieldError struct {
	Field  string // e.g. "capture.snaplen"
	Reason string
}

func (e *FieldError) Error() string { return "config: capture." + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Mode is how captured packets are kept.
type Mode string

// Modes: continuous writes every matching packet to rotating files;
// trigger keeps the newest history_mb per queue in memory and writes it,
// plus the packets of the following `after`, to one file per event.
const (
	ModeContinuous Mode = "continuous"
	ModeTrigger    Mode = "trigger"
)

// DefaultMinFreeMB is min_free_mb when a config file leaves it out.
const DefaultMinFreeMB = 1024

// Trigger is what starts a trigger-mode event file; its number is what
// the C writer receives (rxp_capw_trigger) and names in {event}.
type Trigger uint8

// Triggers. Their names are the capture.triggers values.
const (
	TriggerDrop   Trigger = 1 // a new drop in any layer of the drop ledger
	TriggerGap    Trigger = 2 // a loop gap over the guard's threshold
	TriggerIRQ    Trigger = 3 // an interrupt-guard violation on an RX CPU
	TriggerSignal Trigger = 4 // SIGUSR1 to the rxprobe run process
)

// TriggerNames are the triggers by number (index 0 unused); the C writer
// has the same table for {event}.
var TriggerNames = [...]string{"", "drop", "gap", "irq", "signal"}

// String is the trigger's name.
func (t Trigger) String() string {
	if int(t) < len(TriggerNames) && t != 0 {
		return TriggerNames[t]
	}
	return "trigger"
}

// TriggerOf is the trigger named name.
func TriggerOf(name string) (Trigger, bool) {
	for i, n := range TriggerNames {
		if i != 0 && n == name {
			return Trigger(i), true
		}
	}
	return 0, false
}

// Limits of the writer (rx/internal/dpdk's cap.h).
const (
	MaxSnaplen   = 9216 // RXP_MAX_PKT
	BlockAlign   = 4096 // O_DIRECT alignment
	MaxNameBytes = 255  // RXP_CAP_NAME_MAX - 1, after expansion
	MaxDirBytes  = 1023
	MaxCPUs      = 64
	// MaxHistoryMB bounds capture.history_mb (the writer's 32-bit sizes).
	MaxHistoryMB = 4095
	// MaxAfter bounds capture.after.
	MaxAfter = 10 * time.Minute
)

// DefaultTriggerPattern names trigger-mode files.
const DefaultTriggerPattern = "rxprobe-p{port}q{queue}-%Y%m%dT%H%M%SZ-{event}-{seq}.pcapng"

// Config is the `capture:` section. The zero value is "capture off".
type Config struct {
	// Enabled turns capture on for every RX queue.
	Enabled bool `mapstructure:"enabled" yaml:"enabled"`
	// Mode is "continuous" (default) or "trigger".
	Mode Mode `mapstructure:"mode" yaml:"mode"`
	// HistoryMB is the memory per queue that trigger mode keeps of the
	// newest packets (snaplen applies), written when a trigger fires
	// (default 64).
	HistoryMB int `mapstructure:"history_mb" yaml:"history_mb"`
	// After is how long trigger mode goes on writing live packets after
	// the trigger (default 5s, at most 10m).
	After time.Duration `mapstructure:"after" yaml:"after"`
	// Triggers lists what fires in trigger mode: drop, gap, irq, signal
	// (default all four).
	Triggers []string `mapstructure:"triggers" yaml:"triggers,omitempty"`
	// TriggerPattern names trigger-mode files: Pattern's conversions and
	// {event}, the first trigger's name.
	TriggerPattern string `mapstructure:"trigger_pattern" yaml:"trigger_pattern"`
	// Filter is a tcpdump expression; empty keeps every packet.
	Filter string `mapstructure:"filter" yaml:"filter"`
	// Snaplen is the most bytes kept of each packet (default and at most
	// 9216).
	Snaplen int `mapstructure:"snaplen" yaml:"snaplen"`
	// Dir is where the files go; Pattern names them: {port}, {queue},
	// {seq} and strftime conversions in UTC at the file's start.
	Dir     string `mapstructure:"dir" yaml:"dir"`
	Pattern string `mapstructure:"pattern" yaml:"pattern"`
	// RotateMB rotates before a file exceeds this size (0: never).
	RotateMB int `mapstructure:"rotate_mb" yaml:"rotate_mb"`
	// RotateEvery rotates at multiples of it since the epoch, i.e. on
	// wall-clock boundaries (0: never).
	RotateEvery time.Duration `mapstructure:"rotate_every" yaml:"rotate_every"`
	// MaxFiles keeps at most this many finished files per queue (0: no
	// limit); MinFreeMB keeps the file system above this much free space
	// by deleting the oldest finished files, else dropping; 0 turns the
	// guard off. A config file that leaves it out gets DefaultMinFreeMB
	// (rx/config's loader); Defaults leaves 0 alone, so `min_free_mb: 0`
	// means off.
	MaxFiles  int `mapstructure:"max_files" yaml:"max_files"`
	MinFreeMB int `mapstructure:"min_free_mb" yaml:"min_free_mb"`
	// CPUs is the cpulist of the writer threads; empty: the housekeeping
	// CPUs. Never an RX CPU.
	CPUs string `mapstructure:"cpus" yaml:"cpus"`
	// RingSize is the handoff ring per queue (a power of two); the
	// mempool grows by this many mbufs per queue.
	RingSize int `mapstructure:"ring_size" yaml:"ring_size"`
	// BlockKB and Blocks are each writer's aligned buffers.
	BlockKB int `mapstructure:"block_kb" yaml:"block_kb"`
	Blocks  int `mapstructure:"blocks" yaml:"blocks"`
	// OnFile is a command run with /bin/sh -c on every finished file, one
	// at a time in order, by a separate process (never the RX process):
	// {file} is replaced by the file's absolute path, quoted for the
	// shell; the environment has RXPROBE_CAPTURE_FILE, _PORT and _QUEUE.
	// max_files and min_free_mb may delete a file before its command
	// runs, when the commands fall behind. Empty: off.
	OnFile string `mapstructure:"on_file" yaml:"on_file"`
	// Timestamps is the packets' clock: auto (default: the NIC's RX
	// timestamp where the port offers it, else the TSC), tsc, or nic
	// (every capturing port must offer it).
	Timestamps Timestamps `mapstructure:"timestamps" yaml:"timestamps"`
}

// Timestamps is capture.timestamps.
type Timestamps string

// The clocks capture.timestamps chooses from.
const (
	TimestampsAuto Timestamps = "auto"
	TimestampsTSC  Timestamps = "tsc"
	TimestampsNIC  Timestamps = "nic"
)

// UseNIC says whether a port that does (offered) or does not offer RX
// timestamps stamps packets with them, or (err) cannot run with this
// setting.
func (t Timestamps) UseNIC(offered bool) (bool, error) {
	switch {
	case t == TimestampsTSC:
		return false, nil
	case t == TimestampsNIC && !offered:
		return false, ErrNoNICTimestamps
	}
	return offered, nil
}

// ErrNoNICTimestamps is matched (errors.Is) when capture.timestamps is
// nic and a capturing port does not offer RX timestamps.
var ErrNoNICTimestamps = errors.New("the port does not offer RX timestamps (RTE_ETH_RX_OFFLOAD_TIMESTAMP): set capture.timestamps to auto or tsc")

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Mode == "" {
		c.Mode = ModeContinuous
	}
	if c.Mode == ModeTrigger {
		if c.HistoryMB == 0 {
			c.HistoryMB = 64
		}
		if c.After == 0 {
			c.After = 5 * time.Second
		}
		if c.Triggers == nil {
			c.Triggers = []string{"drop", "gap", "irq", "signal"}
		}
		if c.TriggerPattern == "" {
			c.TriggerPattern = DefaultTriggerPattern
		}
	}
	if c.Snaplen == 0 {
		c.Snaplen = MaxSnaplen
	}
	if c.Pattern == "" {
		c.Pattern = "rxprobe-p{port}q{queue}-%Y%m%dT%H%M%SZ-{seq}.pcapng"
	}
	if c.RingSize == 0 {
		c.RingSize = 8192
	}
	if c.BlockKB == 0 {
		c.BlockKB = 4096
	}
	if c.Blocks == 0 {
		c.Blocks = 8
	}
	if c.Timestamps == "" {
		c.Timestamps = TimestampsAuto
	}
}

// Validate checks the section against the run's RX CPUs and queue count
// (ports × queues). It does not compile the filter.
func (c *Config) Validate(rxCPUs cpuset.Set, queues int) error {
	if !c.Enabled {
		return nil
	}
	switch {
	case c.Mode != ModeContinuous && c.Mode != ModeTrigger:
		return fieldErr("mode", "%q: use continuous or trigger", c.Mode)
	case c.Snaplen < 1 || c.Snaplen > MaxSnaplen:
		return fieldErr("snaplen", "%d: give 1..%d", c.Snaplen, MaxSnaplen)
	case c.Dir == "":
		return fieldErr("dir", "empty: name the directory for the capture files")
	case len(c.Dir) > MaxDirBytes:
		return fieldErr("dir", "%d bytes: at most %d", len(c.Dir), MaxDirBytes)
	case c.RingSize < 64 || c.RingSize&(c.RingSize-1) != 0:
		return fieldErr("ring_size", "%d: give a power of two >= 64", c.RingSize)
	case c.BlockKB*1024%BlockAlign != 0 || c.BlockKB*1024 < 4*(c.Snaplen+64):
		return fieldErr("block_kb", "%d: give a multiple of 4 holding at least 4 packets of snaplen %d", c.BlockKB, c.Snaplen)
	case c.Blocks < 2:
		return fieldErr("blocks", "%d: give at least 2 (one filling, one being written)", c.Blocks)
	case c.RotateMB < 0:
		return fieldErr("rotate_mb", "%d: give 0 (off) or more", c.RotateMB)
	case c.RotateEvery < 0:
		return fieldErr("rotate_every", "%v: give 0 (off) or more", c.RotateEvery)
	case c.MaxFiles < 0:
		return fieldErr("max_files", "%d: give 0 (no limit) or more", c.MaxFiles)
	case c.MinFreeMB < 0:
		return fieldErr("min_free_mb", "%d: give 0 (off) or more", c.MinFreeMB)
	case c.RotateEvery != 0 && c.RotateEvery < time.Second:
		return fieldErr("rotate_every", "%v: give at least 1s", c.RotateEvery)
	case c.RotateMB != 0 && c.RotateMB*1024 < 2*c.BlockKB:
		return fieldErr("rotate_mb", "%d MB: give at least two blocks (%d KB)", c.RotateMB, 2*c.BlockKB)
	case c.MaxFiles != 0 && c.RotateMB == 0 && c.RotateEvery == 0 && c.Mode != ModeTrigger:
		return fieldErr("max_files", "%d without rotation keeps one file: set rotate_mb or rotate_every", c.MaxFiles)
	}
	if c.Mode == ModeTrigger {
		if err := c.validateTrigger(queues); err != nil {
			return err
		}
	} else if err := c.validatePattern(c.Pattern, "pattern", queues); err != nil {
		return err
	}
	if err := c.validateOnFile(); err != nil {
		return err
	}
	switch c.Timestamps {
	case TimestampsAuto, TimestampsTSC, TimestampsNIC:
	default:
		return fieldErr("timestamps", "%q: give auto, tsc or nic", c.Timestamps)
	}
	if c.CPUs != "" {
		set, err := cpuset.Parse(c.CPUs)
		if err != nil {
			return fieldErr("cpus", "%q: %v", c.CPUs, err)
		}
		if set.Len() > MaxCPUs {
			return fieldErr("cpus", "%d CPUs: at most %d", set.Len(), MaxCPUs)
		}
		if both := set.Intersect(rxCPUs); !both.IsEmpty() {
			return fieldErr("cpus", "%s also polls RX: capture writers never run on an RX CPU; name housekeeping CPUs", both)
		}
	}
	return nil
}

// validateTrigger checks the trigger-mode fields.
func (c *Config) validateTrigger(queues int) error {
	switch {
	case c.HistoryMB < 1 || c.HistoryMB > MaxHistoryMB:
		return fieldErr("history_mb", "%d: give the memory kept per queue before a trigger, 1..%d MB", c.HistoryMB, MaxHistoryMB)
	case c.After < 0 || c.After > MaxAfter:
		return fieldErr("after", "%v: give how long to write after a trigger, 0s..%v", c.After, MaxAfter)
	case len(c.Triggers) == 0:
		return fieldErr("triggers", "empty: list one or more of drop, gap, irq, signal")
	case c.RotateMB != 0 || c.RotateEvery != 0:
		return fieldErr("rotate_mb", "rotation with mode trigger: each event is one file; set rotate_mb and rotate_every to 0")
	}
	for _, n := range c.Triggers {
		if _, ok := TriggerOf(n); !ok {
			return fieldErr("triggers", "%q: give drop, gap, irq or signal", n)
		}
	}
	p := c.TriggerPattern
	if err := c.validatePattern(p, "trigger_pattern", queues); err != nil {
		return err
	}
	if !strings.Contains(p, "{seq}") {
		return fieldErr("trigger_pattern", "%q: each event is a new file: include {seq}", p)
	}
	return nil
}

func (c *Config) validatePattern(p, field string, queues int) error {
	if strings.Contains(p, "/") {
		return fieldErr(field, "%q: a file name, not a path: put directories in capture.dir", p)
	}
	if queues > 1 && (!strings.Contains(p, "{port}") || !strings.Contains(p, "{queue}")) {
		return fieldErr(field, "%q: %d queues write at once: include {port} and {queue}", p, queues)
	}
	if (c.RotateMB != 0 || c.RotateEvery != 0) && !strings.Contains(p, "{seq}") {
		return fieldErr(field, "%q: rotating files need {seq} so two files never share a name", p)
	}
	if n := len(p) + 3*strings.Count(p, "%") + 16; n > MaxNameBytes {
		return fieldErr(field, "%q expands to up to %d bytes: at most %d", p, n, MaxNameBytes)
	}
	return nil
}

// MaxOnFileBytes bounds capture.on_file.
const MaxOnFileBytes = 4096

func (c *Config) validateOnFile() error {
	cmd := c.OnFile
	switch {
	case cmd == "":
		return nil
	case strings.TrimSpace(cmd) == "":
		return fieldErr("on_file", "only blanks: give a command, or leave it empty (off)")
	case len(cmd) > MaxOnFileBytes:
		return fieldErr("on_file", "%d bytes: at most %d; put a longer command in a script", len(cmd), MaxOnFileBytes)
	case strings.ContainsAny(cmd, "\x00"):
		return fieldErr("on_file", "contains a NUL byte: give a shell command")
	case strings.ContainsAny(c.Dir+c.Pattern+c.TriggerPattern, "\n\x00"):
		return fieldErr("on_file", "capture.dir or capture.pattern holds a newline: the hook gets one file per line; rename them")
	}
	return nil
}

// TriggerMask is the set of configured triggers, bit 1<<Trigger each; 0
// unless capture is on in trigger mode (valid after Validate).
func (c *Config) TriggerMask() uint8 {
	if !c.Enabled || c.Mode != ModeTrigger {
		return 0
	}
	var m uint8
	for _, n := range c.Triggers {
		if t, ok := TriggerOf(n); ok {
			m |= 1 << t
		}
	}
	return m
}

// FilePattern is the pattern files are named with in the configured mode.
func (c *Config) FilePattern() string {
	if c.Mode == ModeTrigger {
		return c.TriggerPattern
	}
	return c.Pattern
}

// HistoryBytes is trigger mode's memory per queue (0 in continuous mode).
func (c *Config) HistoryBytes() int64 {
	if c.Mode != ModeTrigger {
		return 0
	}
	return int64(c.HistoryMB) << 20
}

// PoolMbufs is the number of mbufs capture adds to the mempool of a NUMA
// node with queues capturing RX queues: a full ring per queue, so full
// rings cannot starve RX (a pool without them stalls the loop: measured).
func (c *Config) PoolMbufs(queues int) int {
	if !c.Enabled {
		return 0
	}
	return queues * c.RingSize
}

// HugepageBytes is the hugepage memory capture needs on a node with
// queues capturing RX queues (blocks, rings and trigger mode's history),
// beyond the mbufs.
func (c *Config) HugepageBytes(queues int) int64 {
	if !c.Enabled {
		return 0
	}
	per := int64(c.BlockKB)*1024*int64(c.Blocks) + int64(c.RingSize)*8 + 1<<20 + c.HistoryBytes()
	return int64(queues) * per
}
