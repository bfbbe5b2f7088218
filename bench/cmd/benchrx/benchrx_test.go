package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func defaults(t *testing.T) settings {
	t.Helper()
	for _, k := range []string{"BENCH_BURST", "BENCH_ROUNDS", "BENCH_SECONDS", "BENCH_RX_CPU", "BENCH_HK_CPU", "RXPROBE", "TESTPMD"} {
		t.Setenv(k, "")
	}
	s, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseFlags(nil): %v", err)
	}
	return s
}

// testdata/testpmd-session.txt is the complete output of a real
// dpdk-testpmd 22.11 session driven the way runTestpmd drives it (start,
// show port stats 0 twice, stop, quit); testpmd-truncated.txt is the same
// output cut inside the second statistics block.
func TestParseNICStats(t *testing.T) {
	full, err := os.ReadFile("testdata/testpmd-session.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseNICStats(full)
	if err != nil {
		t.Fatalf("parseNICStats(session): %v", err)
	}
	want := []nicStats{{RXPackets: 1006848}, {RXPackets: 24267104, RXPPS: 32368596}}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	res, err := measureFromStats(got, 750*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Packets != 24267104-1006848 || res.Mpps != 32.368596 {
		t.Errorf("measureFromStats: %+v", res)
	}
	if want := float64(24267104-1006848) / 0.75 / 1e6; res.CheckMpps != want {
		t.Errorf("CheckMpps = %v, want %v", res.CheckMpps, want)
	}

	cut, err := os.ReadFile("testdata/testpmd-truncated.txt")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseNICStats(cut)
	if !errors.Is(err, errNoStats) {
		t.Errorf("truncated: err = %v, want errNoStats", err)
	}
	if len(blocks) != 1 {
		t.Errorf("truncated: %d complete blocks, want 1", len(blocks))
	}
	if _, err := measureFromStats(blocks, time.Second); !errors.Is(err, errNoStats) {
		t.Errorf("measureFromStats(1 block): err = %v, want errNoStats", err)
	}
}

func TestParseNICStatsBroken(t *testing.T) {
	block := func(rx, pps string) string {
		return "  ######################## NIC statistics for port 0  ########################\n" +
			"  RX-packets: " + rx + "    RX-missed: 3          RX-bytes:  0\n" +
			"  RX-errors: 0\n  RX-nombuf:  4\n\n  Throughput (since last show)\n" +
			"  Rx-pps: " + pps + "          Rx-bps:            0\n" +
			"  ############################################################################\n"
	}
	for _, tc := range []struct {
		name    string
		out     string
		nblocks int
		wantErr bool
	}{
		{"none", "testpmd> quit\nBye...\n", 0, false},
		{"two", block("10", "0") + block("30", "20"), 2, false},
		{"overflowing counter", block("99999999999999999999999", "0"), 0, true},
		{"missing pps", strings.Replace(block("10", "0"), "Rx-pps", "Rx-qps", 1), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseNICStats([]byte(tc.out))
			if (err != nil) != tc.wantErr || len(got) != tc.nblocks {
				t.Fatalf("got %d blocks, err %v; want %d blocks, error %v", len(got), err, tc.nblocks, tc.wantErr)
			}
			if tc.nblocks == 2 {
				r, err := measureFromStats(got, time.Second)
				if err != nil || r.Packets != 20 || r.Drops != 0 || r.Mpps != 20e-6 {
					t.Errorf("measureFromStats = %+v, %v", r, err)
				}
			}
		})
	}
	down := []nicStats{{RXPackets: 50}, {RXPackets: 10}}
	if _, err := measureFromStats(down, time.Second); err == nil {
		t.Error("measureFromStats accepted a counter that went down")
	}
}

func TestPromptWriter(t *testing.T) {
	w := newPromptWriter()
	ctx := context.Background()
	// A prompt split across two writes counts once.
	for _, p := range []string{"EAL: init\ntestp", "md> ", "start\r\ntestpmd> "} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.waitPrompts(ctx, 2, time.Second); err != nil {
		t.Errorf("waitPrompts(2): %v", err)
	}
	if err := w.waitPrompts(ctx, 3, 50*time.Millisecond); err == nil {
		t.Error("waitPrompts(3) returned with only 2 prompts written")
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = w.Write([]byte("stop\r\ntestpmd> "))
	}()
	if err := w.waitPrompts(ctx, 3, 5*time.Second); err != nil {
		t.Errorf("waitPrompts(3) after a late prompt: %v", err)
	}
}

func TestBenchConfig(t *testing.T) {
	src, err := os.ReadFile("../../../configs/null.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := defaults(t)
	s.Burst, s.CPU, s.Housekeeping = 64, 0, 1
	out, err := benchConfig(src, s)
	if err != nil {
		t.Fatalf("benchConfig(null.yaml): %v", err)
	}
	// Decode the result the way rxprobe's strict check does: unknown keys
	// are errors.
	var c struct {
		Housekeeping string `yaml:"housekeeping_cpus"`
		EAL          map[string]any
		Ports        []struct {
			Name, Device, Devargs string
			RXQueues              int    `yaml:"rx_queues"`
			RXCPUs                string `yaml:"rx_cpus"`
			RXRing                int    `yaml:"rx_ring"`
			Burst                 int
			Mbufs                 int
			MbufCache             int `yaml:"mbuf_cache"`
			DataRoom              int `yaml:"mbuf_data_room"`
		}
		Stats, Run map[string]any
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decoding the rewritten config: %v\n%s", err, out)
	}
	p := c.Ports[0]
	if c.Housekeeping != "1" || p.RXCPUs != "0" || p.Burst != 64 || p.RXRing != 1024 || p.Mbufs != 4095 ||
		p.MbufCache != 256 || p.DataRoom != 2176 || p.RXQueues != 1 || p.Device != "net_null0" {
		t.Errorf("rewritten config: %+v, housekeeping %q", p, c.Housekeeping)
	}
	if c.Run["allow_unisolated"] != true {
		t.Errorf("run section lost: %v", c.Run)
	}

	for _, bad := range []string{
		"ports:\n  - device: net_null0\n    devargs: size=128\n",
		"ports:\n  - device: net_ring0\n",
		"ports:\n  - device: net_null0\n  - device: net_null1\n",
		"- just a list\n",
	} {
		if _, err := benchConfig([]byte(bad), s); err == nil {
			t.Errorf("benchConfig accepted %q", bad)
		}
	}
}

func TestParseReport(t *testing.T) {
	s := defaults(t)
	good := `{"duration_s": 5.0, "rx_packets": 300000000, "rx_mpps": 60.0,
	  "ports": [{"imissed": 1, "rx_nombuf": 2, "queues": [{"cpu": 1, "max_gap_ns": 4000}]}]}`
	r, err := parseReport([]byte(good), s)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mpps != 60 || r.Drops != 3 || r.MaxGap != 4*time.Microsecond {
		t.Errorf("parseReport = %+v", r)
	}
	for name, bad := range map[string]string{
		"other cpu":  strings.Replace(good, `"cpu": 1`, `"cpu": 0`, 1),
		"no packets": strings.Replace(good, `"rx_packets": 300000000`, `"rx_packets": 0`, 1),
		"no queue":   `{"duration_s": 5, "rx_packets": 1, "ports": [{"queues": []}]}`,
		"not json":   `rxprobe: error`,
	} {
		if _, err := parseReport([]byte(bad), s); err == nil {
			t.Errorf("%s: parseReport accepted %s", name, bad)
		}
	}
}

func TestParseFlags(t *testing.T) {
	s := defaults(t)
	if s.Burst != 32 || s.Rounds != 7 || s.Seconds != 5 || s.CPU != 1 || s.Housekeeping != 0 {
		t.Errorf("defaults: %+v", s)
	}
	t.Setenv("BENCH_BURST", "64")
	t.Setenv("BENCH_ROUNDS", "5")
	if s, err := parseFlags([]string{"-rounds", "7"}, &bytes.Buffer{}); err != nil || s.Burst != 64 || s.Rounds != 7 {
		t.Errorf("env BENCH_BURST=64 and -rounds 7 over BENCH_ROUNDS=5: %+v, %v", s, err)
	}
	t.Setenv("BENCH_SECONDS", "five")
	if _, err := parseFlags(nil, &bytes.Buffer{}); err == nil {
		t.Error("BENCH_SECONDS=five accepted")
	}
	t.Setenv("BENCH_SECONDS", "")
	for _, args := range [][]string{{"-burst", "0"}, {"-cpu", "0"}, {"-rounds", "0"}, {"-seconds", "0.5"}, {"-mbufs", "100"}, {"extra"}} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestMarkdown(t *testing.T) {
	rs := []round{
		{First: "testpmd", Testpmd: testpmdResult{Mpps: 50, CPUShare: 1}, Rxprobe: rxprobeResult{Mpps: 49, CPUShare: 0.98}},
		{First: "rxprobe", Testpmd: testpmdResult{Mpps: 40, CPUShare: 1}, Rxprobe: rxprobeResult{Mpps: 52, CPUShare: 1}},
		{First: "testpmd", Testpmd: testpmdResult{Mpps: 60, CPUShare: 1}, Rxprobe: rxprobeResult{Mpps: 51, CPUShare: 1}},
		{First: "rxprobe", Testpmd: testpmdResult{Mpps: 50, CPUShare: 1}, Rxprobe: rxprobeResult{Mpps: 55, CPUShare: 1}},
		{First: "testpmd", Testpmd: testpmdResult{Mpps: 45, CPUShare: 1}, Rxprobe: rxprobeResult{Mpps: 45, CPUShare: 1}},
	}
	h := hostInfo{Host: benchkit.Host{Date: "2030-01-02 03:04 UTC", Model: "Test CPU", CPUs: 2, Kernel: "6.1.0", Binary: "bin/rxprobe",
		Version: "rxprobe v9 (commit abc1234, go1.26.8, DPDK 22.11.11)", LoadBefore: "0.10 0.20 0.30", LoadAfter: "1.10 0.20 0.30"}, DPDK: "22.11.11"}
	quiet := benchkit.NewGate(2)
	quiet.Before(0.1)
	quiet.Rounds(len(rs))
	md := markdown(defaults(t), h, quiet, rs, []string{"-rounds", "5"})
	for _, want := range []string{
		"### 2030-01-02 03:04 UTC — rxprobe v9 (commit abc1234, go1.26.8, DPDK 22.11.11)\n",
		"Test CPU, 2 CPUs, kernel 6.1.0, DPDK 22.11.11",
		"- binary: `bin/rxprobe`: `rxprobe v9 (commit abc1234",
		"(quiet;",
		"`benchrx -rounds 5`",
		"| 2 | rxprobe | 40.000 | 52.000 | 1.300 |",
		"| testpmd Mpps | 40.000 | 50.000 | 60.000 |",
		"| rxprobe Mpps | 45.000 | 51.000 | 55.000 |",
		"| per-round ratio rxprobe/testpmd | 0.850 | 1.000 | 1.300 |",
		"per round: 0.980, 1.300, 0.850, 1.100, 1.000",
		"goal rxprobe ≥1.00× testpmd (ratio of medians): met (1.020×)",
		"**Verdict: rxprobe/testpmd 1.020× over 5 rounds",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	rs[0].Rxprobe.Mpps = 45
	rs[2].Rxprobe.Mpps = 45
	if md := markdown(defaults(t), h, quiet, rs, nil); !strings.Contains(md, "goal rxprobe ≥1.00× testpmd (ratio of medians): NOT MET (0.900×)") || !strings.Contains(md, "**Verdict:") {
		t.Errorf("ratio below 1 not stated plainly:\n%s", md)
	}
	// The same figures on a LOADED machine: marked, no verdict.
	loaded := benchkit.NewGate(2)
	loaded.Before(0.1)
	loaded.Run("round 1 rxprobe", 0.1, 0.98)
	loaded.Rounds(len(rs))
	md = markdown(defaults(t), h, loaded, rs, nil)
	if !strings.HasPrefix(md, "### NOT A RESULT") || !strings.Contains(md, "LOADED: rerun") || strings.Contains(md, "Verdict:") ||
		strings.Contains(md, "NOT MET") || !strings.Contains(md, "goal rxprobe ≥1.00× testpmd (ratio of medians): not judged (NOT A RESULT)") {
		t.Errorf("LOADED block:\n%s", md)
	}
}

func TestTestpmdArgs(t *testing.T) {
	s := defaults(t)
	got := strings.Join(testpmdArgs(s, "p"), " ")
	want := "-l 0,1 --main-lcore 0 --no-pci --vdev net_null0 --file-prefix p -- -i --forward-mode=rxonly --nb-cores=1 --rxq=1 --txq=1 --burst=32 --rxd=1024 --mbcache=256 --total-num-mbufs=4095 --mbuf-size=2176 --no-flush-rx"
	if got != want {
		t.Errorf("testpmdArgs:\n got %s\nwant %s", got, want)
	}
}

func TestParseStatus(t *testing.T) {
	// Lines as `rxprobe run --status always` printed them on this machine,
	// with the start-up and summary lines around them.
	out := "rxprobe: running 1 loop(s) on CPUs 1, housekeeping 0, file prefix rxprobe-run-25361\n" +
		"   1.0s  rx  51.158 Mpps   26192.8 Mbit/s  drops: missed 0 nombuf 0 errors 0  worst gap <=268.4 ms\n" +
		"   2.0s  rx  67.015 Mpps   34311.9 Mbit/s  drops: missed 0 nombuf 0 errors 0  worst gap <=4.2 ms\n" +
		"   3.0s  rx  67.764 Mpps   34695.2 Mbit/s  drops: missed 0 nombuf 0 errors 0  worst gap <=4.2 ms\n" +
		"rxprobe run: 3.0 s, 185831328 packets, 11893204992 bytes, 61.986 Mpps\n"
	got := parseStatus([]byte(out))
	want := []float64{51.158, 67.015, 67.764}
	if len(got) != len(want) {
		t.Fatalf("parseStatus = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rate %d = %v, want %v", i, got[i], want[i])
		}
	}
	if m := mean(got[1:]); m < 67.389 || m > 67.390 {
		t.Errorf("mean after the first second = %v, want 67.3895", m)
	}
	if got := parseStatus([]byte("rxprobe run: 3.0 s, 1 packets, 64 bytes, 61.986 Mpps\n")); len(got) != 0 {
		t.Errorf("summary line parsed as status: %v", got)
	}
}
