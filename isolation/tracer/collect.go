package tracer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxCollectBytes bounds one Collect, so a flood of events cannot keep the
// housekeeping thread reading forever; what is left is read next time.
const maxCollectBytes = 32 << 20

// senderInfo is what we know about a sending tid, resolved once.
type senderInfo struct {
	comm    string // the comm it was resolved for; a new comm re-resolves
	pid     int
	process string
	thread  string
}

// csdNote remembers the last csd_queue_cpu recorded on one CPU, to name the
// function behind the single-CPU IPI that usually follows it.
type csdNote struct {
	valid    bool
	tid      int
	target   int
	callsite string
	fn       string
}

// genericSingle is the callback ipi_send_cpu reports for a function-call
// IPI to one CPU; the real function is in the preceding csd_queue_cpu.
const genericSingle = "generic_smp_call_function_single_interrupt"

// Collect reads everything recorded since the last Collect from the
// instance's trace_pipe (non-blocking, consuming) and adds it to w; it does
// not Reset w. It returns when the pipe is empty (EAGAIN), so it never
// sleeps in the kernel. Unreadable lines are counted in w.Unparsable.
//
// After warm-up, Collect does not allocate except when it meets a sender,
// symbol or aggregation key for the first time.
func (r *Recorder) Collect(w *Window) error {
	if r.closed || r.pipe < 0 {
		return errors.New("tracer: collect: recorder is closed")
	}
	w.rxPID = r.pid
	total := 0
	for total < maxCollectBytes {
		n, err := unix.Read(r.pipe, r.buf[r.carry:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			return fmt.Errorf("tracer: collect: read %s/trace_pipe: %w", r.dir, err)
		}
		if n == 0 {
			break
		}
		total += n
		r.carry = r.feed(w, r.buf[:r.carry+n])
	}
	return nil
}

// feed consumes the complete lines of data, moves an incomplete last line
// to the front of r.buf and returns its length.
func (r *Recorder) feed(w *Window, data []byte) int {
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		r.line(w, data[:i])
		data = data[i+1:]
	}
	if len(data) == len(r.buf) { // one line filling the buffer: drop it
		w.Lines++
		w.Unparsable++
		return 0
	}
	return copy(r.buf, data)
}

// line parses and aggregates one line.
func (r *Recorder) line(w *Window, b []byte) {
	if len(trimSpace(b)) == 0 {
		return
	}
	w.Lines++
	if r.tap != nil {
		r.tap(b)
	}
	ev := &r.ev
	if !parseLine(b, ev) {
		w.Unparsable++
		return
	}
	switch ev.kind {
	case evLost:
		if ev.lost < 0 {
			w.LostUnknown++
		} else {
			w.Lost += ev.lost
		}
	case evCSD:
		if !r.cpus.Has(ev.target) {
			return
		}
		fn := r.intern(ev.callback)
		site := r.intern(ev.callsite)
		r.note(ev.cpu, csdNote{valid: true, tid: ev.tid, target: ev.target, callsite: site, fn: fn})
		kind := KindCall
		if isTLBFlush(fn) {
			kind = KindTLB
		}
		w.addRecord(r.key(ev, ev.target, kind, site, fn))
	case evIPICPU:
		if !r.cpus.Has(ev.target) {
			return
		}
		site := r.intern(ev.callsite)
		fn := r.intern(ev.callback)
		if fn == genericSingle && ev.cpu < len(r.last) {
			if n := r.last[ev.cpu]; n.valid && n.tid == ev.tid && n.target == ev.target {
				fn = n.fn
				r.last[ev.cpu].valid = false
			}
		}
		w.addRecord(r.key(ev, ev.target, KindIPICPU, site, fn))
		if !r.haveCSD && isTLBFlush(fn) {
			w.addRecord(r.key(ev, ev.target, KindTLB, site, fn))
		}
	case evIPIMask:
		hit := ev.mask.Intersect(r.cpus)
		if hit.IsEmpty() {
			return
		}
		site := r.intern(ev.callsite)
		fn := r.intern(ev.callback)
		// List allocates; masks reaching RX CPUs are rare.
		for _, c := range hit.List() {
			w.addRecord(r.key(ev, c, KindIPIMask, site, fn))
			if !r.haveCSD && isTLBFlush(fn) {
				w.addRecord(r.key(ev, c, KindTLB, site, fn))
			}
		}
	case evTLBFlush:
		if !r.cpus.Has(ev.cpu) {
			return
		}
		w.addFlush(ev.cpu, r.intern(ev.reason), ev.reasonCode)
	}
}

