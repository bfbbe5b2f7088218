package exporter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	"github.com/rxprobe/rxprobe/stats/shm"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// Names of the metrics the exporter adds to those of the snapshot. A
// schema that uses one of them is rejected.
const (
	MetricUp             = "rxprobe_snapshot_up"
	MetricAge            = "rxprobe_snapshot_age_seconds"
	MetricBuildInfo      = "rxprobe_build_info"
	MetricReadErrors     = "rxprobe_exporter_read_errors_total"
	MetricScrapeDuration = "rxprobe_exporter_scrape_duration_seconds"
)

// MinStaleAfter is the lower bound of StaleAfter.
const MinStaleAfter = 3 * time.Second

// Errors. They are returned wrapped with the segment's path; match them
// with errors.Is. Errors of stats/shm (shm.ErrNotFound, shm.ErrBusy, ...)
// and snapshot.ErrLayout pass through wrapped as well.
var (
	// ErrSchema: the payload's schema does not decode, or would make an
	// invalid or ambiguous exposition (bad names, a metric with two kinds
	// or two label sets alike, unordered histogram bounds, a name the
	// exporter reserves).
	ErrSchema = errors.New("exporter: schema cannot be exported")
	// ErrStale: the sample is consistent but older than StaleAfter.
	ErrStale = errors.New("exporter: snapshot is stale")
)

// StaleAfter is the age from which a sample written every interval counts
// as stale: three intervals, at least MinStaleAfter.
func StaleAfter(interval time.Duration) time.Duration {
	return max(3*interval, MinStaleAfter)
}

// Options configure a Collector.
type Options struct {
	// Dir holds the segment; "" means shm.DefaultDir.
	Dir string
	// Prefix names the segment Dir/rxprobe-<Prefix>. Required.
	Prefix string
	// Now is the clock the age is measured with; nil means time.Now. The
	// writer's heartbeat is wall-clock unix time, so this must be too.
	Now func() time.Time
}

// Collector is a prometheus.Collector over one shared-memory segment. Its
// zero value is not usable; build it with NewCollector and Close it.
type Collector struct {
	dir, prefix, path string
	now               func() time.Time

	readErrors atomic.Uint64

	mu   sync.Mutex // serialises reads: shm.Reader and buf are single-user
	r    *shm.Reader
	dev  uint64 // identity of the attached file
	ino  uint64
	buf  []byte    // payload copy, sized at attach
	comp *compiled // schema of the attached segment, nil until decoded
}

// ownMetric is a metric the exporter emits itself: its name and help, in
// one place.
type ownMetric struct{ name, help string }

// The exporter's own metrics. A schema that uses one of their names is
// rejected (see reserved).
var (
	ownUp = ownMetric{MetricUp,
		"1 when the exporter read a consistent rxprobe snapshot younger than three stats intervals (at least 3s), else 0."}
	ownAge = ownMetric{MetricAge,
		"Seconds since the RX process last published a snapshot (its heartbeat)."}
	ownBuildInfo = ownMetric{MetricBuildInfo,
		"Build of the RX process that writes the snapshot, and its segment prefix; always 1."}
	ownReadErrors = ownMetric{MetricReadErrors,
		"Scrapes that found the shared-memory segment but could not export it (bad header, writer stuck mid-sample, unexportable schema)."}
	ownScrapeDuration = ownMetric{MetricScrapeDuration,
		"Time the exporter spent reading the snapshot and building metrics for this scrape."}
)

// desc builds m's descriptor.
func (m ownMetric) desc(constLabels prometheus.Labels) *prometheus.Desc {
	return prometheus.NewDesc(m.name, m.help, nil, constLabels)
}

// Fixed descriptors.
var (
	descUp             = ownUp.desc(nil)
	descAge            = ownAge.desc(nil)
	descReadErrors     = ownReadErrors.desc(nil)
	descScrapeDuration = ownScrapeDuration.desc(nil)
)

// NewCollector returns a Collector for the segment Dir/rxprobe-<Prefix>.
// The segment need not exist yet: each scrape attaches to it if it can.
func NewCollector(opts Options) (*Collector, error) {
	p := opts.Prefix
	if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\x00") {
		return nil, fmt.Errorf("exporter: invalid segment prefix %q", p)
	}
	dir := opts.Dir
	if dir == "" {
		dir = shm.DefaultDir
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Collector{dir: dir, prefix: p, path: filepath.Join(dir, shm.FilePrefix+p), now: now}, nil
}

