package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/run"
	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/trialapi"
)

// curlJSON runs curl with args against the trial API and decodes the
// JSON body into out (when not nil); it returns the HTTP status.
func curlJSON(t *testing.T, out any, args ...string) int {
	t.Helper()
	full := append([]string{"-sS", "--max-time", "30", "-w", "\n%{http_code}"}, args...)
	b, err := exec.Command("curl", full...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	s := strings.TrimSpace(string(b))
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		t.Fatalf("curl %v: no body: %q", args, s)
	}
	code, err := strconv.Atoi(s[i+1:])
	if err != nil {
		t.Fatalf("curl %v: status %q", args, s[i+1:])
	}
	if out != nil {
		if err := json.Unmarshal([]byte(s[:i]), out); err != nil {
			t.Fatalf("curl %v: %v in %s", args, err, s[:i])
		}
	}
	return code
}

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl")
	}
}

// waitTrialAPI waits until the trial API child answers its health check.
func waitTrialAPI(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", base+"/v1/health").Output()
		if err == nil && string(out) == "200" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trial API at %s never answered its health check (last %q, %v)", base, out, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trialOf runs POST /v1/trials, then during, then POST .../stop, and
// checks what every stopped trial must satisfy: GET returns the same,
// a second stop is 409, packets add up over queues and ports.
func trialOf(t *testing.T, base string, during func()) trialapi.Trial {
	t.Helper()
	var start, stop, again trialapi.Trial
	if code := curlJSON(t, &start, "-X", "POST", base+"/v1/trials"); code != 201 || start.ID == "" {
		t.Fatalf("start: %d %+v", code, start)
	}
	during()
	if code := curlJSON(t, &stop, "-X", "POST", base+"/v1/trials/"+start.ID+"/stop"); code != 200 || stop.Result == nil {
		t.Fatalf("stop: %d %+v", code, stop)
	}
	if code := curlJSON(t, &again, base+"/v1/trials/"+start.ID); code != 200 || again.Result == nil ||
		again.Result.RXPackets != stop.Result.RXPackets || again.StopRequest != stop.StopRequest {
		t.Errorf("GET after stop: %d %+v", code, again)
	}
	var e struct{ Error string }
	if code := curlJSON(t, &e, "-X", "POST", base+"/v1/trials/"+start.ID+"/stop"); code != 409 || e.Error == "" {
		t.Errorf("second stop: %d %q, want 409", code, e.Error)
	}
	if code := curlJSON(t, &e, base+"/v1/trials/t-0000"); code != 404 {
		t.Errorf("unknown trial: %d, want 404", code)
	}
	var sum uint64
	for _, p := range stop.Result.Ports {
		var ps uint64
		for _, q := range p.Queues {
			ps += q.RXPackets
		}
		if ps != p.RXPackets {
			t.Errorf("port %s: %d packets, its queues %d", p.Port, p.RXPackets, ps)
		}
		sum += ps
	}
	if sum != stop.Result.RXPackets {
		t.Errorf("trial: %d packets, per-queue sum %d", stop.Result.RXPackets, sum)
	}
	return stop
}

// TestIntegrationTrialAPINetNull: `rxprobe run --trial-api` on net_null
// with a one-minute stats interval, so that every sample inside the test
// comes from a request: a trial sees packets only if its boundaries are
// sampled on request (a stale stop snapshot would show none). The run's
// steady-state heap stays at zero allocations with trials served.
func TestIntegrationTrialAPINetNull(t *testing.T) {
	needCurl(t)
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, true, "stats:\n  exporter: false\n  interval: 1m\n"))
	addr := "127.0.0.1:" + freePort(t)
	base := "http://" + addr
	rep := filepath.Join(t.TempDir(), "r.json")
	cmd, done := startRun(t, cfg, rep, "--trial-api", addr)
	waitTrialAPI(t, base)
	time.Sleep(2500 * time.Millisecond) // past the run's warm-up: the heap window sees the trials
	var trials []trialapi.Trial
	for range 3 {
		trials = append(trials, trialOf(t, base, func() { time.Sleep(200 * time.Millisecond) }))
	}
	stopRun(t, cmd, done)
	for i, tr := range trials {
		r := tr.Result
		if r.RXPackets == 0 || r.RXBytes != 64*r.RXPackets {
			t.Errorf("trial %d: %d packets, %d bytes: nothing fresh at the stop", i, r.RXPackets, r.RXBytes)
		}
		if tr.StopSample != tr.StartSample+1 || tr.StopRequest != tr.StartRequest+1 {
			t.Errorf("trial %d: samples %d → %d, requests %d → %d: want one sample, on request, per boundary",
				i, tr.StartSample, tr.StopSample, tr.StartRequest, tr.StopRequest)
		}
		if r.DurationS <= 0 || len(r.Ledger) != 6 || len(r.Interrupts) != 1 || r.Interrupts[0].CPU != rxCPU() {
			t.Errorf("trial %d: duration %.3f s, %d ledger layers, interrupts %+v", i, r.DurationS, len(r.Ledger), r.Interrupts)
		}
		q := r.Ports[0].Queues[0]
		var gaps uint64
		for _, c := range q.GapHistogram.Counts {
			gaps += c
		}
		if gaps == 0 || len(q.GapHistogram.Counts) != len(q.GapHistogram.BoundsS)+1 {
			t.Errorf("trial %d: gap histogram %d gaps, %d counts for %d bounds", i, gaps, len(q.GapHistogram.Counts), len(q.GapHistogram.BoundsS))
		}
	}
	final := readReport(t, rep)
	if final.SteadyState == nil || final.SteadyState.Mallocs != 0 {
		t.Errorf("steady state with trials served: %+v, want 0 allocations", final.SteadyState)
	}
	if _, err := os.Stat("/dev/shm/rxprobe-" + prefix); err == nil {
		t.Error("segment left behind")
	}
}

