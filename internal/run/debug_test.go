package run

import (
	"errors"
	"strings"
	"testing"
)

func TestDebugCheckAndDegraded(t *testing.T) {
	cases := []struct {
		name     string
		d        Debug
		bad      string   // a word of the error; "" = accepted
		degraded []string // the options named in the degraded lines, in order
	}{
		{name: "none", d: Debug{}},
		{name: "munmap 200", d: Debug{MunmapHz: 200}, degraded: []string{"--debug-munmap-hz 200"}},
		{name: "munmap max", d: Debug{MunmapHz: MaxMunmapHz}, degraded: []string{"--debug-munmap-hz 10000"}},
		{name: "munmap 2e9 (panicked in NewTicker)", d: Debug{MunmapHz: 2000000000}, bad: "--debug-munmap-hz 2000000000: give 1 to 10000"},
		{name: "munmap just above", d: Debug{MunmapHz: MaxMunmapHz + 1}, bad: "--debug-munmap-hz 10001"},
		{name: "munmap negative", d: Debug{MunmapHz: -1}, bad: "--debug-munmap-hz -1"},
		{name: "stdio", d: Debug{StdioReads: true}, degraded: []string{"--debug-stdio-reads"}},
		{name: "no stats", d: Debug{NoStats: true}, degraded: []string{"--debug-no-stats"}},
		{name: "in-process", d: Debug{InProcessMetrics: true}, degraded: []string{"--metrics-inprocess"}},
		{name: "all that combine", d: Debug{StdioReads: true, InProcessMetrics: true, MunmapHz: 1},
			degraded: []string{"--debug-stdio-reads", "--metrics-inprocess", "--debug-munmap-hz 1"}},
		{name: "rx pace", d: Debug{RXPacePPS: 900000}, degraded: []string{"--debug-rx-pace-pps 900000"}},
		{name: "rx pace max", d: Debug{RXPacePPS: MaxRXPacePPS}, degraded: []string{"--debug-rx-pace-pps 100000000"}},
		{name: "rx pace above max", d: Debug{RXPacePPS: MaxRXPacePPS + 1}, bad: "--debug-rx-pace-pps 100000001: give 1 to 100000000"},
		{name: "no stats, in-process", d: Debug{NoStats: true, InProcessMetrics: true}, bad: "--debug-no-stats and --metrics-inprocess"},
		{name: "no stats, stdio", d: Debug{NoStats: true, StdioReads: true}, bad: "--debug-no-stats and --debug-stdio-reads"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Check()
			if tc.bad != "" {
				if !errors.Is(err, ErrDebug) || !strings.Contains(err.Error(), tc.bad) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line with %q matching ErrDebug", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tc.d.Degraded()
			if len(got) != len(tc.degraded) {
				t.Fatalf("degraded = %q, want %d lines naming %q", got, len(tc.degraded), tc.degraded)
			}
			for i, w := range tc.degraded {
				if !strings.HasPrefix(got[i], "test option "+w+":") {
					t.Errorf("degraded[%d] = %q, want it to start with %q", i, got[i], "test option "+w+":")
				}
			}
		})
	}
}
