package run

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/rxprobe/rxprobe/rx"
	"github.com/rxprobe/rxprobe/rx/capture"
)

// sigRelay turns SIGUSR1 into the capture's signal trigger on every
// queue: signal.Notify on a channel made at start, one goroutine that
// calls the engine (an atomic store per queue, nothing allocated).
type sigRelay struct {
	c    chan os.Signal
	done chan struct{}
}

func (s *sigRelay) start(eng *rx.Engine) {
	s.c, s.done = make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(s.c, syscall.SIGUSR1)
	go func() {
		defer close(s.done)
		for range s.c {
			eng.CaptureTrigger(uint8(capture.TriggerSignal))
		}
	}()
}

// stop stops listening and waits for the goroutine: the engine is not
// called afterwards. A SIGUSR1 from then on is ignored (its default would
// end the process while it writes the report).
func (s *sigRelay) stop() {
	if s.c == nil {
		return
	}
	signal.Ignore(syscall.SIGUSR1)
	signal.Stop(s.c)
	close(s.c)
	<-s.done
	s.c = nil
}
