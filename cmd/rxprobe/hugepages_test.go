package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/hostfs/hostfstest"
)

// copyFixture copies a fixture host so a command can write to it.
func copyFixture(t *testing.T, name string) string {
	return hostfstest.Copy(t, filepath.Join("../../testdata/hosts", name))
}

func TestHugepagesCmdStatus(t *testing.T) {
	out, code := execCmd(t, newHugepagesCmd(), "status", "--host-root", "../../testdata/hosts/isolated-2socket")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, w := range []string{"NODE  SIZE  TOTAL  FREE  SURPLUS  RESERVED", "   0    2M   1024  1000        0         -", " all    2M   2048  2024        0        16", "/mnt/huge 1G (1G)"} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	out, code = execCmd(t, newHugepagesCmd(), "status", "--json", "--host-root", "../../testdata/hosts/no-numa")
	var st hugepages.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		t.Fatalf("status --json: exit %d, %v:\n%s", code, err, out)
	}
	if len(st.Pools) != 1 || st.Pools[0].Node != -1 || st.Pools[0].Reserved != 2 || len(st.Mounts) != 1 {
		t.Errorf("status --json = %+v", st)
	}
	out, code = execCmd(t, newHugepagesCmd(), "status", "--host-root", "../../testdata/hosts/garbled")
	if code != 2 || !strings.Contains(out, "not a page count") {
		t.Errorf("status on garbled host: exit %d:\n%s", code, out)
	}
}

func TestHugepagesCmdReserveRelease(t *testing.T) {
	root := copyFixture(t, "misconfigured")
	nr := filepath.Join(root, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")
	out, code := execCmd(t, newHugepagesCmd(), "reserve", "--host-root", root, "--size", "2M", "--pages", "8", "--node", "1")
	if code != 0 || !strings.Contains(out, "node 1 2M: reserved 8 pages") {
		t.Errorf("reserve: exit %d:\n%s", code, out)
	}
	if b, _ := os.ReadFile(nr); strings.TrimSpace(string(b)) != "8" {
		t.Errorf("nr_hugepages = %q after reserve, want 8", b)
	}
	// The fixture's free count does not follow nr_hugepages: only 0 are free.
	out, code = execCmd(t, newHugepagesCmd(), "release", "--host-root", root, "--size", "2M", "--pages", "8", "--node", "1")
	if code != 2 || !strings.Contains(out, "only 0 of 8 are free") {
		t.Errorf("release of busy pages: exit %d:\n%s", code, out)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"reserve", "--size", "4M", "--pages", "1"}, 2, "page size not supported"},
		{[]string{"reserve", "--size", "2M", "--pages", "1", "--node", "7"}, 2, "no such NUMA node"},
		{[]string{"reserve", "--size", "2Q", "--pages", "1"}, 2, "unknown unit"},
		{[]string{"reserve", "--pages", "1"}, 2, "needs --size and --pages"},
		{[]string{"reserve", "--config", "x.yaml", "--size", "2M"}, 2, "cannot be combined"},
		{[]string{"release", "--size", "1G"}, 2, "needs --size and --pages"},
		{[]string{"release", "--size", "1G", "--pages", "1", "--node", "0"}, 0, "node 0 1G: released 1 pages"},
	}
	for _, tt := range tests {
		out, code := execCmd(t, newHugepagesCmd(), append(tt.args, "--host-root", root)...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tt.args, code, tt.code, tt.want, out)
		}
	}
}