// Path returns the file name of the segment the collector reads.
func (c *Collector) Path() string { return c.path }

// Prefix returns the segment's prefix.
func (c *Collector) Prefix() string { return c.prefix }

// ReadErrors returns the value of rxprobe_exporter_read_errors_total.
func (c *Collector) ReadErrors() uint64 { return c.readErrors.Load() }

// Close unmaps the segment if it is attached. A later scrape attaches
// again.
func (c *Collector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.detachLocked()
}

// Describe sends nothing: the Collector is unchecked, since the metrics
// it emits depend on the schema the writer publishes.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads one snapshot and sends its metrics, the staleness signal
// and the exporter's self-metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	s := c.sampleLocked()
	up := 0.0
	if s.err == nil {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
	if s.haveHeader {
		ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, s.age.Seconds())
	}
	if s.comp != nil {
		s.comp.emit(ch, c.buf)
	}
	ch <- prometheus.MustNewConstMetric(descReadErrors, prometheus.CounterValue, float64(c.readErrors.Load()))
	ch <- prometheus.MustNewConstMetric(descScrapeDuration, prometheus.GaugeValue, time.Since(start).Seconds())
}

// Status is the outcome of one read of the segment.
type Status struct {
	// Up is what rxprobe_snapshot_up reports.
	Up bool
	// HaveSample tells whether a committed sample was read; Age and Header
	// are meaningful only then.
	HaveSample bool
	// Age is now minus the writer's heartbeat, never negative.
	Age time.Duration
	// Header is the segment header of the sample.
	Header shm.Header
	// Err says why Up is false (nil when Up).
	Err error
}

// Status reads the segment once, as a scrape would (counting read errors
// the same way), and reports the outcome without building metrics.
func (c *Collector) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sampleLocked()
	return Status{Up: s.err == nil, HaveSample: s.haveHeader, Age: s.age, Header: s.hdr, Err: s.err}
}

// sample is one read under c.mu.
type sample struct {
	hdr        shm.Header
	haveHeader bool
	age        time.Duration
	comp       *compiled // nil when the schema is unknown or unexportable
	err        error     // nil only when up
}

// sampleLocked attaches if needed, reads the payload into c.buf and
// resolves its schema.
func (c *Collector) sampleLocked() sample {
	if err := c.attachLocked(); err != nil {
		if !errors.Is(err, shm.ErrNotFound) {
			c.readErrors.Add(1)
		}
		return sample{err: err}
	}
	hdr, err := c.r.Read(c.buf)
	if errors.Is(err, shm.ErrNoSample) {
		return sample{err: fmt.Errorf("exporter: %s: %w", c.path, err)}
	}
	if err != nil {
		c.readErrors.Add(1)
		return sample{err: fmt.Errorf("exporter: read %s: %w", c.path, err)}
	}
	s := sample{hdr: hdr, haveHeader: true, age: max(c.now().Sub(time.Unix(0, hdr.Heartbeat)), 0)}
	comp, err := c.schemaLocked()
	if err != nil {
		c.readErrors.Add(1)
		s.err = fmt.Errorf("exporter: %s: %w", c.path, err)
		return s
	}
	s.comp = comp
	if limit := StaleAfter(comp.interval); s.age >= limit {
		s.err = fmt.Errorf("exporter: %s: heartbeat %s old, limit %s: %w", c.path, s.age.Round(time.Millisecond), limit, ErrStale)
	}
	return s
}

// attachLocked maps the file now named c.path, unless it is the one
// already mapped. A vanished file detaches.
func (c *Collector) attachLocked() error {
	var st unix.Stat_t
	// Stat before Open: if the name is replaced in between, the next
	// scrape sees an identity that differs from the recorded one and
	// attaches again, so a race can only delay the switch by one scrape.
	if err := unix.Stat(c.path, &st); err != nil {
		c.detachLocked()
		if err == unix.ENOENT {
			return fmt.Errorf("exporter: %s: %w (%w)", c.path, shm.ErrNotFound, err)
		}
		return fmt.Errorf("exporter: stat %s: %w", c.path, err)
	}
	if c.r != nil && st.Dev == c.dev && st.Ino == c.ino {
		return nil
	}
	c.detachLocked()
	r, err := shm.Open(c.dir, c.prefix)
	if err != nil {
		return fmt.Errorf("exporter: attach: %w", err)
	}
	c.r, c.dev, c.ino = r, st.Dev, st.Ino
	if n := r.PayloadSize(); cap(c.buf) >= n {
		c.buf = c.buf[:n]
	} else {
		c.buf = make([]byte, n)
	}
	return nil
}

