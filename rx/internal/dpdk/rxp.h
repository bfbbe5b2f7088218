/* rxp.h: the C half of rxprobe's DPDK binding.
 *
 * Everything that runs on an RX (or generator) lcore lives here. The loops
 * never call into Go and never touch Go memory: their state and counters are
 * allocated with rte_zmalloc_socket (hugepage memory, cache-line aligned) and
 * each counter has exactly one writer, the loop. Go reads them through
 * rxp_*_read, which copies with relaxed atomic loads into C memory the Go side
 * allocated once.
 */
#ifndef RXP_H
#define RXP_H

#include <stdint.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>

/* Loop-gap histogram: bucket 0 counts gaps <= 64 ns, bucket k gaps in
 * (64<<(k-1), 64<<k] ns, up to 64<<24 ns (~1.07 s); the last bucket counts
 * everything longer. */
#define RXP_GAP_BUCKETS 26
#define RXP_GAP_MIN_SHIFT 6
#define RXP_MAX_BURST 512
#define RXP_MAX_PKT 9216

/* Counters of one RX queue. Written only by its loop. */
struct rxp_rxq_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t polls;
	uint64_t empty_polls;
	uint64_t busy_cycles;
	uint64_t max_gap_cycles;
	uint64_t last_tsc;      /* TSC of the latest poll: a heartbeat */
	uint64_t running;       /* 1 while the loop runs */
	uint64_t gap_hist[RXP_GAP_BUCKETS];
	/* capture stage (cap.h); 0 while no capture is attached */
	uint64_t cap_enqueued;  /* matched and handed to the writer */
	uint64_t cap_filtered;  /* did not match the filter, freed */
	uint64_t cap_dropped;   /* matched, ring full: freed */
};

struct rxp_capq;

/* Latency mode (rxprobe gen --latency, rxprobe run --latency).
 *
 * The generator stamps every frame's UDP payload: at RXP_SEQ_OFF the
 * sequence number (8 bytes, host order: the generator's epoch, random per
 * generator and never 0, in the top 16 bits, the count in the low
 * RXP_SEQ_BITS; the RX loop restarts its gap and reorder check when the
 * epoch changes), then the low 48 bits of the TSC
 * read just before rte_eth_tx_burst (6 bytes), then RXP_LAT_MAGIC (4
 * bytes): 18 bytes, what a 60-byte frame (64 with FCS) holds after its
 * headers. The 48-bit stamp wraps after ~26 h at 3 GHz; the RX core takes
 * the difference modulo 2^48.
 *
 * Histogram: log-linear, HdrHistogram-like with 32 linear sub-buckets per
 * power of two (~3 % precision). Value v (ns): e = 0 for v < 64, else
 * bitlen(v) - 6; bucket e*32 + (v >> e). Buckets 0..63 are exact ns;
 * bucket e*32 + m (m in 32..63) counts [m << e, (m+1) << e). The last
 * bucket counts v >= 2^32 ns (~4.3 s). rx/counters mirrors this. */
#define RXP_LAT_MAGIC 0x54505852u /* "RXPT" in little-endian memory */
#define RXP_LAT_SUB_BITS 5
#define RXP_LAT_BUCKETS (28 * 32 + 1)
#define RXP_LAT_STAMP_BITS 48
#define RXP_SEQ_BITS 48
#define RXP_SEQ_EPOCH_MAX ((UINT64_C(1) << (64 - RXP_SEQ_BITS)) - 1)

/* Latency counters of one RX queue. Written only by its loop. */
struct rxp_lat_counters {
	uint64_t stamped;      /* packets with the marker: recorded */
	uint64_t unstamped;    /* packets without it */
	uint64_t gaps;         /* sequence numbers skipped (seq > highest+1) */
	uint64_t reordered;    /* seq at or below the highest seen */
	uint64_t max_ns;
	uint64_t highest_seq;  /* highest sequence number seen + 1 (epoch included); 0 = none */
	uint64_t sum_ns;
	uint64_t hist[RXP_LAT_BUCKETS];
};

struct rxp_lat {
	struct rxp_lat_counters c;
	uint64_t ns_mult __rte_cache_aligned; /* ns = (cycles * ns_mult) >> 32 */
	uint64_t cycles_max;                  /* above: the last bucket */
};

struct rxp_lat *rxp_lat_new(int socket);
void rxp_lat_read(const struct rxp_lat *l, struct rxp_lat_counters *out);
/* rxp_lat_bucket: the bucket of v ns (exported for the tests). */
unsigned rxp_lat_bucket(uint64_t v);

