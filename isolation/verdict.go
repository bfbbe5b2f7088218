package isolation

import (
	"slices"
	"strings"
)

// tally is what a check found that decides its verdict: each failure,
// warning and input that could not be read is one detail line. Notes are
// further detail lines that do not change the verdict.
type tally struct {
	fails, warns, unread, notes []string
	// observed is false when the check found nothing at all to judge.
	observed bool
}

// outcome is the reason and remedy of one verdict. An empty remedy keeps
// the one already in the Result.
type outcome struct {
	reason, remedy string
}

// verdicts are a check's words for each verdict verdict can reach.
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
// order.
func (t tally) verdict(r Result, v verdicts) Result {
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
	case !t.observed && len(t.unread) > 0:
		return apply(StatusSkip, outcome{reason: strings.Join(t.unread, "; ")})
	case !t.observed:
		return apply(StatusSkip, outcome{reason: v.nothing})
	case len(t.unread) > 0:
		return apply(StatusWarn, outcome{reason: v.unread})
	default:
		r.Status = StatusPass
		return r
	}
}
