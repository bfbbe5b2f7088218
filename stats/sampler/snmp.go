package sampler

import (
	"fmt"

	"github.com/rxprobe/rxprobe/stats/counter"
	"github.com/rxprobe/rxprobe/stats/kernel"
	"github.com/rxprobe/rxprobe/stats/snapshot"
)

// snmpSource publishes the UDP drop counters of /proc/net/snmp.
type snmpSource struct {
	root                string
	r                   *kernel.SNMPReader
	udp                 kernel.UDPStats
	rcvbufIdx, inErrIdx int
	rcvbuf, inErr       counter.Mono
}

var (
	mUDPRcvbuf = metric{"rxprobe_udp_rcvbuf_errors_total", snapshot.Counter, "UDP datagrams dropped on full socket buffers (/proc/net/snmp RcvbufErrors)."}
	mUDPInErr  = metric{"rxprobe_udp_in_errors_total", snapshot.Counter, "UDP datagrams that could not be delivered (/proc/net/snmp InErrors)."}
)

func (q *snmpSource) declare(s *schema) error {
	var err error
	if q.r, err = kernel.NewSNMPReader(q.root); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	q.rcvbufIdx = s.add(mUDPRcvbuf, 0)
	q.inErrIdx = s.add(mUDPInErr, 0)
	return nil
}

func (q *snmpSource) sample(v []uint64) error {
	if err := q.r.ReadInto(&q.udp); err != nil {
		return err
	}
	v[q.rcvbufIdx] = q.rcvbuf.Update(q.udp.RcvbufErrors)
	v[q.inErrIdx] = q.inErr.Update(q.udp.InErrors)
	return nil
}

func (q *snmpSource) close() {
	if q.r != nil {
		q.r.Close()
	}
}
