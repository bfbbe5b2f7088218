package dpdk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rxprobe/rxprobe/rx/capture/pcapng"
)

// TestNICClockConversion: the writer's device clock to UTC math, for the
// two formats mlx5 hands out (DPDK 22.11 drivers/net/mlx5: the CQE
// timestamp is either the free-running device counter at dev_freq_khz,
// or with rt_timestamp already UTC ns, converted by
// mlx5_txpp_convert_rx_ts), and the rate guard against clock steps.
func TestNICClockConversion(t *testing.T) {
	const t0 = uint64(1_764_500_000_000_000_000) // 2025-11-30, UTC ns
	t.Run("free-running 156.25 MHz", func(t *testing.T) {
		var c NICClock
		c.Anchor(1_000_000, t0)
		if c.Mult != 0 {
			t.Fatalf("rate after one anchor: %d", c.Mult)
		}
		c.Anchor(1_000_000+156_250_000, t0+1_000_000_000) // one second later
		if want := uint64(64<<32) / 10; c.Mult < want-1 || c.Mult > want+1 {
			t.Fatalf("mult %d, want 6.4 ns per tick (%d)", c.Mult, want)
		}
		for _, tc := range []struct {
			ticks int64
			ns    int64
		}{{0, 0}, {15_625, 100_000}, {156_250_000, 1_000_000_000}, {-5, -32}} {
			got := c.ToUTC(uint64(int64(c.NIC) + tc.ticks))
			if want := uint64(int64(t0+1_000_000_000) + tc.ns); got != want {
				t.Errorf("%+d ticks: %d, want %d (%+d ns)", tc.ticks, got, want, int64(got-want))
			}
		}
	})
	t.Run("real-time ns", func(t *testing.T) {
		// rt_timestamp: the device clock is UTC ns already, 50 ns off
		c := NICClock{Mult: 1 << 32}
		c.Anchor(t0, t0+50)
		if got := c.ToUTC(t0 + 1_000); got != t0+1_050 {
			t.Errorf("%d, want %d", got, t0+1_050)
		}
	})
	t.Run("realtime step keeps the rate", func(t *testing.T) {
		c := NICClock{Mult: 1 << 32}
		c.Anchor(1_000, t0)
		c.Anchor(1_000_000_000+1_000, t0+1_000_000_000+20_000) // 20 ppm: taken
		if c.Mult == 1<<32 {
			t.Fatalf("a 20 ppm rate change was not taken")
		}
		m := c.Mult
		c.Anchor(2_000_000_000+1_000, t0+3_000_000_000) // CLOCK_REALTIME stepped 1 s
		if c.Mult != m {
			t.Errorf("a 1 s step bent the rate: %d, was %d", c.Mult, m)
		}
		if got := c.ToUTC(2_000_000_000 + 1_000 + 10); got != t0+3_000_000_000+10 {
			t.Errorf("after the step: %d, want the new anchor + 10", got-t0)
		}
	})
}

// TestNICTimestampsWithoutClock: net_ring offers no RX timestamps and no
// readable device clock; a capture told to use them anyway (the engine
// never does: it checks first) counts every anchor's failed read and
// stamps every packet with the TSC, in order and within the run.
func TestNICTimestampsWithoutClock(t *testing.T) {
	port, _ := loopbackPort(t, "net_ring0")
	info, err := Info(port)
	if err != nil {
		t.Fatal(err)
	}
	if info.RXTimestamp {
		t.Fatalf("net_ring claims RX timestamps")
	}
	if _, err := ReadClock(port); !errors.Is(err, ErrNoNICClock) {
		t.Fatalf("ReadClock on net_ring: %v, want ErrNoNICClock", err)
	}
	var nt NICTimestamps
	if err := CalibrateNICClock(port, time.Millisecond, &nt); !errors.Is(err, ErrNoNICClock) {
		t.Fatalf("CalibrateNICClock on net_ring: %v, want ErrNoNICClock", err)
	}
	nt, err = RegisterRXTimestamp()
	if err != nil || nt.Flag == 0 {
		t.Fatalf("register: %+v, %v", nt, err)
	}
	nt.Mult = 1 << 32
	cfg := baseConfig()
	cfg.NIC = &nt
	r := runCapture(t, "net_ring0", cfg, "", []GenParams{genParams(2000, 128, 1)}, 0)
	if r.cc.NICClockErrors == 0 || r.cc.NICStamped != 0 || r.cc.Written == 0 || r.cc.Written+r.cc.RingDropped != r.sent {
		t.Fatalf("want clock errors, no NIC stamp, every packet written or ring-dropped: %+v", r.cc)
	}
	var last uint64
	for _, f := range readBack(t, files(t, r.dir)) {
		if d := f.Interfaces[0].Options.String(pcapng.OptIfDescription); !strings.Contains(d, "clock: TSC") {
			t.Errorf("if_description %q", d)
		}
		for _, p := range f.Packets {
			if p.Timestamp < last || p.Timestamp < uint64(r.start.UnixNano()) || p.Timestamp > uint64(r.end.UnixNano()) {
				t.Fatalf("timestamp %d: before the last %d or outside the run [%d, %d]", p.Timestamp, last, r.start.UnixNano(), r.end.UnixNano())
			}
			last = p.Timestamp
		}
	}
}
