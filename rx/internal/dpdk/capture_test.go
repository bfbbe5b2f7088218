package dpdk

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/capture/pcapng"
	"golang.org/x/sys/unix"
)

// captureCPUs are the CPUs capture threads may use in tests: every CPU but
// the worker lcore's.
func captureCPUs(t testing.TB) []int {
	var cpus []int
	for c := 0; c < runtime.NumCPU(); c++ {
		if strconv.Itoa(c) != workerCPU() || runtime.NumCPU() == 1 {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

var loopbackPorts = map[string][2]any{}

// loopbackPort sets a net_ring port up once per process: whatever is sent
// on its queue 0 is received on its queue 0.
func loopbackPort(t *testing.T, name string) (uint16, *Mempool) {
	if p, ok := loopbackPorts[name]; ok {
		return p[0].(uint16), p[1].(*Mempool)
	}
	port, pool := setupPort(t, name, 1, 1)
	loopbackPorts[name] = [2]any{port, pool}
	return port, pool
}

// nicDrops is what every test capture reports as the NIC's drops.
const nicDrops = 42

type captureRun struct {
	rx         RXCounters
	cc         CaptureCounters
	sent       uint64
	start, end time.Time
	dir        string
	events     []CaptureEvent
}

// runCapture receives what the generators send on a net_ring loopback
// port through an RX loop with cfg's capture attached; the generators run
// on the test's thread, the loop on the worker lcore.
func runCapture(t *testing.T, portName string, cfg CaptureConfig, expr string, gens []GenParams, pause time.Duration) captureRun {
	t.Helper()
	return runCaptureWith(t, portName, cfg, expr, gens, func(int, *Capture) { time.Sleep(pause) })
}

// runCaptureWith is runCapture calling between(i, c) after generator i.
func runCaptureWith(t *testing.T, portName string, cfg CaptureConfig, expr string, gens []GenParams, between func(int, *Capture)) captureRun {
	t.Helper()
	port, pool := loopbackPort(t, portName)
	var f *Filter
	if expr != "" {
		p, err := CompileFilter(expr, cfg.Snaplen)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Free()
		if f, err = p.Load(true); err != nil {
			t.Fatal(err)
		}
		defer f.Free()
	}
	q, err := NewRXQueue(port, 0, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Free()
	cfg.Port, cfg.Queue, cfg.FilterExpr = port, 0, expr
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.CPUs = captureCPUs(t)
	c, err := NewCapture(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	if err := c.Attach(q); err != nil {
		t.Fatal(err)
	}
	r := captureRun{dir: cfg.Dir, start: time.Now()}
	c.SetNICDrops(nicDrops)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	SetStop(false)
	if err := q.Launch(WorkerLcores()[0]); err != nil {
		t.Fatal(err)
	}
	for i, gp := range gens {
		g, err := NewGen(port, 0, pool, 0, gp)
		if err != nil {
			t.Fatal(err)
		}
		g.Run()
		var gc GenCounters
		g.Read(&gc)
		g.Free()
		r.sent += gc.Sent
		between(i, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for q.Read(&r.rx); r.rx.Packets < r.sent && time.Now().Before(deadline); q.Read(&r.rx) {
		time.Sleep(time.Millisecond)
	}
	SetStop(true)
	WaitAll()
	c.Stop()
	r.end = time.Now()
	q.Read(&r.rx)
	c.Read(&r.cc)
	r.events = c.Events()
	if r.rx.Packets != r.sent {
		t.Fatalf("loop received %d packets, generators sent %d", r.rx.Packets, r.sent)
	}
	return r
}

func genParams(count uint64, size uint16, flows uint32) GenParams {
	return GenParams{
		Burst: 32, Size: size, Count: count, Flows: flows, Rate: 1e6, NoDrop: true,
		SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2), SrcPort: 1024, DstPort: 9,
	}
}

func baseConfig() CaptureConfig {
	return CaptureConfig{
		Snaplen: 200, RingSize: 1024, BlockSize: 256 << 10, Blocks: 4,
		Pattern: "cap-p{port}q{queue}-%Y%m%dT%H%M%SZ-{seq}.pcapng", IdleSleep: 20 * time.Microsecond,
		InterfaceName: "net_ring0", InterfaceDescription: "net_ring0 (net_ring) queue 0; clock: TSC of the RX core, UTC-anchored",
	}
}

// files lists the finished capture files in dir, oldest first, and fails
// on a leftover NAME.part.
func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("unfinished file left behind: %s", e.Name())
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	slices.Sort(out) // {seq} orders them
	return out
}

// readBack parses every file and checks the first and the last with
// capinfos and tshark (no warnings, the packet count; each run takes a
// few hundred ms).
func readBack(t *testing.T, paths []string) []*pcapng.File {
	t.Helper()
	var out []*pcapng.File
	for _, p := range paths {
		f, err := pcapng.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
		if p != paths[0] && p != paths[len(paths)-1] {
			continue
		}
		for _, tool := range [][]string{{"capinfos", "-c", "-M", p}, {"tshark", "-n", "-r", p, "-T", "fields", "-e", "frame.number"}} {
			if _, err := exec.LookPath(tool[0]); err != nil {
				t.Fatalf("%s not installed (apt-get install -y tshark)", tool[0])
			}
			cmd := exec.Command(tool[0], tool[1:]...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if se := strings.TrimSpace(stderr.String()); err != nil || (se != "" && !strings.Contains(se, "Running as user \"root\"")) {
				t.Errorf("%s: err %v, stderr %q", strings.Join(tool, " "), err, se)
			}
			if tool[0] == "tshark" {
				if n := len(strings.Fields(string(stdout))); n != len(f.Packets) {
					t.Errorf("%s: tshark reads %d packets, the file holds %d", p, n, len(f.Packets))
				}
			} else if !strings.Contains(string(stdout), "Number of packets:   "+strconv.Itoa(len(f.Packets))) {
				t.Errorf("%s: capinfos says %q, want %d packets", p, stdout, len(f.Packets))
			}
		}
	}
	return out
}

func TestCaptureFilteredToPcapng(t *testing.T) {
	cfg := baseConfig()
	cfg.RingSize = 8192 // holds every matching packet: no ring drop however late the writer runs
	// 4 flows (UDP source ports 1024..1027) of two sizes: the filter takes
	// two flows, exactly half; 1000-byte frames are cut to the snaplen.
	const expr = "udp src port 1024 or udp src port 1025"
	r := runCapture(t, "net_ring0", cfg, expr,
		[]GenParams{genParams(4000, 128, 4), genParams(4000, 1000, 4)}, 0)
	cc := r.cc
	if got := cc.Enqueued + cc.FilteredOut + cc.RingDropped; got != r.rx.Packets {
		t.Errorf("capture stage saw %d packets, loop received %d", got, r.rx.Packets)
	}
	if cc.Written+cc.DiskDropped+cc.FilteredOut+cc.RingDropped != r.rx.Packets {
		t.Errorf("capture equation: rx %d != written %d + disk dropped %d + filtered %d + ring dropped %d",
			r.rx.Packets, cc.Written, cc.DiskDropped, cc.FilteredOut, cc.RingDropped)
	}
	if cc.Written != 4000 || cc.RingDropped != 0 || cc.FilteredOut != 4000 {
		t.Errorf("matched %d (written %d + ring dropped %d), filtered out %d: want 4000 and 4000",
			cc.Written+cc.RingDropped, cc.Written, cc.RingDropped, cc.FilteredOut)
	}
	if cc.Encoded != cc.Enqueued || cc.Written != cc.Enqueued || cc.DiskDropped != 0 || cc.Errors != 0 {
		t.Errorf("writer lost packets: %+v", cc)
	}
	if cc.FilesStarted != 1 || cc.FilesClosed != 1 {
		t.Errorf("files started %d, closed %d: want one file", cc.FilesStarted, cc.FilesClosed)
	}
	paths := files(t, r.dir)
	if len(paths) != 1 {
		t.Fatalf("files %v, want one", paths)
	}
	f := readBack(t, paths)[0]
	if len(f.Packets) != int(cc.Written) {
		t.Fatalf("file holds %d packets, writer counted %d", len(f.Packets), cc.Written)
	}
	if len(f.Interfaces) != 1 {
		t.Fatalf("%d interface blocks, want 1", len(f.Interfaces))
	}
	idb := f.Interfaces[0]
	if res, _ := idb.Options.Uint64(pcapng.OptIfTsresol); res != 9 || idb.Snaplen != 200 || idb.LinkType != pcapng.LinkTypeEthernet {
		t.Errorf("interface block: tsresol %d, snaplen %d, linktype %d", res, idb.Snaplen, idb.LinkType)
	}
	if fl := idb.Options.String(pcapng.OptIfFilter); fl != "\x00"+expr {
		t.Errorf("if_filter %q, want type 0 and %q", fl, expr)
	}
	if idb.Options.String(pcapng.OptIfName) != "net_ring0" || !strings.Contains(idb.Options.String(pcapng.OptIfDescription), "TSC") {
		t.Errorf("if_name/if_description: %v", idb.Options)
	}
	var prev uint64
	lo, hi := uint64(r.start.UnixNano()), uint64(r.end.UnixNano())
	sizes := map[uint32]int{}
	for i, p := range f.Packets {
		sizes[p.OrigLen]++
		want := min(p.OrigLen, 200)
		if p.CapLen != want {
			t.Errorf("packet %d: caplen %d of %d, want %d (snaplen 200)", i, p.CapLen, p.OrigLen, want)
		}
		if p.Timestamp < prev || p.Timestamp < lo || p.Timestamp > hi {
			t.Fatalf("packet %d: timestamp %d: previous %d, test ran %d..%d", i, p.Timestamp, prev, lo, hi)
		}
		prev = p.Timestamp
		sport := uint16(p.Data[34])<<8 | uint16(p.Data[35])
		if sport != 1024 && sport != 1025 {
			t.Fatalf("packet %d from UDP port %d: the filter should have dropped it", i, sport)
		}
		if fl, _ := p.Options.Uint64(pcapng.OptEPBFlags); fl&3 != 1 {
			t.Errorf("packet %d: epb_flags %#x, want inbound", i, fl)
		}
		if qid, ok := p.Options.Uint64(pcapng.OptEPBQueue); !ok || qid != 0 {
			t.Errorf("packet %d: epb_queue %d (%v)", i, qid, ok)
		}
	}
	if sizes[128] != 2000 || sizes[1000] != 2000 {
		t.Errorf("original lengths %v in %d packets, want 2000 of 128 and of 1000", sizes, len(f.Packets))
	}
	if len(f.Stats) != 1 {
		t.Fatalf("%d statistics blocks, want 1 at close", len(f.Stats))
	}
	isb := f.Stats[0].Options
	for _, c := range []struct {
		code uint16
		name string
		want uint64
	}{
		{pcapng.OptISBIfRecv, "isb_ifrecv", r.rx.Packets},
		{pcapng.OptISBIfDrop, "isb_ifdrop", nicDrops},
		{pcapng.OptISBFilterAcc, "isb_filteraccept", cc.Enqueued + cc.RingDropped},
		{pcapng.OptISBOSDrop, "isb_osdrop", cc.RingDropped},
		{pcapng.OptISBUsrDeliv, "isb_usrdeliv", cc.Written},
	} {
		if got, ok := isb.Uint64(c.code); !ok || got != c.want {
			t.Errorf("%s = %d (present %v), want %d", c.name, got, ok, c.want)
		}
	}
	// tshark decodes the epb_queue option and the lengths the same way.
	out, err := exec.Command("tshark", "-n", "-r", paths[0], "-c", "1", "-T", "fields",
		"-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_queue").Output()
	if err != nil {
		t.Fatal(err)
	}
	if fs := strings.Fields(string(out)); len(fs) < 2 || fs[1] != strconv.Itoa(int(f.Packets[0].CapLen)) {
		t.Errorf("tshark: %q", out)
	}
}

// lastISB is the final statistics block of the last file.
func lastISB(t *testing.T, fs []*pcapng.File) pcapng.Options {
	t.Helper()
	last := fs[len(fs)-1]
	if len(last.Stats) == 0 {
		t.Fatal("last file has no statistics block")
	}
	return last.Stats[len(last.Stats)-1].Options
}

func TestCaptureRotatesBySizeKeepingMaxFiles(t *testing.T) {
	cfg := baseConfig()
	cfg.RingSize = 8192
	cfg.RotateBytes = 64 << 10
	cfg.MaxFiles = 4
	r := runCapture(t, "net_ring0", cfg, "", []GenParams{genParams(2000, 128, 4), genParams(2000, 1000, 4)}, 0)
	cc := r.cc
	if cc.Written != 4000 || cc.Errors != 0 {
		t.Fatalf("written %d, errors %d (errno %d): want 4000, 0", cc.Written, cc.Errors, cc.LastErrno)
	}
	paths := files(t, r.dir)
	if cc.FilesClosed < 10 || len(paths) != 4 || cc.FilesDeleted != cc.FilesClosed-4 {
		t.Fatalf("closed %d files, deleted %d, %d left: want >= 10 closed and the newest 4 left", cc.FilesClosed, cc.FilesDeleted, len(paths))
	}
	fs := readBack(t, paths)
	var prev uint64
	held := 0
	for i, f := range fs {
		if f.Size > int(cfg.RotateBytes) {
			t.Errorf("%s: %d bytes, rotation at %d", paths[i], f.Size, cfg.RotateBytes)
		}
		if len(f.Stats) != 1 {
			t.Errorf("%s: %d statistics blocks, want 1", paths[i], len(f.Stats))
		}
		for _, p := range f.Packets {
			if p.Timestamp < prev {
				t.Fatalf("%s: timestamps go backwards across files", paths[i])
			}
			prev = p.Timestamp
		}
		held += len(f.Packets)
		// isb_usrdeliv counts from the start of the capture: the
		// deleted files' packets plus those up to this file's end.
		if d, _ := f.Stats[0].Options.Uint64(pcapng.OptISBUsrDeliv); i > 0 {
			before, _ := fs[i-1].Stats[0].Options.Uint64(pcapng.OptISBUsrDeliv)
			if d-before != uint64(len(f.Packets)) {
				t.Errorf("%s: isb_usrdeliv moved by %d, file holds %d packets", paths[i], d-before, len(f.Packets))
			}
		}
	}
	if d, _ := lastISB(t, fs).Uint64(pcapng.OptISBUsrDeliv); d != cc.Written || held >= int(cc.Written) {
		t.Errorf("last isb_usrdeliv %d, written %d, files kept hold %d", d, cc.Written, held)
	}
}

func TestCaptureRotatesOnWallClockBoundaries(t *testing.T) {
	cfg := baseConfig()
	cfg.RotateEvery = 100 * time.Millisecond
	// three bursts of traffic with pauses of two periods between them
	gp := genParams(300, 128, 1)
	r := runCapture(t, "net_ring0", cfg, "", []GenParams{gp, gp, gp}, 250*time.Millisecond)
	paths := files(t, r.dir)
	if len(paths) < 3 {
		t.Fatalf("%d files after 3 traffic bursts 250 ms apart, rotating every 100 ms", len(paths))
	}
	fs := readBack(t, paths)
	period := uint64(cfg.RotateEvery)
	total := 0
	var prevStart uint64
	for i, f := range fs {
		total += len(f.Packets)
		start, ok := f.Stats[0].Options.Time(pcapng.OptISBStartTime)
		if !ok {
			t.Fatalf("%s: no isb_starttime", paths[i])
		}
		if i > 0 && start/period <= prevStart/period {
			t.Errorf("%s starts in the same %v period as the file before it", paths[i], cfg.RotateEvery)
		}
		prevStart = start
	}
	if total != int(r.cc.Written) || r.cc.Written != 900 {
		t.Errorf("files hold %d packets, written %d, want 900", total, r.cc.Written)
	}
}

func TestCaptureSlowWriterDropsAreCounted(t *testing.T) {
	cfg := baseConfig()
	cfg.RingSize = 256
	cfg.SlowWriter = 2 * time.Millisecond // hidden test option: the writer falls behind
	r := runCapture(t, "net_ring0", cfg, "udp", []GenParams{genParams(6000, 128, 4)}, 0)
	cc := r.cc
	if cc.RingDropped == 0 {
		t.Fatalf("no ring-full drop with a 256-entry ring and a writer sleeping 2 ms per burst: %+v", cc)
	}
	if cc.Written+cc.FilteredOut+cc.RingDropped+cc.DiskDropped != r.rx.Packets || cc.FilteredOut != 0 {
		t.Errorf("capture equation: rx %d != written %d + filtered %d + ring dropped %d + disk dropped %d",
			r.rx.Packets, cc.Written, cc.FilteredOut, cc.RingDropped, cc.DiskDropped)
	}
	fs := readBack(t, files(t, r.dir))
	isb := lastISB(t, fs)
	if d, _ := isb.Uint64(pcapng.OptISBOSDrop); d != cc.RingDropped {
		t.Errorf("isb_osdrop %d, ring dropped %d", d, cc.RingDropped)
	}
	if n := len(fs[0].Packets); n != int(cc.Written) {
		t.Errorf("file holds %d packets, written %d", n, cc.Written)
	}
}

func TestCaptureKeepsMinimumFreeSpace(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skip("needs CAP_SYS_ADMIN to mount a tmpfs")
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, 0) })
	cfg := baseConfig()
	cfg.Dir = dir
	cfg.Snaplen = 1500
	cfg.RingSize = 8192
	cfg.RotateBytes = 256 << 10
	cfg.MinFreeBytes = 2 << 20
	// about 4 MB of packets into a 4 MiB file system that must keep 2 MiB free
	r := runCapture(t, "net_ring1", cfg, "", []GenParams{genParams(4000, 1000, 1)}, 0)
	cc := r.cc
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if free := st.Bavail * uint64(st.Bsize); free < cfg.MinFreeBytes {
		t.Errorf("%d bytes free, the guard keeps %d", free, cfg.MinFreeBytes)
	}
	if cc.FilesDeleted == 0 {
		t.Errorf("no file deleted while writing 4 MB into 4 MiB keeping 2 MiB free: %+v", cc)
	}
	if cc.Written+cc.DiskDropped != 4000 {
		t.Errorf("written %d + disk dropped %d != 4000", cc.Written, cc.DiskDropped)
	}
	readBack(t, files(t, dir))
}

// TestCaptureKillChild is the capture process TestCaptureSurvivesKill
// kills: it captures into $RXPROBE_TEST_CAPTURE_DIR until killed. Run on
// its own it does nothing.
func TestCaptureKillChild(t *testing.T) {
	dir := os.Getenv("RXPROBE_TEST_CAPTURE_DIR")
	if dir == "" {
		return
	}
	port, _ := setupPort(t, "net_null1", 1, 1)
	q, err := NewRXQueue(port, 0, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	cfg.Port, cfg.Dir, cfg.CPUs = port, dir, captureCPUs(t)
	cfg.BlockSize, cfg.RotateBytes = 64<<10, 256<<10
	cfg.SlowWriter = time.Millisecond // about 30 MB/s: a few files a second
	c, err := NewCapture(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Attach(q); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	SetStop(false)
	if err := q.Launch(WorkerLcores()[0]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute) // killed long before
}

func TestCaptureSurvivesKill(t *testing.T) {
	if os.Getenv("RXPROBE_TEST_CAPTURE_DIR") != "" {
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCaptureKillChild$")
	cmd.Env = append(os.Environ(), "RXPROBE_TEST_CAPTURE_DIR="+dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(fmt.Sprintf("/var/run/dpdk/rxptest%d", cmd.Process.Pid)) })
	finished := func() int {
		ents, _ := os.ReadDir(dir)
		n := 0
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".part") {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for finished() < 5 && time.Now().Before(deadline) && cmd.ProcessState == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if finished() < 5 {
		t.Fatalf("the capture process finished %d files before it was killed; its output:\n%s", finished(), out.String())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".part") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(paths)
	fs := readBack(t, paths) // every finished file whole: parses, capinfos and tshark agree
	for i, f := range fs {
		if len(f.Stats) != 1 || len(f.Packets) == 0 {
			t.Errorf("%s: %d packets, %d statistics blocks: not a whole file", paths[i], len(f.Packets), len(f.Stats))
		}
	}
}

func TestCaptureBadConfigAndQuietReads(t *testing.T) {
	needEAL(t)
	rxCPU, _ := strconv.Atoi(workerCPU())
	for name, edit := range map[string]func(*CaptureConfig){
		"writer on the RX CPU": func(c *CaptureConfig) { c.CPUs = []int{rxCPU} },
		"no writer CPU":        func(c *CaptureConfig) { c.CPUs = nil },
		"unaligned block":      func(c *CaptureConfig) { c.BlockSize = 5000 },
		"ring not power of 2":  func(c *CaptureConfig) { c.RingSize = 1000 },
		"snaplen too large":    func(c *CaptureConfig) { c.Snaplen = 65536 },
		"no directory":         func(c *CaptureConfig) { c.Dir = "" },
	} {
		cfg := baseConfig()
		cfg.Dir, cfg.CPUs = t.TempDir(), captureCPUs(t)
		edit(&cfg)
		c, err := NewCapture(cfg, nil)
		if !errors.Is(err, ErrCapture) {
			t.Errorf("%s: err = %v, want ErrCapture", name, err)
		}
		if c != nil {
			c.Free()
		}
	}
	cfg := baseConfig()
	cfg.Dir, cfg.CPUs = t.TempDir(), captureCPUs(t)
	c, err := NewCapture(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	if err := c.Start(); !errors.Is(err, ErrCapture) {
		t.Errorf("Start before Attach: %v", err)
	}
	var cc CaptureCounters
	if n := testing.AllocsPerRun(100, func() { c.Read(&cc) }); n != 0 {
		t.Errorf("Read allocates %.1f times, want 0", n)
	}
}

// TestCaptureLongHeaderSmallSnaplen: the interface block (a long
// description and a long filter) is built in the stage, which a 64-byte
// snaplen alone would size at ~124 bytes; it read back whole, and the
// DPDK heap around the capture is intact (freeing and building captures
// again works: an overrun stage corrupted the next element's header).
func TestCaptureLongHeaderSmallSnaplen(t *testing.T) {
	cfg := baseConfig()
	cfg.Snaplen = 64
	cfg.InterfaceDescription = strings.Repeat("d", 250)
	var ports []string
	for p := 1024; len(strings.Join(ports, " or ")) < 900; p++ {
		ports = append(ports, fmt.Sprintf("udp src port %d", p))
	}
	expr := strings.Join(ports, " or ")
	r := runCapture(t, "net_ring0", cfg, expr, []GenParams{genParams(1000, 128, 4)}, 0)
	f := readBack(t, files(t, r.dir))[0]
	idb := f.Interfaces[0]
	if idb.Options.String(pcapng.OptIfFilter) != "\x00"+expr || idb.Options.String(pcapng.OptIfDescription) != cfg.InterfaceDescription {
		t.Errorf("interface block options cut or damaged: %v", idb.Options)
	}
	if len(f.Packets) != int(r.cc.Written) || r.cc.Written != 1000 {
		t.Errorf("file holds %d packets, written %d, want 1000", len(f.Packets), r.cc.Written)
	}
	for range 3 {
		cfg.Dir, cfg.CPUs = t.TempDir(), captureCPUs(t)
		c, err := NewCapture(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Free()
	}
}

// waitCapture polls c until cond holds (or 10 s passed) and returns the
// last counters.
func waitCapture(t *testing.T, c *Capture, what string, cond func(*CaptureCounters) bool) CaptureCounters {
	t.Helper()
	var cc CaptureCounters
	deadline := time.Now().Add(10 * time.Second)
	for c.Read(&cc); !cond(&cc) && time.Now().Before(deadline); c.Read(&cc) {
		time.Sleep(time.Millisecond)
	}
	if !cond(&cc) {
		t.Fatalf("capture never reached %s: %+v", what, cc)
	}
	return cc
}

func triggerConfig(history uint64, after time.Duration) CaptureConfig {
	cfg := baseConfig()
	cfg.RingSize = 8192
	cfg.Trigger, cfg.HistoryBytes, cfg.After = true, history, after
	cfg.Pattern = "ev-p{port}q{queue}-%Y%m%dT%H%M%SZ-{event}-{seq}.pcapng"
	return cfg
}

// TestCaptureTriggerKeepsNewestHistory: 2000 small packets through a
// 64 KiB history keep only the newest 364 (180-byte EPBs), the rest
// expire; a trigger writes those 364 and then the 500 large packets sent
// after it to one file named after the event; a second trigger during the
// event is coalesced; the equation counts the expired.
func TestCaptureTriggerKeepsNewestHistory(t *testing.T) {
	const hist = 64 << 10
	cfg := triggerConfig(hist, time.Minute) // the event lasts until stop
	const kept = hist / (28 + 128 + 24)
	var mid time.Time
	r := runCaptureWith(t, "net_ring0", cfg, "", []GenParams{genParams(2000, 128, 4), genParams(500, 1000, 4)}, func(i int, c *Capture) {
		if i != 0 {
			return
		}
		cc := waitCapture(t, c, "2000 packets in the history", func(cc *CaptureCounters) bool { return cc.Encoded == 2000 })
		if cc.Expired != 2000-kept || cc.HistoryBytes != kept*180 || cc.FilesStarted != 0 {
			t.Errorf("before the trigger: expired %d (want %d), history %d bytes (want %d), files %d",
				cc.Expired, 2000-kept, cc.HistoryBytes, kept*180, cc.FilesStarted)
		}
		mid = time.Now()
		c.Trigger(4)
		waitCapture(t, c, "the event file open", func(cc *CaptureCounters) bool { return cc.Triggers == 1 })
		c.Trigger(1)
		waitCapture(t, c, "the second trigger coalesced", func(cc *CaptureCounters) bool { return cc.TriggersCoalesced == 1 })
	})
	cc := r.cc
	if cc.Written+cc.Expired+cc.FilteredOut+cc.RingDropped+cc.DiskDropped != r.rx.Packets {
		t.Errorf("capture equation: rx %d != written %d + expired %d + filtered %d + ring %d + disk %d",
			r.rx.Packets, cc.Written, cc.Expired, cc.FilteredOut, cc.RingDropped, cc.DiskDropped)
	}
	if cc.Written != kept+500 || cc.Expired != 2000-kept || cc.Triggers != 1 || cc.TriggersCoalesced != 1 || cc.HistoryBytes != 0 {
		t.Errorf("written %d (want %d), expired %d (want %d), triggers %d + %d coalesced, history %d", cc.Written, kept+500,
			cc.Expired, 2000-kept, cc.Triggers, cc.TriggersCoalesced, cc.HistoryBytes)
	}
	paths := files(t, r.dir)
	if len(paths) != 1 || !strings.Contains(filepath.Base(paths[0]), "-signal-") {
		t.Fatalf("files %v, want one named after the signal", paths)
	}
	f := readBack(t, paths)[0]
	var prev uint64
	small := 0
	for i, p := range f.Packets {
		if p.Timestamp < prev {
			t.Fatalf("packet %d: timestamp goes backwards", i)
		}
		prev = p.Timestamp
		// sizes, not timestamps, tell history from after: TSC-derived
		// stamps may be off by the TSC rate's error (~1 ms here)
		if (i < kept) != (p.OrigLen == 128) {
			t.Fatalf("packet %d: %d bytes: want the %d small ones (the history) first, then the large ones", i, p.OrigLen, kept)
		}
		if p.OrigLen == 128 {
			small++
		}
	}
	if small != kept || len(f.Packets) != kept+500 {
		t.Errorf("file holds %d packets, %d of the history: want %d + 500", len(f.Packets), small, kept)
	}
	if d, _ := lastISB(t, []*pcapng.File{f}).Uint64(pcapng.OptISBUsrDeliv); d != cc.Written {
		t.Errorf("isb_usrdeliv %d, written %d", d, cc.Written)
	}
	evs := r.events
	if len(evs) != 1 || evs[0].Reason != 4 || evs[0].File != filepath.Base(paths[0]) || evs[0].At.Before(mid) {
		t.Errorf("events %+v, want one signal event for %s after %v", evs, paths[0], mid)
	}
}

// TestCaptureTriggerAfterZero: with after = 0 the event file holds the
// history alone and closes at once; the packets that follow go to the
// history again and expire at stop.
func TestCaptureTriggerAfterZero(t *testing.T) {
	cfg := triggerConfig(1<<20, 0)
	r := runCaptureWith(t, "net_ring0", cfg, "", []GenParams{genParams(1000, 128, 4), genParams(300, 128, 4)}, func(i int, c *Capture) {
		if i != 0 {
			return
		}
		waitCapture(t, c, "1000 packets in the history", func(cc *CaptureCounters) bool { return cc.Encoded == 1000 })
		c.Trigger(1)
		waitCapture(t, c, "the event file closed", func(cc *CaptureCounters) bool { return cc.FilesClosed == 1 })
	})
	cc := r.cc
	if cc.Written != 1000 || cc.Expired != 300 || cc.Written+cc.Expired != r.rx.Packets || cc.Triggers != 1 {
		t.Errorf("rx %d: written %d, expired %d, triggers %d: want 1000 written, 300 expired", r.rx.Packets, cc.Written, cc.Expired, cc.Triggers)
	}
	paths := files(t, r.dir)
	if len(paths) != 1 || !strings.Contains(filepath.Base(paths[0]), "-drop-") {
		t.Fatalf("files %v, want one named after the drop", paths)
	}
	if f := readBack(t, paths)[0]; len(f.Packets) != 1000 {
		t.Errorf("file holds %d packets, want 1000", len(f.Packets))
	}
}

// TestCaptureTriggerKeepsMaxFiles: four events with max_files 2 leave the
// newest two event files (the ring applies in trigger mode too), each
// holding its own history.
func TestCaptureTriggerKeepsMaxFiles(t *testing.T) {
	cfg := triggerConfig(1<<20, 0)
	cfg.MaxFiles = 2
	gp := genParams(100, 128, 1)
	r := runCaptureWith(t, "net_ring0", cfg, "", []GenParams{gp, gp, gp, gp}, func(i int, c *Capture) {
		waitCapture(t, c, "the history filled", func(cc *CaptureCounters) bool { return cc.Encoded == uint64(100*(i+1)) })
		c.Trigger(2)
		waitCapture(t, c, "the event file closed", func(cc *CaptureCounters) bool { return cc.FilesClosed == uint64(i+1) })
	})
	cc := r.cc
	if cc.Triggers != 4 || cc.FilesClosed != 4 || cc.FilesDeleted != 2 || cc.Written != 400 || cc.Expired != 0 {
		t.Errorf("triggers %d, files closed %d, deleted %d, written %d, expired %d: want 4, 4, 2, 400, 0",
			cc.Triggers, cc.FilesClosed, cc.FilesDeleted, cc.Written, cc.Expired)
	}
	paths := files(t, r.dir)
	if len(paths) != 2 || len(r.events) != 4 || filepath.Base(paths[1]) != r.events[3].File || !strings.Contains(paths[0], "-gap-") {
		t.Fatalf("files %v, events %+v: want the last two gap events' files", paths, r.events)
	}
	for _, f := range readBack(t, paths) {
		if len(f.Packets) != 100 {
			t.Errorf("an event file holds %d packets, want its 100", len(f.Packets))
		}
	}
}
