package hugepages

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/internal/hostfs/hostfstest"
)

const hosts = "../testdata/hosts"

func host(name string) FS { return New(filepath.Join(hosts, name)) }

// copyHost copies a fixture tree into a temporary directory so a test can
// write to it.
func copyHost(t *testing.T, name string) FS {
	return New(hostfstest.Copy(t, filepath.Join(hosts, name)))
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		err  bool
	}{
		{in: "2M", want: Size2M},
		{in: "2MB", want: Size2M},
		{in: "2MiB", want: Size2M},
		{in: "2mib", want: Size2M},
		{in: "2048kB", want: Size2M},
		{in: "2048K", want: Size2M},
		{in: "1G", want: Size1G},
		{in: "1gb", want: Size1G},
		{in: "1GiB", want: Size1G},
		{in: "1024M", want: Size1G},
		{in: " 1G\n", want: Size1G},
		{in: "2097152", want: Size2M},
		{in: "64KiB", want: 64 << 10},
		{in: "", err: true},
		{in: "M", err: true},
		{in: "0M", err: true},
		{in: "2T", err: true},
		{in: "2 M B", err: true},
		{in: "-2M", err: true},
		{in: "99999999999999999999G", err: true},
		{in: "17179869184G", err: true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParseSize(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		s         Size
		str, flag string
	}{
		{Size2M, "2 MiB", "2M"},
		{Size1G, "1 GiB", "1G"},
		{16 << 30, "16 GiB", "16G"},
		{64 << 10, "64 KiB", "64K"},
		{32 << 20, "32 MiB", "32M"},
		{1000, "1000 B", "1000"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.str {
			t.Errorf("Size(%d).String() = %q, want %q", uint64(tt.s), got, tt.str)
		}
		if got := tt.s.Flag(); got != tt.flag {
			t.Errorf("Size(%d).Flag() = %q, want %q", uint64(tt.s), got, tt.flag)
		}
		if back, err := ParseSize(tt.s.Flag()); err != nil || back != tt.s {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.s.Flag(), back, err, tt.s)
		}
	}
}

func TestNeedPages(t *testing.T) {
	tests := []struct {
		n    Need
		want uint64
	}{
		{Need{Size: Size1G, Bytes: 0}, 0},
		{Need{Size: Size1G, Bytes: 1}, 1},
		{Need{Size: Size1G, Bytes: 1 << 30}, 1},
		{Need{Size: Size1G, Bytes: 1<<30 + 1}, 2},
		{Need{Size: Size2M, Bytes: 3 << 20}, 2},
		{Need{Size: 0, Bytes: 10}, 0},
	}
	for _, tt := range tests {
		if got := tt.n.Pages(); got != tt.want {
			t.Errorf("%+v.Pages() = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestShortfallError(t *testing.T) {
	e := &ShortfallError{Need: Need{Node: 0, Size: Size1G, Bytes: 2 << 30}, Free: 1}
	want := "need 2 × 1 GiB hugepages on node 0, 1 free: run `rxprobe hugepages reserve --node 0 --size 1G --pages 1`"
	if diff := cmp.Diff(want, e.Error()); diff != "" {
		t.Errorf("Error() mismatch (-want +got):\n%s", diff)
	}
	e = &ShortfallError{Need: Need{Node: -1, Size: Size2M, Bytes: 512 << 20}, Free: 0}
	want = "need 256 × 2 MiB hugepages on any node, 0 free: run `rxprobe hugepages reserve --size 2M --pages 256`"
	if diff := cmp.Diff(want, e.Error()); diff != "" {
		t.Errorf("Error() mismatch (-want +got):\n%s", diff)
	}
}

func TestPools(t *testing.T) {
	tests := []struct {
		host string
		want []Pool
	}{
		{"isolated-2socket", []Pool{
			{Node: 0, Size: Size2M, Total: 1024, Free: 1000},
			{Node: 0, Size: Size1G, Total: 4, Free: 4},
			{Node: 1, Size: Size2M, Total: 1024, Free: 1024},
			{Node: 1, Size: Size1G, Total: 4, Free: 4},
		}},
		{"no-numa", []Pool{
			{Node: -1, Size: Size2M, Total: 512, Free: 506, Reserved: 2},
		}},
	}
	for _, tt := range tests {
		got, err := host(tt.host).Pools()
		if err != nil {
			t.Errorf("%s: Pools() error: %v", tt.host, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Pools() mismatch (-want +got):\n%s", tt.host, diff)
		}
	}
	got, err := host("isolated-2socket").GlobalPools()
	want := []Pool{
		{Node: -1, Size: Size2M, Total: 2048, Free: 2024, Reserved: 16},
		{Node: -1, Size: Size1G, Total: 8, Free: 8},
	}
	if err != nil {
		t.Fatalf("GlobalPools() error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GlobalPools() mismatch (-want +got):\n%s", diff)
	}
}

func TestGarbled(t *testing.T) {
	g := host("garbled")
	if _, err := g.Pools(); err == nil || !strings.Contains(err.Error(), `not a page count: "12x"`) {
		t.Errorf("Pools() error = %v, want one naming the bad count", err)
	}
	if _, err := g.GlobalPools(); err == nil || !strings.Contains(err.Error(), `not a page count: "abc"`) {
		t.Errorf("GlobalPools() error = %v, want one naming the bad count", err)
	}
	if _, err := g.Free(0, Size1G); err == nil || !strings.Contains(err.Error(), `"-1"`) {
		t.Errorf("Free(0, 1G) error = %v, want one naming the bad surplus", err)
	}
	if _, err := g.Mounts(); err == nil || !strings.Contains(err.Error(), "want at least 4 fields") {
		t.Errorf("Mounts() error = %v, want one about the short line", err)
	}
	if _, err := g.DefaultSize(); err == nil || !strings.Contains(err.Error(), "HugePages_Tot") {
		t.Errorf("DefaultSize() error = %v, want one naming the truncated line", err)
	}
	sizes, err := g.SupportedSizes()
	if diff := cmp.Diff([]Size{Size2M, Size1G}, sizes); err != nil || diff != "" {
		t.Errorf("SupportedSizes() = %v, %v; mismatch (-want +got):\n%s", sizes, err, diff)
	}
	if err := g.Check([]Need{{Node: 0, Size: Size2M, Bytes: 1}}); err == nil {
		t.Errorf("Check on garbled host succeeded")
	}
	if _, err := g.Reserve(0, Size2M, 1); err == nil {
		t.Errorf("Reserve on a garbled count succeeded")
	}
	if _, err := New(t.TempDir()).Pools(); err == nil {
		t.Errorf("Pools() on an empty root succeeded")
	}
}

func TestFree(t *testing.T) {
	tests := []struct {
		host    string
		node    int
		size    Size
		want    uint64
		wantErr error
	}{
		{"isolated-2socket", 0, Size2M, 1000, nil},
		{"isolated-2socket", 1, Size1G, 4, nil},
		{"isolated-2socket", -1, Size2M, 2024 - 16, nil},
		{"isolated-2socket", 2, Size2M, 0, ErrNoNode},
		{"isolated-2socket", 0, 16 << 30, 0, ErrSizeUnsupported},
		{"no-numa", 0, Size2M, 504, nil},
		{"no-numa", -1, Size2M, 504, nil},
		{"no-numa", 1, Size2M, 0, ErrNoNode},
		{"no-numa", 0, Size1G, 0, ErrSizeUnsupported},
	}
	for _, tt := range tests {
		got, err := host(tt.host).Free(tt.node, tt.size)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("%s: Free(%d, %s) = %d, %v; want %d, %v", tt.host, tt.node, tt.size, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMounts(t *testing.T) {
	tests := []struct {
		host string
		want []Mount
	}{
		{"isolated-2socket", []Mount{{"/dev/hugepages", Size2M}, {"/mnt/huge 1G", Size1G}}},
		{"misconfigured", []Mount{{"/dev/hugepages", Size2M}}},
		{"no-numa", []Mount{{"/dev/hugepages", Size2M}}},
	}
	for _, tt := range tests {
		got, err := host(tt.host).Mounts()
		if err != nil {
			t.Errorf("%s: Mounts() error: %v", tt.host, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Mounts() mismatch (-want +got):\n%s", tt.host, diff)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		host  string
		needs []Need
		want  string // "" = no error; else the exact message
		is    error
	}{
		{name: "none", host: "misconfigured"},
		{name: "fits", host: "isolated-2socket", needs: []Need{
			{Node: 0, Size: Size1G, Bytes: 4 << 30},
			{Node: 1, Size: Size2M, Bytes: 2 << 30},
		}},
		{name: "merged needs overflow", host: "isolated-2socket", needs: []Need{
			{Node: 0, Size: Size1G, Bytes: 3 << 30},
			{Node: 0, Size: Size1G, Bytes: 2 << 30},
		}, want: "need 5 × 1 GiB hugepages on node 0, 4 free: run `rxprobe hugepages reserve --node 0 --size 1G --pages 1`"},
		{name: "shortfall", host: "misconfigured", needs: []Need{
			{Node: 0, Size: Size1G, Bytes: 2 << 30},
		}, want: "need 2 × 1 GiB hugepages on node 0, 1 free: run `rxprobe hugepages reserve --node 0 --size 1G --pages 1`"},
		{name: "no mount", host: "misconfigured", needs: []Need{
			{Node: 0, Size: Size1G, Bytes: 1 << 30},
		}, want: "no hugetlbfs mounted for 1 GiB pages: run `mkdir -p /dev/hugepages-1G && mount -t hugetlbfs -o pagesize=1G nodev /dev/hugepages-1G`", is: ErrNoMount},
		{name: "no node", host: "isolated-2socket", needs: []Need{{Node: 3, Size: Size2M, Bytes: 1}}, is: ErrNoNode},
		{name: "bad size", host: "isolated-2socket", needs: []Need{{Node: 0, Size: 4 << 20, Bytes: 1}}, is: ErrSizeUnsupported},
	}
	for _, tt := range tests {
		err := host(tt.host).Check(tt.needs)
		if tt.want == "" && tt.is == nil {
			if err != nil {
				t.Errorf("%s: Check() = %v, want nil", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Check() = nil, want an error", tt.name)
			continue
		}
		if tt.want != "" {
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("%s: Check() message mismatch (-want +got):\n%s", tt.name, diff)
			}
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: Check() = %v, want errors.Is %v", tt.name, err, tt.is)
		}
	}
	var se *ShortfallError
	err := host("misconfigured").Check([]Need{{Node: 1, Size: Size1G, Bytes: 1}})
	if !errors.As(err, &se) || se.Missing() != 1 || se.Free != 0 {
		t.Errorf("Check() = %v, want a *ShortfallError missing 1 page", err)
	}
}

func TestReserveRelease(t *testing.T) {
	h := copyHost(t, "misconfigured")
	got, err := h.Reserve(0, Size2M, 64)
	if err != nil || got != 64 {
		t.Fatalf("Reserve(0, 2M, 64) = %d, %v; want 64, nil", got, err)
	}
	// A plain file does not move free_hugepages as the kernel would.
	nr, _ := readCount(filepath.Join(h.Root(), "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"))
	if nr != 64 {
		t.Errorf("nr_hugepages = %d after Reserve, want 64", nr)
	}
	if err := os.WriteFile(filepath.Join(h.Root(), "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"), []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(0, Size2M, 61); err == nil || !strings.Contains(err.Error(), "only 60 of 64 are free") {
		t.Errorf("Release(61) = %v, want a refusal naming the free count", err)
	}
	if err := h.Release(0, Size2M, 10); err != nil {
		t.Errorf("Release(10) = %v", err)
	}
	nr, _ = readCount(filepath.Join(h.Root(), "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"))
	if nr != 54 {
		t.Errorf("nr_hugepages = %d after Release, want 54", nr)
	}
	if _, err := h.Reserve(5, Size2M, 1); !errors.Is(err, ErrNoNode) {
		t.Errorf("Reserve on node 5 = %v, want ErrNoNode", err)
	}
	if err := h.Release(0, 8<<20, 1); !errors.Is(err, ErrSizeUnsupported) {
		t.Errorf("Release of 8M pages = %v, want ErrSizeUnsupported", err)
	}
}

func TestReservePartialAndRefused(t *testing.T) {
	h := copyHost(t, "isolated-2socket")
	// The kernel caps the pool: it only finds memory for 2 more pages.
	h.writeFile = func(path string, data []byte) error {
		return os.WriteFile(path, []byte("6\n"), 0o644)
	}
	got, err := h.Reserve(1, Size1G, 4)
	var pe *PartialGrantError
	if !errors.As(err, &pe) || got != 2 || pe.Asked != 4 || pe.Granted != 2 {
		t.Fatalf("Reserve(1, 1G, 4) = %d, %v; want 2 and a *PartialGrantError{Asked: 4, Granted: 2}", got, err)
	}
	if !strings.Contains(err.Error(), "node 1 1G: asked for 4 more pages, kernel granted 2") {
		t.Errorf("PartialGrantError message = %q", err)
	}

	h.writeFile = func(path string, data []byte) error {
		return &os.PathError{Op: "open", Path: path, Err: unix.EACCES}
	}
	_, err = h.Reserve(0, Size2M, 1)
	if !errors.Is(err, ErrNotRoot) {
		t.Fatalf("Reserve with EACCES = %v, want ErrNotRoot", err)
	}
	if want := "hugepages: node 0 2M: needs root: writing nr_hugepages: permission denied"; err.Error() != want {
		t.Errorf("Reserve with EACCES message mismatch (-want +got):\n%s", cmp.Diff(want, err.Error()))
	}
	h.writeFile = func(path string, data []byte) error {
		return &os.PathError{Op: "write", Path: path, Err: unix.EPERM}
	}
	if err := h.Release(0, Size2M, 1); !errors.Is(err, ErrNotRoot) {
		t.Errorf("Release with EPERM = %v, want ErrNotRoot", err)
	}
	h.writeFile = func(path string, data []byte) error {
		return &os.PathError{Op: "write", Path: path, Err: unix.EINVAL}
	}
	if _, err := h.Reserve(0, Size2M, 1); err == nil || errors.Is(err, ErrNotRoot) {
		t.Errorf("Reserve with EINVAL = %v, want a plain error", err)
	}
}

func TestEnsureMountAlreadyMounted(t *testing.T) {
	h := host("isolated-2socket")
	for _, s := range []Size{Size2M, Size1G} {
		mounted, err := h.EnsureMount("/dev/hugepages-x", s)
		if mounted || err != nil {
			t.Errorf("EnsureMount(%s) = %v, %v; want false, nil (already mounted)", s, mounted, err)
		}
	}
	if _, err := h.EnsureMount("/x", 32<<20); !errors.Is(err, ErrSizeUnsupported) {
		t.Errorf("EnsureMount(32M) = %v, want ErrSizeUnsupported", err)
	}
}

func TestMergeNeeds(t *testing.T) {
	got := MergeNeeds([]Need{
		{Node: 1, Size: Size2M, Bytes: 10},
		{Node: 0, Size: Size2M, Bytes: 1},
		{Node: 1, Size: Size2M, Bytes: 5},
		{Node: 1, Size: Size1G, Bytes: 0},
	})
	want := []Need{{Node: 1, Size: Size2M, Bytes: 15}, {Node: 0, Size: Size2M, Bytes: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MergeNeeds mismatch (-want +got):\n%s", diff)
	}
}
