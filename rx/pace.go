package rx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rxprobe/rxprobe/rx/config"
)

// ErrPaceDevice is returned by Open when Options.RXPacePPS is set and a
// port is not net_null: pacing a real port would drop on the wire, not in
// rxprobe.
var ErrPaceDevice = errors.New("RX pacing is for net_null ports only")

// ErrLatencyPaced is returned by Open when both Options.Latency and
// Options.RXPacePPS are set: the loop has one variant at a time.
var ErrLatencyPaced = errors.New("rx: latency mode and --debug-rx-pace-pps: the RX loop runs one of them, drop one")

// checkPace refuses RX pacing (pps > 0) of any port that is not net_null.
func checkPace(cfg *config.Config, pps uint64) error {
	if pps == 0 {
		return nil
	}
	for _, p := range cfg.Ports {
		if !strings.HasPrefix(p.Device, "net_null") {
			return fmt.Errorf("port %s: device %s: %w", p.Name, p.Device, ErrPaceDevice)
		}
	}
	return nil
}
