package live

import (
	"errors"
	"fmt"

	"github.com/rxprobe/rxprobe/internal/vethpair"
)

// ErrSetup is matched when the veth pair or namespace cannot be made.
var ErrSetup = errors.New("veth setup failed")

// Veth is a veth pair, its generator end (B) in a network namespace of its
// own (NS). Close removes both and is idempotent.
type Veth = vethpair.Pair

// NewVeth creates a veth pair with names unique to this process
// (rxb<pid>-<n>a/b, namespace rxb-<pid>-<n>), both ends up and without
// IPv6 (router solicitations would be traffic the generator did not send).
// On failure nothing is left behind.
func NewVeth() (*Veth, error) {
	v, err := vethpair.New(vethpair.Options{Netns: true, Prefix: "rxb"})
	if err != nil {
		return nil, fmt.Errorf("live: %w: %w", ErrSetup, err)
	}
	return v, nil
}
