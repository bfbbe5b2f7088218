package run

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/config"
)

const hosts = "../../testdata/hosts"

// nullConfig is one net_null queue on CPU 2 of a 32-CPU fixture host.
func nullConfig(t *testing.T, allowUnisolated bool) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	body := "eal:\n  no_huge: true\nhousekeeping_cpus: \"0-1\"\nports:\n  - name: p0\n    device: net_null0\n    rx_cpus: \"2\"\n"
	if allowUnisolated {
		body += "run:\n  allow_unisolated: true\n"
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(mustParse(t, "0-31")); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPreflightGate(t *testing.T) {
	isolated := hostfs.New(filepath.Join(hosts, "isolated-2socket"))
	misconfigured := hostfs.New(filepath.Join(hosts, "misconfigured"))
	if d, err := preflightGate(nullConfig(t, false), isolated); err != nil || d != nil {
		t.Errorf("isolated host: degraded %q, error %v; want neither", d, err)
	}
	_, err := preflightGate(nullConfig(t, false), misconfigured)
	if !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), "isolcpus") || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("misconfigured host: error %v; want one line matching ErrPreflight naming isolcpus", err)
	}
	d, err := preflightGate(nullConfig(t, true), misconfigured)
	if err != nil || len(d) != 1 || !strings.HasPrefix(d[0], "unisolated: preflight failed isolcpus, ") || !strings.HasSuffix(d[0], " (--allow-unisolated)") {
		t.Errorf("misconfigured host, allowed: degraded %q, error %v", d, err)
	}
}

func TestGuardOptionsReadNohzFull(t *testing.T) {
	cfg := nullConfig(t, false)
	if o := guardOptions(cfg, filepath.Join(hosts, "isolated-2socket")); o.NohzFull.String() != "2-7,18-23" {
		t.Errorf("nohz_full %q, want 2-7,18-23", o.NohzFull.String())
	}
	if o := guardOptions(cfg, filepath.Join(hosts, "misconfigured")); !o.NohzFull.IsEmpty() {
		t.Errorf("nohz_full (null) read as %q", o.NohzFull.String())
	}
}

// The watcher protocol, parent side: stop ends the child and turns its
// lines into drift events, attributions and notes, and removes the file.
func TestWatcherStopReadsFindings(t *testing.T) {
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Skipf("needs sleep(1): %v", err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	path := filepath.Join(t.TempDir(), "watch.jsonl")
	at := `"2026-11-30T12:00:01Z"`
	lines := `{"at":` + at + `,"kind":"ready","cpu":-1,"detail":""}
{"at":` + at + `,"kind":"note","cpu":-1,"detail":"attribution unavailable: no tracefs"}
{"at":` + at + `,"kind":"attribution","cpu":2,"detail":"3 TLB shootdown in 1.0 s, sent by x"}
{"at":` + at + `,"kind":"drift","cpu":-1,"detail":"irq 41 moved"}
{"at":` + at + `,"kind":"drift","cpu":-1,"det` // a line cut short by the kill
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	f := (&watcher{child: c, path: path}).stop()
	select {
	case <-c.exited:
	default:
		t.Error("the child still runs after stop")
	}
	want := time.Date(2026, 11, 30, 12, 0, 1, 0, time.UTC)
	if len(f.notes) != 1 || f.notes[0] != "attribution unavailable: no tracefs" {
		t.Errorf("notes %q", f.notes)
	}
	if len(f.attrib) != 1 || f.attrib[0].CPU != 2 || !f.attrib[0].At.Equal(want) {
		t.Errorf("attributions %+v", f.attrib)
	}
	if len(f.drift) != 1 || f.drift[0].Kind != "drift" || f.drift[0].Detail != "irq 41 moved" || f.drift[0].Port != -1 || f.drift[0].Queue != -1 {
		t.Errorf("drift %+v", f.drift)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("watcher file left behind: %v", err)
	}
	var none *watcher
	if f := none.stop(); f.drift != nil || f.attrib != nil || f.notes != nil {
		t.Error("a run without watcher has findings")
	}
}

func mustParse(t *testing.T, list string) cpuset.Set {
	t.Helper()
	s, err := cpuset.Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
