package capture

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

func valid() Config {
	c := Config{Enabled: true, Dir: "/var/capture", RotateMB: 1024, MaxFiles: 10, CPUs: "0"}
	c.Defaults()
	return c
}

// wantFieldError fails unless c (with two queues on rx) is rejected with
// one line naming capture.field.
func wantFieldError(t *testing.T, c *Config, rx cpuset.Set, field string) {
	t.Helper()
	err := c.Validate(rx, 2)
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) || fe.Field != field {
		t.Errorf("%+v: err = %v, want a FieldError on %s", *c, err, field)
		return
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "capture."+field+": ") {
		t.Errorf("%s: %q: want one line naming capture.%s", field, err, field)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	rx := cpuset.Of(1, 2)
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"mode", func(c *Config) { c.Mode = "ring" }},
		{"snaplen", func(c *Config) { c.Snaplen = MaxSnaplen + 1 }},
		{"dir", func(c *Config) { c.Dir = "" }},
		{"ring_size", func(c *Config) { c.RingSize = 1000 }},
		{"block_kb", func(c *Config) { c.BlockKB = 6 }},
		{"blocks", func(c *Config) { c.Blocks = 1 }},
		{"rotate_every", func(c *Config) { c.RotateEvery = time.Millisecond }},
		{"rotate_mb", func(c *Config) { c.RotateMB = 1 }},
		{"max_files", func(c *Config) { c.RotateMB = 0 }},
		{"pattern", func(c *Config) { c.Pattern = "a/b-{seq}" }},
		{"pattern", func(c *Config) { c.Pattern = "cap-{seq}.pcapng" }},
		{"pattern", func(c *Config) { c.Pattern = "cap-p{port}q{queue}.pcapng" }},
		{"cpus", func(c *Config) { c.CPUs = "0-2" }},
		{"cpus", func(c *Config) { c.CPUs = "x" }},
		{"timestamps", func(c *Config) { c.Timestamps = "ptp" }},
		{"on_file", func(c *Config) { c.OnFile = " \t" }},
		{"on_file", func(c *Config) { c.OnFile = strings.Repeat("x", MaxOnFileBytes+1) }},
		{"on_file", func(c *Config) { c.OnFile = "gzip {file}\x00" }},
		{"on_file", func(c *Config) { c.OnFile, c.Dir = "gzip {file}", "/cap\nture" }},
	} {
		c := valid()
		tc.edit(&c)
		wantFieldError(t, &c, rx, tc.field)
	}
	c := valid()
	if err := c.Validate(rx, 2); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	c.OnFile = "gzip {file}"
	if err := c.Validate(rx, 2); err != nil {
		t.Errorf("valid on_file rejected: %v", err)
	}
	if err := (&Config{}).Validate(rx, 2); err != nil {
		t.Errorf("capture off rejected: %v", err)
	}
}

func validTrigger() Config {
	c := Config{Enabled: true, Mode: ModeTrigger, Dir: "/var/capture", MaxFiles: 10, CPUs: "0"}
	c.Defaults()
	return c
}

func TestValidateTrigger(t *testing.T) {
	rx := cpuset.Of(1, 2)
	c := validTrigger()
	if err := c.Validate(rx, 2); err != nil {
		t.Fatalf("valid trigger config rejected: %v", err)
	}
	if c.HistoryMB != 64 || c.After != 5*time.Second || len(c.Triggers) != 4 || c.TriggerPattern != DefaultTriggerPattern {
		t.Errorf("defaults: history %d MB, after %v, triggers %v, pattern %q", c.HistoryMB, c.After, c.Triggers, c.TriggerPattern)
	}
	if m := c.TriggerMask(); m != 1<<TriggerDrop|1<<TriggerGap|1<<TriggerIRQ|1<<TriggerSignal {
		t.Errorf("mask %#x", m)
	}
	if c.FilePattern() != DefaultTriggerPattern {
		t.Errorf("file pattern %q", c.FilePattern())
	}
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"history_mb", func(c *Config) { c.HistoryMB = -1 }},
		{"after", func(c *Config) { c.After = 11 * time.Minute }},
		{"after", func(c *Config) { c.After = -time.Second }},
		{"triggers", func(c *Config) { c.Triggers = []string{"drop", "sigusr2"} }},
		{"triggers", func(c *Config) { c.Triggers = []string{} }},
		{"trigger_pattern", func(c *Config) { c.TriggerPattern = "ev-p{port}q{queue}-{event}.pcapng" }},
		{"trigger_pattern", func(c *Config) { c.TriggerPattern = "x/ev-{seq}" }},
		{"trigger_pattern", func(c *Config) { c.TriggerPattern = "ev-{event}-{seq}" }},
		{"rotate_mb", func(c *Config) { c.RotateMB = 1024 }},
	} {
		c := validTrigger()
		tc.edit(&c)
		wantFieldError(t, &c, rx, tc.field)
	}
	c = validTrigger()
	c.Triggers = []string{"signal"}
	if err := c.Validate(rx, 2); err != nil || c.TriggerMask() != 1<<TriggerSignal {
		t.Errorf("triggers [signal]: err %v, mask %#x", err, c.TriggerMask())
	}
	cont := valid()
	if cont.TriggerMask() != 0 || cont.HistoryBytes() != 0 {
		t.Error("continuous mode has triggers or history")
	}
	for i, n := range TriggerNames[1:] {
		if tr, ok := TriggerOf(n); !ok || int(tr) != i+1 || tr.String() != n {
			t.Errorf("TriggerOf(%q) = %d, %v", n, tr, ok)
		}
	}
}

func TestSizes(t *testing.T) {
	c := valid()
	if got := c.PoolMbufs(3); got != 3*8192 {
		t.Errorf("PoolMbufs(3) = %d", got)
	}
	if got, want := c.HugepageBytes(2), int64(2*(4096*1024*8+8192*8+1<<20)); got != want {
		t.Errorf("HugepageBytes(2) = %d, want %d", got, want)
	}
	tr := validTrigger()
	if got, want := tr.HugepageBytes(2), int64(2*(4096*1024*8+8192*8+1<<20+64<<20)); got != want {
		t.Errorf("trigger HugepageBytes(2) = %d, want %d (history included)", got, want)
	}
	off := Config{}
	if off.PoolMbufs(4) != 0 || off.HugepageBytes(4) != 0 {
		t.Error("capture off needs memory")
	}
}

// TestTimestampsUseNIC: auto follows the port, tsc never uses the NIC,
// nic on a port without the offload is ErrNoNICTimestamps.
func TestTimestampsUseNIC(t *testing.T) {
	for _, tc := range []struct {
		ts      Timestamps
		offered bool
		want    bool
		err     error
	}{
		{TimestampsAuto, true, true, nil}, {TimestampsAuto, false, false, nil},
		{TimestampsTSC, true, false, nil}, {TimestampsTSC, false, false, nil},
		{TimestampsNIC, true, true, nil}, {TimestampsNIC, false, false, ErrNoNICTimestamps},
	} {
		got, err := tc.ts.UseNIC(tc.offered)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s, offered %v: %v, %v; want %v, %v", tc.ts, tc.offered, got, err, tc.want, tc.err)
		}
	}
	c := valid()
	if c.Timestamps != TimestampsAuto {
		t.Errorf("default timestamps %q, want auto", c.Timestamps)
	}
}