func (c *Collector) detachLocked() error {
	c.comp = nil
	if c.r == nil {
		return nil
	}
	err := c.r.Close()
	c.r = nil
	return err
}

// schemaLocked returns the compiled schema of c.buf, decoding and
// compiling it only when its bytes differ from the cached ones.
func (c *Collector) schemaLocked() (*compiled, error) {
	if c.comp != nil && len(c.buf) >= 4 {
		n := int(binary.LittleEndian.Uint32(c.buf))
		if n == len(c.comp.raw) && 4+n <= len(c.buf) && bytes.Equal(c.buf[4:4+n], c.comp.raw) {
			return c.comp, nil
		}
	}
	c.comp = nil
	s, off, err := snapshot.Decode(c.buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	comp, err := compile(s, off)
	if err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(c.buf))
	comp.raw = bytes.Clone(c.buf[4 : 4+n])
	c.comp = comp
	return comp, nil
}

// compiled is a decoded schema with its descriptors, built once per schema.
type compiled struct {
	raw       []byte // the schema JSON it was decoded from
	valuesOff int
	interval  time.Duration
	buildInfo *prometheus.Desc
	series    []seriesDesc
	hists     []histDesc
}

type seriesDesc struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	index int
	scale float64
}

type histDesc struct {
	desc     *prometheus.Desc
	bounds   []float64
	first    int
	sum      int
	sumScale float64
}

// buildKeys are the Schema.Build keys exported as rxprobe_build_info labels.
var buildKeys = []string{"version", "commit", "goversion", "dpdk"}

// reserved are the names the exporter emits itself.
var reserved = func() map[string]bool {
	r := map[string]bool{}
	for _, m := range []ownMetric{ownUp, ownAge, ownBuildInfo, ownReadErrors, ownScrapeDuration} {
		r[m.name] = true
	}
	return r
}()