// TestIntegrationTrialAPIVethExternalSender: an external sender (`rxprobe
// gen --count N` from the peer namespace) sends between a trial's start
// and stop; the trial accounts for every frame: received + the ledger's
// before-loop drops = N. Once lossless (10 kpps, a deep ring), once in
// overload (as fast as the generator can, a CPU hog on the RX CPU, a
// short ring), where the ledger must carry the difference.
func TestIntegrationTrialAPIVethExternalSender(t *testing.T) {
	needCurl(t)
	for _, tc := range []struct {
		name       string
		n, ring    int
		rate       string
		hog, lossy bool
	}{
		{"lossless", 20000, 4096, "10000", false, false},
		{"overload", 300000, 1024, "0", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newNamedVethPair(t, "rxta")
			cfg := writeConfig(t, vethConfig(v, "net_af_xdp0", fmt.Sprintf(afXDPArgs, v.a), tc.ring)+"stats:\n  exporter: false\n")
			addr := "127.0.0.1:" + freePort(t)
			base := "http://" + addr
			dir := t.TempDir()
			cmd, done := startRun(t, cfg, filepath.Join(dir, "run.json"), "--trial-api", addr)
			waitTrialAPI(t, base)
			if tc.hog {
				hog := exec.Command("taskset", "-c", fmt.Sprint(rxCPU()), "sh", "-c", "while :; do :; done")
				if err := hog.Start(); err != nil {
					t.Fatalf("starting the CPU hog: %v", err)
				}
				t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
			}
			var sent uint64
			tr := trialOf(t, base, func() {
				g := genInNS(t, v, cfg, filepath.Join(dir, "gen.json"), "--count", strconv.Itoa(tc.n), "--rate", tc.rate)
				sent = g.Sent
				time.Sleep(500 * time.Millisecond) // the last frames cross the veth
			})
			stopRun(t, cmd, done)
			r := tr.Result
			for _, l := range r.Ledger {
				t.Logf("sent %d, received %d; ledger %s: %d (after the loop: %v)", sent, r.RXPackets, l.Layer, l.Drops, l.AfterLoop)
			}
			if sent != uint64(tc.n) {
				t.Fatalf("gen sent %d, want %d", sent, tc.n)
			}
			if r.RXPackets+r.LostBeforeLoop != sent {
				t.Errorf("trial: received %d + before-loop drops %d = %d, sent %d", r.RXPackets, r.LostBeforeLoop, r.RXPackets+r.LostBeforeLoop, sent)
			}
			if r.RXPackets == 0 || r.RXBytes != 64*r.RXPackets {
				t.Errorf("trial: %d packets, %d bytes", r.RXPackets, r.RXBytes)
			}
			if tc.lossy && r.LostBeforeLoop == 0 {
				t.Errorf("overload: no drop in the trial's ledger (received %d of %d)", r.RXPackets, sent)
			}
		})
	}
}

