package dpdk

import (
	"testing"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// TestLatBucketMatchesGo: the C loop's bucket function and its Go mirror
// agree on every edge of every bucket and around them.
func TestLatBucketMatchesGo(t *testing.T) {
	check := func(v uint64) {
		if c, g := LatBucket(v), counters.LatBucket(v); c != g {
			t.Fatalf("bucket of %d ns: C %d, Go %d", v, c, g)
		}
	}
	for i := 0; i < counters.LatBuckets; i++ {
		lo, hi := counters.LatBucketRange(i)
		check(lo)
		if lo > 0 {
			check(lo - 1)
		}
		if hi > 0 {
			check(hi - 1)
		}
	}
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1 << 31, 1<<32 - 1, 1 << 32, 1<<63 + 5, ^uint64(0)} {
		check(v)
	}
	if got := LatBucket(1 << 32); got != counters.LatBuckets-1 {
		t.Fatalf("2^32 ns in bucket %d, want the last (%d)", got, counters.LatBuckets-1)
	}
}
