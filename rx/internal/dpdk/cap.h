/* cap.h: rxprobe's capture data path in C.
 *
 * Three stages, each with its own thread and its own counters (one writer
 * per counter):
 *   - the filter: a tcpdump expression compiled by libpcap before EAL
 *     starts (rxp_filter_compile), converted for DPDK's BPF library and
 *     loaded (JIT where there is one) after it (rxp_filter_load);
 *   - the handoff, on the RX core (rxp_cap_stage, inlined in the loop):
 *     filter, stamp the burst's TSC, enqueue by reference into a
 *     single-producer/single-consumer rte_ring; a full ring is a counted
 *     drop, never a wait;
 *   - the writer, a pthread on a capture CPU per queue: copies packets into
 *     large aligned blocks as pcapng, and its I/O thread writes full blocks
 *     with O_DIRECT, rotates files (NAME.part renamed when complete) and
 *     keeps the file count and the free space within bounds.
 *
 * In trigger mode the writer encodes the same EPBs into a circular history
 * in memory instead (the oldest expire when it is full); rxp_capw_trigger
 * makes it write the history, then the packets of `after_ns`, to one file
 * named after the event. */
#ifndef RXP_CAP_H
#define RXP_CAP_H

#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_ring.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "rxp.h"

/* ---- filter ---- */

struct rxp_filter {
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *);  /* NULL: run the interpreter */
};

/* rxp_filter_compile compiles expr with libpcap for Ethernet at snaplen
 * into *out (free with pcap_freecode). Needs no EAL. On error returns -1
 * with pcap_geterr's text in err. */
int rxp_filter_compile(const char *expr, uint32_t snaplen, struct bpf_program *out,
		       char *err, size_t errlen);
/* rxp_filter_load converts and loads a compiled program (needs the EAL);
 * use_jit = 0 forces the interpreter. NULL with rte_errno set on error. */
struct rxp_filter *rxp_filter_load(const struct bpf_program *prog, int use_jit);
void rxp_filter_free(struct rxp_filter *f);

/* rxp_filter_test runs f (and libpcap's own interpreter on prog, the
 * reference) over n packets laid end to end in data with lengths lens,
 * copied into mbufs from pool. got[i] and ref[i] are 1 for a match.
 * Diagnostics and tests only: allocates mbufs. Returns 0 or -errno. */
int rxp_filter_test(const struct rxp_filter *f, const struct bpf_program *prog,
		    struct rte_mempool *pool, const uint8_t *data, const uint32_t *lens,
		    uint32_t n, uint8_t *got, uint8_t *ref);

/* ---- handoff (RX core) ---- */

/* What the RX loop needs, read-only after launch. */
struct rxp_capq {
	struct rte_ring *ring;            /* SP/SC ring of mbuf pointers */
	struct rte_bpf *bpf;              /* NULL: every packet matches */
	uint64_t (*jit)(void *);          /* NULL: interpreter (if bpf) */
	int tsc_off;                      /* mbuf dynfield holding the RX TSC */
};

/* rxp_cap_stage runs on the RX core after rte_eth_rx_burst: filter, stamp
 * tsc, enqueue the matches by reference, free the rest; counts into c. It
 * never waits. Returns the burst's bytes (what rxp_count_free returns). */
static inline uint64_t rxp_cap_stage(const struct rxp_capq *cq, struct rxp_rxq_counters *c,
				     struct rte_mbuf **pkts, uint16_t n, uint64_t tsc)
{
	struct rte_mbuf *keep[RXP_MAX_BURST];
	struct rte_mbuf *drop[RXP_MAX_BURST];
	unsigned nk = 0, nd = 0;
	uint64_t nb = 0;
	if (cq->bpf == NULL) {
		for (uint16_t i = 0; i < n; i++) {
			nb += rte_pktmbuf_pkt_len(pkts[i]);
			keep[nk++] = pkts[i];
		}
	} else if (cq->jit != NULL) {
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			nb += rte_pktmbuf_pkt_len(m);
			if (cq->jit(m) != 0)
				keep[nk++] = m;
			else
				drop[nd++] = m;
		}
	} else {
		uint64_t rc[RXP_MAX_BURST];
		rte_bpf_exec_burst(cq->bpf, (void **)pkts, rc, n);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			nb += rte_pktmbuf_pkt_len(m);
			if (rc[i] != 0)
				keep[nk++] = m;
			else
				drop[nd++] = m;
		}
	}
	unsigned filtered = nd;
	for (unsigned i = 0; i < nk; i++)
		*RTE_MBUF_DYNFIELD(keep[i], cq->tsc_off, uint64_t *) = tsc;
	unsigned enq = nk == 0 ? 0 : rte_ring_sp_enqueue_burst(cq->ring, (void **)keep, nk, NULL);
	for (unsigned i = enq; i < nk; i++)
		drop[nd++] = keep[i];
	if (nd != 0)
		rte_pktmbuf_free_bulk(drop, nd);
	if (enq != 0)
		__atomic_store_n(&c->cap_enqueued, c->cap_enqueued + enq, __ATOMIC_RELAXED);
	if (filtered != 0)
		__atomic_store_n(&c->cap_filtered, c->cap_filtered + filtered, __ATOMIC_RELAXED);
	if (nk != enq)
		__atomic_store_n(&c->cap_dropped, c->cap_dropped + (nk - enq), __ATOMIC_RELAXED);
	return nb;
}

