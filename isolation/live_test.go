package isolation

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/rxprobe/rxprobe/hugepages"
	"github.com/rxprobe/rxprobe/internal/cpuset"
	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// TestRunLive runs every check against this machine. The verdicts depend
// on the machine; what must hold is that every check reports, nothing
// panics and the report is valid JSON.
func TestRunLive(t *testing.T) {
	h := hostfs.New("/")
	online, err := h.OnlineCPUs()
	if err != nil {
		t.Fatalf("OnlineCPUs on the live host: %v", err)
	}
	cpus := online.List()
	spec := Spec{
		RXCPUs:       cpuset.Of(cpus[len(cpus)-1]),
		Housekeeping: cpuset.Of(cpus[0]),
		PCIDevices:   []string{"0000:00:01.0"},
		Huge:         []hugepages.Need{{Node: 0, Size: hugepages.Size2M, Bytes: 2 << 20}},
		ExcludePID:   os.Getpid(),
	}
	rep := Run(h, spec)
	checkShape(t, rep)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Errorf("report is not valid JSON")
	}
	t.Logf("%s", b)
}
