package rx

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// TrialRunner is what ServeTrials drives (*Generator).
type TrialRunner interface {
	Trial(ctx context.Context, spec TrialSpec) (GenReport, error)
}

// serveRequest is one line of `rxprobe gen --serve`'s input.
type serveRequest struct {
	TrialSpec
	// Duration ends the trial if Count was not sent by then; it is
	// required when Count is 0.
	Duration string `json:"duration"`
}

// ServeReply is one line of ServeTrials' output: the trial's report, or
// Error.
type ServeReply struct {
	GenReport
	Error string `json:"error,omitempty"`
}

// maxTrial bounds one served trial.
const maxTrial = time.Hour

// ServeTrials (`rxprobe gen --serve`) runs one trial per JSON line of in and writes one JSON
// reply line per trial to out, until in ends or ctx is done. A bad line
// gets an error reply and the next line is read.
func ServeTrials(ctx context.Context, in io.Reader, out io.Writer, gen TrialRunner) error {
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for sc.Scan() && ctx.Err() == nil {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var req serveRequest
		var rep ServeReply
		d, err := parseServeRequest(line, &req)
		if err == nil {
			tctx, cancel := context.WithTimeout(ctx, d)
			rep.GenReport, err = gen.Trial(tctx, req.TrialSpec)
			cancel()
		}
		if err != nil {
			rep.Error = err.Error()
		}
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("gen --serve: writing a reply: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("gen --serve: reading trials: %w", err)
	}
	return nil
}

// parseServeRequest decodes one trial line and returns its time bound.
func parseServeRequest(line string, req *serveRequest) (time.Duration, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return 0, fmt.Errorf("trial %q: %v: send {\"rate_pps\": R, \"count\": N, \"duration\": \"2s\"}", line, err)
	}
	d := maxTrial
	if req.Duration != "" {
		v, err := time.ParseDuration(req.Duration)
		if err != nil || v <= 0 || v > maxTrial {
			return 0, fmt.Errorf("trial duration %q: give a Go duration from 1ms to %v", req.Duration, maxTrial)
		}
		d = v
	} else if req.Count == 0 {
		return 0, fmt.Errorf("trial %q: count 0 runs until stopped: give a duration", line)
	}
	return d, nil
}
