package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx"
)

// TestIntegrationVethGenServe: one generator process serves two trials at
// different rates over a veth pair without a restart; each reply counts
// exactly its trial, and the probe received their sum.
func TestIntegrationVethGenServe(t *testing.T) {
	v := newVethPair(t)
	cfg := writeConfig(t, vethConfig(v, "net_af_xdp0", fmt.Sprintf(afXDPArgs, v.a), 4096))
	runRep := filepath.Join(t.TempDir(), "run.json")
	run, done := startRun(t, cfg, runRep)
	gs := startGenServe(t, v, cfg)
	trials := []rx.TrialSpec{{RatePPS: 2000, Count: 1000}, {RatePPS: 10000, Count: 5000}}
	var total uint64
	for _, tr := range trials {
		r := gs.trial(fmt.Sprintf(`{"rate_pps": %v, "count": %d, "duration": "20s"}`, tr.RatePPS, tr.Count))
		if r.Sent != tr.Count || r.TXDropped != 0 || r.PortOPkts != tr.Count {
			t.Errorf("trial %+v: sent %d, tx_dropped %d, port opackets %d", tr, r.Sent, r.TXDropped, r.PortOPkts)
		}
		if r.AchievedPPS > tr.RatePPS*1.05 {
			t.Errorf("trial %+v achieved %.0f pps: the new rate was not applied", tr, r.AchievedPPS)
		}
		total += r.Sent
	}
	gs.close()
	stopRun(t, run, done)
	if r := readReport(t, runRep); r.RXPackets != total {
		t.Errorf("probe received %d, the trials sent %d", r.RXPackets, total)
	}
}

// genServe is `rxprobe gen --serve` running in a veth pair's namespace.
type genServe struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  io.Reader
	replies *bufio.Scanner
	stderr  *strings.Builder
}

// startGenServe starts `rxprobe gen --serve` with cfg in v's namespace;
// it is killed at the test's end if still running.
func startGenServe(t *testing.T, v vethPair, cfg string) *genServe {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	gen := exec.CommandContext(ctx, "ip", "netns", "exec", v.ns, os.Args[0], "gen", "--config", cfg, "--serve")
	gen.Env = append(os.Environ(), "RXPROBE_AS_MAIN=1")
	g := &genServe{t: t, cmd: gen, stderr: &strings.Builder{}}
	var err error
	if g.stdin, err = gen.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if g.stdout, err = gen.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	gen.Stderr = g.stderr
	if err := gen.Start(); err != nil {
		t.Fatal(err)
	}
	g.replies = bufio.NewScanner(g.stdout)
	return g
}

// trial sends one trial line and returns its reply, which must not be
// an error.
func (g *genServe) trial(line string) rx.ServeReply {
	g.t.Helper()
	if _, err := fmt.Fprintln(g.stdin, line); err != nil {
		g.t.Fatal(err)
	}
	if !g.replies.Scan() {
		g.t.Fatalf("no reply to %s: %v\n%s", line, g.replies.Err(), g.stderr.String())
	}
	var r rx.ServeReply
	if err := json.Unmarshal(g.replies.Bytes(), &r); err != nil || r.Error != "" {
		g.t.Fatalf("reply %s: %v", g.replies.Bytes(), err)
	}
	return r
}

// close ends the input: the generator must exit 0 with nothing more on
// its output.
func (g *genServe) close() {
	g.t.Helper()
	_ = g.stdin.Close()
	if err := g.cmd.Wait(); err != nil {
		g.t.Fatalf("gen --serve after EOF: %v\n%s", err, g.stderr.String())
	}
	if rest, _ := io.ReadAll(g.stdout); len(rest) != 0 {
		g.t.Errorf("output after the replies: %q", rest)
	}
}