// compile checks that s can be exported as it stands and builds its
// descriptors. Decode has already checked the value indexes.
func compile(s *snapshot.Schema, off int) (*compiled, error) {
	bad := func(format string, args ...any) (*compiled, error) {
		return nil, fmt.Errorf("%w: %s", ErrSchema, fmt.Sprintf(format, args...))
	}
	if s.IntervalNs < 0 {
		return bad("negative interval %d ns", s.IntervalNs)
	}
	// Per metric name: its kind ("histogram" for histograms) and help,
	// which Prometheus requires to be the same for all its series.
	kinds := map[string]string{}
	help := map[string]string{}
	note := func(name, kind, h string) error {
		if !model.LegacyValidation.IsValidMetricName(name) {
			return fmt.Errorf("%w: invalid metric name %q", ErrSchema, name)
		}
		if reserved[name] {
			return fmt.Errorf("%w: metric name %q is reserved by the exporter", ErrSchema, name)
		}
		if k, ok := kinds[name]; ok && k != kind {
			return fmt.Errorf("%w: metric %s is both %s and %s", ErrSchema, name, k, kind)
		}
		kinds[name] = kind
		if help[name] == "" {
			help[name] = h
		}
		return nil
	}
	for _, se := range s.Series {
		if se.Kind != snapshot.Counter && se.Kind != snapshot.Gauge {
			return bad("series %s: unknown kind %q", se.Metric, se.Kind)
		}
		if err := note(se.Metric, string(se.Kind), se.Help); err != nil {
			return nil, err
		}
	}
	for _, h := range s.Histograms {
		if h.Internal {
			continue // for the trial API, not Prometheus
		}
		if err := note(h.Metric, "histogram", h.Help); err != nil {
			return nil, err
		}
		for k, b := range h.Bounds {
			if math.IsNaN(b) || math.IsInf(b, 0) || (k > 0 && b <= h.Bounds[k-1]) {
				return bad("histogram %s: bounds %v are not finite and strictly increasing", h.Metric, h.Bounds)
			}
		}
	}
	for _, h := range s.Histograms {
		if h.Internal {
			continue // for the trial API, not Prometheus
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if _, ok := kinds[h.Metric+suffix]; ok {
				return bad("metric %s clashes with histogram %s", h.Metric+suffix, h.Metric)
			}
		}
	}
	for name, h := range help {
		if h == "" {
			help[name] = "rxprobe snapshot metric " + name + " (no help in the schema)."
		}
	}

	c := &compiled{valuesOff: off, interval: time.Duration(s.IntervalNs)}
	seen := map[string]bool{} // metric name + label set
	newDesc := func(name string, labels []snapshot.Label, histogram bool) (*prometheus.Desc, error) {
		cl := make(prometheus.Labels, len(labels))
		for _, l := range labels {
			if !model.LegacyValidation.IsValidLabelName(l.Name) || strings.HasPrefix(l.Name, "__") ||
				(histogram && l.Name == "le") {
				return nil, fmt.Errorf("%w: metric %s: invalid label name %q", ErrSchema, name, l.Name)
			}
			if _, dup := cl[l.Name]; dup {
				return nil, fmt.Errorf("%w: metric %s: label %s given twice", ErrSchema, name, l.Name)
			}
			cl[l.Name] = l.Value
		}
		key := labelKey(name, cl)
		if seen[key] {
			return nil, fmt.Errorf("%w: metric %s: two series with labels %v", ErrSchema, name, cl)
		}
		seen[key] = true
		d := prometheus.NewDesc(name, help[name], nil, cl)
		if err := d.Err(); err != nil {
			return nil, fmt.Errorf("%w: metric %s: %w", ErrSchema, name, err)
		}
		return d, nil
	}
	for _, se := range s.Series {
		d, err := newDesc(se.Metric, se.Labels, false)
		if err != nil {
			return nil, err
		}
		typ := prometheus.CounterValue
		if se.Kind == snapshot.Gauge {
			typ = prometheus.GaugeValue
		}
		c.series = append(c.series, seriesDesc{desc: d, typ: typ, index: se.Index, scale: se.Scale})
	}
	for _, h := range s.Histograms {
		if h.Internal {
			continue // for the trial API, not Prometheus
		}
		d, err := newDesc(h.Metric, h.Labels, true)
		if err != nil {
			return nil, err
		}
		c.hists = append(c.hists, histDesc{desc: d, bounds: h.Bounds, first: h.First, sum: h.Sum, sumScale: h.SumScale})
	}

	bl := prometheus.Labels{"prefix": s.Prefix}
	for _, k := range buildKeys {
		bl[k] = s.Build[k]
		if bl[k] == "" {
			bl[k] = "unknown"
		}
	}
	c.buildInfo = ownBuildInfo.desc(bl)
	if err := c.buildInfo.Err(); err != nil {
		return nil, fmt.Errorf("%w: build info: %w", ErrSchema, err)
	}
	return c, nil
}

// labelKey identifies a series by name and label set.
func labelKey(name string, l prometheus.Labels) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("\xff" + k + "\xff" + l[k])
	}
	return b.String()
}

// emit sends the build info and the snapshot's series read from payload.
func (c *compiled) emit(ch chan<- prometheus.Metric, payload []byte) {
	ch <- prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1)
	for _, s := range c.series {
		v := snapshot.Scaled(snapshot.ValueAt(payload, c.valuesOff, s.index), s.scale)
		ch <- prometheus.MustNewConstMetric(s.desc, s.typ, v)
	}
	for _, h := range c.hists {
		buckets := make(map[float64]uint64, len(h.bounds))
		var cum uint64
		for k, b := range h.bounds {
			cum += snapshot.ValueAt(payload, c.valuesOff, h.first+k)
			buckets[b] = cum
		}
		cum += snapshot.ValueAt(payload, c.valuesOff, h.first+len(h.bounds)) // +Inf
		sum := snapshot.Scaled(snapshot.ValueAt(payload, c.valuesOff, h.sum), h.sumScale)
		m, err := prometheus.NewConstHistogram(h.desc, cum, sum, buckets)
		if err != nil {
			m = prometheus.NewInvalidMetric(h.desc, err)
		}
		ch <- m
	}
}
