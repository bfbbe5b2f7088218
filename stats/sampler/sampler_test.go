package sampler

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/isolation/guard"
	"github.com/rxprobe/rxprobe/rx/capture"
	"github.com/rxprobe/rxprobe/rx/counters"
	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// fakeEngine is an Engine whose counters the test sets.
type fakeEngine struct {
	shape counters.Shape
	now   counters.Reading // what the next Read returns
	t     time.Time
	fired [5]int     // CaptureTrigger calls by reason
	mu    sync.Mutex // for tests that set counters while the stats thread runs
}

func (f *fakeEngine) CaptureTrigger(reason uint8) { f.fired[reason]++ }

func (f *fakeEngine) Shape() *counters.Shape        { return &f.shape }
func (f *fakeEngine) NewReading() *counters.Reading { return counters.NewReading(&f.shape) }
func (f *fakeEngine) Read(r *counters.Reading) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(time.Second)
	f.now.At = f.t
	r.CopyFrom(&f.now)
}

// mlx5Names are xstat names as DPDK 22.11's mlx5 lists them (a subset of
// stats/dropclass/testdata/mlx5_pci.txt).
var mlx5Names = []string{"rx_good_packets", "rx_missed_errors", "rx_errors", "rx_mbuf_allocation_errors",
	"rx_q0_packets", "rx_q0_errors", "rx_phy_crc_errors", "rx_phy_discard_packets", "rx_prio0_buf_discard_packets", "rx_out_of_buffer"}

// newFake is two ports: a ConnectX-5 (PCI, its netdev and RDMA counters
// in the fixture's sysfs) with one queue on CPU 1, and a port of a driver
// the drop table does not know.
func newFake() *fakeEngine {
	f := &fakeEngine{t: time.Unix(1_700_000_000, 0), shape: counters.Shape{TSCHz: 1_000_000_000,
		Ports: []counters.Port{
			{Name: "cx5", Device: "0000:3b:00.0", Driver: "mlx5_pci", XStatNames: mlx5Names, RXRing: 1024},
			{Name: "other", Device: "net_bnxt0", Driver: "net_bnxt", XStatNames: []string{"rx_good_packets", "rx_discards"}, RXRing: 1024},
		},
		Queues: []counters.Queue{{Port: 0, ID: 0, CPU: 1}, {Port: 1, ID: 0, CPU: 1}}}}
	f.now = *counters.NewReading(&f.shape)
	return f
}

