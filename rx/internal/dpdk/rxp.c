/* rxp.c: RX poll loops, the paced generator and small ethdev helpers. */
#include <string.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_lcore.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_byteorder.h>
#include <rte_random.h>

#include <limits.h>
#include <malloc.h>

#include "rxp.h"
#include "cap.h"

#define RXP_TX_RETRIES 1000

#define RXP_UDP_SPORT_OFF (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))
#define RXP_SEQ_OFF (RXP_UDP_SPORT_OFF + sizeof(struct rte_udp_hdr))
#define RXP_STAMP_OFF (RXP_SEQ_OFF + 8)
#define RXP_MAGIC_OFF (RXP_STAMP_OFF + RXP_LAT_STAMP_BITS / 8)
#define RXP_LAT_END (RXP_MAGIC_OFF + 4)
#define RXP_STAMP_MASK ((UINT64_C(1) << RXP_LAT_STAMP_BITS) - 1)
/* The stamp fits the smallest frame: 60 bytes without FCS. */
_Static_assert(RXP_LAT_END <= RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN, "latency stamp beyond a 60-byte frame");

static struct rxp_ctl rxp_ctl_block;

/* Keep glibc's malloc from giving memory back to the kernel: every munmap
 * (and every brk shrink) in this process is a TLB shootdown on the RX
 * CPUs. One arena (no per-thread arenas created and trimmed as threads
 * come and go), no heap trimming, and mmap only for blocks over 32 MiB,
 * which DPDK's control path never asks malloc for. Runs before main. */
__attribute__((constructor)) static void rxp_malloc_keep(void)
{
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

struct rxp_ctl *rxp_ctl_get(void) { return &rxp_ctl_block; }

int rxp_errno(void) { return rte_errno; }

void rxp_set_stop(uint32_t v) { __atomic_store_n(&rxp_ctl_block.stop, v, __ATOMIC_RELEASE); }

struct rxp_events rxp_get_events(void)
{
	struct rxp_events e = {
		.lsc = __atomic_load_n(&rxp_ctl_block.lsc_events, __ATOMIC_RELAXED),
		.rmv = __atomic_load_n(&rxp_ctl_block.rmv_events, __ATOMIC_RELAXED),
	};
	return e;
}

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline unsigned gap_bucket(const struct rxp_rxq *q, uint64_t gap)
{
	if (gap >= q->cycles_1s)
		return RXP_GAP_BUCKETS - 1;
	uint64_t ns = (gap * q->ns_mult) >> 32;
	if (ns <= (1u << RXP_GAP_MIN_SHIFT))
		return 0;
	/* bit length of ns-1, minus the shift of the first bucket */
	unsigned b = 64 - __builtin_clzll(ns - 1) - RXP_GAP_MIN_SHIFT;
	return b >= RXP_GAP_BUCKETS ? RXP_GAP_BUCKETS - 1 : b;
}

unsigned rxp_lat_bucket(uint64_t v)
{
	if (v >= (UINT64_C(1) << 32))
		return RXP_LAT_BUCKETS - 1;
	unsigned e = v < (1u << (RXP_LAT_SUB_BITS + 1)) ? 0 : 58 - __builtin_clzll(v);
	return (e << RXP_LAT_SUB_BITS) + (unsigned)(v >> e);
}

struct rxp_lat *rxp_lat_new(int socket)
{
	struct rxp_lat *l = rte_zmalloc_socket("rxp_lat", sizeof(*l), RTE_CACHE_LINE_SIZE, socket);
	if (l == NULL)
		return NULL;
	uint64_t hz = rte_get_tsc_hz();
	l->ns_mult = (uint64_t)(((__uint128_t)1000000000ull << 32) / hz);
	/* 4 s of cycles: below it (cycles * ns_mult) fits 64 bits and the
	 * result is below 2^32 ns */
	l->cycles_max = 4 * hz;
	return l;
}

/* rxp_lat_record records the stamped packets of one burst received at TSC
 * rx_tsc. Each packet's first segment is read at RXP_SEQ_OFF..RXP_LAT_END:
 * the one cache line latency mode adds per packet. */
static inline void rxp_lat_record(struct rxp_lat *l, struct rte_mbuf **pkts, uint16_t n, uint64_t rx_tsc)
{
	struct rxp_lat_counters *c = &l->c;
	uint64_t stamped = 0, unstamped = 0, gaps = 0, reordered = 0;
	uint64_t highest = c->highest_seq, max_ns = c->max_ns, sum = c->sum_ns;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t magic;
		if (unlikely(m->data_len < RXP_LAT_END)) {
			unstamped++;
			continue;
		}
		memcpy(&magic, d + RXP_MAGIC_OFF, sizeof(magic));
		if (unlikely(magic != RXP_LAT_MAGIC)) {
			unstamped++;
			continue;
		}
		uint64_t seq, stamp = 0;
		memcpy(&seq, d + RXP_SEQ_OFF, sizeof(seq));
		memcpy(&stamp, d + RXP_STAMP_OFF, RXP_LAT_STAMP_BITS / 8);
		uint64_t cyc = (rx_tsc - stamp) & RXP_STAMP_MASK;
		uint64_t ns = cyc >= l->cycles_max ? (UINT64_C(1) << 32) : (cyc * l->ns_mult) >> 32;
		unsigned b = rxp_lat_bucket(ns);
		STORE(&c->hist[b], c->hist[b] + 1);
		sum += ns;
		if (unlikely(ns > max_ns))
			max_ns = ns;
		stamped++;
		/* highest is the highest seq seen + 1: the next one expected */
		if (likely(seq == highest)) {
			highest = seq + 1;
		} else if (highest == 0 || ((seq ^ (highest - 1)) >> RXP_SEQ_BITS) != 0) {
			/* the first frame, or another generator epoch (a generator
			 * restarted): the sequence check starts again from here */
			highest = seq + 1;
		} else if (seq > highest) {
			gaps += seq - highest;
			highest = seq + 1;
		} else {
			reordered++;
		}
	}
	STORE(&c->highest_seq, highest);
	STORE(&c->sum_ns, sum);
	STORE(&c->max_ns, max_ns);
	if (stamped != 0)
		STORE(&c->stamped, c->stamped + stamped);
	if (unstamped != 0)
		STORE(&c->unstamped, c->unstamped + unstamped);
	if (gaps != 0)
		STORE(&c->gaps, c->gaps + gaps);
	if (reordered != 0)
		STORE(&c->reordered, c->reordered + reordered);
}

