package isolation

// Status is the outcome of one check.
type Status string

// The check outcomes. Only StatusFail makes Report.Failed true.
const (
	StatusPass Status = "pass"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// Result is the outcome of one check.
type Result struct {
	// ID is the check's stable identifier, e.g. "isolcpus".
	ID string `json:"id"`
	// Title says in a few words what the check wants.
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Observed is what was found on the host.
	Observed string `json:"observed"`
	// Expected is what the check wants to find.
	Expected string `json:"expected"`
	// Remedy is something a person can paste to fix a warn or fail.
	Remedy string `json:"remedy,omitempty"`
	// Reason explains a skip, or why the status is what it is.
	Reason string `json:"reason,omitempty"`
	// Details lists individual findings (IRQs, tasks, CPUs).
	Details []string `json:"details,omitempty"`
}

// Report is the outcome of every check on one host.
type Report struct {
	Host    string   `json:"host"`
	Results []Result `json:"results"`
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Status == StatusFail {
			return true
		}
	}
	return false
}
