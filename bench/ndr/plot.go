package ndr

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"

	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// Plot is one SVG file of the output.
type Plot struct {
	File  string
	Title string
	SVG   []byte
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"}

// Plots draws, per frame size: loss ratio against offered load with the
// NDR and PDR marked, over the whole range and zoomed to the knee (3 %
// either side of the NDR and PDR, when a knee was found); drops per ledger layer per trial; latency
// percentiles against load (only when trials carry valid latency).
func Plots(r *Results) []Plot {
	var out []Plot
	for _, z := range r.Sizes {
		var ts []*Trial
		for i := range r.Trials {
			if r.Trials[i].FrameSize.Name == z.FrameSize.Name {
				ts = append(ts, &r.Trials[i])
			}
		}
		name := z.FrameSize.Name
		out = append(out, lossPlot(name, z, ts, false))
		if z.NDR.Found && !z.NDR.AtLeast {
			out = append(out, lossPlot(name, z, ts, true))
		}
		out = append(out, dropsPlot(name, z, ts))
		if p, ok := latencyPlot(name, z, ts); ok {
			out = append(out, p)
		}
	}
	return out
}

// chart is a hand-written SVG chart with linear axes.
type chart struct {
	b              strings.Builder
	over           strings.Builder // labels drawn on top of the data
	w, h           float64
	l, r, t, bot   float64
	x0, x1, y0, y1 float64
}

// newChart starts a chart; xstep and ystep are the smallest tick steps (1
// for a count, 0 for any).
func newChart(title, xlabel, ylabel string, x0, x1, y0, y1, xstep, ystep float64) *chart {
	if !(x1 > x0) {
		x0, x1 = x0-1, x0+1
	}
	if !(y1 > y0) {
		y1 = y0 + 1
	}
	c := &chart{w: 720, h: 380, l: 80, r: 150, t: 40, bot: 50, x0: x0, x1: x1, y0: y0, y1: y1}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", c.w, c.h, c.w, c.h)
	fmt.Fprintf(&c.b, `<rect x="0" y="0" width="%g" height="%g" fill="white"/>`+"\n", c.w, c.h)
	fmt.Fprintf(&c.b, `<text x="%g" y="22" font-size="15" text-anchor="middle">%s</text>`+"\n", c.l+(c.w-c.l-c.r)/2, esc(title))
	px0, px1, py0, py1 := c.l, c.w-c.r, c.h-c.bot, c.t
	for _, v := range ticks(x0, x1, xstep) {
		x := c.X(v)
		fmt.Fprintf(&c.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, py0, x, py1, x, py0+16, num(v))
	}
	for _, v := range ticks(y0, y1, ystep) {
		y := c.Y(v)
		fmt.Fprintf(&c.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", px0, y, px1, y, px0-6, y+4, num(v))
	}
	fmt.Fprintf(&c.b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="black"/>`+"\n", px0, py1, px1-px0, py0-py1)
	fmt.Fprintf(&c.b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", px0+(px1-px0)/2, c.h-12, esc(xlabel))
	fmt.Fprintf(&c.b, `<text transform="translate(18,%g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", py1+(py0-py1)/2, esc(ylabel))
	return c
}

// X maps a data x to the canvas.
func (c *chart) X(v float64) float64 { return c.l + (v-c.x0)/(c.x1-c.x0)*(c.w-c.l-c.r) }

// Y maps a data y to the canvas.
func (c *chart) Y(v float64) float64 { return c.h - c.bot - (v-c.y0)/(c.y1-c.y0)*(c.h-c.bot-c.t) }

func (c *chart) point(x, y float64, color string, filled bool, tip string) {
	fill := color
	if !filled {
		fill = "white"
	}
	fmt.Fprintf(&c.b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s"><title>%s</title></circle>`+"\n", c.X(x), c.Y(y), fill, color, esc(tip))
}

func (c *chart) line(xs, ys []float64, color string) {
	var pts []string
	for i := range xs {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", c.X(xs[i]), c.Y(ys[i])))
	}
	fmt.Fprintf(&c.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.Join(pts, " "), color)
}

// textWidth is about how wide s is at font-size 12 (DejaVu Sans, the
// widest common sans-serif: 7 px a character).
func textWidth(s string) float64 { return 7 * float64(len([]rune(s))) }

// vline marks x with a dashed line and a label in the row-th line from the
// top. The label goes left of the line, where the zero-loss trials below
// the mark leave the top of the plot empty, or right of it when there is
// no room, and never past the frame; it is drawn on top of the data with
// a white halo so that a point or grid line under it leaves it readable.
func (c *chart) vline(x float64, color, label string, row int) {
	px := c.X(x)
	fmt.Fprintf(&c.b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="%s" stroke-dasharray="5,3"/>`+"\n", px, c.t, px, c.h-c.bot, color)
	tw := textWidth(label)
	lx := px - 4 - tw
	if lx < c.l+2 {
		lx = min(px+4, c.w-c.r-2-tw)
	}
	fmt.Fprintf(&c.over, `<text x="%.1f" y="%g" fill="%s" stroke="white" stroke-width="3" paint-order="stroke">%s</text>`+"\n", max(lx, c.l+2), c.t+14+14*float64(row), color, esc(label))
}

func (c *chart) rect(x0, y0, x1, y1 float64, color, tip string) {
	fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
		c.X(x0), c.Y(y1), c.X(x1)-c.X(x0), c.Y(y0)-c.Y(y1), color, esc(tip))
}

// swatch is how a legend entry is drawn: like the mark it names.
type swatch int

const (
	swatchBar    swatch = iota // a filled square
	swatchPoint                // a filled circle
	swatchHollow               // a circle without fill
	swatchDash                 // a dashed line
	swatchLine                 // a line through a point
)

type legendEntry struct {
	name, color string
	kind        swatch
}

// legend draws the entries right of the plot, in a group of their own
// (the plot's marks stay the SVG's top-level elements).
func (c *chart) legend(entries []legendEntry) {
	x := c.w - c.r + 12
	c.b.WriteString(`<g class="legend">` + "\n")
	defer c.b.WriteString("</g>\n")
	for i, e := range entries {
		y := c.t + 10 + 18*float64(i)
		switch e.kind {
		case swatchBar:
			fmt.Fprintf(&c.b, `<rect x="%g" y="%g" width="12" height="12" fill="%s"/>`, x, y, e.color)
		case swatchPoint, swatchHollow:
			fill := e.color
			if e.kind == swatchHollow {
				fill = "white"
			}
			fmt.Fprintf(&c.b, `<circle cx="%g" cy="%g" r="4" fill="%s" stroke="%s"/>`, x+6, y+6, fill, e.color)
		case swatchDash:
			fmt.Fprintf(&c.b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-dasharray="5,3"/>`, x, y+6, x+13, y+6, e.color)
		case swatchLine:
			fmt.Fprintf(&c.b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="1.5"/><circle cx="%g" cy="%g" r="3" fill="%s"/>`, x, y+6, x+12, y+6, e.color, x+6, y+6, e.color)
		}
		fmt.Fprintf(&c.b, `<text x="%g" y="%g">%s</text>`+"\n", x+16, y+10, esc(e.name))
	}
}

func (c *chart) note(s string) {
	fmt.Fprintf(&c.b, `<text x="%g" y="%g" text-anchor="middle" fill="#666">%s</text>`+"\n", c.l+(c.w-c.l-c.r)/2, c.t+(c.h-c.t-c.bot)/2, esc(s))
}

func (c *chart) svg() []byte { return []byte(c.b.String() + c.over.String() + "</svg>\n") }

func esc(s string) string { return html.EscapeString(s) }

// num is a tick label: a round value without trailing zeros, from 10000
// on with a k, M or G suffix (30M, not 30000000; 4M, not 4000k).
func num(v float64) string {
	if v == 0 {
		return "0"
	}
	for _, u := range []struct {
		from, div float64
		suffix    string
	}{{1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}} {
		if math.Abs(v) >= u.from {
			return num(v/u.div) + u.suffix
		}
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
}

// ticks are about 5 round values from lo to hi, at least minStep apart.
func ticks(lo, hi, minStep float64) []float64 {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []float64{lo}
	}
	step := math.Pow(10, math.Floor(math.Log10(span/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= 6 {
			step *= m
			break
		}
	}
	step = max(step, minStep)
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func rateRange(z SizeResult, ts []*Trial) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, t := range ts {
		lo, hi = min(lo, t.EffectiveRate()), max(hi, t.EffectiveRate())
	}
	if len(ts) == 0 {
		lo, hi = z.MinRatePPS, z.MaxRatePPS
	}
	return 0, max(hi, lo) / 1e6 * 1.05
}

func lossPlot(name string, z SizeResult, ts []*Trial, zoom bool) Plot {
	title := fmt.Sprintf("Loss vs offered load, %s frames", z.FrameSize)
	file := "loss-" + name + ".svg"
	x0, x1 := rateRange(z, ts)
	if zoom {
		title += ", near the knee"
		file = "loss-knee-" + name + ".svg"
		x0, x1 = z.NDR.Mpps*0.97, max(z.PDR.Mpps, z.NDR.UpperPPS/1e6)*1.03
	}
	var in []*Trial
	ymax := 0.0
	for _, t := range ts {
		if x := t.EffectiveRate() / 1e6; x >= x0 && x <= x1 {
			in = append(in, t)
			ymax = max(ymax, 100*t.LossRatio)
		}
	}
	c := newChart(title, "offered load (Mpps)", "loss (%)", x0, x1, 0, max(ymax*1.1, 1e-3), 0, 0)
	if z.NDR.Found {
		c.vline(z.NDR.Mpps, palette[2], fmt.Sprintf("NDR %.4f Mpps", z.NDR.Mpps), 0)
	}
	if z.PDR.Found {
		c.vline(z.PDR.Mpps, palette[3], fmt.Sprintf("PDR %.4f Mpps", z.PDR.Mpps), 1)
	}
	// the phases after the search get colours (and legend entries) of
	// their own; each of their trials counts, none is superseded
	phases := map[string]legendEntry{PhaseConfirm: {"NDR repeat", palette[4], swatchPoint}, PhaseLatency: {"latency trial", palette[5], swatchPoint}}
	seen := map[string]bool{}
	for _, t := range in {
		color := palette[0]
		if t.Phase == PhaseFull {
			color = palette[1]
		}
		if e, ok := phases[t.Phase]; ok {
			color, seen[t.Phase] = e.color, true
		}
		c.point(t.EffectiveRate()/1e6, 100*t.LossRatio, color, t.Decisive || t.afterSearch(),
			fmt.Sprintf("trial %d (%s): %.4f Mpps, loss %.4f%%%s", t.Index+1, t.Phase, t.EffectiveRate()/1e6, 100*t.LossRatio, tipFlags(t)))
	}
	if len(in) == 0 {
		c.note("no trials")
	}
	legend := []legendEntry{{"short trial", palette[0], swatchPoint}, {"full trial", palette[1], swatchPoint}}
	for _, p := range []string{PhaseConfirm, PhaseLatency} {
		if seen[p] {
			legend = append(legend, phases[p])
		}
	}
	c.legend(append(legend, legendEntry{"not decisive", "#777", swatchHollow}, legendEntry{"NDR", palette[2], swatchDash}, legendEntry{"PDR", palette[3], swatchDash}))
	return Plot{File: file, Title: title, SVG: c.svg()}
}

func tipFlags(t *Trial) string {
	if f := flagsCell(t); f != "" {
		return " [" + f + "]"
	}
	return ""
}

func dropsPlot(name string, z SizeResult, ts []*Trial) Plot {
	title := fmt.Sprintf("Drops per ledger layer per trial, %s frames", z.FrameSize)
	ymax := 0.0
	for _, t := range ts {
		var sum uint64
		for _, d := range t.Ledger {
			sum += d
		}
		ymax = max(ymax, float64(max(sum, uint64(max(t.Unaccounted, 0)))))
	}
	c := newChart(title, "trial", "drops (packets)", 0, float64(len(ts))+1, 0, max(ymax*1.1, 1), 1, 1)
	names := append(slices.Clone(dropclass.Names[:]), "unaccounted")
	for i, t := range ts {
		x := float64(i + 1)
		base := 0.0
		for k, n := range names {
			d := float64(t.Ledger[n])
			if n == "unaccounted" {
				d = float64(max(t.Unaccounted, 0))
			}
			if d == 0 {
				continue
			}
			c.rect(x-0.35, base, x+0.35, base+d, palette[k%len(palette)], fmt.Sprintf("trial %d: %s %.0f", t.Index+1, n, d))
			base += d
		}
	}
	switch {
	case len(ts) == 0:
		c.note("no trials")
	case ymax == 0:
		c.note("no drops in any trial")
	}
	entries := make([]legendEntry, len(names))
	for k, n := range names {
		entries[k] = legendEntry{n, palette[k%len(palette)], swatchBar}
	}
	c.legend(entries)
	return Plot{File: "drops-" + name + ".svg", Title: title, SVG: c.svg()}
}

func latencyPlot(name string, z SizeResult, ts []*Trial) (Plot, bool) {
	var lt []*Trial
	for _, t := range ts {
		if (t.Decisive || t.Phase == PhaseLatency) && t.Latency != nil && t.Latency.Valid {
			lt = append(lt, t)
		}
	}
	if len(lt) == 0 {
		return Plot{}, false
	}
	slices.SortFunc(lt, func(a, b *Trial) int { return cmpFloat(a.EffectiveRate(), b.EffectiveRate()) })
	title := fmt.Sprintf("Latency percentiles vs offered load, %s frames", z.FrameSize)
	_, x1 := rateRange(z, lt)
	ymax := 0.0
	for _, t := range lt {
		ymax = max(ymax, float64(t.Latency.P999Ns)/1e3)
	}
	c := newChart(title, "offered load (Mpps)", "one-way latency (µs)", 0, x1, 0, ymax*1.1, 0, 0)
	pct := []string{"p50", "p90", "p99", "p99.9"}
	colors := []string{palette[0], palette[1], palette[2], palette[4]} // palette[3] is the PDR's
	get := []func(*Latency) uint64{
		func(l *Latency) uint64 { return l.P50Ns }, func(l *Latency) uint64 { return l.P90Ns },
		func(l *Latency) uint64 { return l.P99Ns }, func(l *Latency) uint64 { return l.P999Ns },
	}
	for k, g := range get {
		xs, ys := make([]float64, len(lt)), make([]float64, len(lt))
		for i, t := range lt {
			xs[i], ys[i] = t.EffectiveRate()/1e6, float64(g(t.Latency))/1e3
			c.point(xs[i], ys[i], colors[k], true, fmt.Sprintf("trial %d: %s %.1f µs at %.4f Mpps", t.Index+1, pct[k], ys[i], xs[i]))
		}
		c.line(xs, ys, colors[k])
	}
	if z.PDR.Found {
		c.vline(z.PDR.Mpps, palette[3], "PDR", 0)
	}
	var entries []legendEntry
	for k, n := range pct {
		entries = append(entries, legendEntry{n, colors[k], swatchLine})
	}
	if z.PDR.Found {
		entries = append(entries, legendEntry{"PDR", palette[3], swatchDash})
	}
	c.legend(entries)
	return Plot{File: "latency-" + name + ".svg", Title: title, SVG: c.svg()}, true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
