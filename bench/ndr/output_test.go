package ndr_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rxprobe/rxprobe/bench/ndr"
	"github.com/rxprobe/rxprobe/bench/ndr/sim"
)

func runSim(t *testing.T, ctx context.Context, r ndr.Runner, progress io.Writer) (*ndr.Results, error) {
	t.Helper()
	cfg := ndr.Config{FrameSizes: []ndr.FrameSize{ndr.Fixed(64), ndr.Fixed(1518), ndr.IMIX}, LineRateGbps: 10,
		TrialDuration: 30 * time.Second, ShortDuration: 2 * time.Second}
	return ndr.Run(ctx, cfg, r, ndr.Options{
		Machine:    ndr.Machine{Host: "h", CPUModel: "cpu", Kernel: "6.1", DPDKVersion: "22.11", NIC: "veth", Driver: "net_af_xdp", RxprobeVersion: "rxprobe dev"},
		ConfigPath: "x.yaml", ConfigText: "ports: []\n", Simulated: "knee:1.2Mpps", Progress: progress,
	})
}

type svgDoc struct {
	XMLName  xml.Name   `xml:"svg"`
	Circles  []struct{} `xml:"circle"`
	Rects    []struct{} `xml:"rect"`
	Lines    []struct{} `xml:"line"`
	Polyline []struct{} `xml:"polyline"`
	Texts    []string   `xml:"text"`
}

// writeAndRead writes res to a new directory and reads its results.json.
func writeAndRead(t *testing.T, res *ndr.Results) (string, *ndr.Results) {
	t.Helper()
	dir := t.TempDir()
	if err := ndr.WriteAll(dir, res); err != nil {
		t.Fatal(err)
	}
	back, err := ndr.ReadJSON(filepath.Join(dir, ndr.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, back
}

func TestBenchOutputParses(t *testing.T) {
	dut := sim.Knee(1.2e6)
	dut.Latency = true
	var prog bytes.Buffer
	res, err := runSim(t, context.Background(), dut, &prog)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(prog.String(), "\n"); got != len(res.Trials) || !strings.Contains(prog.String(), "ETA ~") || !strings.Contains(prog.String(), "] 100%") {
		t.Errorf("progress: %d lines for %d trials, or no ETA:\n%s", got, len(res.Trials), prog.String())
	}
	dir, back := writeAndRead(t, res)
	if d := cmp.Diff(res, back); d != "" {
		t.Errorf("results.json round trip (-want +got):\n%s", d)
	}
	if !back.Complete || len(back.Sizes) != 3 {
		t.Errorf("complete %v, %d sizes", back.Complete, len(back.Sizes))
	}
	md, err := os.ReadFile(filepath.Join(dir, ndr.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 64B |", "| 1518B |", "| imix |", "host_too_slow", "SIMULATED"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	plots := ndr.Plots(res)
	if len(plots) != 11 { // loss, drops, latency for 3 sizes; loss near the knee for 64 B and IMIX (1518 B is below it)
		t.Errorf("%d plots, want 11", len(plots))
	}
	for _, p := range plots {
		b, err := os.ReadFile(filepath.Join(dir, p.File))
		if err != nil {
			t.Fatal(err)
		}
		var doc svgDoc
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", p.File, err)
		}
		switch {
		case strings.HasPrefix(p.File, "loss-") && !strings.HasPrefix(p.File, "loss-knee-"):
			n := 0
			for _, tr := range res.Trials {
				if tr.FrameSize.Name+".svg" == strings.TrimPrefix(p.File, "loss-") {
					n++
				}
			}
			if len(doc.Circles) != n || n == 0 {
				t.Errorf("%s: %d points for %d trials", p.File, len(doc.Circles), n)
			}
			if !strings.Contains(strings.Join(doc.Texts, "|"), "NDR ") || !strings.Contains(strings.Join(doc.Texts, "|"), "PDR ") {
				t.Errorf("%s: NDR/PDR not marked: %q", p.File, doc.Texts)
			}
		case strings.HasPrefix(p.File, "latency-"):
			if len(doc.Polyline) != 4 {
				t.Errorf("%s: %d percentile lines, want 4", p.File, len(doc.Polyline))
			}
		}
	}
	idx, err := os.ReadFile(filepath.Join(dir, ndr.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(idx))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	imgs := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("index.html: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "img" {
			imgs++
			for _, a := range se.Attr {
				if a.Name.Local == "src" {
					if _, err := os.Stat(filepath.Join(dir, a.Value)); err != nil {
						t.Errorf("index.html shows a missing file: %v", err)
					}
				}
			}
		}
	}
	if imgs != len(plots) {
		t.Errorf("index.html shows %d plots, want %d", imgs, len(plots))
	}
}

func TestBenchInterruptedWritesIncomplete(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	imix := 0
	r := ndr.RunnerFunc(func(c context.Context, s ndr.TrialSpec) (ndr.Trial, error) {
		if s.FrameSize.Name == "imix" {
			if imix++; imix == 3 { // Ctrl-C during the third size's third trial
				cancel()
			}
		}
		return sim.Knee(1.2e6).Trial(c, s)
	})
	res, err := runSim(t, ctx, r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	dir, back := writeAndRead(t, res)
	if back.Complete || len(back.Sizes) != 3 || !back.Sizes[1].Complete || back.Sizes[2].Complete || back.Sizes[2].Trials != 2 {
		t.Fatalf("complete %v, %d sizes: want incomplete, two sizes complete, the third not after 2 trials", back.Complete, len(back.Sizes))
	}
	if n := back.Sizes[0].Trials + back.Sizes[1].Trials + 2; len(back.Trials) != n {
		t.Errorf("%d raw trials written, want %d", len(back.Trials), n)
	}
	md, _ := os.ReadFile(filepath.Join(dir, ndr.ReportFile))
	if !bytes.Contains(md, []byte("INCOMPLETE")) || !bytes.Contains(md, []byte("imix (incomplete)")) {
		t.Error("report.md does not say INCOMPLETE for the run and the IMIX size")
	}
}

func TestCompareShowsEveryChange(t *testing.T) {
	a, err := runSim(t, context.Background(), sim.Knee(1.2e6), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runSim(t, context.Background(), sim.Knee(1.5e6), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Machine.Kernel = "6.12"
	var out bytes.Buffer
	ndr.Compare(&out, a, b)
	s := out.String()
	for _, want := range []string{"kernel:                6.1 → 6.12", "DPDK:                  22.11 (same)", "frame 64:", "frame imix:", "NDR:", "PDR:", "latency at NDR"} {
		if !strings.Contains(s, want) {
			t.Errorf("compare lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(s, "+25.") {
		t.Errorf("NDR change 1.2 → 1.5 Mpps not shown as about +25 %%:\n%s", s)
	}
}
