package isolation

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// statusColour is the ANSI colour of each status on a terminal.
var statusColour = map[Status]string{
	StatusPass: "\x1b[32m",
	StatusWarn: "\x1b[33m",
	StatusFail: "\x1b[31m",
	StatusSkip: "\x1b[90m",
}

// WriteText writes the report as `rxprobe preflight` prints it: a table
// of every check, then expected value, reason, remedy and details under
// every check that warned or failed, then the counts. colour adds ANSI
// colours to the status column (for a terminal).
func (r Report) WriteText(out io.Writer, colour bool) {
	if r.Host != "" {
		fmt.Fprintf(out, "host %s\n\n", r.Host)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tOBSERVED")
	counts := map[Status]int{}
	for _, res := range r.Results {
		counts[res.Status]++
		st := strings.ToUpper(string(res.Status))
		if colour {
			// Pad before colouring so the escape codes do not upset the columns.
			st = statusColour[res.Status] + fmt.Sprintf("%-4s", st) + "\x1b[0m"
		}
		obs := res.Observed
		if res.Status == StatusSkip {
			obs = res.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st, res.ID, oneLine(obs))
	}
	tw.Flush()
	for _, res := range r.Results {
		if res.Status != StatusWarn && res.Status != StatusFail {
			continue
		}
		fmt.Fprintf(out, "\n%s %s: %s\n", strings.ToUpper(string(res.Status)), res.ID, res.Title)
		if res.Reason != "" {
			fmt.Fprintf(out, "  why:      %s\n", oneLine(res.Reason))
		}
		fmt.Fprintf(out, "  expected: %s\n", oneLine(res.Expected))
		if res.Remedy != "" {
			fmt.Fprintf(out, "  remedy:   %s\n", oneLine(res.Remedy))
		}
		for _, d := range res.Details {
			fmt.Fprintf(out, "    - %s\n", oneLine(d))
		}
	}
	fmt.Fprintf(out, "\n%d pass, %d warn, %d fail, %d skip\n",
		counts[StatusPass], counts[StatusWarn], counts[StatusFail], counts[StatusSkip])
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