void rxp_lat_read(const struct rxp_lat *l, struct rxp_lat_counters *out)
{
	const struct rxp_lat_counters *c = &l->c;
	out->stamped = LOAD(&c->stamped);
	out->unstamped = LOAD(&c->unstamped);
	out->gaps = LOAD(&c->gaps);
	out->reordered = LOAD(&c->reordered);
	out->max_ns = LOAD(&c->max_ns);
	out->highest_seq = LOAD(&c->highest_seq);
	out->sum_ns = LOAD(&c->sum_ns);
	for (int i = 0; i < RXP_LAT_BUCKETS; i++)
		out->hist[i] = LOAD(&c->hist[i]);
}

/* rxp_count_free sums the packets' lengths and frees them, in one pass:
 * what rte_pktmbuf_free_bulk does (prefree each segment, put the mbufs back
 * to their pool in runs), inlined, with the length read while the mbuf's
 * first cache line is already loaded for the free. */
static inline uint64_t rxp_count_free(struct rte_mbuf **pkts, uint16_t n)
{
	void *pending[RXP_MAX_BURST];
	struct rte_mempool *pool = NULL;
	unsigned np = 0;
	uint64_t nb = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		nb += rte_pktmbuf_pkt_len(m);
		if (unlikely(m->nb_segs != 1)) {
			rte_pktmbuf_free(m); /* chained: the general path */
			continue;
		}
		m = rte_pktmbuf_prefree_seg(m);
		if (unlikely(m == NULL))
			continue; /* still referenced elsewhere */
		if (unlikely(m->pool != pool)) {
			if (np != 0)
				rte_mempool_put_bulk(pool, pending, np);
			pool = m->pool;
			np = 0;
		}
		pending[np++] = m;
	}
	if (np != 0)
		rte_mempool_put_bulk(pool, pending, np);
	return nb;
}

