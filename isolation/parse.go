package isolation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rxprobe/rxprobe/internal/cpuset"
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
	if len(b) > maxSmall {
		return nil, fmt.Errorf("%d bytes, more than %d", len(b), maxSmall)
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

// irqRow is one row of /proc/interrupts.
type irqRow struct {
	IRQ    string   // "24" or "LOC"
	Counts []uint64 // one per CPU column present on the row
	Desc   string   // everything after the counts: chip, hwirq, type, name
	Name   string   // the action name(s), e.g. "nvme0q1"
}

// interrupts is the parsed /proc/interrupts.
type interrupts struct {
	CPUs []int // the CPU of each count column
	Rows []irqRow
}

// maxInterruptsLine bounds one /proc/interrupts line (1024 CPUs × 11
// columns plus the description fit well).
const maxInterruptsLine = 256 << 10

// parseInterrupts reads /proc/interrupts: a header of CPU columns, then
// rows "IRQ: counts... description". A missing or malformed header and a
// row without "IRQ:" are errors.
func parseInterrupts(r io.Reader) (interrupts, error) {
	var out interrupts
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxInterruptsLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			fields := strings.Fields(text)
			if len(fields) == 0 {
				return interrupts{}, errors.New("interrupts: empty header")
			}
			for _, f := range fields {
				n, ok := strings.CutPrefix(f, "CPU")
				c, err := strconv.Atoi(n)
				if !ok || err != nil || c < 0 || c >= cpuset.MaxCPUs {
					return interrupts{}, fmt.Errorf("interrupts: header field %q is not CPUn", f)
				}
				out.CPUs = append(out.CPUs, c)
			}
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		irq, rest, ok := strings.Cut(text, ":")
		irq = strings.TrimSpace(irq)
		if !ok || irq == "" || strings.ContainsAny(irq, " \t") {
			return interrupts{}, fmt.Errorf("interrupts line %d: %q does not start with \"IRQ:\"", line, text)
		}
		row := irqRow{IRQ: irq}
		fields := strings.Fields(rest)
		i := 0
		for ; i < len(fields) && i < len(out.CPUs); i++ {
			v, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				break
			}
			row.Counts = append(row.Counts, v)
		}
		desc := fields[i:]
		row.Desc = strings.Join(desc, " ")
		row.Name = irqName(desc)
		out.Rows = append(out.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return interrupts{}, fmt.Errorf("interrupts line %d: %w", line+1, err)
	}
	if line == 0 {
		return interrupts{}, errors.New("interrupts: empty file")
	}
	return out, nil
}

// irqName picks the action names out of a row description such as
// "IR-PCI-MSIX-0000:3b:00.0 0-edge ice-0000:3b:00.0:misc": what follows
// the trigger type ("-edge", "-level", "Edge", "Level"), or the last field.
func irqName(desc []string) string {
	for i, f := range desc {
		l := strings.ToLower(f)
		if strings.HasSuffix(l, "edge") || strings.HasSuffix(l, "level") {
			if i+1 < len(desc) {
				return strings.Join(desc[i+1:], " ")
			}
			return ""
		}
	}
	if len(desc) == 0 {
		return ""
	}
	return desc[len(desc)-1]
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
	if len(b) > maxSmall {
		return st, fmt.Errorf("status: %d bytes, more than %d", len(b), maxSmall)
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
