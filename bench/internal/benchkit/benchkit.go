package benchkit

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Env reads flag defaults from the environment and remembers variables
// that are set but do not parse: a typo must be an error, not a default.
type Env struct {
	Errs []error
}

// Int returns $name as an integer, or def when unset.
func (e *Env) Int(name string, def int) int {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.Errs = append(e.Errs, fmt.Errorf("%s=%q: not an integer", name, v))
		return def
	}
	return n
}

// Float returns $name as a number, or def when unset.
func (e *Env) Float(name string, def float64) float64 {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		e.Errs = append(e.Errs, fmt.Errorf("%s=%q: not a number", name, v))
		return def
	}
	return f
}

// Duration returns $name as a Go duration ("60s"), or def when unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.Errs = append(e.Errs, fmt.Errorf("%s=%q: not a duration", name, v))
		return def
	}
	return d
}

// String returns $name, or def when unset or empty.
func (e *Env) String(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Host identifies the machine and the binary measured.
type Host struct {
	Date   string
	Model  string
	CPUs   int
	Kernel string
	// Binary is the path of the rxprobe binary measured and Version what
	// `Binary version` printed: the identity of the code measured (the
	// working tree the harness runs from may hold other code).
	Binary, Version string
	LoadBefore      string
	LoadAfter       string
}

// GatherHost reads the machine's identity, the current load and the
// version of the rxprobe binary bin. A binary that cannot say its version
// is an error: figures of unknown code are not a result.
func GatherHost(bin string) (Host, error) {
	h := Host{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), CPUs: runtime.NumCPU(), LoadBefore: Loadavg(), Binary: bin}
	h.Model = "unknown CPU"
	if out, err := exec.Command("lscpu").Output(); err == nil {
		if m := LscpuModel(string(out)); m != "" {
			h.Model = m
		}
	}
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err == nil {
		h.Kernel = cString(uts.Release[:])
	}
	v, err := BinaryVersion(bin)
	if err != nil {
		return h, err
	}
	h.Version = v
	return h, nil
}

// BinaryVersion runs `bin version` and returns its one line of output
// ("rxprobe v1.2 (commit abc1234, go1.26.8, DPDK 22.11.11)").
func BinaryVersion(bin string) (string, error) {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w (the bench records the measured binary's version; build it with make build)", bin, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" || strings.Contains(v, "\n") {
		return "", fmt.Errorf("%s version: printed %q, want one line", bin, v)
	}
	return v, nil
}

// LscpuModel returns lscpu's "Model name" value.
func LscpuModel(out string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func cString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// Loadavg is the first three fields of /proc/loadavg ("unknown" if unreadable).
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Load1 is the one-minute load average, or -1.
func Load1() float64 {
	f := strings.Fields(Loadavg())
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
