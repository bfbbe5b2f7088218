package tracer

import (
	"bytes"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// evKind is the kind of one parsed trace line.
type evKind uint8

const (
	evOther    evKind = iota // a well-formed line of an event we do not count
	evIPICPU                 // ipi:ipi_send_cpu
	evIPIMask                // ipi:ipi_send_cpumask
	evCSD                    // csd:csd_queue_cpu
	evTLBFlush               // tlb:tlb_flush
	evLost                   // "CPU:1 [LOST 12 EVENTS]" marker of trace_pipe
)

// event is one parsed line of the instance's trace_pipe. Its byte slices
// point into the line; they are valid until the line's buffer is reused.
type event struct {
	kind evKind
	comm []byte // task comm as the kernel cached it; "<...>" when unknown
	tid  int    // common_pid: the thread that was running when recorded
	tgid int    // from the record-tgid column; -1 when unknown
	cpu  int    // CPU that recorded the event (the bracketed column)
	name []byte // event name, e.g. "ipi_send_cpu"

	target   int        // cpu= of ipi_send_cpu and csd_queue_cpu; -1 otherwise
	mask     cpuset.Set // cpumask= of ipi_send_cpumask
	callsite []byte     // symbol without its +off/size; "" for a NULL pointer
	callback []byte     // callback= or func=, same form

	pages      int64  // tlb_flush pages (-1 means a full flush)
	reason     []byte // tlb_flush reason text, e.g. "remote shootdown"
	reasonCode int    // tlb_flush reason number

	lost int64 // evLost: number of lost events; -1 when the kernel did not say
}

// parseLine parses one line of trace_pipe text (without its newline) in
// the default output format with the record-tgid option on or off:
//
//	m-13397   (  13397) [000] ...2.  2576.154485: csd_queue_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 func=flush_tlb_func csd=000000000cb5abc9
//
// It reports false for a line it cannot read; it never panics and never
// allocates.
func parseLine(b []byte, ev *event) bool {
	*ev = event{tgid: -1, target: -1, pages: 0}
	b = trimSpace(b)
	if len(b) == 0 {
		return false
	}
	if bytes.HasPrefix(b, []byte("CPU:")) {
		return parseLost(b, ev)
	}
	// The task column is "comm-pid", optionally followed by "(tgid)". The
	// comm may hold spaces, dashes and brackets, so look for the first
	// " [digits] " after which everything to the left reads as a task.
	rest := []byte(nil)
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(" ["))
		if j < 0 {
			return false
		}
		j += i
		k := j + 2
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			k++
		}
		if k > j+2 && k < len(b) && b[k] == ']' && parseTask(b[:j], ev) {
			cpu, ok := atoi(b[j+2 : k])
			if !ok {
				return false
			}
			ev.cpu = cpu
			rest = b[k+1:]
			break
		}
		i = j + 1
	}
	// Then: [flags] timestamp: event: payload
	tok, rest := nextToken(rest)
	if len(tok) == 0 {
		return false
	}
	if tok[len(tok)-1] != ':' { // the irq-info flags column
		tok, rest = nextToken(rest)
	}
	if len(tok) < 2 || tok[len(tok)-1] != ':' || !isTimestamp(tok[:len(tok)-1]) {
		return false
	}
	tok, rest = nextToken(rest)
	if len(tok) < 2 || tok[len(tok)-1] != ':' {
		return false
	}
	ev.name = tok[:len(tok)-1]
	payload := trimSpace(rest)
	switch string(ev.name) {
	case "ipi_send_cpu":
		ev.kind = evIPICPU
		return parseCall(payload, ev, "cpu", "callback")
	case "csd_queue_cpu":
		ev.kind = evCSD
		return parseCall(payload, ev, "cpu", "func")
	case "ipi_send_cpumask":
		ev.kind = evIPIMask
		return parseCall(payload, ev, "cpumask", "callback")
	case "tlb_flush":
		ev.kind = evTLBFlush
		return parseFlush(payload, ev)
	}
	ev.kind = evOther
	return true
}

// parseTask reads "comm-pid" or "comm-pid (tgid)"; tgid may be "-------".
func parseTask(b []byte, ev *event) bool {
	b = trimSpace(b)
	if n := len(b); n > 0 && b[n-1] == ')' {
		lp := bytes.LastIndexByte(b, '(')
		if lp < 0 {
			return false
		}
		tg := trimSpace(b[lp+1 : n-1])
		if len(tg) > 0 && allByte(tg, '-') {
			ev.tgid = -1
		} else {
			v, ok := atoi(tg)
			if !ok {
				return false
			}
			ev.tgid = v
		}
		b = trimSpace(b[:lp])
	}
	dash := bytes.LastIndexByte(b, '-')
	if dash <= 0 {
		return false
	}
	pid, ok := atoi(b[dash+1:])
	if !ok {
		return false
	}
	ev.tid = pid
	ev.comm = b[:dash]
	return true
}

