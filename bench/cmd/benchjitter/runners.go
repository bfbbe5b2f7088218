package main

import (
	"github.com/rxprobe/rxprobe/bench/internal/benchkit"

	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pinSelf moves every thread of this process to CPU cpu, so that the
// harness (its waits, the scraper) never runs on the measured CPU. New
// threads inherit the mask of the thread that creates them. It returns
// the mask the process had, for children that must not inherit the pin.
func pinSelf(cpu int) (orig string, err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return "", err
	}
	var cpus []string
	for i := 0; i < 1024; i++ {
		if old.IsSet(i) {
			cpus = append(cpus, strconv.Itoa(i))
		}
	}
	var set unix.CPUSet
	set.Set(cpu)
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		return "", err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(filepath.Base(t))
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return "", fmt.Errorf("pin thread %d to CPU %d: %w", tid, cpu, err)
		}
	}
	return strings.Join(cpus, ","), nil
}

// runOslat runs oslat's worker on s.CPU for s.Seconds with the whole
// process (its main thread) confined to the housekeeping CPU.
func runOslat(ctx context.Context, s settings, jsonPath, logPath string) (oslatResult, float64, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return oslatResult{}, 0, err
	}
	defer log.Close()
	args := oslatArgs(s, jsonPath)
	cmd := exec.CommandContext(ctx, "taskset", append([]string{"-c", strconv.Itoa(s.Housekeeping), s.Oslat}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	// oslat writes its results on SIGINT too.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return oslatResult{}, 0, fmt.Errorf("oslat: %w", err)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	shareC := make(chan float64, 1)
	go func() { shareC <- watchBusiest(wctx, cmd.Process.Pid, "") }()
	err = cmd.Wait()
	stopWatch()
	cpuShare := <-shareC
	if err != nil {
		return oslatResult{}, 0, fmt.Errorf("oslat: %w (output: %s)", err, logPath)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return oslatResult{}, 0, err
	}
	res, err := parseOslat(data, s.OslatBuckets, s.CPU)
	return res, cpuShare, err
}

// oslatArgs is oslat's command line (after `taskset -c HK oslat`).
func oslatArgs(s settings, jsonPath string) []string {
	a := []string{"--cpu-list", strconv.Itoa(s.CPU), "--cpu-main-thread", strconv.Itoa(s.Housekeeping),
		"--duration", strconv.Itoa(s.Seconds), "--bucket-size", strconv.Itoa(s.OslatBuckets),
		"--quiet", "--zero-omit", "--json=" + jsonPath}
	if s.RTPrio > 0 {
		a = append(a, "--rtprio", strconv.Itoa(s.RTPrio))
	}
	return a
}

// observed is what the harness did to rxprobe's exporter during a run.
type observed struct {
	Scrapes, Failed int
	Bytes           int64
	Slowest         time.Duration
}

// runRxprobe runs `rxprobe run` for s.Seconds. With observe, the stats
// thread samples every s.ObservedInterval and the exporter runs on a free
// local port, scraped at s.ScrapeHz until rxprobe exits; without it there
// is no exporter and the config's stats interval applies.
func runRxprobe(ctx context.Context, s settings, allCPUs, reportPath, logPath string, observe bool) (rxprobeResult, float64, observed, error) {
	var obs observed
	log, err := os.Create(logPath)
	if err != nil {
		return rxprobeResult{}, 0, obs, err
	}
	defer log.Close()
	ready := reportPath + ".ready"
	args := []string{"-c", allCPUs, s.Rxprobe, "run", "--config", s.Config,
		"--duration", (time.Duration(s.Seconds) * time.Second).String(), "--report", reportPath,
		"--status", "never", "--allow-unisolated", "--ready-file", ready}
	addr := ""
	if observe {
		if addr, err = freeLocalAddr(); err != nil {
			return rxprobeResult{}, 0, obs, err
		}
		args = append(args, "--stats-interval", s.ObservedInterval.String(), "--metrics-addr", addr)
	} else {
		args = append(args, "--no-exporter")
	}
	// taskset with the harness's original mask: rxprobe places its own
	// threads (loop on the RX CPU, Go runtime on housekeeping) as it
	// would when started from a shell.
	cmd := exec.CommandContext(ctx, "taskset", args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return rxprobeResult{}, 0, obs, fmt.Errorf("rxprobe run: %w", err)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	shareC := make(chan float64, 1)
	go func() { shareC <- watchBusiest(wctx, cmd.Process.Pid, ready) }()
	obsC := make(chan observed, 1)
	if observe {
		go func() { obsC <- scrape(wctx, "http://"+addr+"/metrics", ready, s.ScrapeHz) }()
	} else {
		obsC <- obs
	}
	err = cmd.Wait()
	stopWatch()
	cpuShare, obs := <-shareC, <-obsC
	if err != nil {
		return rxprobeResult{}, 0, obs, fmt.Errorf("rxprobe run: %w (output: %s)", err, logPath)
	}
	data, err := os.ReadFile(reportPath)
	if err != nil {
		return rxprobeResult{}, 0, obs, err
	}
	res, err := parseReport(data, s.CPU)
	return res, cpuShare, obs, err
}

// freeLocalAddr returns a 127.0.0.1 port nobody listens on now, so the
// exporter does not collide with another rxprobe on the default 9470.
func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// scrape GETs url hz times a second from the moment ready exists until
// ctx ends, the way Prometheus would (a body read to the end).
func scrape(ctx context.Context, url, ready string, hz float64) observed {
	var o observed
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(time.Duration(float64(time.Second) / hz))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return o
		case <-tick.C:
		}
		if _, err := os.Stat(ready); err != nil {
			continue
		}
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				o.Failed++
			}
			continue
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			o.Failed++
			continue
		}
		o.Scrapes++
		o.Bytes += n
		o.Slowest = max(o.Slowest, time.Since(start))
	}
}

// watchBusiest samples the on-CPU time (/proc/PID/task/TID/schedstat) of
// every thread of pid every 100 ms, starting once ready exists ("" : at
// once), until ctx ends. It returns the on-CPU share (benchkit.Busy) of
// the thread that ran the most (the busy loop: oslat's worker, rxprobe's
// RX lcore); 0 if it cannot tell. Below 1 the loop's CPU was shared with
// other work.
func watchBusiest(ctx context.Context, pid int, ready string) float64 {
	threads := map[int]*benchkit.Busy{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready == "" || exists(ready) {
			tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
			for _, t := range tasks {
				tid, err := strconv.Atoi(filepath.Base(t))
				if err != nil {
					continue
				}
				smp, err := benchkit.SampleThread(pid, tid)
				if err != nil {
					continue
				}
				if threads[tid] == nil {
					threads[tid] = &benchkit.Busy{}
				}
				threads[tid].Add(smp)
			}
		}
		select {
		case <-ctx.Done():
			var best *benchkit.Busy
			for _, b := range threads {
				if best == nil || b.Ran() > best.Ran() {
					best = b
				}
			}
			if best == nil {
				return 0
			}
			return best.Share()
		case <-tick.C:
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
