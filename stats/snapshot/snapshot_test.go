package snapshot

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	b := NewBuilder("rxprobe-run-1", 42, 1e9, map[string]string{"version": "v1"})
	pk := b.Add("rxprobe_rx_packets_total", Counter, 0, L("port", "p0"), L("queue", "0"))
	age := b.Add("rxprobe_loop_heartbeat_seconds", Gauge, 1e-9, L("port", "p0"))
	first, sum := b.AddHistogram("rxprobe_loop_gap_seconds", []float64{64e-9, 128e-9}, 1e-9, L("port", "p0"), L("queue", "0"))
	b.Help("rxprobe_rx_packets_total", "Packets received by the RX loop.")
	l, err := NewLayout(b.Schema())
	if err != nil {
		t.Fatal(err)
	}
	// A mapped segment is page-aligned; a []uint64 backing gives the same 8-alignment.
	backing := make([]uint64, (l.PayloadSize()+7)/8)
	payload := unsafeBytes(backing)[:l.PayloadSize()]
	l.WriteSchema(payload)
	vals := l.Values(payload)
	if len(vals) != 6 || pk != 0 || age != 1 || first != 2 || sum != 5 {
		t.Fatalf("indexes pk=%d age=%d first=%d sum=%d, %d values", pk, age, first, sum, len(vals))
	}
	src := []uint64{100, 5e9, 1, 2, 3, 777}
	if n := testing.AllocsPerRun(100, func() { copy(vals, src) }); n != 0 {
		t.Errorf("writing values allocates %.1f times", n)
	}
	s, off, err := Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(b.Schema(), s); d != "" {
		t.Errorf("schema (-want +got):\n%s", d)
	}
	var got []uint64
	for i := 0; i < s.Values; i++ {
		got = append(got, ValueAt(payload, off, i))
	}
	if d := cmp.Diff(src, got); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	if s.Series[0].Help == "" || Scaled(5e9, s.Series[1].Scale) != 5 {
		t.Errorf("help %q, scaled %v", s.Series[0].Help, Scaled(5e9, s.Series[1].Scale))
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	cases := map[string][]byte{
		"short":          {1, 0},
		"length too big": {200, 0, 0, 0, '{', '}'},
		"not json":       append([]byte{3, 0, 0, 0}, "abc"...),
		"wrong version":  append([]byte{13, 0, 0, 0}, `{"version":9}`...),
		"values beyond":  append([]byte{28, 0, 0, 0}, `{"version":1,"values":99999}`...),
		"index beyond":   append([]byte{56, 0, 0, 0}, `{"version":1,"values":1,"series":[{"index":3,"kind":"x"}]}`...),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Decode(p); !errors.Is(err, ErrLayout) {
				t.Errorf("Decode = %v, want ErrLayout", err)
			}
		})
	}
}
