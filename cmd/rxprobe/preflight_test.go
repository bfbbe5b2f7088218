package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rxprobe/rxprobe/isolation"
)

// execCmd runs a freshly built command with args and returns its output
// and the exit code main would use.
func execCmd(t *testing.T, cmd *cobra.Command, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	if err == nil {
		return out.String(), exitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return out.String(), int(se)
	}
	out.WriteString("error: " + err.Error())
	var ee *exitError
	if errors.As(err, &ee) {
		return out.String(), ee.Code
	}
	return out.String(), exitUsage
}

func TestPreflightCmdTable(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{
			name:     "isolated host passes",
			args:     []string{"--host-root", "../../testdata/hosts/isolated-2socket", "--rx-cpus", "2-5", "--housekeeping", "0-1", "--pci", "0000:3b:00.0"},
			wantCode: 0,
			want:     []string{"host probe-a1", "PASS    isolcpus", "PASS    numa_locality", "WARN    foreign_tasks", "10 pass, 1 warn, 0 fail, 1 skip"},
		},
		{
			name:     "misconfigured host fails with remedies",
			args:     []string{"--host-root", "../../testdata/hosts/misconfigured", "--rx-cpus", "2-5", "--housekeeping", "0-1,10", "--pci", "0000:3b:00.0"},
			wantCode: 1,
			want:     []string{"FAIL    isolcpus", "remedy:   add isolcpus=managed_irq,domain,2-5", "FAIL numa_locality", "sysctl -w kernel.numa_balancing=0"},
		},
		{
			name:     "garbled host reports, never panics",
			args:     []string{"--host-root", "../../testdata/hosts/garbled", "--rx-cpus", "2"},
			wantCode: 1,
			want:     []string{"SKIP    isolcpus", "FAIL    irqbalance"},
		},
		{
			name:     "short PCI address is the same device",
			args:     []string{"--host-root", "../../testdata/hosts/isolated-2socket", "--rx-cpus", "2-5", "--housekeeping", "0-1", "--pci", "3B:00.0"},
			wantCode: 0,
			want:     []string{"PASS    numa_locality", "0000:3b:00.0 on node 0"},
		},
		{
			name:     "port without locality on two nodes warns",
			args:     []string{"--host-root", "../../testdata/hosts/isolated-2socket", "--rx-cpus", "2-5", "--housekeeping", "0-1", "--pci", "5e:00.0"},
			wantCode: 0,
			want:     []string{"WARN    numa_locality", "firmware does not say"},
		},
		{name: "bad PCI address", args: []string{"--rx-cpus", "1", "--pci", "3b:00.9"}, wantCode: 2, want: []string{"--pci", "function is one digit 0 to 7"}},
		{name: "no spec", args: []string{"--host-root", "../../testdata/hosts/garbled"}, wantCode: 2, want: []string{"needs --config FILE or --rx-cpus"}},
		{name: "bad cpulist", args: []string{"--rx-cpus", "3-1"}, wantCode: 2, want: []string{"--rx-cpus", "reversed"}},
		{name: "config and rx-cpus", args: []string{"--config", "x.yaml", "--rx-cpus", "1"}, wantCode: 2, want: []string{"--rx-cpus cannot be combined with --config"}},
		{name: "missing config", args: []string{"--config", "/nonexistent/rxprobe.yaml"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := execCmd(t, newPreflightCmd(), tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("colour codes in output that is not a terminal")
			}
		})
	}
}

func TestPreflightCmdJSON(t *testing.T) {
	out, code := execCmd(t, newPreflightCmd(), "--json", "--host-root", "../../testdata/hosts/misconfigured", "--rx-cpus", "2-5")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var rep isolation.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, out)
	}
	if len(rep.Results) != 12 || rep.Host != "lab-box-7" || !rep.Failed() {
		t.Errorf("report: host %q, %d results, failed %v", rep.Host, len(rep.Results), rep.Failed())
	}
}

func TestPreflightCmdColour(t *testing.T) {
	var buf bytes.Buffer
	isolation.Report{Results: []isolation.Result{{ID: "x", Status: isolation.StatusFail, Expected: "e"}}}.WriteText(&buf, true)
	if !strings.Contains(buf.String(), "\x1b[31mFAIL\x1b[0m") {
		t.Errorf("no red FAIL with colour on:\n%q", buf.String())
	}
}
