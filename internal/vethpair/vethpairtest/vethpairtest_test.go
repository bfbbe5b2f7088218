package vethpairtest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rxprobe/rxprobe/internal/vethpair"
)

func TestSkipReason(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("vethpair: ip netns add x: %w", vethpair.ErrNotPermitted): "needs root",
		fmt.Errorf("vethpair: %w", vethpair.ErrNoIP):                         "needs iproute2",
		errors.New("ip link add: File exists"):                               "",
		nil:                                                                  "",
	} {
		if got := skipReason(err); got != want {
			t.Errorf("skipReason(%v) = %q, want %q", err, got, want)
		}
	}
}
