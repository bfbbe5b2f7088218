package isolation

import (
	"slices"
	"strings"

	"github.com/rxprobe/rxprobe/internal/hostfs"
)

// tally is what a check found that decides its verdict: each failure,
// warning and input that could not be read is one detail line. Notes are
// further detail lines that do not change the verdict.
type tally struct {
	fails, warns, unread, notes []string
	// obs are observations and fix the remedies of the findings, for the
	// checks that build Observed and Remedy from them.
	obs, fix []string
	// observed is set by checks that observe without t.obs; with t.obs,
	// anything in it counts as observed.
	observed bool
}

// outcome is the reason and remedy of one verdict. An empty remedy keeps
// the one already in the Result.
type outcome struct {
	reason, remedy string
}

// verdicts are the reasons (and remedies) a check gives for each status
// verdict can reach.
type verdicts struct {
	fail, warn outcome
	// unread is the reason of the warning when the only problem is that
	// some inputs could not be read.
	unread string
	// nothing is the reason of the skip when nothing was observed and
	// nothing was unreadable (otherwise the unreadable inputs are the
	// reason).
	nothing string
	// maxDetails caps the detail lines (0: no cap).
	maxDetails int
}

// verdict completes r from t, the one rule every tallying check shares:
// fail if anything failed, else warn if anything warned, else skip if
// nothing was observed, else warn if some input could not be read, else
// pass. Details are the fails, warns, unreadable inputs and notes, in that
// order; an empty Observed or Remedy is filled from t.obs and t.fix.
func (t tally) verdict(r Result, v verdicts) Result {
	if r.Observed == "" {
		r.Observed = strings.Join(t.obs, "; ")
	}
	if r.Remedy == "" {
		r.Remedy = strings.Join(t.fix, "; ")
	}
	d := slices.Concat(t.fails, t.warns, t.unread, t.notes)
	if v.maxDetails > 0 {
		d = capDetails(d, v.maxDetails)
	}
	r.Details = d
	apply := func(s Status, o outcome) Result {
		r.Status, r.Reason = s, o.reason
		if o.remedy != "" {
			r.Remedy = o.remedy
		}
		return r
	}
	switch {
	case len(t.fails) > 0:
		return apply(StatusFail, v.fail)
	case len(t.warns) > 0:
		return apply(StatusWarn, v.warn)
	case !t.observed && len(t.obs) == 0 && len(t.unread) > 0:
		return apply(StatusSkip, outcome{reason: strings.Join(t.unread, "; ")})
	case !t.observed && len(t.obs) == 0:
		return apply(StatusSkip, outcome{reason: v.nothing})
	case len(t.unread) > 0:
		return apply(StatusWarn, outcome{reason: v.unread})
	default:
		r.Status = StatusPass
		return r
	}
}

// find records a finding at level (StatusFail or StatusWarn) and its fix.
func (t *tally) find(level Status, what, fix string) {
	if level == StatusFail {
		t.fails = append(t.fails, what)
	} else {
		t.warns = append(t.warns, what)
	}
	if fix != "" {
		t.fix = append(t.fix, fix)
	}
}

// read returns the setting at rel and whether it was read; a file that
// exists but cannot be read is recorded as unread, a missing one is not.
func (t *tally) read(h hostfs.FS, rel string) (string, bool) {
	s, err := h.ReadString(rel)
	if err != nil && !hostfs.NotExist(err) {
		t.unread = append(t.unread, err.Error())
	}
	return s, err == nil
}