struct rxp_rxq *rxp_rxq_new(uint16_t port, uint16_t queue, uint16_t burst, int socket)
{
	struct rxp_rxq *q = rte_zmalloc_socket("rxp_rxq", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	uint64_t hz = rte_get_tsc_hz();
	q->port = port;
	q->queue = queue;
	q->burst = burst;
	q->ns_mult = (uint64_t)(((__uint128_t)1000000000ull << 32) / hz);
	q->cycles_1s = hz;
	q->stop = &rxp_ctl_block.stop;
	return q;
}

/* rx_loop is the RX loop; paced and latency are compile-time constants, so
 * the production loop (rxp_rx_loop, both 0) compiles without a trace of
 * either. Latency (rxp_rx_loop_latency): a burst that returned packets
 * reads the TSC once more and records its stamped packets before they are
 * counted and freed (or captured). Paced (rxp_rx_loop_paced, see rxp.h): rx_burst asks for at most
 * the packets due, pace_pps x the cycles since launch / TSC Hz less those
 * received; a poll with nothing due counts as an empty poll without
 * calling the PMD. */
static __rte_always_inline int rx_loop(struct rxp_rxq *q, const int paced, const int latency)
{
	struct rxp_rxq_counters *c = &q->c;
	struct rte_mbuf *pkts[RXP_MAX_BURST];
	const uint16_t port = q->port, queue = q->queue, burst = q->burst;
	uint64_t packets = c->packets, bytes = c->bytes, polls = c->polls;
	uint64_t empty = c->empty_polls, busy = c->busy_cycles, max_gap = c->max_gap_cycles;
	uint64_t prev_busy = 0;
	const struct rxp_capq *const cap = q->cap;
	const uint64_t hz = paced ? rte_get_tsc_hz() : 1, pps = paced ? q->pace_pps : 0, base = packets;

	/* One TSC read per poll. The gap between two polls is the loop gap; a
	 * gap that follows a poll which returned packets is time spent on
	 * those packets, so it also counts as busy. */
	STORE(&c->running, 1);
	uint64_t prev = rte_rdtsc();
	const uint64_t start = prev;
	while (!LOAD(q->stop)) {
		uint64_t now = rte_rdtsc();
		uint64_t gap = now - prev;
		prev = now;
		unsigned b = gap_bucket(q, gap);
		STORE(&c->gap_hist[b], c->gap_hist[b] + 1);
		if (unlikely(gap > max_gap)) {
			max_gap = gap;
			STORE(&c->max_gap_cycles, max_gap);
		}
		busy += gap & prev_busy;
		STORE(&c->busy_cycles, busy);

		uint16_t want = burst;
		if (paced) {
			uint64_t due = (uint64_t)((__uint128_t)(now - start) * pps / hz) - (packets - base);
			want = (int64_t)due <= 0 ? 0 : (uint16_t)RTE_MIN(due, (uint64_t)burst);
		}
		uint16_t n = paced && want == 0 ? 0 : rte_eth_rx_burst(port, queue, pkts, want);
		STORE(&c->polls, ++polls);
		STORE(&c->last_tsc, now);
		if (n == 0) {
			prev_busy = 0;
			STORE(&c->empty_polls, ++empty);
			continue;
		}
		prev_busy = ~(uint64_t)0;
		if (latency)
			rxp_lat_record(q->lat, pkts, n, rte_rdtsc());
		uint64_t nb = likely(cap == NULL) ? rxp_count_free(pkts, n)
						  : rxp_cap_stage(cap, c, pkts, n, now);
		packets += n;
		bytes += nb;
		STORE(&c->packets, packets);
		STORE(&c->bytes, bytes);
	}
	STORE(&c->running, 0);
	return 0;
}

int rxp_rx_loop(void *arg) { return rx_loop(arg, 0, 0); }

int rxp_rx_loop_paced(void *arg) { return rx_loop(arg, 1, 0); }

int rxp_rx_loop_latency(void *arg) { return rx_loop(arg, 0, 1); }

void rxp_rxq_read(const struct rxp_rxq *q, struct rxp_rxq_counters *out)
{
	const struct rxp_rxq_counters *c = &q->c;
	out->packets = LOAD(&c->packets);
	out->bytes = LOAD(&c->bytes);
	out->polls = LOAD(&c->polls);
	out->empty_polls = LOAD(&c->empty_polls);
	out->busy_cycles = LOAD(&c->busy_cycles);
	out->max_gap_cycles = LOAD(&c->max_gap_cycles);
	out->last_tsc = LOAD(&c->last_tsc);
	out->running = LOAD(&c->running);
	for (int i = 0; i < RXP_GAP_BUCKETS; i++)
		out->gap_hist[i] = LOAD(&c->gap_hist[i]);
}

struct rxp_gen *rxp_gen_new(uint16_t port, uint16_t queue, uint16_t burst, int socket,
			    struct rte_mempool *pool)
{
	struct rxp_gen *g = rte_zmalloc_socket("rxp_gen", sizeof(*g), RTE_CACHE_LINE_SIZE, socket);
	if (g == NULL)
		return NULL;
	g->port = port;
	/* latency mode: a random epoch in the sequence number's top bits, so
	 * that the RX loop tells a new generator from a reordered frame */
	g->seq_next = (rte_rand_max(RXP_SEQ_EPOCH_MAX) + 1) << RXP_SEQ_BITS;
	g->queue = queue;
	g->burst = burst;
	g->pool = pool;
	g->flows = 1;
	g->tx_retries = RXP_TX_RETRIES;
	g->cycles_per_us = rte_get_tsc_hz() / 1000000;
	if (g->cycles_per_us == 0)
		g->cycles_per_us = 1;
	g->stop = &rxp_ctl_block.stop;
	return g;
}

int rxp_gen_build(struct rxp_gen *g, const uint8_t *dst_mac, const uint8_t *src_mac,
		  uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
		  uint16_t pkt_len)
{
	const uint16_t hdr = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			     sizeof(struct rte_udp_hdr);
	if (pkt_len < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN || pkt_len > RXP_MAX_PKT ||
	    pkt_len < hdr + 8)
		return -EINVAL;
	memset(g->tmpl, 0, sizeof(g->tmpl));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)g->tmpl;
	memcpy(&eth->dst_addr, dst_mac, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, src_mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(pkt_len - sizeof(*eth));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(src_port);
	udp->dst_port = rte_cpu_to_be_16(dst_port);
	udp->dgram_len = rte_cpu_to_be_16(pkt_len - sizeof(*eth) - sizeof(*ip));
	udp->dgram_cksum = 0; /* optional for IPv4; ports vary per flow */
	g->pkt_len = pkt_len;
	return 0;
}

int rxp_gen_loop(void *arg)
{
	struct rxp_gen *g = arg;
	struct rxp_gen_counters *c = &g->c;
	struct rte_mbuf *pkts[RXP_MAX_BURST];
	const uint16_t len = g->pkt_len;
	const uint16_t base_sport = rte_be_to_cpu_16(*(uint16_t *)(g->tmpl + RXP_UDP_SPORT_OFF));
	const uint32_t latency = g->latency;
	const uint64_t seq0 = latency ? g->seq_next : 0;
	uint64_t handled = 0, sent = 0, dropped = 0, bursts = 0, nomem = 0;
	/* the schedule in 32.32 fixed point TSC, so low rates stay exact */
	__uint128_t next = (__uint128_t)rte_rdtsc() << 32;

	STORE(&c->running, 1);
	while (!LOAD(g->stop) && (g->count == 0 || handled < g->count)) {
		uint16_t n = g->burst;
		if (g->count != 0 && g->count - handled < n)
			n = (uint16_t)(g->count - handled);
		if (g->cycles_per_pkt_fp != 0) {
			uint64_t due = (uint64_t)(next >> 32);
			uint64_t now = rte_rdtsc();
			if (now < due) {
				/* On a shared CPU, give it back while far ahead of the
				 * schedule: softirqs and other threads need it. */
				if (g->sleep_cycles != 0 && due - now > g->sleep_cycles)
					rte_delay_us_sleep((unsigned)((due - now - g->sleep_cycles / 2) / g->cycles_per_us));
				else
					rte_pause();
				continue;
			}
			next += (__uint128_t)g->cycles_per_pkt_fp * n;
		}
		if (rte_pktmbuf_alloc_bulk(g->pool, pkts, n) != 0) {
			STORE(&c->alloc_failed, ++nomem);
			continue;
		}
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
			uint64_t seq = handled + i;
			rte_memcpy(d, g->tmpl, len);
			*(uint16_t *)(d + RXP_UDP_SPORT_OFF) =
				rte_cpu_to_be_16((uint16_t)(base_sport + seq % g->flows));
			seq += seq0;
			memcpy(d + RXP_SEQ_OFF, &seq, sizeof(seq));
			m->data_len = len;
			m->pkt_len = len;
		}
		if (latency) {
			/* the stamp as late as possible: just before tx_burst */
			const uint32_t magic = RXP_LAT_MAGIC;
			uint64_t tsc = rte_rdtsc();
			for (uint16_t i = 0; i < n; i++) {
				uint8_t *d = rte_pktmbuf_mtod(pkts[i], uint8_t *);
				memcpy(d + RXP_STAMP_OFF, &tsc, RXP_LAT_STAMP_BITS / 8);
				memcpy(d + RXP_MAGIC_OFF, &magic, sizeof(magic));
			}
		}
		uint16_t done = 0;
		for (uint32_t tries = 0; done < n && tries < g->tx_retries && !LOAD(g->stop); tries++)
			done += rte_eth_tx_burst(g->port, g->queue, pkts + done, n - done);
		if (done < n) {
			rte_pktmbuf_free_bulk(pkts + done, n - done);
			dropped += n - done;
			STORE(&c->tx_dropped, dropped);
		}
		sent += done;
		handled += n;
		STORE(&c->sent, sent);
		STORE(&c->bursts, ++bursts);
	}
	/* latency mode: the next launch (a gen --serve trial) continues the
	 * sequence, so the RX side sees no restart between trials */
	if (latency)
		g->seq_next = seq0 + handled;
	if (g->count != 0 && handled >= g->count)
		STORE(&c->done, 1);
	STORE(&c->running, 0);
	return 0;
}

