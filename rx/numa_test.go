package rx

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/internal/hostfs"
	"github.com/rxprobe/rxprobe/rx/config"
)

// A port's NUMA node comes from its PCI device, or from its first RX CPU
// for a virtual device; a node that cannot be found is placed on node 0
// but always reported, never silently.
func TestPortNodeAndNUMAProblems(t *testing.T) {
	twoNodes := hostfs.New("../testdata/hosts/isolated-2socket")
	tests := []struct {
		name, dev string
		cpus      []int
		want      int
		err       error // errors.Is target; nil: no problem
	}{
		{name: "PCI on node 0", dev: "0000:3b:00.0", cpus: []int{2}, want: 0},
		{name: "PCI short form", dev: "3b:00.0", cpus: []int{2}, want: 0},
		{name: "PCI on node 1", dev: "0000:af:00.0", cpus: []int{8}, want: 1},
		{name: "no locality on two nodes", dev: "0000:5e:00.0", cpus: []int{2}, want: 0, err: hostfs.ErrNoLocality},
		{name: "PCI device absent", dev: "0000:00:1f.0", cpus: []int{2}, want: 0, err: hostfs.ErrNoDevice},
		{name: "vdev follows its CPU", dev: "net_null0", cpus: []int{8}, want: 1},
		{name: "vdev on a CPU of no node", dev: "net_null0", cpus: []int{64}, want: 0, err: hostfs.ErrNoSuchCPU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := portNode(twoNodes, tt.dev, tt.cpus)
			if got != tt.want || (tt.err == nil) != (err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Fatalf("portNode(%s, %v) = %d, %v; want %d, %v", tt.dev, tt.cpus, got, err, tt.want, tt.err)
			}
			if err != nil && !strings.Contains(err.Error(), "placed on node 0") {
				t.Errorf("error %q does not say where the memory went", err)
			}
		})
	}

	cfg := &config.Config{Ports: []config.Port{
		{Name: "a", Device: "0000:af:00.0", RXQueues: 1, RXCPUs: "8"},
		{Name: "b", Device: "0000:5e:00.0", RXQueues: 1, RXCPUs: "2"},
	}}
	nodeOf := NodeOf(twoNodes)
	if got := []int{nodeOf(cfg.Ports[0]), nodeOf(cfg.Ports[1])}; !cmp.Equal(got, []int{1, 0}) {
		t.Errorf("NodeOf = %v, want [1 0]", got)
	}
	probs := NUMAProblems(twoNodes, cfg)
	if len(probs) != 1 || !strings.Contains(probs[0], "0000:5e:00.0") || !strings.Contains(probs[0], "no NUMA locality") {
		t.Errorf("NUMAProblems = %q, want one line for 0000:5e:00.0", probs)
	}
	// On a single-node host numa_node -1 is node 0, and no problem.
	oneNode := hostfs.New("../testdata/hosts/no-numa")
	if p := NUMAProblems(oneNode, &config.Config{Ports: []config.Port{{Device: "0000:00:03.0", RXQueues: 1, RXCPUs: "1"}}}); len(p) != 0 {
		t.Errorf("NUMAProblems on one node = %q, want none", p)
	}
}
