package ndr

import (
	"fmt"
	"slices"
	"testing"
)

func TestTickLabelsAndSteps(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.0002: "0.0002", 1.18: "1.18", 5000: "5000", 20000: "20k",
		2.5e6: "2.5M", 4e6: "4M", 3e7: "30M", 1.5e9: "1.5G"} {
		if got := num(v); got != want {
			t.Errorf("num(%g) = %q, want %q", v, got, want)
		}
	}
	if got := ticks(0, 3, 1); !slices.Equal(got, []float64{0, 1, 2, 3}) {
		t.Errorf("ticks(0, 3, step ≥ 1) = %v, want whole trials", got)
	}
	if got := ticks(0, 3, 0); !slices.Contains(got, 0.5) {
		t.Errorf("ticks(0, 3, any step) = %v, want half steps (the case the minimum step is for)", got)
	}
}

// An NDR/PDR label stays inside the plot frame wherever its line is
// (near the right edge it ran into the legend).
func TestMarkLabelInsideFrame(t *testing.T) {
	for _, x := range []float64{0.001, 0.1, 0.5, 0.9, 0.999} {
		c := newChart("t", "x", "y", 0, 1, 0, 1, 0, 0)
		label := "PDR 0.8127 Mpps"
		c.vline(x, palette[3], label, 1)
		var lx float64
		if _, err := fmt.Sscanf(c.over.String(), `<text x="%g"`, &lx); err != nil {
			t.Fatalf("vline at %g: no label drawn over the data: %q (%v)", x, c.over.String(), err)
		}
		if lx < c.l || lx+textWidth(label) > c.w-c.r {
			t.Errorf("vline at %g: label from %.1f to %.1f, outside the frame %g..%g", x, lx, lx+textWidth(label), c.l, c.w-c.r)
		}
	}
}
