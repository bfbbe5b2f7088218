package hugepages

import (
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