void rxp_gen_clear_done(struct rxp_gen *g) { STORE(&g->c.done, 0); }

void rxp_gen_read(const struct rxp_gen *g, struct rxp_gen_counters *out)
{
	const struct rxp_gen_counters *c = &g->c;
	out->sent = LOAD(&c->sent);
	out->tx_dropped = LOAD(&c->tx_dropped);
	out->alloc_failed = LOAD(&c->alloc_failed);
	out->bursts = LOAD(&c->bursts);
	out->running = LOAD(&c->running);
	out->done = LOAD(&c->done);
}

int rxp_port_info(uint16_t port, struct rxp_port_info *out)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (info.driver_name != NULL)
		snprintf(out->driver, sizeof(out->driver), "%s", info.driver_name);
	out->socket = rte_eth_dev_socket_id(port);
	out->max_rx_queues = info.max_rx_queues;
	out->max_tx_queues = info.max_tx_queues;
	out->rss_offloads = info.flow_type_rss_offloads;
	out->dev_flags = info.dev_flags != NULL ? *info.dev_flags : 0;
	out->rx_desc_max = info.rx_desc_lim.nb_max;
	out->rx_desc_min = info.rx_desc_lim.nb_min;
	out->rx_desc_align = info.rx_desc_lim.nb_align;
	out->rx_offload_capa = info.rx_offload_capa;
	return 0;
}

