// Package benchkit is what rxprobe's benchmark harnesses share: settings
// from the environment, the identity of the machine and code measured,
// the load average, and a thread's share of CPU time.
package benchkit

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
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

// Host identifies the machine and the code measured.
type Host struct {
	Date       string
	Model      string
	CPUs       int
	Kernel     string
	Commit     string
	LoadBefore string
	LoadAfter  string
}

// GatherHost reads the machine's identity and the current load.
func GatherHost() Host {
	h := Host{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), CPUs: runtime.NumCPU(), LoadBefore: Loadavg()}
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
	h.Commit = "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		h.Commit = strings.TrimSpace(string(out))
		// Tracked files changed since HEAD: the binary may not be HEAD.
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			h.Commit += " (working tree has uncommitted changes)"
		}
	}
	return h
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

// Median of xs (0 for none); xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ParseSchedstat returns the first field of /proc/<pid>/task/<tid>/schedstat:
// nanoseconds the thread has run on a CPU.
func ParseSchedstat(b []byte) (uint64, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("schedstat: %d fields, want 3", len(f))
	}
	return strconv.ParseUint(f[0], 10, 64)
}

// CPUSample is a thread's on-CPU time at a moment.
type CPUSample struct {
	At    time.Time
	RunNs uint64
}

// SampleThread reads tid's schedstat.
func SampleThread(pid, tid int) (CPUSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	if err != nil {
		return CPUSample{}, err
	}
	ns, err := ParseSchedstat(b)
	return CPUSample{At: time.Now(), RunNs: ns}, err
}

// Share is the fraction of wall time between a and b the thread was on a
// CPU (0 when it cannot tell).
func Share(a, b CPUSample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 || b.RunNs < a.RunNs {
		return 0
	}
	return float64(b.RunNs-a.RunNs) / float64(wall.Nanoseconds())
}
