package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// SchemaVersion is the version of the payload layout described here.
const SchemaVersion = 1

// Kind is how a series is exported.
type Kind string

// Series kinds.
const (
	Counter Kind = "counter"
	Gauge   Kind = "gauge"
)

// Label is one name="value" pair; order is preserved.
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Series is one exported number.
type Series struct {
	Metric string  `json:"metric"`
	Help   string  `json:"help,omitempty"`
	Kind   Kind    `json:"kind"`
	Labels []Label `json:"labels,omitempty"`
	Scale  float64 `json:"scale,omitempty"`
	Index  int     `json:"index"` // position in the value array
}

// Histogram is a histogram whose bucket counts are not cumulative: value
// First+k counts observations <= Bounds[k] (and > Bounds[k-1]); value
// First+len(Bounds) counts the rest (+Inf). Sum is the index of the sum of
// observations (× SumScale), Count is implied by the buckets.
type Histogram struct {
	Metric   string    `json:"metric"`
	Help     string    `json:"help,omitempty"`
	Labels   []Label   `json:"labels,omitempty"`
	Bounds   []float64 `json:"bounds"`
	First    int       `json:"first"`
	Sum      int       `json:"sum"`
	SumScale float64   `json:"sum_scale,omitempty"`
	// Internal marks a histogram for readers of the snapshot (the trial
	// API) that the exporter leaves out: too many buckets for Prometheus.
	Internal bool `json:"internal,omitempty"`
}

// Schema describes the whole payload.
type Schema struct {
	Version    int               `json:"version"`
	Prefix     string            `json:"prefix"`
	PID        int               `json:"pid"`
	IntervalNs int64             `json:"interval_ns"`
	Build      map[string]string `json:"build,omitempty"`
	Series     []Series          `json:"series"`
	Histograms []Histogram       `json:"histograms,omitempty"`
	Values     int               `json:"values"` // length of the value array
}

// Builder assembles a Schema, handing out value indexes in order.
type Builder struct{ s Schema }

// NewBuilder starts a schema for the run with file prefix prefix.
func NewBuilder(prefix string, pid int, intervalNs int64, build map[string]string) *Builder {
	return &Builder{s: Schema{Version: SchemaVersion, Prefix: prefix, PID: pid, IntervalNs: intervalNs, Build: build}}
}

// Add registers a series and returns its value index.
func (b *Builder) Add(metric string, kind Kind, scale float64, labels ...Label) int {
	i := b.s.Values
	b.s.Series = append(b.s.Series, Series{Metric: metric, Kind: kind, Labels: labels, Scale: scale, Index: i})
	b.s.Values++
	return i
}

// AddHistogram registers a histogram with the given upper bounds and
// returns the index of its first bucket and of its sum.
func (b *Builder) AddHistogram(metric string, bounds []float64, sumScale float64, labels ...Label) (first, sum int) {
	first = b.s.Values
	b.s.Values += len(bounds) + 1
	sum = b.s.Values
	b.s.Values++
	b.s.Histograms = append(b.s.Histograms, Histogram{Metric: metric, Labels: labels, Bounds: bounds, First: first, Sum: sum, SumScale: sumScale})
	return first, sum
}

// MarkInternal marks every histogram of metric Internal: not exported.
func (b *Builder) MarkInternal(metric string) {
	for i := range b.s.Histograms {
		if b.s.Histograms[i].Metric == metric {
			b.s.Histograms[i].Internal = true
		}
	}
}

// Help sets the help text of every series and histogram of metric.
func (b *Builder) Help(metric, help string) {
	for i := range b.s.Series {
		if b.s.Series[i].Metric == metric {
			b.s.Series[i].Help = help
		}
	}
	for i := range b.s.Histograms {
		if b.s.Histograms[i].Metric == metric {
			b.s.Histograms[i].Help = help
		}
	}
}

// Schema returns the finished schema.
func (b *Builder) Schema() *Schema { return &b.s }

// L is shorthand for a label.
func L(name, value string) Label { return Label{Name: name, Value: value} }

// Layout places a schema in a payload.
type Layout struct {
	Schema      *Schema
	schemaBytes []byte
	valuesOff   int
}

// NewLayout encodes s.
func NewLayout(s *Schema) (*Layout, error) {
	js, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("snapshot: schema: %w", err)
	}
	off := (4 + len(js) + 7) &^ 7
	return &Layout{Schema: s, schemaBytes: js, valuesOff: off}, nil
}

// PayloadSize is how many bytes the segment's payload needs.
func (l *Layout) PayloadSize() int { return l.valuesOff + 8*l.Schema.Values }

// WriteSchema writes the schema part of payload (once, at creation).
func (l *Layout) WriteSchema(payload []byte) {
	binary.LittleEndian.PutUint32(payload, uint32(len(l.schemaBytes)))
	copy(payload[4:], l.schemaBytes)
}

// Values views the value array inside payload (which must be 8-aligned,
// as a mapped segment is). Writing through it does not allocate.
func (l *Layout) Values(payload []byte) []uint64 {
	if l.Schema.Values == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&payload[l.valuesOff])), l.Schema.Values)
}

// ErrLayout means a payload does not hold a valid schema and value array.
var ErrLayout = errors.New("snapshot: bad payload layout")

// Decode reads the schema from a payload copy and returns it with the
// offset of the values.
func Decode(payload []byte) (*Schema, int, error) {
	if len(payload) < 4 {
		return nil, 0, fmt.Errorf("%w: %d bytes", ErrLayout, len(payload))
	}
	n := int(binary.LittleEndian.Uint32(payload))
	if n <= 0 || 4+n > len(payload) {
		return nil, 0, fmt.Errorf("%w: schema length %d in %d bytes", ErrLayout, n, len(payload))
	}
	var s Schema
	if err := json.Unmarshal(payload[4:4+n], &s); err != nil {
		return nil, 0, fmt.Errorf("%w: schema: %v", ErrLayout, err)
	}
	if s.Version != SchemaVersion {
		return nil, 0, fmt.Errorf("%w: schema version %d, this build reads %d", ErrLayout, s.Version, SchemaVersion)
	}
	off := (4 + n + 7) &^ 7
	if off+8*s.Values > len(payload) {
		return nil, 0, fmt.Errorf("%w: %d values do not fit in %d bytes", ErrLayout, s.Values, len(payload))
	}
	for _, se := range s.Series {
		if se.Index < 0 || se.Index >= s.Values {
			return nil, 0, fmt.Errorf("%w: series %s index %d out of range", ErrLayout, se.Metric, se.Index)
		}
	}
	for _, h := range s.Histograms {
		if h.First < 0 || h.First+len(h.Bounds)+1 > s.Values || h.Sum < 0 || h.Sum >= s.Values {
			return nil, 0, fmt.Errorf("%w: histogram %s out of range", ErrLayout, h.Metric)
		}
	}
	return &s, off, nil
}

// ValueAt reads value i from a payload copy whose values start at off.
func ValueAt(payload []byte, off, i int) uint64 {
	return binary.LittleEndian.Uint64(payload[off+8*i:])
}

// Scaled is v × scale (scale 0 means 1).
func Scaled(v uint64, scale float64) float64 {
	if scale == 0 {
		return float64(v)
	}
	return float64(v) * scale
}
