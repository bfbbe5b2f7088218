package rx

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fakeTrials records the trials it was asked for.
type fakeTrials struct{ specs []TrialSpec }

func (f *fakeTrials) Trial(ctx context.Context, s TrialSpec) (GenReport, error) {
	f.specs = append(f.specs, s)
	if s.RatePPS == 13 {
		return GenReport{}, errors.New("unlucky rate")
	}
	if _, ok := ctx.Deadline(); !ok {
		return GenReport{}, errors.New("no deadline")
	}
	return GenReport{RatePPS: s.RatePPS, Count: s.Count, Sent: s.Count}, nil
}

// TestServeTrials: one reply line per trial line, in order; bad lines get
// an error reply and serving goes on.
func TestServeTrials(t *testing.T) {
	in := strings.Join([]string{
		`{"rate_pps": 1000, "count": 50}`,
		`not json`,
		`{"rate_pps": 1000}`,
		`{"rate_pps": 1000, "count": 5, "bogus": 1}`,
		``,
		`{"rate_pps": 2000, "count": 0, "duration": "10ms"}`,
		`{"rate_pps": 13, "count": 1}`,
		`{"rate_pps": 1, "count": 1, "duration": "2h"}`,
	}, "\n")
	var out strings.Builder
	f := &fakeTrials{}
	if err := ServeTrials(context.Background(), strings.NewReader(in), &out, f); err != nil {
		t.Fatal(err)
	}
	var reps []ServeReply
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r ServeReply
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("reply %q: %v", l, err)
		}
		reps = append(reps, r)
	}
	wantErr := []string{"", "not json", "give a duration", "bogus", "", "unlucky rate", "2h"}
	if len(reps) != len(wantErr) {
		t.Fatalf("%d replies, want %d: %s", len(reps), len(wantErr), out.String())
	}
	for i, w := range wantErr {
		if (w == "") != (reps[i].Error == "") || !strings.Contains(reps[i].Error, w) {
			t.Errorf("reply %d: error %q, want %q", i, reps[i].Error, w)
		}
	}
	if reps[0].Sent != 50 || reps[4].RatePPS != 2000 {
		t.Errorf("replies %+v", reps)
	}
	if len(f.specs) != 3 {
		t.Errorf("%d trials run, want 3 (the valid lines)", len(f.specs))
	}
}
