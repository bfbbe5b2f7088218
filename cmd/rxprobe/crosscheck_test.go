package main

// Cross-checks of rxprobe's exported figures against independent readers
// of the same run: DPDK's own telemetry socket, a real Prometheus server
// and promtool.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// telemetryClient talks to a DPDK process's telemetry socket (v2 protocol:
// SOCK_SEQPACKET, a JSON greeting on connect, then one JSON answer per
// command).
type telemetryClient struct {
	conn    net.Conn
	maxLen  int
	Version string
}

// telemetrySocket returns the v2 telemetry socket of the DPDK process
// with file prefix prefix, and the runtime directories looked in.
func telemetrySocket(prefix string) (string, []string) {
	var dirs []string
	for _, base := range []string{"/var/run/dpdk", filepath.Join(os.TempDir(), "dpdk")} {
		d := filepath.Join(base, prefix)
		dirs = append(dirs, d)
		if p := filepath.Join(d, "dpdk_telemetry.v2"); fileExists(p) {
			return p, dirs
		}
	}
	return "", dirs
}

// dpdkHasTelemetry reports whether the DPDK this binary uses was built
// with telemetry, and how that was found: librte_telemetry mapped into
// this process (the test binary links DPDK as rxprobe does), or, for a
// static link, named by pkg-config's libdpdk.
func dpdkHasTelemetry() (bool, string) {
	if b, err := os.ReadFile("/proc/self/maps"); err == nil && bytes.Contains(b, []byte("librte_telemetry")) {
		return true, "librte_telemetry is linked"
	}
	out, err := exec.Command("pkg-config", "--libs", "--static", "libdpdk").Output()
	if err != nil {
		return false, "librte_telemetry is not linked, and pkg-config libdpdk failed: " + err.Error()
	}
	if bytes.Contains(out, []byte("rte_telemetry")) {
		return true, "pkg-config libdpdk names rte_telemetry"
	}
	return false, "librte_telemetry is neither linked nor named by pkg-config libdpdk"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func dialTelemetry(path string) (*telemetryClient, error) {
	conn, err := net.DialTimeout("unixpacket", path, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &telemetryClient{conn: conn, maxLen: 16384}
	var greet struct {
		Version      string `json:"version"`
		PID          int    `json:"pid"`
		MaxOutputLen int    `json:"max_output_len"`
	}
	if err := c.read(&greet); err != nil {
		conn.Close()
		return nil, fmt.Errorf("telemetry greeting: %w", err)
	}
	if greet.MaxOutputLen > 0 {
		c.maxLen = greet.MaxOutputLen
	}
	c.Version = greet.Version
	return c, nil
}

// read reads one message (one SEQPACKET record) into v; numbers decode
// as json.Number so 64-bit counters keep every digit.
func (c *telemetryClient) read(v any) error {
	buf := make([]byte, c.maxLen+1)
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.conn.Read(buf)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(buf[:n]))
	dec.UseNumber()
	return dec.Decode(v)
}

// counters sends cmd ("/ethdev/xstats,0") and returns the answer's object
// of counters, keyed by name. Non-numeric members (arrays of per-queue
// values in /ethdev/stats) are left out.
func (c *telemetryClient) counters(cmd string) (map[string]uint64, error) {
	if _, err := c.conn.Write([]byte(cmd)); err != nil {
		return nil, err
	}
	var answer map[string]json.RawMessage
	if err := c.read(&answer); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	key, _, _ := strings.Cut(cmd, ",")
	raw, ok := answer[key]
	if !ok || string(raw) == "null" {
		return nil, fmt.Errorf("%s: no %q in the answer %v", cmd, key, answer)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	out := map[string]uint64{}
	for k, v := range obj {
		if num, ok := v.(json.Number); ok {
			u, err := strconv.ParseUint(num.String(), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %s=%s: %w", cmd, k, num, err)
			}
			out[k] = u
		}
	}
	return out, nil
}

func (c *telemetryClient) Close() error { return c.conn.Close() }

// scrapeFamilies GETs a /metrics page and parses it.
func scrapeFamilies(u string) (map[string]*familyValues, string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("parse %s: %w", u, err)
	}
	out := map[string]*familyValues{}
	for name, f := range fams {
		fv := &familyValues{}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				v = m.GetUntyped().GetValue()
			default:
				continue
			}
			fv.samples = append(fv.samples, sample{labels, v})
		}
		out[name] = fv
	}
	return out, string(body), nil
}

