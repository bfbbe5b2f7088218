package tracer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// flat is event with strings, for readable diffs.
type flat struct {
	Kind       evKind
	Comm       string
	TID, TGID  int
	CPU        int
	Name       string
	Target     int
	Mask       []int
	Callsite   string
	Callback   string
	Pages      int64
	Reason     string
	ReasonCode int
	Lost       int64
}

func flatten(e *event) flat {
	return flat{
		Kind: e.kind, Comm: string(e.comm), TID: e.tid, TGID: e.tgid, CPU: e.cpu,
		Name: string(e.name), Target: e.target, Mask: e.mask.List(),
		Callsite: string(e.callsite), Callback: string(e.callback),
		Pages: e.pages, Reason: string(e.reason), ReasonCode: e.reasonCode, Lost: e.lost,
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want *flat // nil: unparsable
	}{
		{
			name: "csd_queue_cpu TLB flush",
			line: `               m-13397   (  13397) [000] ...2.  2576.154485: csd_queue_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 func=flush_tlb_func csd=000000000cb5abc9`,
			want: &flat{Kind: evCSD, Comm: "m", TID: 13397, TGID: 13397, CPU: 0, Name: "csd_queue_cpu", Target: 1,
				Callsite: "on_each_cpu_cond_mask", Callback: "flush_tlb_func"},
		},
		{
			name: "ipi_send_cpu function call",
			line: `               m-13397   (  13397) [000] ...2.  2576.154487: ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10`,
			want: &flat{Kind: evIPICPU, Comm: "m", TID: 13397, TGID: 13397, Name: "ipi_send_cpu", Target: 1,
				Callsite: "on_each_cpu_cond_mask", Callback: "generic_smp_call_function_single_interrupt"},
		},
		{
			name: "ipi_send_cpu reschedule, NULL callback",
			line: `            bash-13388   (  13388) [000] d..2.  2576.052948: ipi_send_cpu: cpu=1 callsite=wakeup_preempt+0x55/0xa0 callback=0x0`,
			want: &flat{Kind: evIPICPU, Comm: "bash", TID: 13388, TGID: 13388, Name: "ipi_send_cpu", Target: 1,
				Callsite: "wakeup_preempt"},
		},
		{
			name: "comm with slash and dash",
			line: `     migration/0-18      (     18) [000] d..4.  2576.054196: csd_queue_cpu: cpu=1 callsite=ttwu_queue_wakelist+0x11d/0x150 func=sched_ttwu_pending csd=00000000f08458a9`,
			want: &flat{Kind: evCSD, Comm: "migration/0", TID: 18, TGID: 18, Name: "csd_queue_cpu", Target: 1,
				Callsite: "ttwu_queue_wakelist", Callback: "sched_ttwu_pending"},
		},
		{
			name: "idle task, unknown tgid",
			line: `          <idle>-0       (-------) [001] d.h1.  2576.052914: tlb_flush: pages:0 reason:flush on task switch (0)`,
			want: &flat{Kind: evTLBFlush, Comm: "<idle>", TID: 0, TGID: -1, CPU: 1, Name: "tlb_flush", Target: -1,
				Reason: "flush on task switch"},
		},
		{
			name: "tlb_flush remote shootdown",
			line: `               m-13398   (  13397) [001] d.h..  2576.154493: tlb_flush: pages:1 reason:remote shootdown (1)`,
			want: &flat{Kind: evTLBFlush, Comm: "m", TID: 13398, TGID: 13397, CPU: 1, Name: "tlb_flush", Target: -1,
				Pages: 1, Reason: "remote shootdown", ReasonCode: 1},
		},
		{
			name: "tlb_flush full flush",
			line: `               m-13397   (  13397) [001] d..1.  2576.053216: tlb_flush: pages:-1 reason:flush on task switch (0)`,
			want: &flat{Kind: evTLBFlush, Comm: "m", TID: 13397, TGID: 13397, CPU: 1, Name: "tlb_flush", Target: -1,
				Pages: -1, Reason: "flush on task switch"},
		},
		{
			name: "without record-tgid",
			line: `            bash-13079   [000] ...1.  2537.084919: ipi_send_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=generic_smp_call_function_single_interrupt+0x0/0x10`,
			want: &flat{Kind: evIPICPU, Comm: "bash", TID: 13079, TGID: -1, Name: "ipi_send_cpu", Target: 1,
				Callsite: "on_each_cpu_cond_mask", Callback: "generic_smp_call_function_single_interrupt"},
		},
		{
			name: "comm with space and bracket",
			line: `  a [1] b-c-77   (     70) [003] ...1.  10.000001: ipi_send_cpu: cpu=2 callsite=resched_curr+0x1/0x2 callback=0x0`,
			want: &flat{Kind: evIPICPU, Comm: "a [1] b-c", TID: 77, TGID: 70, CPU: 3, Name: "ipi_send_cpu", Target: 2,
				Callsite: "resched_curr"},
		},
		{
			name: "cpumask, hand-written",
			line: `            bash-13079   [000] ...1.  2537.084919: ipi_send_cpumask: cpumask=1,00000006 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=flush_tlb_func+0x0/0x1f0`,
			want: &flat{Kind: evIPIMask, Comm: "bash", TID: 13079, TGID: -1, Name: "ipi_send_cpumask", Target: -1,
				Mask: []int{1, 2, 32}, Callsite: "on_each_cpu_cond_mask", Callback: "flush_tlb_func"},
		},
		{
			name: "other event",
			line: `            bash-13079   [000] ...1.  2537.084919: sched_switch: whatever`,
			want: &flat{Kind: evOther, Comm: "bash", TID: 13079, TGID: -1, Name: "sched_switch", Target: -1},
		},
		{
			name: "lost",
			line: `CPU:1 [LOST 42 EVENTS]`,
			want: &flat{Kind: evLost, CPU: 1, Target: -1, TGID: -1, Lost: 42},
		},
		{
			name: "lost, unknown count",
			line: `CPU:0 [LOST EVENTS]`,
			want: &flat{Kind: evLost, Target: -1, TGID: -1, Lost: -1},
		},
		{name: "empty", line: ``},
		{name: "truncated function", line: `               m-13397   (  13397) [000] ...2.  2576.154485: csd_queue_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60`},
		{name: "bad target", line: `               m-13397   (  13397) [000] ...2.  2576.154487: ipi_send_cpu: cpu=x callsite=a callback=b`},
		{name: "truncated reason", line: `               m-13398   (  13397) [001] d.h..  2576.154493: tlb_flush: pages:1 reason:remote shootdown (1`},
		{name: "truncated event name", line: `               m-13398   (  13397) [001] d.h..  2576.154493: tlb_flu`},
		{name: "truncated cpu", line: `               m-13398   (  13397) [00`},
		{name: "truncated tgid", line: `               m-13398   (  13`},
		{name: "bad mask", line: `            bash-13079   [000] ...1.  2537.084919: ipi_send_cpumask: cpumask=zz callsite=a callback=b`},
		{name: "mask beyond MaxCPUs", line: `            bash-13079   [000] ...1.  2537.084919: ipi_send_cpumask: cpumask=1` + repeat(",00000000", 32) + ` callsite=a callback=b`},
		{name: "no timestamp", line: `            bash-13079   [000] ...1.  ipi_send_cpu: cpu=1 callsite=a callback=b`},
		{name: "garbage", line: "  0\x00\x00garbage ] : :"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event
			ok := parseLine([]byte(tt.line), &ev)
			if tt.want == nil {
				if ok {
					t.Fatalf("parseLine accepted %q: %+v", tt.line, flatten(&ev))
				}
				return
			}
			if !ok {
				t.Fatalf("parseLine rejected %q", tt.line)
			}
			if diff := cmp.Diff(*tt.want, flatten(&ev)); diff != "" {
				t.Errorf("parseLine mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestParseLineAllocs(t *testing.T) {
	line := []byte(`               m-13397   (  13397) [000] ...2.  2576.154485: csd_queue_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 func=flush_tlb_func csd=000000000cb5abc9`)
	var ev event
	if n := testing.AllocsPerRun(100, func() { parseLine(line, &ev) }); n != 0 {
		t.Errorf("parseLine allocates %v times per line, want 0", n)
	}
}

// FuzzParseLine checks that no input makes parseLine panic, and that
// what it accepts is self-consistent.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`               m-13397   (  13397) [000] ...2.  2576.154485: csd_queue_cpu: cpu=1 callsite=on_each_cpu_cond_mask+0x20/0x60 func=flush_tlb_func csd=000000000cb5abc9`,
		`          <idle>-0       (-------) [001] d.h1.  2576.052914: tlb_flush: pages:0 reason:flush on task switch (0)`,
		`            bash-13079   [000] ...1.  2537.084919: ipi_send_cpumask: cpumask=1,00000006 callsite=on_each_cpu_cond_mask+0x20/0x60 callback=flush_tlb_func+0x0/0x1f0`,
		`CPU:1 [LOST 42 EVENTS]`,
		``, ` [`, `a-1 [0] x: e: cpu=`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev event
		if !parseLine(b, &ev) {
			return
		}
		if ev.tid < 0 || ev.cpu < 0 {
			t.Fatalf("negative tid/cpu from %q: %+v", b, flatten(&ev))
		}
		if ev.kind == evIPICPU && ev.target < 0 {
			t.Fatalf("ipi_send_cpu without target from %q", b)
		}
	})
}
