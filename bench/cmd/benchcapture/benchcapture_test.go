package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseTcpdump(t *testing.T) {
	// tcpdump 4.99.3's closing lines on SIGINT.
	out := "tcpdump: listening on bcap1a, link-type EN10MB (Ethernet), snapshot length 1518 bytes\n^C" +
		"\n1405568 packets captured\n1405570 packets received by filter\n12 packets dropped by kernel\n"
	got, err := parseTcpdump(out)
	if err != nil || got != (tcpdumpStats{Captured: 1405568, Received: 1405570, KernelDropped: 12}) {
		t.Errorf("%+v, %v", got, err)
	}
	one := "1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n"
	if got, err := parseTcpdump(one); err != nil || got.Captured != 1 {
		t.Errorf("singular: %+v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"killed":    "tcpdump: listening on x\n",
		"truncated": "5 packets captured\n5 packets received by filter\n",
	} {
		if _, err := parseTcpdump(bad); !errors.Is(err, errNoFigure) {
			t.Errorf("%s: %v, want errNoFigure", name, err)
		}
	}
}

func TestParseDumpcap(t *testing.T) {
	// dpdk-dumpcap 22.11.11: the failure and a working capture.
	for out, want := range map[string]dumpcapStats{
		"File: /tmp/x.pcapng\nPackets captured: 0 \nPackets received/dropped on interface 'net_null0': 0/45777 (0.0)\n":                          {0, 45777},
		"Capturing on 'net_af_xdp0'\nFile: /d/dumpcap.pcapng\n\nPackets received/dropped on interface 'net_af_xdp0': 59116640/54949855 (51.8)\n": {59116640, 54949855},
	} {
		got, err := parseDumpcap(out)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v", out, got, err)
		}
	}
	if _, err := parseDumpcap("EAL: Error - exiting with code: 1\n"); !errors.Is(err, errNoFigure) {
		t.Errorf("no stats line: %v", err)
	}
}

