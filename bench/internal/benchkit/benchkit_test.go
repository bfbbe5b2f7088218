package benchkit

import (
	"testing"
	"time"
)

func TestEnvRejectsGarbage(t *testing.T) {
	t.Setenv("BK_INT", "12")
	t.Setenv("BK_BAD", "x1")
	var e Env
	if e.Int("BK_INT", 3) != 12 || e.Int("BK_UNSET", 3) != 3 || e.Float("BK_INT", 0) != 12 {
		t.Error("defaults or values wrong")
	}
	if e.Int("BK_BAD", 5) != 5 || len(e.Errs) != 1 {
		t.Errorf("garbage accepted: %v", e.Errs)
	}
}

func TestParsers(t *testing.T) {
	if m := LscpuModel("Architecture: x86_64\nModel name:   Intel(R) Xeon(R) Processor\n"); m != "Intel(R) Xeon(R) Processor" {
		t.Errorf("model %q", m)
	}
	if ns, err := ParseSchedstat([]byte("123 45 6\n")); err != nil || ns != 123 {
		t.Errorf("schedstat %d %v", ns, err)
	}
	if _, err := ParseSchedstat([]byte("1 2")); err == nil {
		t.Error("short schedstat accepted")
	}
	t0 := time.Unix(0, 0)
	if s := Share(CPUSample{t0, 0}, CPUSample{t0.Add(time.Second), 5e8}); s != 0.5 {
		t.Errorf("share %v", s)
	}
	if Median([]float64{3, 1, 2}) != 2 || Median([]float64{1, 2, 3, 4}) != 2.5 || Median(nil) != 0 {
		t.Error("median")
	}
}