// parseCall reads "cpu=1 callsite=S callback=S" (ipi_send_cpu),
// "cpu=1 callsite=S func=S csd=P" (csd_queue_cpu) or
// "cpumask=2 callsite=S callback=S" (ipi_send_cpumask).
func parseCall(b []byte, ev *event, targetKey, fnKey string) bool {
	var haveTarget, haveSite, haveFn bool
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		eq := bytes.IndexByte(tok, '=')
		if eq <= 0 {
			continue // e.g. a " [module]" suffix of a symbol
		}
		key, val := tok[:eq], tok[eq+1:]
		switch string(key) {
		case targetKey:
			if targetKey == "cpumask" {
				m, ok := parseHexMask(val)
				if !ok {
					return false
				}
				ev.mask = m
			} else {
				v, ok := atoi(val)
				if !ok {
					return false
				}
				ev.target = v
			}
			haveTarget = true
		case "callsite":
			ev.callsite = symbol(val)
			haveSite = true
		case fnKey:
			ev.callback = symbol(val)
			haveFn = true
		}
	}
	return haveTarget && haveSite && haveFn
}

// parseFlush reads "pages:1 reason:remote shootdown (1)".
func parseFlush(b []byte, ev *event) bool {
	tok, rest := nextToken(b)
	if !bytes.HasPrefix(tok, []byte("pages:")) {
		return false
	}
	p := tok[len("pages:"):]
	neg := len(p) > 0 && p[0] == '-'
	if neg {
		p = p[1:]
	}
	v, ok := atoi(p)
	if !ok {
		return false
	}
	ev.pages = int64(v)
	if neg {
		ev.pages = -ev.pages
	}
	rest = trimSpace(rest)
	if !bytes.HasPrefix(rest, []byte("reason:")) {
		return false
	}
	rest = rest[len("reason:"):]
	n := len(rest)
	lp := bytes.LastIndex(rest, []byte(" ("))
	if n == 0 || rest[n-1] != ')' || lp < 0 {
		return false
	}
	code, ok := atoi(rest[lp+2 : n-1])
	if !ok {
		return false
	}
	ev.reasonCode = code
	ev.reason = trimSpace(rest[:lp])
	return len(ev.reason) > 0
}

// parseLost reads "CPU:1 [LOST 12 EVENTS]" and "CPU:1 [LOST EVENTS]".
func parseLost(b []byte, ev *event) bool {
	i := bytes.Index(b, []byte(" [LOST"))
	if i < 0 || !bytes.HasSuffix(b, []byte("EVENTS]")) {
		return false
	}
	cpu, ok := atoi(b[len("CPU:"):i])
	if !ok {
		return false
	}
	ev.kind = evLost
	ev.cpu = cpu
	ev.lost = -1
	mid := trimSpace(b[i+len(" [LOST") : len(b)-len("EVENTS]")])
	if len(mid) > 0 {
		v, ok := atoi(mid)
		if !ok {
			return false
		}
		ev.lost = int64(v)
	}
	return true
}

// symbol turns a %pS/%ps rendering into a bare symbol name:
// "on_each_cpu_cond_mask+0x20/0x60" → "on_each_cpu_cond_mask". A NULL
// pointer ("0x0" or "0") becomes empty; an unresolved address stays as
// printed.
func symbol(b []byte) []byte {
	if i := bytes.IndexByte(b, '+'); i >= 0 {
		b = b[:i]
	}
	if string(b) == "0x0" || string(b) == "0" || string(b) == "(null)" {
		return b[:0]
	}
	return b
}

// parseHexMask reads a kernel "%*pb" bitmap such as "2" or
// "00000000,00000006" without allocating.
func parseHexMask(b []byte) (cpuset.Set, bool) {
	var s cpuset.Set
	group, digits := 0, 0 // group 0 is the least significant 32 bits
	for i := len(b) - 1; i >= 0; i-- {
		c := b[i]
		if c == ',' {
			if digits == 0 {
				return cpuset.Set{}, false
			}
			group, digits = group+1, 0
			continue
		}
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'a' && c <= 'f':
			v = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v = int(c-'A') + 10
		default:
			return cpuset.Set{}, false
		}
		if digits == 8 {
			return cpuset.Set{}, false
		}
		base := group*32 + digits*4
		digits++
		for k := 0; k < 4; k++ {
			if v&(1<<k) == 0 {
				continue
			}
			if base+k >= cpuset.MaxCPUs {
				return cpuset.Set{}, false
			}
			s.Add(base + k)
		}
	}
	if digits == 0 {
		return cpuset.Set{}, false
	}
	return s, true
}

func nextToken(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return b[i:j], b[j:]
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func allByte(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}

// atoi parses a non-negative decimal that fits in 31 bits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 1<<31-1 {
		return 0, false
	}
	return n, true
}

func isTimestamp(b []byte) bool {
	dot := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return len(b) > 0
}
