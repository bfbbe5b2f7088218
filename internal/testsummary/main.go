// Command testsummary reads `go test -json` on stdin and prints what plain
// `go test` prints (each package's ok/FAIL line, the output of failing
// tests, build errors), then one line per skip reason with the number of
// tests skipped for it. It exits 1 if any test, package or build failed.
//
//	go test -json ./... | go run ./internal/testsummary
//
// A skip's reason is the last message the test logged before skipping
// (its t.Skip text), up to the first ": " — so "needs root: mount: EPERM"
// and "needs root: writing nr_hugepages" count as one reason, "needs root".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output, build-fail
	Test       string
	Output     string
}

func main() {
	failed, err := summarise(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// logLine is a t.Log/t.Skip line: "    file_test.go:12: message".
var logLine = regexp.MustCompile(`^\s+[^\s:]+\.go:\d+: (.*)$`)

// summarise copies the go test lines of in to out, then the skip reasons,
// and reports whether anything failed.
func summarise(in io.Reader, out io.Writer) (failed bool, err error) {
	bufs := map[string][]string{} // output per running test
	skips := map[string]int{}
	var order []string // reasons in order of first appearance
	total := 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			fmt.Fprintf(out, "%s\n", line) // not JSON: pass through
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			io.WriteString(out, e.Output)
		case "build-fail":
			failed = true
		case "output":
			if e.Test != "" {
				bufs[key] = append(bufs[key], e.Output)
			} else if e.Output != "PASS\n" {
				io.WriteString(out, e.Output)
			}
		case "fail":
			failed = true
			for _, l := range bufs[key] {
				if !strings.HasPrefix(l, "=== ") {
					io.WriteString(out, l)
				}
			}
			delete(bufs, key)
		case "skip":
			if e.Test == "" {
				break
			}
			r := reason(bufs[key])
			if skips[r] == 0 {
				order = append(order, r)
			}
			skips[r]++
			total++
			delete(bufs, key)
		case "pass":
			delete(bufs, key)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	if total > 0 {
		slices.SortStableFunc(order, func(a, b string) int { return skips[b] - skips[a] })
		fmt.Fprintf(out, "skipped %d test(s), by reason:\n", total)
		for _, r := range order {
			fmt.Fprintf(out, "  %4d  %s\n", skips[r], r)
		}
	}
	return failed, nil
}

// reason is the head of the last log line a skipped test wrote.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		m := logLine.FindStringSubmatch(strings.TrimRight(lines[i], "\n"))
		if m == nil {
			continue
		}
		r := strings.TrimSpace(m[1])
		if head, _, ok := strings.Cut(r, ": "); ok {
			r = head
		}
		if r != "" {
			return r
		}
	}
	return "no reason given"
}
