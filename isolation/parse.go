package isolation

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// param is one kernel command-line parameter.
type param struct {
	Name     string // '-' normalised to '_', as the kernel compares names
	Value    string
	HasValue bool
}

// cmdline is the parsed kernel command line.
type cmdline []param

// get returns the value of the last occurrence of name, as the kernel
// uses the last one for most parameters.
func (c cmdline) get(name string) (string, bool) {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i].Name == name {
			return c[i].Value, true
		}
	}
	return "", false
}

// raw returns "name=value" (or "name") for the last occurrence of name.
func (c cmdline) raw(name string) string {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i].Name == name {
			if c[i].HasValue {
				return c[i].Name + "=" + c[i].Value
			}
			return c[i].Name
		}
	}
	return ""
}

// parseCmdline splits /proc/cmdline into parameters the way the kernel
// does: whitespace-separated, double quotes group, and "--" ends the
// kernel's part (the rest goes to init). Non-text content and unbalanced
// quotes are errors.
func parseCmdline(b []byte) (cmdline, error) {
	if len(b) > hostfs.MaxSmall {
		return nil, fmt.Errorf("%d bytes, more than %d", len(b), hostfs.MaxSmall)
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return nil, errors.New("not text")
	}
	var out cmdline
	var cur strings.Builder
	inQuote, have := false, false
	flush := func() bool {
		if !have {
			return true
		}
		tok := cur.String()
		cur.Reset()
		have = false
		if tok == "--" {
			return false
		}
		name, value, hasValue := strings.Cut(tok, "=")
		out = append(out, param{Name: strings.ReplaceAll(name, "-", "_"), Value: value, HasValue: hasValue})
		return true
	}
	for _, r := range string(b) {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if !flush() {
				return out, nil
			}
		default:
			if r < 0x20 && r != '\t' {
				return nil, fmt.Errorf("control character %q", r)
			}
			cur.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return nil, errors.New("unbalanced quote")
	}
	flush()
	return out, nil
}

// isolcpusFlags are the flag words isolcpus= accepts before its cpulist.
var isolcpusFlags = map[string]bool{"nohz": true, "domain": true, "managed_irq": true}

// parseIsolcpus splits an isolcpus= value "managed_irq,domain,2-7" into
// flags and CPUs.
func parseIsolcpus(v string) (flags []string, cpus cpuset.Set, err error) {
	var list []string
	for tok := range strings.SplitSeq(v, ",") {
		if isolcpusFlags[tok] {
			flags = append(flags, tok)
			continue
		}
		list = append(list, tok)
	}
	cpus, err = cpuset.Parse(strings.Join(list, ","))
	if err != nil {
		return nil, cpuset.Set{}, fmt.Errorf("isolcpus=%s: %w", v, err)
	}
	return flags, cpus, nil
}

// taskStatus is what the checks need from /proc/PID/task/TID/status.
type taskStatus struct {
	Name    string
	TID     int
	TGID    int
	PPID    int
	Kthread bool
	Allowed cpuset.Set
}

// parseStatus reads a /proc/PID/status file. Name, Pid and
// Cpus_allowed_list are required.
func parseStatus(b []byte) (taskStatus, error) {
	var st taskStatus
	if len(b) > hostfs.MaxSmall {
		return st, fmt.Errorf("status: %d bytes, more than %d", len(b), hostfs.MaxSmall)
	}
	var haveName, havePid, haveAllowed, haveKthread bool
	for line := range strings.SplitSeq(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "Name":
			st.Name, haveName = val, true
		case "Pid":
			st.TID, err = strconv.Atoi(val)
			havePid = err == nil
		case "Tgid":
			st.TGID, err = strconv.Atoi(val)
		case "PPid":
			st.PPID, err = strconv.Atoi(val)
		case "Kthread":
			st.Kthread, haveKthread = val == "1", true
		case "Cpus_allowed_list":
			st.Allowed, err = cpuset.Parse(val)
			haveAllowed = err == nil
		}
		if err != nil {
			return taskStatus{}, fmt.Errorf("status: %s: %w", key, err)
		}
	}
	if !haveName || !havePid || !haveAllowed {
		return taskStatus{}, errors.New("status: Name, Pid or Cpus_allowed_list missing")
	}
	if !haveKthread {
		// Kernels before 6.1 have no Kthread field: kernel threads are
		// kthreadd (pid 2) and its children.
		st.Kthread = st.TID == 2 || st.PPID == 2
	}
	if st.TGID == 0 {
		st.TGID = st.TID
	}
	return st, nil
}

// parseShellVars reads a shell-style KEY=value file such as
// /etc/default/irqbalance: comments, "export", and single or double quotes
// are understood; anything else that is not an assignment is ignored.
func parseShellVars(b []byte) map[string]string {
	out := make(map[string]string)
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') {
			if end := strings.IndexByte(val[1:], val[0]); end >= 0 {
				val = val[1 : end+1]
			}
		} else if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		out[key] = val
	}
	return out
}

// bracketed returns the selected word of a sysfs choice file such as
// "always [madvise] never".
func bracketed(s string) (string, bool) {
	i := strings.IndexByte(s, '[')
	j := strings.IndexByte(s, ']')
	if i < 0 || j < i+2 {
		return "", false
	}
	return s[i+1 : j], true
}
