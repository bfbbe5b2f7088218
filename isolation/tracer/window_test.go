package tracer

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/internal/cpuset"
)

// feedFile runs a fixture through the Recorder's line assembly in chunks
// of n bytes, as successive trace_pipe reads would deliver it.
func feedFile(t *testing.T, r *Recorder, w *Window, path string, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.rxPID = r.pid
	for len(data) > 0 {
		k := min(n, len(data), len(r.buf)-r.carry)
		copy(r.buf[r.carry:], data[:k])
		r.carry = r.feed(w, r.buf[:r.carry+k])
		data = data[k:]
	}
}

func fixtureRecorder(t *testing.T) *Recorder {
	r := newRecorder(cpuset.Of(1), 13397, map[int]string{13397: "munmap loop"})
	r.proc = t.TempDir() // no /proc lookups of the fixture's long-gone tids
	r.procs[13397] = "m"
	r.haveCSD = true
	return r
}

func TestWindowFromFixture(t *testing.T) {
	for _, chunk := range []int{1 << 16, 4096, 97, 1} {
		r := fixtureRecorder(t)
		var w Window
		feedFile(t, r, &w, "testdata/trace_pipe-munmap.txt", chunk)
		if w.Unparsable != 0 || w.Lines != 386 {
			t.Errorf("chunk %d: lines %d, unparsable %d; want 386, 0", chunk, w.Lines, w.Unparsable)
		}
		if got := w.Count(1, KindTLB, 13397); got != 101 {
			t.Errorf("chunk %d: TLB shootdowns to cpu 1 from tid 13397 = %d, want 101", chunk, got)
		}
	}

	r := fixtureRecorder(t)
	var w Window
	feedFile(t, r, &w, "testdata/trace_pipe-munmap.txt", 4096)
	wantFlushes := []Flush{
		{CPU: 1, Reason: "flush on task switch", Code: 0, Count: 3},
		{CPU: 1, Reason: "local MM shootdown", Code: 3, Count: 61},
		{CPU: 1, Reason: "remote shootdown", Code: 1, Count: 100},
		{CPU: 1, Reason: "remote IPI send", Code: 4, Count: 1},
	}
	if diff := cmp.Diff(wantFlushes, w.Flushes); diff != "" {
		t.Errorf("Flushes mismatch (-want +got):\n%s", diff)
	}
	got := w.Summary(1, 1)
	want := []string{
		"cpu 1: 101 TLB shootdowns in 1.0 s, sent by tid 13397 (m, munmap loop) from on_each_cpu_cond_mask (callback flush_tlb_func)",
		"cpu 1: 101 IPIs in 1.0 s, sent by tid 13397 (m, munmap loop) from on_each_cpu_cond_mask (callback flush_tlb_func)",
	}
	if diff := cmp.Diff(want, got[:2]); diff != "" {
		t.Errorf("Summary mismatch (-want +got):\n%s", diff)
	}
	for _, s := range got {
		t.Log(s)
	}
}

func TestWindowBroken(t *testing.T) {
	r := fixtureRecorder(t)
	var w Window
	feedFile(t, r, &w, "testdata/broken.txt", 50)
	want := Window{Lines: 13, Unparsable: 9, Lost: 42, LostUnknown: 1}
	gotCounts := Window{Lines: w.Lines, Unparsable: w.Unparsable, Lost: w.Lost, LostUnknown: w.LostUnknown}
	if diff := cmp.Diff(want, gotCounts, cmp.AllowUnexported(Window{})); diff != "" {
		t.Errorf("counts mismatch (-want +got):\n%s", diff)
	}
	wantRecs := []Record{{
		CPU: 1, Kind: KindIPIMask, TID: 13079, Comm: "bash",
		Callsite: "on_each_cpu_cond_mask", Callback: "flush_tlb_func", Count: 1,
	}}
	if diff := cmp.Diff(wantRecs, w.Records); diff != "" {
		t.Errorf("records mismatch (-want +got):\n%s", diff)
	}
	w.Reset()
	if len(w.Records) != 0 || w.Lines != 0 || w.Lost != 0 {
		t.Errorf("Reset left %+v", w)
	}
}

func TestCollectSteadyStateAllocs(t *testing.T) {
	r := fixtureRecorder(t)
	var w Window
	data, err := os.ReadFile("testdata/trace_pipe-munmap.txt")
	if err != nil {
		t.Fatal(err)
	}
	feedFile(t, r, &w, "testdata/trace_pipe-munmap.txt", 4096) // warm up
	n := testing.AllocsPerRun(20, func() {
		w.Reset()
		for rest := data; len(rest) > 0; {
			k := min(4096, len(rest))
			copy(r.buf[r.carry:], rest[:k])
			r.carry = r.feed(&w, r.buf[:r.carry+k])
			rest = rest[k:]
		}
	})
	if n != 0 {
		t.Errorf("aggregating a known window allocates %v times, want 0", n)
	}
}