// hostRoot copies testdata/host (proc files from a real machine) and adds
// the ConnectX-5's sysfs counters.
func hostRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	err := filepath.WalkDir("testdata/host", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/host", path)
		writeFile(t, root, rel, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dev := "sys/bus/pci/devices/0000:3b:00.0"
	writeFile(t, root, dev+"/infiniband/mlx5_0/ports/1/hw_counters/out_of_buffer", "0\n")
	writeFile(t, root, dev+"/net/ens1f0/.keep", "")
	writeFile(t, root, "sys/class/net/ens1f0/statistics/rx_dropped", "0\n")
	return root
}

func writeFile(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// published reads the segment back.
type published struct {
	t   *testing.T
	r   *shm.Reader
	buf []byte
	sc  *snapshot.Schema
	off int
}

func openPublished(t *testing.T, dir, prefix string) *published {
	r, err := shm.Open(dir, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &published{t: t, r: r, buf: make([]byte, r.PayloadSize())}
}

func (p *published) read() {
	p.t.Helper()
	if _, err := p.r.Read(p.buf); err != nil {
		p.t.Fatal(err)
	}
	sc, off, err := snapshot.Decode(p.buf)
	if err != nil {
		p.t.Fatal(err)
	}
	p.sc, p.off = sc, off
}

// value is the series of metric with every given label, or -1 if absent.
func (p *published) index(metric string, labels ...string) int {
	for _, se := range p.sc.Series {
		if se.Metric != metric {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && slices.Contains(se.Labels, snapshot.L(labels[i], labels[i+1]))
		}
		if ok {
			return se.Index
		}
	}
	return -1
}

func (p *published) value(metric string, labels ...string) uint64 {
	p.t.Helper()
	i := p.index(metric, labels...)
	if i < 0 {
		p.t.Fatalf("no series %s %v", metric, labels)
	}
	return snapshot.ValueAt(p.buf, p.off, i)
}

// The published metric names: deploy/check.sh, the alert rules and the
// dashboard depend on them.
var wantMetrics = []string{
	"rxprobe_cpu_interrupts_total", "rxprobe_drops_total", "rxprobe_guard_violations_total",
	"rxprobe_loop_busy_seconds_total", "rxprobe_loop_empty_polls_total", "rxprobe_loop_max_gap_seconds",
	"rxprobe_loop_polls_total", "rxprobe_netdev_rx_dropped_total", "rxprobe_port_rx_packets_total",
	"rxprobe_rx_bytes_total", "rxprobe_rx_discards_phy_total", "rxprobe_rx_errors_total",
	"rxprobe_rx_missed_total", "rxprobe_rx_nombuf_total", "rxprobe_rx_out_of_buffer_total",
	"rxprobe_rx_packets_total", "rxprobe_softnet_dropped_total", "rxprobe_softnet_time_squeeze_total",
	"rxprobe_stats_sample_seconds", "rxprobe_stats_samples_total", "rxprobe_sysfs_counter_total",
	"rxprobe_udp_in_errors_total", "rxprobe_udp_rcvbuf_errors_total", "rxprobe_xstat_total",
}

func TestSchemaNamesHelpAndTheMlx5DropCounters(t *testing.T) {
	f, dir := newFake(), t.TempDir()
	s, err := New(f, Options{HostRoot: hostRoot(t), Interval: 100 * time.Millisecond, ShmDir: dir, Prefix: "fk",
		StatusFD: -1, EventFD: -1, Guard: &GuardOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := openPublished(t, dir, "fk")
	p.read()
	var got []string
	for _, se := range p.sc.Series {
		if !slices.Contains(got, se.Metric) {
			got = append(got, se.Metric)
		}
		if se.Help == "" || strings.HasPrefix(se.Help, "rxprobe snapshot metric") {
			t.Errorf("%s has no help", se.Metric)
		}
	}
	for _, h := range p.sc.Histograms {
		if h.Metric != "rxprobe_loop_gap_seconds" || h.Help == "" {
			t.Errorf("histogram %s help %q", h.Metric, h.Help)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, wantMetrics) {
		t.Errorf("metrics\n got %v\nwant %v", got, wantMetrics)
	}
	// The ConnectX-5's port buffer counter is found by its DPDK name; the
	// other driver has no such metric, only its xstats.
	if p.index("rxprobe_rx_discards_phy_total", "port", "cx5") < 0 || p.index("rxprobe_rx_out_of_buffer_total", "port", "cx5") < 0 {
		t.Error("cx5 lacks rxprobe_rx_discards_phy_total or rxprobe_rx_out_of_buffer_total")
	}
	if p.index("rxprobe_rx_discards_phy_total", "port", "other") >= 0 {
		t.Error("a driver outside the table got rxprobe_rx_discards_phy_total")
	}
	if p.index("rxprobe_xstat_total", "port", "other", "name", "rx_discards") < 0 {
		t.Error("the unknown driver's xstats are not exported")
	}
	for _, layer := range []string{"port_buffer", "host_too_slow", "mempool_empty", "capture_ring", "kernel_path", "errors"} {
		if p.index("rxprobe_drops_total", "port", "cx5", "layer", layer) < 0 {
			t.Errorf("no drops_total layer %s", layer)
		}
	}
}

func TestLedgerClassifiesAndSamplingDoesNotAllocate(t *testing.T) {
	f, dir, root := newFake(), t.TempDir(), hostRoot(t)
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	defer wr.Close()
	s, err := New(f, Options{HostRoot: root, Interval: time.Second, ShmDir: dir, Prefix: "fk",
		StatusFD: -1, EventFD: int(wr.Fd()), Guard: &GuardOptions{GapNs: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Sample(); err != nil { // the guard's starting point
		t.Fatal(err)
	}
	x := f.now.Ports[0].XStats
	at := func(name string) int { return slices.Index(mlx5Names, name) }
	f.now.Ports[0].Stats = counters.PortStats{IPackets: 1000, IMissed: 40, IErrors: 2, RXNoMbuf: 3}
	x[at("rx_phy_discard_packets")] = 500
	x[at("rx_prio0_buf_discard_packets")] = 300 // part of the 500
	x[at("rx_out_of_buffer")] = 45              // imissed's drops, read later
	x[at("rx_phy_crc_errors")] = 7
	writeFile(t, root, "sys/bus/pci/devices/0000:3b:00.0/infiniband/mlx5_0/ports/1/hw_counters/out_of_buffer", "50\n")
	writeFile(t, root, "sys/class/net/ens1f0/statistics/rx_dropped", "6\n")
	f.now.Ports[1].Stats = counters.PortStats{IMissed: 11}
	f.now.Ports[1].XStats[1] = 99 // rx_discards: unknown meaning, not classified
	f.now.Queues[0].GapHist[counters.GapBuckets-1] = 1
	bumpTLB(t, root, 5) // five TLB shootdowns on the RX CPU during the second
	if err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	p := openPublished(t, dir, "fk")
	p.read()
	for _, tc := range []struct {
		port, layer string
		want        uint64
	}{
		{"cx5", "port_buffer", 500},
		{"cx5", "host_too_slow", 50}, // max(imissed 40, rx_out_of_buffer 45, hw_counters 50)
		{"cx5", "mempool_empty", 3},
		{"cx5", "kernel_path", 6},
		{"cx5", "errors", 9}, // ierrors 2 + PHY CRC errors 7
		{"other", "host_too_slow", 11},
		{"other", "port_buffer", 0},
	} {
		if got := p.value("rxprobe_drops_total", "port", tc.port, "layer", tc.layer); got != tc.want {
			t.Errorf("drops %s/%s = %d, want %d", tc.port, tc.layer, got, tc.want)
		}
	}
	if got := p.value("rxprobe_rx_discards_phy_total", "port", "cx5"); got != 500 {
		t.Errorf("rx_discards_phy_total = %d, want 500", got)
	}
	if got := p.value("rxprobe_rx_out_of_buffer_total", "port", "cx5"); got != 45 {
		t.Errorf("rx_out_of_buffer_total = %d, want 45", got)
	}
	if got := s.Guard().Ledger(); got[0] != 500 || got[1] != 61 {
		t.Errorf("guard ledger %v, want port_buffer 500, host_too_slow 61", got)
	}
	// The gap in the open-ended bucket: the guard gets its lower bound,
	// the same number the status line shows after ">".
	ev, _ := s.Guard().Events()
	if len(ev) != 2 || ev[0].Kind != "TLB" || ev[0].CPU != 1 || ev[0].Count != 5 ||
		ev[1].Kind != "gap" || ev[1].Count != counters.GapBucketLimitNs(counters.GapBuckets-2) {
		t.Errorf("events %+v, want 5 TLB on cpu 1 and one gap of %d ns on queue 0", ev, counters.GapBucketLimitNs(counters.GapBuckets-2))
	}
	if got := p.value("rxprobe_guard_violations_total", "cpu", "1", "kind", "TLB"); got != 1 {
		t.Errorf("TLB violations %d, want 1", got)
	}
	wr.Close()
	b, _ := io.ReadAll(rd)
	log := string(b)
	if n := strings.Count(log, "driver \"net_bnxt\" is not in the drop table"); n != 1 {
		t.Errorf("unknown-driver note %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, "rxprobe guard: cpu 1: loop gap ") || strings.Contains(log, "\n\n") {
		t.Errorf("guard lines missing or separated by blank lines:\n%q", log)
	}

	s.o.EventFD = -1 // the pipe is closed
	s.g.eventFD = -1
	if n := testing.AllocsPerRun(50, func() {
		f.now.Queues[0].Packets += 100
		f.now.Ports[0].Stats.IMissed++
		if err := s.Sample(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a sample allocates %.1f times, want 0", n)
	}
}

// TestCaptureMetricsAndLedger: each queue's capture counters are published
// per port and queue, and ring-full drops land in the capture_ring layer
// of the port's drop ledger; sampling still allocates nothing.
func TestCaptureMetricsAndLedger(t *testing.T) {
	f, s, dir := sampledFake(t, "fc", func(sh *counters.Shape) { sh.Capture = true })
	f.now.Captures[0] = counters.Capture{Enqueued: 90, FilteredOut: 5, RingDropped: 7, Encoded: 90, Bytes: 9000,
		Written: 80, BytesWritten: 8192, Files: 2, BusyNs: 3e9, BlockWaitNs: 1e9}
	f.now.Captures[1] = counters.Capture{RingDropped: 4}
	if err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	p := openPublished(t, dir, "fc")
	p.read()
	for _, tc := range []struct {
		name string
		lv   []string
		want uint64
	}{
		{"rxprobe_capture_packets_total", []string{"port", "cx5", "queue", "0"}, 90},
		{"rxprobe_capture_filtered_out_total", []string{"port", "cx5", "queue", "0"}, 5},
		{"rxprobe_capture_ring_dropped_total", []string{"port", "cx5", "queue", "0"}, 7},
		{"rxprobe_capture_written_packets_total", []string{"port", "cx5", "queue", "0"}, 80},
		{"rxprobe_capture_written_bytes_total", []string{"port", "cx5", "queue", "0"}, 8192},
		{"rxprobe_capture_files_total", []string{"port", "cx5", "queue", "0"}, 2},
		{"rxprobe_capture_ring_dropped_total", []string{"port", "other", "queue", "0"}, 4},
		{"rxprobe_drops_total", []string{"port", "cx5", "layer", "capture_ring"}, 7},
		{"rxprobe_drops_total", []string{"port", "other", "layer", "capture_ring"}, 4},
	} {
		if got := p.value(tc.name, tc.lv...); got != tc.want {
			t.Errorf("%s%v = %d, want %d", tc.name, tc.lv, got, tc.want)
		}
	}
	if got := s.Guard().Ledger()[guard.LayerCaptureRing]; got != 11 {
		t.Errorf("guard ledger capture_ring = %d, want 11", got)
	}
	if n := testing.AllocsPerRun(20, func() {
		f.now.Captures[0].Written++
		_ = s.Sample()
	}); n != 0 {
		t.Errorf("a sample with capture allocates %.1f times", n)
	}
}

// bumpTLB adds n TLB shootdowns on CPU 1 (the fixture's second column),
// the fake's RX CPU.
func bumpTLB(t *testing.T, root string, n int) {
	t.Helper()
	irqs, err := os.ReadFile(filepath.Join(root, "proc/interrupts"))
	if err != nil {
		t.Fatal(err)
	}
	tlb := regexp.MustCompile(`(?m)^(\s*TLB:\s+\d+\s+)(\d+)`)
	m := tlb.FindSubmatch(irqs)
	if m == nil {
		t.Fatal("fixture has no TLB row")
	}
	v, _ := strconv.Atoi(string(m[2]))
	writeFile(t, root, "proc/interrupts", tlb.ReplaceAllString(string(irqs), "${1}"+strconv.Itoa(v+n)))
}

// TestCaptureTriggersFromTheStatsThread: a new drop in any ledger layer, a
// loop gap over the threshold and an interrupt-guard event each fire the
// engine's capture trigger once, only when configured; a quiet sample
// fires nothing, and sampling with triggers allocates nothing.
func TestCaptureTriggersFromTheStatsThread(t *testing.T) {
	for _, tc := range []struct {
		name string
		mask uint8
		want [5]int
	}{
		{"all", 1<<capture.TriggerDrop | 1<<capture.TriggerGap | 1<<capture.TriggerIRQ | 1<<capture.TriggerSignal, [5]int{0, 2, 1, 1, 0}},
		{"drop only", 1 << capture.TriggerDrop, [5]int{0, 2, 0, 0, 0}},
		{"signal only", 1 << capture.TriggerSignal, [5]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, dir, root := newFake(), t.TempDir(), hostRoot(t)
			f.shape.Capture = true
			f.now = *counters.NewReading(&f.shape)
			s, err := New(f, Options{HostRoot: root, Interval: time.Second, ShmDir: dir, Prefix: "ft",
				StatusFD: -1, EventFD: -1, Guard: &GuardOptions{GapNs: 1_000_000}, CaptureTriggers: tc.mask})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			f.now.Ports[0].Stats.IMissed = 5 // before the start: not new
			for range 2 {
				if err := s.Sample(); err != nil {
					t.Fatal(err)
				}
			}
			if f.fired != [5]int{} {
				t.Fatalf("quiet samples fired %v", f.fired)
			}
			f.now.Captures[1].RingDropped = 3 // capture_ring of the second port
			_ = s.Sample()
			f.now.Ports[0].Stats.RXNoMbuf = 1 // mempool_empty
			f.now.Queues[0].GapHist[counters.GapBuckets-1] = 1
			bumpTLB(t, root, 5)
			_ = s.Sample()
			if f.fired != tc.want {
				t.Errorf("fired %v (by reason: -, drop, gap, irq, signal), want %v", f.fired, tc.want)
			}
			if n := testing.AllocsPerRun(20, func() {
				f.now.Captures[0].RingDropped++
				_ = s.Sample()
			}); n != 0 {
				t.Errorf("a sample with triggers allocates %.1f times", n)
			}
		})
	}
}

// requestSample asks the running sampler for a sample through the
// segment, as the trial API does, and reads the snapshot that answers it.
func requestSample(t *testing.T, q *shm.Requester, p *published) {
	t.Helper()
	n := q.Request()
	if err := q.Wait(context.Background(), n, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	h, err := p.r.Read(p.buf)
	if err != nil {
		t.Fatal(err)
	}
	if !shm.Reached(h.Served, n) {
		t.Fatalf("snapshot serves request %d, asked %d", h.Served, n)
	}
	p.read()
}

// TestSampleOnRequestIsExact: with an interval far longer than the test,
// only requests make samples; each snapshot answering a request holds
// exactly the counters of the (stopped) engine at the request, the drop
// ledger included, and the guard closed no second for them.
func TestSampleOnRequestIsExact(t *testing.T) {
	f, dir, root := newFake(), t.TempDir(), hostRoot(t)
	s, err := New(f, Options{HostRoot: root, Interval: time.Hour, ShmDir: dir, Prefix: "fr",
		StatusFD: -1, EventFD: -1, Guard: &GuardOptions{GapNs: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	q, err := shm.OpenRequester(dir, "fr")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	p := openPublished(t, dir, "fr")
	for i, n := range []uint64{12345, 12346, 99999} {
		f.mu.Lock() // the stats thread runs
		f.now.Queues[0].Packets, f.now.Queues[0].Bytes = n, 64*n
		f.now.Ports[0].Stats.IMissed = n / 1000
		f.mu.Unlock()
		requestSample(t, q, p)
		if got := p.value("rxprobe_rx_packets_total", "port", "cx5", "queue", "0"); got != n {
			t.Errorf("request %d: rx packets %d, want %d", i, got, n)
		}
		if got := p.value("rxprobe_rx_bytes_total", "port", "cx5", "queue", "0"); got != 64*n {
			t.Errorf("request %d: rx bytes %d, want %d", i, got, 64*n)
		}
		if got := p.value("rxprobe_drops_total", "port", "cx5", "layer", "host_too_slow"); got != n/1000 {
			t.Errorf("request %d: host_too_slow %d, want %d", i, got, n/1000)
		}
		if got := p.value("rxprobe_stats_samples_total"); got != uint64(i+2) {
			t.Errorf("request %d: %d samples, want %d (the first, then one per request)", i, got, i+2)
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if tl := s.Guard().Timeline(); len(tl) != 0 {
		t.Errorf("requested samples closed %d guard seconds, want none", len(tl))
	}
}

// TestRequestedSamplesKeepGuardSeconds: at 10 samples a second, requested
// samples in between neither close a guard second early nor count a drop
// twice; the ledger they publish is exact at once; they allocate nothing.
func TestRequestedSamplesKeepGuardSeconds(t *testing.T) {
	f, dir, root := newFake(), t.TempDir(), hostRoot(t)
	s, err := New(f, Options{HostRoot: root, Interval: 100 * time.Millisecond, ShmDir: dir, Prefix: "fg",
		StatusFD: -1, EventFD: -1, Guard: &GuardOptions{GapNs: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Sample(); err != nil { // the guard's starting point
		t.Fatal(err)
	}
	p := openPublished(t, dir, "fg")
	var missed uint64
	for second := 1; second <= 2; second++ {
		for range 10 {
			missed += 3
			f.now.Ports[0].Stats.IMissed = missed
			if err := s.sample(false); err != nil {
				t.Fatal(err)
			}
			p.read()
			if got := p.value("rxprobe_drops_total", "port", "cx5", "layer", "host_too_slow"); got != missed {
				t.Fatalf("ledger after a requested sample %d, want %d", got, missed)
			}
			if err := s.Sample(); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(s.Guard().Timeline()); got != second {
			t.Fatalf("after %d s of scheduled samples and as many requested: %d guard seconds", second, got)
		}
	}
	tl := s.Guard().Timeline()
	if tl[0].Drops[guard.LayerHostTooSlow] != 30 || tl[1].Drops[guard.LayerHostTooSlow] != 30 {
		t.Errorf("seconds' drops %d, %d; want 30 each", tl[0].Drops[guard.LayerHostTooSlow], tl[1].Drops[guard.LayerHostTooSlow])
	}
	if got := s.Guard().Ledger()[guard.LayerHostTooSlow]; got != missed {
		t.Errorf("guard ledger %d, want %d (each drop once)", got, missed)
	}
	if n := testing.AllocsPerRun(50, func() {
		f.now.Ports[0].Stats.IMissed++
		_ = s.sample(false)
	}); n != 0 {
		t.Errorf("a requested sample allocates %.1f times", n)
	}
}

// benchSampler is a sampler of the fake engine on the fixture, with the
// guard, sampling once a minute; closed at the end of the benchmark.
func benchSampler(b *testing.B, prefix string) (*Sampler, string) {
	dir := b.TempDir()
	s, err := New(newFake(), Options{HostRoot: hostRoot(b), Interval: time.Minute, ShmDir: dir, Prefix: prefix,
		StatusFD: -1, EventFD: -1, Guard: &GuardOptions{GapNs: 1_000_000}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, dir
}

// BenchmarkSampleOnRequest is a trial boundary's round trip: a request
// through the segment wakes the running stats thread, which takes a full
// sample (fake engine, the fixture's /proc and /sys) and publishes it;
// the requester wakes on the served word.
func BenchmarkSampleOnRequest(b *testing.B) {
	s, dir := benchSampler(b, "fb")
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	q, err := shm.OpenRequester(dir, "fb")
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Wait(ctx, q.Request(), time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSample is one scheduled sample on the same fixture, for
// comparison: the round trip's cost beyond the sample itself is the two
// futex wake-ups.
func BenchmarkSample(b *testing.B) {
	s, _ := benchSampler(b, "fs")
	b.ReportAllocs()
	for b.Loop() {
		_ = s.sample(false)
	}
}

// sampledFake is newFake with its shape changed by shape, a sampler on
// it publishing segment prefix in a temporary directory (closed at the
// test's end), and one sample taken.
func sampledFake(t *testing.T, prefix string, shape func(*counters.Shape)) (*fakeEngine, *Sampler, string) {
	t.Helper()
	f, dir, root := newFake(), t.TempDir(), hostRoot(t)
	shape(&f.shape)
	f.now = *counters.NewReading(&f.shape)
	s, err := New(f, Options{HostRoot: root, Interval: time.Second, ShmDir: dir, Prefix: prefix,
		StatusFD: -1, EventFD: -1, Guard: &GuardOptions{GapNs: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Sample(); err != nil {
		t.Fatal(err)
	}
	return f, s, dir
}