int rxp_port_configure(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, int rss, int lsc,
		       uint64_t rx_offloads)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	memset(&conf, 0, sizeof(conf));
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	if (rss && nb_rx > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
			      info.flow_type_rss_offloads;
		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		}
	}
	if (lsc && info.dev_flags != NULL && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC))
		conf.intr_conf.lsc = 1;
	conf.rxmode.offloads = rx_offloads;
	return rte_eth_dev_configure(port, nb_rx, nb_tx, &conf);
}

static int rxp_event_cb(uint16_t port, enum rte_eth_event_type type, void *arg, void *ret)
{
	(void)port;
	(void)arg;
	(void)ret;
	if (type == RTE_ETH_EVENT_INTR_LSC)
		__atomic_fetch_add(&rxp_ctl_block.lsc_events, 1, __ATOMIC_RELAXED);
	else if (type == RTE_ETH_EVENT_INTR_RMV)
		__atomic_fetch_add(&rxp_ctl_block.rmv_events, 1, __ATOMIC_RELAXED);
	return 0;
}

int rxp_port_register_events(uint16_t port)
{
	int rc = rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, rxp_event_cb, NULL);
	if (rc != 0)
		return rc;
	return rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_RMV, rxp_event_cb, NULL);
}

int rxp_link(uint16_t port, uint32_t *speed_mbps, int *up, int *full_duplex)
{
	struct rte_eth_link link;
	memset(&link, 0, sizeof(link));
	int rc = rte_eth_link_get_nowait(port, &link);
	if (rc != 0)
		return rc;
	*speed_mbps = link.link_speed;
	*up = link.link_status;
	*full_duplex = link.link_duplex;
	return 0;
}

/* rxp_rx_loop_baseline is the reference loop of the benchmarks: receive and
 * free, nothing else — what dpdk-testpmd's rxonly engine does. It counts
 * packets only, into the same counters, so the benchmark can compare it
 * with rxp_rx_loop on the same queue in the same process. Never used by
 * rxprobe run. */
int rxp_rx_loop_baseline(void *arg)
{
	struct rxp_rxq *q = arg;
	struct rxp_rxq_counters *c = &q->c;
	struct rte_mbuf *pkts[RXP_MAX_BURST];
	const uint16_t port = q->port, queue = q->queue, burst = q->burst;
	uint64_t packets = c->packets, polls = c->polls;

	STORE(&c->running, 1);
	while (!LOAD(q->stop)) {
		uint16_t n = rte_eth_rx_burst(port, queue, pkts, burst);
		STORE(&c->polls, ++polls);
		if (n == 0)
			continue;
		rte_pktmbuf_free_bulk(pkts, n);
		packets += n;
		STORE(&c->packets, packets);
	}
	STORE(&c->running, 0);
	return 0;
}