/* ---- writer ---- */

#define RXP_CAP_NAME_MAX 256
#define RXP_CAP_DIR_MAX 1024
#define RXP_CAP_ALIGN 4096
#define RXP_CAP_EVENTS 64         /* trigger events recorded per queue */

/* Modes (rxp_capw_cfg.mode). */
#define RXP_CAP_CONTINUOUS 0u
#define RXP_CAP_TRIGGER 1u

/* Writer configuration, filled by Go before rxp_capw_new. */
struct rxp_capw_cfg {
	uint16_t port;
	uint16_t queue;
	uint32_t snaplen;
	uint32_t ring_size;        /* mbuf ring entries, power of two */
	uint32_t block_size;       /* multiple of RXP_CAP_ALIGN */
	uint32_t nblocks;          /* >= 2 */
	uint32_t max_files;        /* 0: no limit */
	uint32_t idle_us;          /* writer sleep when its ring is empty */
	uint32_t slow_us;          /* test option: sleep after every burst */
	uint64_t rotate_bytes;     /* 0: never by size */
	uint64_t rotate_ns;        /* 0: never by time; else at multiples since the epoch */
	uint64_t min_free_bytes;   /* keep the file system above this */
	uint32_t mode;             /* RXP_CAP_CONTINUOUS or RXP_CAP_TRIGGER */
	uint64_t history_bytes;    /* trigger mode: memory kept before a trigger */
	uint64_t after_ns;         /* trigger mode: written after a trigger */
	int socket;
	int ncpus;
	int cpus[64];              /* writer and I/O threads run here */
	char dir[RXP_CAP_DIR_MAX];
	char pattern[RXP_CAP_NAME_MAX]; /* {port} {queue} {seq} {event} and strftime (UTC) */
	char if_name[256];
	char if_desc[256];
	char filter[1024];
	/* NIC RX timestamps (RTE_ETH_RX_OFFLOAD_TIMESTAMP on): the mbuf
	 * dynfield offset and ol_flags bit (rte_mbuf_dyn_rx_timestamp_register;
	 * nic_ts_flag 0: TSC only) and the NIC clock's ns per tick in 32.32
	 * fixed point, measured at start (refined at every anchor). */
	int nic_ts_off;
	uint64_t nic_ts_flag;
	uint64_t nic_mult;
};

/* Writer thread counters (one writer: the writer thread). */
struct rxp_capw_counters {
	uint64_t packets;          /* encoded (into blocks, or trigger mode's history) */
	uint64_t bytes;            /* captured bytes (after snaplen) */
	uint64_t wire_bytes;       /* original lengths */
	uint64_t truncated;        /* packets cut to snaplen */
	uint64_t bursts;
	uint64_t busy_ns;          /* handling bursts, block waits included */
	uint64_t block_wait_ns;    /* waiting for a free block: the disk is behind */
	uint64_t files_started;
	uint64_t last_ts_ns;       /* latest packet timestamp written */
	uint64_t running;
	/* trigger mode; packets above count the history's encodes too */
	uint64_t triggers;         /* events started */
	uint64_t triggers_coalesced; /* triggers while an event file was open */
	uint64_t expired;          /* encoded into the history, never written */
	uint64_t history_bytes;    /* the history's current fill */
	uint64_t ts_nic;           /* packets stamped with the NIC's RX timestamp */
	uint64_t nic_clock_errors; /* anchors without a NIC clock reading */
};

/* One trigger-mode event (written by the writer thread). */
struct rxp_cap_event {
	uint64_t ns;               /* UTC when the writer started the file */
	uint32_t reason;           /* the first trigger's (rxp_capw_trigger) */
	uint32_t pad;
	char name[RXP_CAP_NAME_MAX]; /* the file's final name */
};

/* I/O thread counters (one writer: the I/O thread). */
struct rxp_capio_counters {
	uint64_t written_packets;  /* in files closed and renamed */
	uint64_t disk_dropped;     /* in files that could not be written */
	uint64_t bytes_written;    /* to the file system */
	uint64_t blocks;
	uint64_t write_ns;         /* total time in pwrite */
	uint64_t write_ns_max;
	uint64_t files_closed;
	uint64_t files_deleted;    /* by the max-files ring or the free-space guard */
	uint64_t errors;
	uint64_t last_errno;
	uint64_t direct;           /* 1 once a file was opened with O_DIRECT */
	uint64_t running;
	uint64_t hook_sent;        /* finished files announced on the hook pipe */
	uint64_t hook_dropped;     /* not announced: the pipe was full or closed */
};

