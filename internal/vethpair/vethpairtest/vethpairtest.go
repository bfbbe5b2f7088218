package vethpairtest

import (
	"errors"
	"testing"

	"github.com/rxprobe/rxprobe/internal/vethpair"
)

// New creates a pair as o says for t and removes it when t ends.
func New(t testing.TB, o vethpair.Options) *vethpair.Pair {
	t.Helper()
	p, err := vethpair.New(o)
	if r := skipReason(err); r != "" {
		t.Skip(r)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// skipReason is why a test skips when vethpair.New failed with err: a
// precondition the host lacks, or "" for any other error.
func skipReason(err error) string {
	switch {
	case errors.Is(err, vethpair.ErrNotPermitted):
		return "needs root"
	case errors.Is(err, vethpair.ErrNoIP):
		return "needs iproute2"
	}
	return ""
}