struct rxp_rxq {
	struct rxp_rxq_counters c;        /* the loop's cache lines */
	/* read-only after launch, on its own cache line */
	uint16_t port __rte_cache_aligned;
	uint16_t queue;
	uint16_t burst;
	uint16_t pad0;
	uint64_t ns_mult;                 /* ns = (cycles * ns_mult) >> 32 */
	uint64_t cycles_1s;               /* gaps above this go to the last bucket */
	volatile uint32_t *stop;          /* shared stop flag */
	struct rxp_capq *cap;             /* capture stage; NULL = off */
	uint64_t pace_pps;                /* rxp_rx_loop_paced only (test option) */
	struct rxp_lat *lat;              /* rxp_rx_loop_latency only */
};

/* Counters of one generator queue. Written only by its loop. */
struct rxp_gen_counters {
	uint64_t sent;          /* accepted by rte_eth_tx_burst */
	uint64_t tx_dropped;    /* given up on after retries */
	uint64_t alloc_failed;  /* mbuf allocation failures (bursts) */
	uint64_t bursts;
	uint64_t running;
	uint64_t done;          /* 1 once count packets were handled */
};

struct rxp_gen {
	struct rxp_gen_counters c;
	uint16_t port __rte_cache_aligned;
	uint16_t queue;
	uint16_t burst;
	uint16_t pkt_len;
	uint32_t flows;                  /* UDP source ports cycled through */
	uint32_t pad0;
	uint64_t count;                  /* 0 = until stopped */
	uint64_t cycles_per_pkt_fp;      /* 32.32 fixed point; 0 = unpaced */
	uint64_t sleep_cycles;           /* sleep when this far ahead; 0 = always spin */
	uint64_t cycles_per_us;
	uint32_t tx_retries;             /* tx_burst calls before a drop */
	uint32_t latency;                /* stamp TSC and magic (latency mode) */
	uint64_t seq_next;               /* latency mode: first seq of the next launch */
	struct rte_mempool *pool;
	volatile uint32_t *stop;
	uint8_t tmpl[RXP_MAX_PKT];
};

/* Process-wide control block (one engine per process). */
struct rxp_ctl {
	volatile uint32_t stop;
	uint32_t pad;
	uint64_t lsc_events;
	uint64_t rmv_events;
};

struct rxp_ctl *rxp_ctl_get(void);
void rxp_set_stop(uint32_t v);
struct rxp_events { uint64_t lsc; uint64_t rmv; };
struct rxp_events rxp_get_events(void);
int rxp_errno(void);

int rxp_rx_loop(void *arg);
int rxp_gen_loop(void *arg);
int rxp_rx_loop_baseline(void *arg);
/* rxp_rx_loop_paced is rxp_rx_loop asking rx_burst for no more packets than
 * q->pace_pps allow since launch: a test-only source for net_null, which
 * returns every packet asked for (rxprobe run --debug-rx-pace-pps). Never
 * used by a production run. */
int rxp_rx_loop_paced(void *arg);
/* rxp_rx_loop_latency is rxp_rx_loop that also records, per packet, the
 * one-way latency of stamped frames into q->lat (rxprobe run --latency). */
int rxp_rx_loop_latency(void *arg);

struct rxp_rxq *rxp_rxq_new(uint16_t port, uint16_t queue, uint16_t burst, int socket);
void rxp_rxq_read(const struct rxp_rxq *q, struct rxp_rxq_counters *out);

struct rxp_gen *rxp_gen_new(uint16_t port, uint16_t queue, uint16_t burst, int socket,
			    struct rte_mempool *pool);
/* rxp_gen_clear_done: before a relaunch (the loop not running). */
void rxp_gen_clear_done(struct rxp_gen *g);
void rxp_gen_read(const struct rxp_gen *g, struct rxp_gen_counters *out);
/* rxp_gen_build fills the template: Ethernet/IPv4/UDP, total frame length
 * pkt_len (without FCS), payload starts with a sequence number. */
int rxp_gen_build(struct rxp_gen *g, const uint8_t *dst_mac, const uint8_t *src_mac,
		  uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
		  uint16_t pkt_len);

/* Port helpers: a flat view of what Go needs from rte_eth_dev_info and friends. */
struct rxp_port_info {
	char driver[64];
	int socket;
	uint16_t max_rx_queues;
	uint16_t max_tx_queues;
	uint64_t rss_offloads;
	uint32_t dev_flags;
	uint16_t rx_desc_max;
	uint16_t rx_desc_min;
	uint16_t rx_desc_align;
	uint16_t pad;
	uint64_t rx_offload_capa;
};
int rxp_port_info(uint16_t port, struct rxp_port_info *out);
/* rx_offloads: RTE_ETH_RX_OFFLOAD_* to enable (the caller checked the
 * port offers them). */
int rxp_port_configure(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, int rss, int lsc,
		       uint64_t rx_offloads);
int rxp_port_register_events(uint16_t port);
int rxp_link(uint16_t port, uint32_t *speed_mbps, int *up, int *full_duplex);

#endif