type sample struct {
	labels map[string]string
	value  float64
}

type familyValues struct{ samples []sample }

// get returns the value of the only sample whose labels include match.
func (f *familyValues) get(match map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
	found, n := 0.0, 0
	for _, s := range f.samples {
		ok := true
		for k, v := range match {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			found, n = s.value, n+1
		}
	}
	return found, n == 1
}

// waitExporterUp polls /metrics until rxprobe_snapshot_up is 1.
func waitExporterUp(t *testing.T, metricsURL string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		fams, _, err := scrapeFamilies(metricsURL)
		if err == nil {
			if v, ok := fams["rxprobe_snapshot_up"].get(nil); ok && v == 1 {
				return
			}
			last = "rxprobe_snapshot_up is not 1"
		} else {
			last = err.Error()
		}
		select {
		case err := <-done:
			t.Fatalf("rxprobe run exited while waiting for its exporter: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("exporter at %s not up within 30s: %s", metricsURL, last)
}

// startServingRun starts `rxprobe run` with its exporter on a free
// loopback port and the stats thread at 100 ms, stops it with SIGTERM in
// t.Cleanup if the test did not, and returns once /metrics serves the
// run's snapshot. It returns the exporter's address.
func startServingRun(t *testing.T, cfg, report string, extra ...string) (*exec.Cmd, chan error, string) {
	t.Helper()
	addr := freeLoopbackPort(t)
	cmd, done := startRun(t, cfg, report, append([]string{"--metrics-addr", addr, "--stats-interval", "100ms"}, extra...)...)
	terminateOnCleanup(t, cmd, done)
	url := "http://" + addr + "/metrics"
	waitExporterUp(t, url, done)
	return cmd, done, addr
}

// terminateOnCleanup stops the run with SIGTERM (so it removes its DPDK
// files) if the test ends before stopRun did.
func terminateOnCleanup(t *testing.T, cmd *exec.Cmd, done chan error) {
	t.Cleanup(func() {
		if cmd.ProcessState != nil {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			done <- err
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
}

// TestIntegrationExportedXstatsMatchTelemetry: what the exporter serves
// for a port (every xstat, and imissed) is what DPDK's own telemetry
// reports for the same port of the same process. The port is an AF_XDP
// port on a veth pair, so that after the generator stops its counters
// stand still and the two readings must be equal, not merely close.
func TestIntegrationExportedXstatsMatchTelemetry(t *testing.T) {
	v := newVethPair(t)
	prefix := uniquePrefix(t)
	// A short ring (1024, as in TestIntegrationVethOverloadShowsDrops) so that the overloaded phase below can overflow it.
	body := vethConfig(v, "net_af_xdp0", "iface="+v.a+",start_queue=0,queue_count=1,busy_budget=0", 1024)
	body = strings.Replace(body, "eal:\n", "eal:\n  file_prefix: "+prefix+"\n", 1)
	cfg := writeConfig(t, body)
	dir := t.TempDir()
	runRep, genRep := filepath.Join(dir, "run.json"), filepath.Join(dir, "gen.json")
	addr := freeLoopbackPort(t)
	const interval = 100 * time.Millisecond
	cmd, done := startRun(t, cfg, runRep, "--metrics-addr", addr, "--stats-interval", interval.String())
	terminateOnCleanup(t, cmd, done)

	// EAL creates the socket unless telemetry is off: rxprobe never passes
	// --no-telemetry, so with a DPDK built with telemetry a missing or
	// silent socket is a failure. Only a DPDK without it is a skip.
	built, how := dpdkHasTelemetry()
	if !built {
		t.Skipf("this DPDK is built without telemetry (%s)", how)
	}
	sock, dirs := telemetrySocket(prefix)
	if sock == "" {
		t.Fatalf("DPDK has telemetry (%s) but the run has no socket dpdk_telemetry.v2 in %v", how, dirs)
	}
	tc, err := dialTelemetry(sock)
	if err != nil {
		t.Fatalf("telemetry %s: %v", sock, err)
	}
	defer tc.Close()
	t.Logf("telemetry: %s, %s", sock, tc.Version)

	metricsURL := "http://" + addr + "/metrics"
	waitExporterUp(t, metricsURL, done)

	// Paced: every frame arrives.
	const n = 5000
	if g := genInNS(t, v, cfg, genRep, "--count", strconv.Itoa(n), "--rate", "10000"); g.Sent != n {
		t.Fatalf("gen sent %d of %d", g.Sent, n)
	}
	xs, st := compareWithTelemetry(t, tc, metricsURL, "veth", interval)
	t.Logf("paced: %d xstats equal (rx_good_packets %d of %d sent), imissed %d, ipackets %d",
		len(xs), xs["rx_good_packets"], n, st["imissed"], st["ipackets"])

	// Overloaded: a busy process shares the RX CPU while the generator
	// sends as fast as it can, so that imissed (the XDP socket's drops)
	// is usually not 0 and its comparison means something.
	hog := exec.Command("taskset", "-c", strconv.Itoa(rxCPU()), "sh", "-c", "while :; do :; done")
	if err := hog.Start(); err != nil {
		t.Fatalf("starting the CPU hog: %v", err)
	}
	hogDone := make(chan struct{})
	stopHog := func() {
		select {
		case <-hogDone:
		default:
			_ = hog.Process.Kill()
			_ = hog.Wait()
			close(hogDone)
		}
	}
	t.Cleanup(stopHog)
	g := genInNS(t, v, cfg, genRep, "--count", "300000", "--rate", "0")
	stopHog()
	xs, st = compareWithTelemetry(t, tc, metricsURL, "veth", interval)
	t.Logf("overloaded: sent %d, %d xstats equal, imissed %d, ipackets %d", g.Sent, len(xs), st["imissed"], st["ipackets"])
	if st["imissed"] == 0 {
		t.Logf("imissed stayed 0 under overload: its comparison was 0 == 0 this time")
	}
	stopRun(t, cmd, done)
}

// compareWithTelemetry waits until the port's counters stand still, then
// checks that the exporter serves exactly what telemetry reports: every
// xstat by name (both ways), imissed and ipackets. It returns telemetry's
// xstats and stats.
func compareWithTelemetry(t *testing.T, tc *telemetryClient, metricsURL, portName string, interval time.Duration) (xstats, stats map[string]uint64) {
	t.Helper()
	// Standing still for three intervals: the last frames have crossed,
	// and the exporter's snapshot (at most one interval old) holds the
	// final values.
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := tc.counters("/ethdev/xstats,0")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * interval)
		b, err := tc.counters("/ethdev/xstats,0")
		if err != nil {
			t.Fatal(err)
		}
		if equalCounters(a, b) && b["rx_good_packets"] > 0 {
			xstats = b
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the port's xstats kept moving for 30s after the generator stopped: %v -> %v", a, b)
		}
	}
	stats, err := tc.counters("/ethdev/stats,0")
	if err != nil {
		t.Fatal(err)
	}
	fams, _, err := scrapeFamilies(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	after, err := tc.counters("/ethdev/xstats,0")
	if err != nil {
		t.Fatal(err)
	}
	if !equalCounters(xstats, after) {
		t.Fatalf("xstats moved while the test compared them (%v -> %v): nothing to compare exactly", xstats, after)
	}
	if len(xstats) == 0 {
		t.Fatal("telemetry lists no xstats")
	}
	exported := map[string]uint64{}
	for _, s := range fams["rxprobe_xstat_total"].samples {
		if s.labels["port"] == portName {
			exported[s.labels["name"]] = uint64(s.value)
		}
	}
	for name, want := range xstats {
		got, ok := exported[name]
		switch {
		case !ok:
			t.Errorf("xstat %s=%d: not exported", name, want)
		case got != want:
			t.Errorf("xstat %s: exported %d, telemetry %d", name, got, want)
		}
	}
	for name := range exported {
		if _, ok := xstats[name]; !ok {
			t.Errorf("exported xstat %s is not in telemetry's /ethdev/xstats", name)
		}
	}
	// The exporter's float64 values are exact below 2^53.
	port := map[string]string{"port": portName}
	missed, ok := fams["rxprobe_rx_missed_total"].get(port)
	if !ok {
		t.Fatalf("no rxprobe_rx_missed_total{port=%q} in the scrape", portName)
	}
	if uint64(missed) != stats["imissed"] {
		t.Errorf("imissed: exported %v, telemetry /ethdev/stats %d", missed, stats["imissed"])
	}
	if ip, ok := fams["rxprobe_port_rx_packets_total"].get(port); !ok || uint64(ip) != stats["ipackets"] {
		t.Errorf("ipackets: exported %v (found %v), telemetry %d", ip, ok, stats["ipackets"])
	}
	return xstats, stats
}

func equalCounters(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// startPrometheus runs a Prometheus server on a free loopback port that
// scrapes target every second, with its config and storage in a temp
// directory; it is killed when the test ends.
func startPrometheus(t *testing.T, promBin, target string) (addr string, out *lockedBuffer, exited chan error) {
	t.Helper()
	dir := t.TempDir() // removed after the cleanup below has stopped Prometheus
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rxprobe
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: [%q]
`, target)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr = freeLoopbackPort(t)
	prom := exec.Command(promBin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	out = &lockedBuffer{}
	prom.Stdout, prom.Stderr = out, out
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- prom.Wait() }()
	t.Cleanup(func() {
		_ = prom.Process.Kill()
		<-exited
	})
	return addr, out, exited
}

// TestIntegrationPrometheusScrapesRealRun: a real Prometheus server
// scrapes the exporter of a real `rxprobe run` (net_null, no hugepages)
// and its query API shows the loop's packet counter increasing; promtool
// accepts a scrape of it.
func TestIntegrationPrometheusScrapesRealRun(t *testing.T) {
	const promBin, promtool = "/usr/bin/prometheus", "/usr/bin/promtool"
	for _, b := range []string{promBin, promtool} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s is not installed (Debian package prometheus): %v", b, err)
		}
	}
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, true, ""))
	rep := filepath.Join(t.TempDir(), "r.json")
	cmd, done, addr := startServingRun(t, cfg, rep)
	metricsURL := "http://" + addr + "/metrics"

	// promtool lints what a real scrape of this run looks like.
	scrape := httpGet(t, metricsURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	check := exec.CommandContext(ctx, promtool, "check", "metrics")
	check.Stdin = strings.NewReader(scrape)
	if out, err := check.CombinedOutput(); err != nil {
		var xe *exec.ExitError
		if !errors.As(err, &xe) {
			t.Fatalf("promtool: %v", err)
		}
		t.Errorf("promtool check metrics (exit %d) on a scrape of the run:\n%s", xe.ExitCode(), out)
	}

	promAddr, promOut, promDone := startPrometheus(t, promBin, addr)
	query := "http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(`rxprobe_rx_packets_total{port="null0"}`)
	first, last := waitForIncrease(t, query, promDone, done, func() string { return "prometheus log tail:\n" + tail(promOut.String(), 20) })
	t.Logf("Prometheus saw rxprobe_rx_packets_total of the real run go from %v to %v", first, last)
	stopRun(t, cmd, done)
	if r := readReport(t, rep); float64(r.RXPackets) < last {
		t.Errorf("the run's report counts %d packets, fewer than the %v Prometheus saw", r.RXPackets, last)
	}
}