func TestParseCapinfos(t *testing.T) {
	if n, err := parseCapinfosCount("/t/a.pcapng\t4000\n/t/b.pcapng\t12\n"); err != nil || n != 4012 {
		t.Errorf("%d, %v", n, err)
	}
	for _, bad := range []string{"", "/t/a.pcapng 4000\n", "/t/a.pcapng\tmany\n"} {
		if _, err := parseCapinfosCount(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseBandwidth(t *testing.T) {
	fio := []byte("note: both iodepth >= 1 and synchronous I/O engine\n{\"jobs\": [{\"write\": {\"bw_bytes\": 1766000000}}]}")
	if bw, err := parseFio(fio); err != nil || bw != 1766e6 {
		t.Errorf("fio %g, %v", bw, err)
	}
	if _, err := parseFio([]byte(`{"jobs": [{"write": {"bw_bytes": 0}}]}`)); !errors.Is(err, errNoFigure) {
		t.Errorf("fio without writes: %v", err)
	}
	dd := "256+0 records in\n256+0 records out\n1073741824 bytes (1.1 GB, 1.0 GiB) copied, 0.5 s, 2.1 GB/s\n"
	if bw, err := parseDD(dd); err != nil || bw != 1073741824/0.5 {
		t.Errorf("dd %g, %v", bw, err)
	}
	if _, err := parseDD("dd: failed to open 'x': Invalid argument\n"); !errors.Is(err, errNoFigure) {
		t.Errorf("dd failure: %v", err)
	}
}

func TestDumpcapPreload(t *testing.T) {
	ldd := "\tlibrte_mempool.so.23 => /lib/x86_64-linux-gnu/librte_mempool.so.23 (0x1)\n" +
		"\tlibrte_bus_dpaa.so.23 => /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_bus_dpaa.so.23 (0x2)\n" +
		"\tlibrte_mempool_dpaa.so.23 => /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_mempool_dpaa.so.23 (0x3)\n"
	if got := dumpcapPreload(ldd); got != "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_mempool_dpaa.so.23" {
		t.Errorf("preload %q", got)
	}
	if got := dumpcapPreload("\tlibrte_mempool.so.23 => /lib/librte_mempool.so.23 (0x1)\n"); got != "" {
		t.Errorf("a primary linking no mempool driver: preload %q", got)
	}
}

// fakeTool passes every rate up to limit.
func fakeTool(limit float64, calls *[]float64) func(context.Context, float64) (trial, error) {
	return func(_ context.Context, pps float64) (trial, error) {
		*calls = append(*calls, pps)
		t := trial{AskedPPS: pps, Offered: 1000, Written: 1000}
		if pps > limit {
			t.Written = 990
		}
		return t, nil
	}
}

func TestSearch(t *testing.T) {
	var calls []float64
	r, err := search(context.Background(), 1000, 256000, 8, fakeTool(50000, &calls))
	if err != nil {
		t.Fatal(err)
	}
	// 8 bisections of 256× narrow to 256^(1/256): the bracket is tight.
	if r.Rate > 50000 || r.Fail <= 50000 || r.Fail/r.Rate > 1.03 || r.Bound() != "" {
		t.Errorf("rate %g, fail %g, bound %q (calls %v)", r.Rate, r.Fail, r.Bound(), calls)
	}
	if calls[0] != 256000 || calls[1] != 1000 || len(r.Trials) != len(calls) || r.Best.AskedPPS != r.Rate {
		t.Errorf("order of trials %v", calls)
	}
	calls = nil
	if r, _ := search(context.Background(), 1000, 256000, 8, fakeTool(1e9, &calls)); r.Rate != 256000 || r.Bound() != "≥" || len(calls) != 1 {
		t.Errorf("keeps up at hi: %+v after %v", r, calls)
	}
	calls = nil
	if r, _ := search(context.Background(), 1000, 256000, 8, fakeTool(10, &calls)); r.Rate != 0 || r.Bound() != "<" || len(calls) != 2 {
		t.Errorf("drops at lo: %+v after %v", r, calls)
	}
	if _, err := search(context.Background(), 0, 10, 1, fakeTool(1, &calls)); err == nil {
		t.Error("a bracket from 0 accepted")
	}
	boom := errors.New("tool died")
	if _, err := search(context.Background(), 1, 10, 1, func(context.Context, float64) (trial, error) { return trial{}, boom }); !errors.Is(err, boom) {
		t.Errorf("a failing tool: %v", err)
	}
}

func TestTrialFigures(t *testing.T) {
	ok := trial{Offered: 100, Written: 100, Bytes: 3e6, Seconds: 2}
	if !ok.ZeroDrop() || ok.DropPct() != 0 || ok.MBps() != 1.5 {
		t.Errorf("%+v", ok)
	}
	for name, bad := range map[string]trial{
		"tool counted a drop":  {Offered: 100, Written: 100, ToolDrops: 1},
		"lost before the tool": {Offered: 100, Written: 90},
		"nothing offered":      {},
	} {
		if bad.ZeroDrop() {
			t.Errorf("%s: zero drop", name)
		}
	}
	if d := (trial{Offered: 200, Written: 150}).DropPct(); d != 25 {
		t.Errorf("drop %g", d)
	}
}

func TestVerdicts(t *testing.T) {
	rx := searchResult{Rate: 400000}
	cases := []struct {
		name        string
		rx, dc      searchResult
		met, judged bool
		figure      string
	}{
		{"met", searchResult{Rate: 300000, Fail: 350000}, searchResult{Rate: 50000, Fail: 60000}, true, true, "6.00×"},
		{"not met", searchResult{Rate: 200000, Fail: 250000}, searchResult{Rate: 50000, Fail: 60000}, false, true, "4.00×"},
		{"rxprobe capped", rx, searchResult{Rate: 100000, Fail: 120000}, false, true, "a lower bound"},
		{"dumpcap never", rx, searchResult{Fail: 5000}, true, true, "dumpcap dropped even at the lowest rate"},
		{"rxprobe never", searchResult{Fail: 5000}, searchResult{Rate: 5000}, false, true, "rxprobe dropped even at the lowest rate (<5000 pps)"},
	}
	for _, c := range cases {
		v := ratioVerdict("tmpfs", c.rx, c.dc)
		if v.Met != c.met || v.Judged != c.judged || !strings.Contains(v.Figure, c.figure) {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
	// met: every round at 0.9x the bandwidth without a drop
	if v := diskVerdict("disk", 5, 5, 1600, 1766); !v.Met || !strings.HasPrefix(v.Figure, "5/5 rounds") || !strings.Contains(v.Figure, "0.91×") {
		t.Errorf("disk met: %+v", v)
	}
	// one round with drops: not met, however many MB/s were written
	if v := diskVerdict("disk", 4, 5, 1700, 1766); v.Met || !v.Judged {
		t.Errorf("disk with a dropping round: %+v", v)
	}
	if v := diskVerdict("disk", 0, 0, 560, 1766); v.Judged {
		t.Errorf("no goal trial judged: %+v", v)
	}
	if v := diskVerdict("disk", 5, 5, 560, 0); v.Judged {
		t.Errorf("no bandwidth judged: %+v", v)
	}
	// the loop filters faster than the writer takes packets: RX core,
	// even when handing everything over is cheaper for the loop alone
	if r := rxCostRule(125, 116, 18); !strings.HasPrefix(r, "RX core") {
		t.Error(r)
	}
	if r := rxCostRule(125, 10, 18); !strings.HasPrefix(r, "writer core") {
		t.Error(r)
	}
}

func TestQuickAndFlags(t *testing.T) {
	var sb strings.Builder
	s, err := parseFlags([]string{"-quick", "-seconds", "3"}, &sb)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rounds != 1 || s.Seconds != 3 || s.Steps != 0 {
		t.Errorf("-quick with -seconds 3: %+v (an explicit flag wins over -quick)", s)
	}
	for _, bad := range [][]string{{"-pmd", "af_unix"}, {"-lo", "0"}, {"-lo", "10", "-hi", "5"}, {"-snaplen", "10"}, {"-seconds", "0.1"}, {"stray"}} {
		if _, err := parseFlags(bad, &sb); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if e := estimate(s); e <= 0 || e > 5*time.Minute {
		t.Errorf("-quick estimate %v, want a few minutes", e)
	}
	def, err := parseFlags(nil, &sb)
	if err != nil {
		t.Fatal(err)
	}
	if e := estimate(def); e > 15*time.Minute {
		t.Errorf("the default run takes about %v, more than 15 min", e)
	}
}

func TestConfigs(t *testing.T) {
	base, err := os.ReadFile("../../../configs/null.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := settings{Snaplen: 1518}
	s.Config = "configs/null.yaml"
	cfg, err := pacedConfig(base, s, 1514, "/d")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`devargs: "size=1514"`, "capture:\n  enabled: true\n  snaplen: 1518\n  dir: /d\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("paced config lacks %q:\n%s", want, cfg)
		}
	}
	if _, err := pacedConfig([]byte("ports:\n  - device: net_af_xdp0\n"), s, 1514, "/d"); err == nil {
		t.Error("a base without net_null0 accepted")
	}
	off := nullCaptureConfig(base, s, costVariants[0], "/d")
	if strings.Contains(off, "capture:") {
		t.Errorf("capture-off config has a capture section:\n%s", off)
	}
	if c := nullCaptureConfig(base, s, costVariants[3], "/d"); !strings.Contains(c, "  filter: \"ip\"\n") {
		t.Errorf("filter variant:\n%s", c)
	}
	v := vethPair{NS: "ns", A: "a0", B: "b0"}
	if g := genConfig(settings{GenPMD: "af_xdp"}, v, 1, 0); !strings.Contains(g, "device: net_af_xdp0") || !strings.Contains(g, `devargs: "iface=b0,start_queue=0`) {
		t.Errorf("AF_XDP generator config:\n%s", g)
	}
	if g := genConfig(settings{GenPMD: "af_packet"}, v, 1, 0); !strings.Contains(g, `devargs: "iface=b0,qpairs=1"`) || !strings.Contains(g, "  cpu: 0\n") {
		t.Errorf("generator config:\n%s", g)
	}
	if r := rxprobeVethConfig(settings{Snaplen: 64, Ring: 4096, PMD: "af_xdp", Common: s.Common}, v, "/d"); !strings.Contains(r, "device: net_af_xdp0\n    devargs: \"iface=a0,start_queue=0") || !strings.Contains(r, "rx_ring: 4096") {
		t.Errorf("rxprobe config:\n%s", r)
	}
	if dev, args := pollPort(settings{Ring: 2048, PMD: "af_packet"}, "a0"); dev != "net_af_packet0" || args != "iface=a0,qpairs=1,framecnt=2048" {
		t.Errorf("af_packet port %s %s", dev, args)
	}
}