struct rxp_capw;

/* rxp_capw_new allocates everything the writer will use (ring, blocks,
 * name list) on cfg->socket; rxp_capw_q is the stage to attach to the RX
 * queue. NULL with rte_errno set on error. */
struct rxp_capw *rxp_capw_new(const struct rxp_capw_cfg *cfg, const struct rxp_filter *f);
struct rxp_capq *rxp_capw_q(struct rxp_capw *w);
/* rxp_capw_attach ties the stage to q (before q's loop is launched). */
void rxp_capw_attach(struct rxp_capw *w, struct rxp_rxq *q);
/* rxp_capw_start creates and pins the writer and I/O threads. */
int rxp_capw_start(struct rxp_capw *w);
/* rxp_capw_set_ifdrop sets the NIC drop figure for the next ISBs. */
void rxp_capw_set_ifdrop(struct rxp_capw *w, uint64_t v);
/* rxp_capw_stop drains the ring, writes the final ISB, closes the file
 * and joins both threads. Call after the RX loop returned. */
int rxp_capw_stop(struct rxp_capw *w);
void rxp_capw_read(const struct rxp_capw *w, struct rxp_capw_counters *wc,
		   struct rxp_capio_counters *ioc);
/* rxp_capw_trigger asks a trigger-mode writer to write its history and
 * the packets of the next after_ns to a new file; reason (1 drop, 2 gap,
 * 3 irq, 4 signal) names it in {event}. Any thread; two atomic operations,
 * never blocks. Triggers while an event file is open are coalesced. A
 * no-op in continuous mode. */
void rxp_capw_trigger(struct rxp_capw *w, uint32_t reason);
/* rxp_capw_events copies up to max recorded events into out and returns
 * how many were recorded (at most RXP_CAP_EVENTS are kept). */
uint32_t rxp_capw_events(const struct rxp_capw *w, struct rxp_cap_event *out, uint32_t max);
/* rxp_capw_last_file copies the name of the latest finished file. */
void rxp_capw_last_file(const struct rxp_capw *w, char *out, size_t len);
void rxp_capw_free(struct rxp_capw *w);
/* rxp_capw_set_hook gives the I/O thread the write end of the on_file
 * pipe (O_NONBLOCK; -1: none). Call before rxp_capw_start. After each
 * finished file's rename the I/O thread writes one line "port queue
 * path\n" (at most PIPE_BUF bytes: atomic, never interleaved with other
 * queues' lines) with write(2); a full pipe is never waited on. */
void rxp_capw_set_hook(struct rxp_capw *w, int fd);
static inline uint64_t rxp_load_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

/* ---- NIC clock to UTC ---- */

/* A NIC clock anchor: the device clock (rte_eth_read_clock, the clock of
 * the RX timestamp dynfield) read at CLOCK_REALTIME ns, and its rate. */
struct rxp_nicclk {
	uint64_t nic;   /* device clock at the anchor */
	uint64_t ns;    /* UTC ns at the anchor; 0: no anchor yet */
	uint64_t mult;  /* ns per device tick, 32.32 fixed point */
};

/* rxp_nicclk_ns converts a device clock reading to UTC ns against the
 * anchor, rounded to the nearest ns (readings before it give earlier
 * times; never below 0). */
static inline uint64_t rxp_nicclk_ns(const struct rxp_nicclk *c, uint64_t ts)
{
	int64_t d = (int64_t)(ts - c->nic);
	__int128 ns = (__int128)c->ns + (((__int128)d * (__int128)c->mult + (1ll << 31)) >> 32);
	return ns < 0 ? 0 : (uint64_t)ns;
}

/* rxp_nicclk_anchor moves the anchor to (nic, ns). The rate is taken from
 * the previous anchor when it is within 1000 ppm of the known one (or
 * there is none yet): a step of CLOCK_REALTIME is absorbed by the new
 * anchor instead of bending the rate. */
static inline void rxp_nicclk_anchor(struct rxp_nicclk *c, uint64_t nic, uint64_t ns)
{
	if (c->ns != 0 && nic > c->nic && ns > c->ns) {
		uint64_t dn = nic - c->nic;
		uint64_t m = (uint64_t)((((__uint128_t)(ns - c->ns) << 32) + dn / 2) / dn);
		uint64_t diff = m > c->mult ? m - c->mult : c->mult - m;
		if (c->mult == 0 || diff <= c->mult / 1000)
			c->mult = m;
	}
	c->nic = nic;
	c->ns = ns;
}

#endif
