package hugepages

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadStatus(t *testing.T) {
	st, err := host("no-numa").ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Root: host("no-numa").Root(),
		Pools:  []PoolStatus{{Node: -1, Size: "2M", Bytes: 2 << 20, Total: 512, Free: 506, Reserved: 2}},
		Mounts: []MountStatus{{Path: "/dev/hugepages", Size: "2M"}}}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("no-numa (-want +got):\n%s", diff)
	}
	st, err = host("isolated-2socket").ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	// Four per-node pools, then the two global ones with the reserved count.
	if len(st.Pools) != 6 || st.Pools[3].Node != 1 || st.Pools[4] != (PoolStatus{Node: -1, Size: "2M", Bytes: 2 << 20, Total: 2048, Free: 2024, Reserved: 16}) {
		t.Errorf("isolated-2socket pools = %+v", st.Pools)
	}
	if _, err := host("garbled").ReadStatus(); err == nil {
		t.Error("ReadStatus on a garbled host: no error")
	}
}

func TestStatusWriteText(t *testing.T) {
	st := Status{Pools: []PoolStatus{
		{Node: 0, Size: "2M", Total: 1024, Free: 1000},
		{Node: -1, Size: "1G", Total: 4, Free: 2, Surplus: 1, Reserved: 16},
	}, Mounts: []MountStatus{{Path: "/mnt/huge", Size: "1G"}}}
	var b strings.Builder
	st.WriteText(&b)
	want := `  NODE  SIZE  TOTAL  FREE  SURPLUS  RESERVED
     0    2M   1024  1000        0         -
   all    1G      4     2        1        16

hugetlbfs mounts:
  /mnt/huge (1G)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
	b.Reset()
	Status{}.WriteText(&b)
	if !strings.HasSuffix(b.String(), "\nno hugetlbfs mounted\n") {
		t.Errorf("WriteText without mounts:\n%s", b.String())
	}
}
