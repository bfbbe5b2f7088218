package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// benchConfig rewrites the rxprobe config (configs/null.yaml) for one
// benchmark: the first port gets the benchmark's device, CPU, ring, burst,
// mempool size, cache and data room; the housekeeping CPU is set
// explicitly. Everything else in the file is kept. It refuses a file whose
// first port is not the device being benchmarked, so the two tools cannot
// silently poll different devices.
func benchConfig(src []byte, s settings) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("rxprobe config: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("rxprobe config: not a YAML mapping")
	}
	root := doc.Content[0]
	ports := mapValue(root, "ports")
	if ports == nil || ports.Kind != yaml.SequenceNode || len(ports.Content) != 1 {
		return nil, errors.New("rxprobe config: want exactly one port")
	}
	port := ports.Content[0]
	if dev := mapValue(port, "device"); dev == nil || dev.Value != s.Device {
		return nil, fmt.Errorf("rxprobe config: port device is not %s", s.Device)
	}
	if da := mapValue(port, "devargs"); da != nil && da.Value != "" {
		return nil, fmt.Errorf("rxprobe config: devargs %q: testpmd runs %s without devargs", da.Value, s.Device)
	}
	setScalar(root, "housekeeping_cpus", strconv.Itoa(s.Housekeeping), "!!str")
	for _, kv := range []struct{ key, val, tag string }{
		{"rx_queues", "1", "!!int"},
		{"rx_cpus", strconv.Itoa(s.CPU), "!!str"},
		{"rx_ring", strconv.Itoa(s.Ring), "!!int"},
		{"burst", strconv.Itoa(s.Burst), "!!int"},
		{"mbufs", strconv.Itoa(s.Mbufs), "!!int"},
		{"mbuf_cache", strconv.Itoa(s.MbufCache), "!!int"},
		{"mbuf_data_room", strconv.Itoa(s.DataRoom), "!!int"},
	} {
		setScalar(port, kv.key, kv.val, kv.tag)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("rxprobe config: %w", err)
	}
	return buf.Bytes(), enc.Close()
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setScalar(m *yaml.Node, key, val, tag string) {
	if v := mapValue(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Style = yaml.ScalarNode, tag, val, 0
		if tag == "!!str" {
			v.Style = yaml.DoubleQuotedStyle
		}
		return
	}
	style := yaml.Style(0)
	if tag == "!!str" {
		style = yaml.DoubleQuotedStyle
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val, Style: style})
}

type rxprobeResult struct {
	Mpps float64 // the report's rx_mpps: packets / loop run time
	// Steady is the mean of the per-second status rates after the first
	// second (0 when the run printed fewer than two): the same
	// warm-up exclusion testpmd's window gets, for diagnosis only.
	Steady float64
	// CPUShare is the fraction of the loop's run time its thread was on a
	// CPU (/proc/PID/task/TID/schedstat); 0: unknown.
	CPUShare  float64
	Packets   uint64
	DurationS float64
	Drops     uint64
	MaxGap    time.Duration
}

// parseReport checks a report against the settings and extracts the result.
func parseReport(data []byte, s settings) (rxprobeResult, error) {
	r, err := benchkit.ParseRunReport(data, s.CPU)
	if err != nil {
		return rxprobeResult{}, err
	}
	return rxprobeResult{Mpps: r.RXMpps, Packets: r.RXPackets, DurationS: r.DurationS,
		Drops:  r.Ports[0].IMissed + r.Ports[0].RXNoMbuf,
		MaxGap: time.Duration(r.Queue().MaxGapNs)}, nil
}

// runRxprobe runs `rxprobe run` for s.Seconds on the rewritten config.
func runRxprobe(ctx context.Context, s settings, configPath, reportPath, logPath string) (rxprobeResult, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return rxprobeResult{}, err
	}
	defer log.Close()
	dur := time.Duration(s.Seconds * float64(time.Second))
	ready := reportPath + ".ready"
	cmd := exec.CommandContext(ctx, s.Rxprobe, "run", "--config", configPath,
		"--duration", dur.String(), "--report", reportPath, "--status", "always", "--allow-unisolated",
		"--ready-file", ready)
	cmd.Stdout, cmd.Stderr = log, log
	// On interrupt, let rxprobe stop its loops and clean up its files.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return rxprobeResult{}, fmt.Errorf("rxprobe run: %w", err)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	shareC := make(chan float64, 1)
	go func() { shareC <- watchWorker(wctx, cmd.Process.Pid, ready) }()
	err = cmd.Wait()
	stopWatch()
	cpuShare := <-shareC
	if err != nil {
		return rxprobeResult{}, fmt.Errorf("rxprobe run: %w (output: %s)", err, logPath)
	}
	data, err := os.ReadFile(reportPath)
	if err != nil {
		return rxprobeResult{}, err
	}
	res, err := parseReport(data, s)
	if err != nil {
		return res, err
	}
	res.CPUShare = cpuShare
	out, err := os.ReadFile(logPath)
	if err != nil {
		return res, err
	}
	if rates := parseStatus(out); len(rates) >= 2 {
		res.Steady = mean(rates[1:])
	}
	return res, nil
}

// statusRe matches a live status line of `rxprobe run --status always`
// (rx.AppendStatus): "   2.0s  rx  67.015 Mpps ...".
var statusRe = regexp.MustCompile(`(?m)^\s*[0-9.]+s\s+rx\s+([0-9.]+) Mpps`)

// parseStatus returns the per-interval packet rates, in Mpps, of the
// status lines in out.
func parseStatus(out []byte) []float64 {
	var rates []float64
	for _, m := range statusRe.FindAllSubmatch(out, -1) {
		if v, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
			rates = append(rates, v)
		}
	}
	return rates
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