func (r *Recorder) note(cpu int, n csdNote) {
	if cpu < 0 || cpu >= 1<<16 {
		return
	}
	for len(r.last) <= cpu {
		r.last = append(r.last, csdNote{})
	}
	r.last[cpu] = n
}

// isTLBFlush reports whether a cross-CPU function flushes TLBs:
// flush_tlb_func (x86 since 5.x), flush_tlb_func_remote (older x86),
// do_flush_tlb_all, do_kernel_range_flush and arch variants.
func isTLBFlush(fn string) bool {
	return strings.Contains(fn, "flush_tlb") || strings.Contains(fn, "tlb_flush") ||
		fn == "do_kernel_range_flush"
}

func (r *Recorder) key(ev *event, cpu int, kind Kind, site, fn string) recordKey {
	s := r.resolve(ev)
	return recordKey{
		cpu: cpu, kind: kind, tid: ev.tid, pid: s.pid,
		comm: s.comm, process: s.process, thread: s.thread,
		callsite: site, callback: fn,
	}
}

// intern returns b as a string, allocating only the first time it is seen.
func (r *Recorder) intern(b []byte) string {
	if s, ok := r.strs[string(b)]; ok {
		return s
	}
	if len(r.strs) > 1<<16 { // bound memory against garbage input
		clear(r.strs)
	}
	s := string(b)
	r.strs[s] = s
	return s
}

// resolve names the sender of ev, from cache when its tid was seen with
// the same comm before.
func (r *Recorder) resolve(ev *event) senderInfo {
	if s, ok := r.sender[ev.tid]; ok && s.comm == string(ev.comm) && (ev.tgid < 0 || ev.tgid == s.pid) {
		return s
	}
	s := senderInfo{comm: r.intern(ev.comm), pid: ev.tgid}
	if ev.tid == 0 {
		s.pid = 0
	} else {
		if s.pid < 0 {
			s.pid = r.tgidOf(ev.tid)
		}
		if s.pid > 0 {
			s.process = r.processName(s.pid)
		}
		if n, ok := r.names[ev.tid]; ok {
			s.thread = n
		} else if s.pid == r.pid {
			s.thread = r.readComm(strconv.Itoa(r.pid) + "/task/" + strconv.Itoa(ev.tid))
			if s.thread == "" {
				s.thread = s.comm
			}
		}
	}
	if s.pid < 0 {
		s.pid = 0
	}
	if len(r.sender) > 1<<14 {
		clear(r.sender)
	}
	r.sender[ev.tid] = s
	return s
}

func (r *Recorder) processName(pid int) string {
	if n, ok := r.procs[pid]; ok {
		return n
	}
	n := r.readComm(strconv.Itoa(pid))
	if len(r.procs) > 1<<14 {
		clear(r.procs)
	}
	r.procs[pid] = n
	return n
}

func (r *Recorder) readComm(rel string) string {
	b, err := os.ReadFile(r.proc + "/" + rel + "/comm")
	if err != nil {
		return ""
	}
	return r.intern(bytes.TrimSpace(b))
}

// tgidOf reads Tgid from /proc/<tid>/status; -1 if the thread is gone.
func (r *Recorder) tgidOf(tid int) int {
	b, err := os.ReadFile(r.proc + "/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return -1
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("Tgid:")); ok {
			if n, ok := atoi(trimSpace(v)); ok {
				return n
			}
		}
	}
	return -1
}
