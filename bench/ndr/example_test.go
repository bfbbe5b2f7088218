package ndr_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/rxprobe/rxprobe/bench/ndr"
)

// The example output (regenerate: rxprobe bench ndr --config
// bench/ndr/testdata/sim-10g.yaml --out bench/ndr/testdata/example --sim
// noisy:1.2Mpps:3 --frame-sizes 64,1518,imix) still reads with this
// schema, and its plots parse.
func TestNDRExampleOutputParses(t *testing.T) {
	dir := filepath.Join("testdata", "example")
	r, err := ndr.ReadJSON(filepath.Join(dir, ndr.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Simulated == "" || len(r.Sizes) == 0 {
		t.Errorf("example: complete %v, simulated %q, %d sizes", r.Complete, r.Simulated, len(r.Sizes))
	}
	for _, p := range ndr.Plots(r) {
		b, err := os.ReadFile(filepath.Join(dir, p.File))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			XMLName xml.Name `xml:"svg"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", p.File, err)
		}
	}
}
