package sampler

import (
	"fmt"

	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// metric is one published metric: its name, kind and help text, declared
// once next to the source that fills it.
type metric struct {
	name string
	kind snapshot.Kind // snapshot.Counter or snapshot.Gauge; "" for a histogram
	help string
}

// schema wraps the snapshot builder: series are added by metric, and each
// metric's help is set once when the schema is complete.
type schema struct {
	b     *snapshot.Builder
	order []metric
	seen  map[string]bool
}

func newSchema(b *snapshot.Builder) *schema { return &schema{b: b, seen: map[string]bool{}} }

func (s *schema) note(m metric) {
	if !s.seen[m.name] {
		s.seen[m.name] = true
		s.order = append(s.order, m)
	}
}

// add adds one series of m and returns its value index.
func (s *schema) add(m metric, scale float64, labels ...snapshot.Label) int {
	s.note(m)
	return s.b.Add(m.name, m.kind, scale, labels...)
}

// addHistogram adds one histogram series of m.
func (s *schema) addHistogram(m metric, bounds []float64, sumScale float64, labels ...snapshot.Label) (first, sum int) {
	s.note(m)
	return s.b.AddHistogram(m.name, bounds, sumScale, labels...)
}

// done sets every metric's help text.
func (s *schema) done() {
	for _, m := range s.order {
		s.b.Help(m.name, m.help)
	}
}

// source is one group of counters (node_exporter's collector): it
// declares its series in declare, before the segment exists, and fills
// their values in sample, which must not allocate.
type source interface {
	declare(s *schema) error
	sample(vals []uint64) error
	close()
}

// kernelReader is a stats/kernel reader of one /proc file into a sample
// of type T.
type kernelReader[T any] interface {
	NewSample() *T
	ReadInto(dst *T) error
}

// firstRead takes a freshly opened reader (or the error opening it) and
// reads its first sample: the rows a source declares series for.
func firstRead[T any](r kernelReader[T], err error) (*T, error) {
	if err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	dst := r.NewSample()
	if err := r.ReadInto(dst); err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	return dst, nil
}