// TestTrialAPIBadFlags: bad listen options are one line and exit 2, before
// anything starts.
func TestTrialAPIBadFlags(t *testing.T) {
	cfg := writeConfig(t, nullConfig(uniquePrefix(t), true, ""))
	tok := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tok, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--config", cfg, "--trial-api", "0.0.0.0:9471"}, "not a loopback address"},
		{[]string{"run", "--config", cfg, "--trial-api", "10.0.0.1:9471", "--trial-api-public"}, "needs --trial-api-token-file"},
		{[]string{"run", "--config", cfg, "--trial-api", "10.0.0.1:9471", "--trial-api-public", "--trial-api-token-file", "/nonexistent/tok"}, "no such file"},
		{[]string{"run", "--config", cfg, "--trial-api", "9471"}, "want HOST:PORT"},
		{[]string{"run", "--config", cfg, "--trial-api-token-file", tok}, "need --trial-api HOST:PORT"},
		{[]string{"trial-api", "--trial-api", "0.0.0.0:9471"}, "not a loopback address"},
		{[]string{"trial-api", "--trial-api", "127.0.0.1:0", "--shm-dir", t.TempDir(), "--wait", "0s"}, "no rxprobe segment"},
	} {
		res := runRxprobe(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
}

// TestIntegrationTrialAPIStandaloneWithToken: `rxprobe trial-api`
// attached to a run started without it, with a token: requests without
// the token (or with another) are 401 and take no sample; with it, a
// trial works.
func TestIntegrationTrialAPIStandaloneWithToken(t *testing.T) {
	needCurl(t)
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, true, "stats:\n  exporter: false\n"))
	cmd, done := startRun(t, cfg, filepath.Join(t.TempDir(), "r.json"))
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	api := rxprobeCmd(ctx, "trial-api", "--attach", prefix, "--trial-api", addr, "--trial-api-token-file", tok)
	var stderr lockedBuffer
	api.Stderr = &stderr
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "serving http://") {
		if time.Now().After(deadline) {
			t.Fatalf("trial-api did not start: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var e struct{ Error string }
	for _, hdr := range [][]string{nil, {"-H", "Authorization: Bearer wrong"}, {"-H", "Authorization: s3cret-token"}} {
		args := append(append([]string{}, hdr...), "-X", "POST", base+"/v1/trials")
		if code := curlJSON(t, &e, args...); code != 401 || e.Error == "" {
			t.Errorf("start with %v: %d %q, want 401", hdr, code, e.Error)
		}
	}
	auth := []string{"-H", "Authorization: Bearer s3cret-token"}
	var start, stop trialapi.Trial
	if code := curlJSON(t, &start, append(auth, "-X", "POST", base+"/v1/trials")...); code != 201 {
		t.Fatalf("start with the token: %d", code)
	}
	if start.StartRequest != 1 {
		t.Errorf("first authorised trial answers request %d: refused requests took samples", start.StartRequest)
	}
	time.Sleep(200 * time.Millisecond)
	if code := curlJSON(t, &stop, append(auth, "-X", "POST", base+"/v1/trials/"+start.ID+"/stop")...); code != 200 || stop.Result.RXPackets == 0 {
		t.Errorf("stop with the token: %d %+v", code, stop.Result)
	}
	_ = api.Process.Signal(syscall.SIGTERM)
	if err := <-apiDone; err != nil {
		t.Errorf("trial-api on SIGTERM: %v\n%s", err, stderr.String())
	}
	stopRun(t, cmd, done)
}

// TestIntegrationStraceSampleRequests: serving sample requests keeps the
// RX process quiet. strace on every thread of `rxprobe run` sees no mmap,
// munmap, madvise, mprotect, brk or thread creation while another
// process requests samples back to back (the trial API's path). The
// detector is the one TestIntegrationStraceWholeRXProcess proves with
// its planted control.
func TestIntegrationStraceSampleRequests(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace (apt-get install strace)")
	}
	prefix := uniquePrefix(t)
	cfg := writeConfig(t, nullConfig(prefix, true, "stats:\n  exporter: false\n"))
	cmd, done := startRun(t, cfg, filepath.Join(t.TempDir(), "r.json"), "--status", "never")
	terminateOnCleanup(t, cmd, done)
	time.Sleep(run.Warmup + 500*time.Millisecond)
	q, err := shm.OpenRequester("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	stop, served := make(chan struct{}), make(chan int, 1)
	go func() {
		n := 0
		defer func() { served <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if q.Wait(context.Background(), q.Request(), 5*time.Second) != nil {
				return // the run stopped
			}
			n++
		}
	}()
	calls, threads := straceWindow(t, strace, cmd, done, 4*time.Second)
	close(stop)
	n := <-served
	t.Logf("strace on %d threads for 4 s; %d sample requests served", threads, n)
	if n < 10 {
		t.Errorf("only %d sample requests served: the window did not exercise the path", n)
	}
	if len(calls) > 0 {
		t.Errorf("serving sample requests changed the RX process's mappings (%d calls):\n%s", len(calls), strings.Join(calls, "\n"))
	}
}
