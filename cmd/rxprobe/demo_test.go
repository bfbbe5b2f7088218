package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func TestDemoCmdRejectsBadOptions(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "5s"}, "--duration 5s: the demo needs at least 6s"},
		{[]string{"--driver", "af_bogus"}, `--driver "af_bogus": use auto, af_xdp or af_packet`},
	} {
		out, code := execCmd(t, newDemoCmd(), tt.args...)
		if code != exitUsage || !strings.Contains(out, tt.want) {
			t.Errorf("demo %v: exit %d, want %d and %q:\n%s", tt.args, code, exitUsage, tt.want, out)
		}
	}
}
