package ndr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
	"github.com/rxprobe/rxprobe/stats/dropclass"
)

// seriesColors are plot.go's palette: trial points (short, full), NDR,
// PDR, and the ledger layers in order (port_buffer, host_too_slow, …).
var seriesColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"}

// latencyColors are the latency percentiles' (p50, p90, p99, p99.9).
var latencyColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd"}

// shotWidth is the page width of the screenshot: make bench-report-shot's,
// where two plots share a row.
const shotWidth = 1600

// shotBox is one image of the page as bench/shot/shot.js --boxes reports it.
type shotBox struct {
	Src                         string
	X, Y, Width, Height         int
	NaturalWidth, NaturalHeight int
}

// shotTool returns the node binary and bench/shot/shot.js, or skips when
// node or the tool's npm packages (Chromium) are not installed.
func shotTool(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	script, err = filepath.Abs(filepath.Join("..", "shot", "shot.js"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(filepath.Dir(script), "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	// install.sh copies the lock file to installed.json once Chromium runs;
	// the same cache directory shot.js uses (XDG_CACHE_HOME or ~/.cache).
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no chromium: run make bench-report-shot once")
	}
	if got, err := os.ReadFile(filepath.Join(cache, "rxprobe-shot", "installed.json")); err != nil || !bytes.Equal(got, lock) {
		t.Skip("no chromium: run make bench-report-shot once")
	}
	return node, script
}

// shot screenshots dir/index.html into dir/index.png and returns the
// image, where each plot landed, and shot.js's error output.
func shot(t *testing.T, node, script, dir string) (image.Image, []shotBox, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hung browser, not a speed target
	defer cancel()
	boxesFile := filepath.Join(dir, "boxes.json")
	cmd := exec.CommandContext(ctx, node, script, "--boxes", boxesFile, filepath.Join(dir, ndr.IndexFile), filepath.Join(dir, "index.png"), strconv.Itoa(shotWidth))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, stderr.String(), fmt.Errorf("shot.js: %w", err)
	}
	f, err := os.Open(filepath.Join(dir, "index.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("index.png: %v", err)
	}
	b, err := os.ReadFile(boxesFile)
	if err != nil {
		t.Fatal(err)
	}
	var boxes []shotBox
	if err := json.Unmarshal(b, &boxes); err != nil {
		t.Fatalf("%s: %v", boxesFile, err)
	}
	return img, boxes, stderr.String(), nil
}

// plotFrame is the plot area of an SVG chart: its rect without fill.
func plotFrame(t *testing.T, svg []byte) image.Rectangle {
	t.Helper()
	var doc struct {
		Rects []struct {
			X      float64 `xml:"x,attr"`
			Y      float64 `xml:"y,attr"`
			Width  float64 `xml:"width,attr"`
			Height float64 `xml:"height,attr"`
			Fill   string  `xml:"fill,attr"`
		} `xml:"rect"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Rects {
		if r.Fill == "none" {
			return image.Rect(int(r.X), int(r.Y), int(r.X+r.Width), int(r.Y+r.Height))
		}
	}
	t.Fatal("SVG without a plot frame (rect fill=none)")
	return image.Rectangle{}
}

// colorCount counts the pixels of img in r within 3 per channel of the
// colour hex ("#rrggbb").
func colorCount(img image.Image, r image.Rectangle, hex string) int {
	var want [3]int
	fmt.Sscanf(hex, "#%02x%02x%02x", &want[0], &want[1], &want[2])
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(int(cr>>8), want[0]) && near(int(cg>>8), want[1]) && near(int(cb>>8), want[2]) {
				n++
			}
		}
	}
	return n
}

func near(a, b int) bool { return a-b <= 3 && b-a <= 3 }

// wantColors are the series colours that must be drawn inside a plot's
// frame: the full trials' points, latency points, the bar of the layer that
// dropped most.
func wantColors(t *testing.T, res *ndr.Results, p ndr.Plot) []string {
	t.Helper()
	size := p.File[strings.LastIndex(p.File, "-")+1 : len(p.File)-len(".svg")]
	switch {
	case strings.HasPrefix(p.File, "loss-"):
		// The full trials confirming the NDR (and PDR) are drawn last, on
		// top of any short trial at the same load.
		return []string{seriesColors[1]}
	case strings.HasPrefix(p.File, "drops-"):
		layer, most := -1, uint64(0)
		for _, tr := range res.Trials {
			for k, n := range dropclass.Names {
				if tr.FrameSize.Name == size && tr.Ledger[n] > most {
					layer, most = k, tr.Ledger[n]
				}
			}
		}
		if layer < 0 {
			return nil // no drops at this size: nothing drawn
		}
		return []string{seriesColors[layer%len(seriesColors)]}
	case strings.HasPrefix(p.File, "latency-"):
		return latencyColors
	}
	t.Fatalf("unknown plot %s", p.File)
	return nil
}

// TestIndexRendersInChromium takes a headless-Chromium screenshot of the
// index.html of a simulated run (bench/shot/shot.js) and looks at it: the
// PNG decodes at the asked width, every plot is on it at its SVG's size,
// two a row and none over another,
// and inside each plot's frame there are pixels of the series it draws, so
// an SVG that parses but draws nothing fails. A broken SVG fails shot.js
// itself, naming the file.
func TestIndexRendersInChromium(t *testing.T) {
	node, script := shotTool(t)
	dut := sim.Knee(1.2e6)
	dut.Latency = true
	res, err := runSim(t, context.Background(), dut, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := writeAndRead(t, res)
	img, boxes, stderr, err := shot(t, node, script, dir)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	plots := ndr.Plots(res)
	if b := img.Bounds(); b.Dx() != shotWidth || len(boxes) != len(plots) {
		t.Fatalf("index.png is %dx%d with %d images, want %d wide with %d plots", b.Dx(), b.Dy(), len(boxes), shotWidth, len(plots))
	}
	rects := make([]image.Rectangle, len(boxes))
	for i, bx := range boxes {
		rects[i] = image.Rect(bx.X, bx.Y, bx.X+bx.Width, bx.Y+bx.Height)
		for j := range i {
			if rects[i].Overlaps(rects[j]) {
				t.Errorf("%s at %v overlaps %s at %v", bx.Src, rects[i], boxes[j].Src, rects[j])
			}
		}
	}
	if rects[0].Min.Y != rects[1].Min.Y {
		t.Errorf("%s and %s not side by side on a %d px page: at %v and %v", boxes[0].Src, boxes[1].Src, shotWidth, rects[0], rects[1])
	}
	top := img.Bounds().Dy()
	for i, p := range plots {
		bx := boxes[i]
		top = min(top, bx.Y)
		var svgSize struct {
			Width  int `xml:"width,attr"`
			Height int `xml:"height,attr"`
		}
		if err := xml.Unmarshal(p.SVG, &svgSize); err != nil {
			t.Fatal(err)
		}
		if bx.Src != p.File || bx.NaturalWidth != svgSize.Width || bx.NaturalHeight != svgSize.Height || bx.Width != svgSize.Width || bx.Height != svgSize.Height {
			t.Errorf("image %d: %+v, want %s drawn at its size %dx%d", i, bx, p.File, svgSize.Width, svgSize.Height)
			continue
		}
		at := rects[i]
		if !at.In(img.Bounds()) {
			t.Errorf("%s at %v, outside the %v screenshot", p.File, at, img.Bounds())
			continue
		}
		// The frame and the points on its edges (radius 4), short of the
		// legend on its right.
		frame := plotFrame(t, p.SVG).Add(at.Min).Inset(-5)
		for _, c := range wantColors(t, res, p) {
			if n := colorCount(img, frame, c); n < 12 {
				t.Errorf("%s: %d pixels of series colour %s inside the plot frame, want a drawn point or bar (at least 12)", p.File, n, c)
			}
		}
	}
	// The detector is specific: above the plots (heading, table) none of
	// the series colours occur.
	for _, c := range seriesColors[:4] {
		if n := colorCount(img, image.Rect(0, 0, img.Bounds().Dx(), top), c); n != 0 {
			t.Errorf("%d pixels of %s above the plots, where no series is drawn", n, c)
		}
	}

	// A broken SVG: shot.js fails and names it.
	broken := plots[len(plots)-1].File
	if err := os.WriteFile(filepath.Join(dir, broken), []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, stderr, err = shot(t, node, script, dir)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr, broken) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("shot.js on a broken %s: %v, stderr %q; want exit 1 and one line naming it", broken, err, stderr)
	}
}
