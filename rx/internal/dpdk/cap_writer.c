/* cap_writer.c: the capture writer (pcapng into aligned blocks) and its
 * I/O thread (O_DIRECT writes, rotation, retention).
 *
 * Memory is allocated in rxp_capw_new; after rxp_capw_start neither thread
 * allocates, maps or unmaps: blocks cycle between a free ring and a full
 * ring, file names live in preallocated arrays, trigger mode's history is
 * one buffer touched up front. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <sys/statvfs.h>
#include <sys/stat.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_ethdev.h>

#include "cap.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) STORE((p), LOAD(p) + (v))

#define RXP_CAP_STACK (512u << 10)

#define BLK_OPEN 1u
#define BLK_CLOSE 2u
#define BLK_STOP 4u

/* pcapng (draft-ietf-opsawg-pcapng): block types and option codes */
#define PNG_SHB 0x0A0D0D0Au
#define PNG_IDB 1u
#define PNG_ISB 5u
#define PNG_EPB 6u
#define PNG_BOM 0x1A2B3C4Du
#define OPT_END 0
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define IF_FILTER 11
#define EPB_FLAGS 2
#define EPB_QUEUE 6
#define ISB_STARTTIME 2
#define ISB_ENDTIME 3
#define ISB_IFRECV 4
#define ISB_IFDROP 5
#define ISB_FILTERACCEPT 6
#define ISB_OSDROP 7
#define ISB_USRDELIV 8
#define LINKTYPE_ETHERNET 1
#define EPB_INBOUND 1u

#define EPB_FIXED 28u                   /* header before the packet data */
#define EPB_TAIL (8u + 8u + 4u + 4u)    /* flags, queue, end, trailing length */
/* The SHB, IDB (if_name, if_description, if_filter of up to 1 KiB) and ISB
 * are built in the stage too: it holds at least this much. */
#define STAGE_HDR_MAX 4096u
#define ISB_LEN (20u + 2u * 12u + 5u * 12u + 4u + 4u)

struct rxp_blk {
	uint8_t *data;
	uint32_t len;
	uint32_t flags;
	uint64_t npkts;      /* EPBs that end in this block */
	uint64_t file_len;   /* at BLK_CLOSE: the file's length */
	char name[RXP_CAP_NAME_MAX];
};

struct rxp_capw {
	struct rxp_capw_counters wc;            /* writer thread's lines */
	struct rxp_capio_counters ioc __rte_cache_aligned; /* I/O thread's */
	struct rxp_capq q __rte_cache_aligned;  /* the RX core's view */
	struct rxp_capw_cfg cfg;
	volatile uint32_t stop;
	uint64_t ifdrop;                        /* set by the stats side */
	const struct rxp_rxq_counters *rxc;     /* the queue's counters */

	struct rte_ring *free_blks, *full_blks;
	struct rxp_blk *blks;
	uint8_t *mem;
	uint8_t *stacks;                        /* both threads' stacks */
	sem_t io_sem;
	pthread_t writer, io;
	int started;
	int sem_ok;

	/* writer state */
	struct rxp_blk *cur;
	uint64_t file_len, file_pkts, file_start_ns, file_deadline_ns, seq;
	uint64_t anchor_tsc, anchor_ns, anchor_next_tsc, ns_mult, hz;
	uint8_t *stage;                         /* an EPB that straddles blocks */
	char tmpname[RXP_CAP_NAME_MAX];
	char wpath[RXP_CAP_DIR_MAX + RXP_CAP_NAME_MAX + 8];

	/* I/O thread state */
	int fd;
	int file_failed;
	int part_created;                       /* the open NAME.part is ours */
	uint64_t off, io_file_pkts;
	char path[RXP_CAP_DIR_MAX + RXP_CAP_NAME_MAX + 8];
	char path2[RXP_CAP_DIR_MAX + RXP_CAP_NAME_MAX + 8];
	char (*done_names)[RXP_CAP_NAME_MAX];  /* finished files, oldest first */
	uint32_t done_cap, done_head, done_n;
	char last_done[RXP_CAP_NAME_MAX];
	char io_name[RXP_CAP_NAME_MAX];         /* the open file's final name */

	/* trigger mode: requests from any thread, the rest the writer's */
	uint32_t trig_reason;                   /* first pending reason (CAS from 0) */
	uint64_t trig_req;                      /* triggers requested */
	uint64_t trig_seen;
	int in_event;                           /* an event file is open */
	uint32_t event_reason;                  /* for {event} */
	uint64_t event_end_ns;
	uint8_t *hist;                          /* circular: whole EPBs, oldest at head */
	uint64_t hist_cap, hist_head, hist_fill, hist_pkts;
	uint64_t delivered;                     /* EPBs put into files: isb_usrdeliv */
	uint32_t nevents;
	struct rxp_cap_event events[RXP_CAP_EVENTS];
	struct rxp_nicclk nicclk;               /* NIC RX timestamps (cfg.nic_ts_flag) */
	int hook_fd;                            /* on_file pipe, write end; -1: none */
	char hook_line[RXP_CAP_DIR_MAX + RXP_CAP_NAME_MAX + 32];
};

static const char *const reason_names[] = {"trigger", "drop", "gap", "irq", "signal"};

static int tsc_dynfield_offset(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "rxprobe_rx_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	return rte_mbuf_dynfield_register(&desc);
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

struct rxp_capw *rxp_capw_new(const struct rxp_capw_cfg *cfg, const struct rxp_filter *f)
{
	if (cfg->block_size == 0 || cfg->block_size % RXP_CAP_ALIGN != 0 || cfg->nblocks < 2 ||
	    cfg->snaplen == 0 || cfg->snaplen > RXP_MAX_PKT ||
	    cfg->block_size < 4 * (cfg->snaplen + EPB_FIXED + EPB_TAIL) || cfg->ring_size < 2 ||
	    (cfg->ring_size & (cfg->ring_size - 1)) != 0 || cfg->ncpus < 1 || cfg->ncpus > 64 ||
	    cfg->mode > RXP_CAP_TRIGGER ||
	    (cfg->mode == RXP_CAP_TRIGGER && (cfg->history_bytes < 4 * (cfg->snaplen + EPB_FIXED + EPB_TAIL) ||
					      cfg->history_bytes > UINT32_MAX))) {
		rte_errno = EINVAL;
		return NULL;
	}
	int off = tsc_dynfield_offset();
	if (off < 0)
		return NULL;
	struct rxp_capw *w = rte_zmalloc_socket("rxp_capw", sizeof(*w), RTE_CACHE_LINE_SIZE, cfg->socket);
	if (w == NULL)
		return NULL;
	w->cfg = *cfg;
	w->fd = -1;
	w->hook_fd = -1;
	w->q.tsc_off = off;
	if (f != NULL) {
		w->q.bpf = f->bpf;
		w->q.jit = f->jit;
	}
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "rxpcap_%u_%u", cfg->port, cfg->queue);
	w->q.ring = rte_ring_create(name, cfg->ring_size, cfg->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "rxpcapf_%u_%u", cfg->port, cfg->queue);
	uint32_t nb = (uint32_t)pow2_at_least(cfg->nblocks + 1);
	w->free_blks = rte_ring_create(name, nb, cfg->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "rxpcapb_%u_%u", cfg->port, cfg->queue);
	w->full_blks = rte_ring_create(name, nb, cfg->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	w->blks = rte_zmalloc_socket("rxp_blks", sizeof(*w->blks) * cfg->nblocks, 0, cfg->socket);
	w->mem = rte_malloc_socket("rxp_blkmem", (size_t)cfg->block_size * cfg->nblocks, RXP_CAP_ALIGN, cfg->socket);
	w->stage = rte_malloc_socket("rxp_stage", RTE_MAX(cfg->snaplen + EPB_FIXED + EPB_TAIL + 8, STAGE_HDR_MAX), 64, cfg->socket);
	w->stacks = rte_malloc_socket("rxp_stacks", 2 * RXP_CAP_STACK, RXP_CAP_ALIGN, cfg->socket);
	w->done_cap = cfg->max_files != 0 ? cfg->max_files + 1 : 4096;
	w->done_names = rte_zmalloc_socket("rxp_names", (size_t)RXP_CAP_NAME_MAX * w->done_cap, 0, cfg->socket);
	if (cfg->mode == RXP_CAP_TRIGGER) {
		w->hist_cap = cfg->history_bytes & ~(uint64_t)3; /* EPBs are 4-byte multiples */
		w->hist = rte_malloc_socket("rxp_hist", w->hist_cap, 64, cfg->socket);
	}
	if (w->q.ring == NULL || w->free_blks == NULL || w->full_blks == NULL || w->blks == NULL ||
	    w->mem == NULL || w->stage == NULL || w->done_names == NULL || w->stacks == NULL ||
	    (cfg->mode == RXP_CAP_TRIGGER && w->hist == NULL)) {
		int e = rte_errno != 0 ? rte_errno : ENOMEM;
		rxp_capw_free(w);
		rte_errno = e;
		return NULL;
	}
	/* touch every block now: no page faults once capture runs */
	memset(w->mem, 0, (size_t)cfg->block_size * cfg->nblocks);
	memset(w->stacks, 0, 2 * RXP_CAP_STACK);
	if (w->hist != NULL)
		memset(w->hist, 0, w->hist_cap);
	for (uint32_t i = 0; i < cfg->nblocks; i++) {
		w->blks[i].data = w->mem + (size_t)i * cfg->block_size;
		rte_ring_sp_enqueue(w->free_blks, &w->blks[i]);
	}
	sem_init(&w->io_sem, 0, 0);
	w->sem_ok = 1;
	w->hz = rte_get_tsc_hz();
	w->ns_mult = (uint64_t)(((__uint128_t)1000000000ull << 32) / w->hz);
	return w;
}

struct rxp_capq *rxp_capw_q(struct rxp_capw *w) { return &w->q; }

void rxp_capw_attach(struct rxp_capw *w, struct rxp_rxq *q)
{
	w->rxc = &q->c;
	q->cap = &w->q;
}

void rxp_capw_set_ifdrop(struct rxp_capw *w, uint64_t v) { STORE(&w->ifdrop, v); }

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_us(uint32_t us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* nic_anchor pairs the port's device clock with CLOCK_REALTIME (the
 * midpoint of two reads around it) when the port stamps packets. */
static void nic_anchor(struct rxp_capw *w)
{
	if (w->cfg.nic_ts_flag == 0)
		return;
	uint64_t nic, t0 = realtime_ns();
	int rc = rte_eth_read_clock(w->cfg.port, &nic);
	uint64_t t1 = realtime_ns();
	if (rc != 0) {
		ADD(&w->wc.nic_clock_errors, 1);
		return;
	}
	if (w->nicclk.mult == 0)
		w->nicclk.mult = w->cfg.nic_mult;
	rxp_nicclk_anchor(&w->nicclk, nic, t0 + (t1 - t0) / 2);
}

/* anchor pairs a TSC reading with CLOCK_REALTIME (the midpoint of two TSC
 * reads around it); re-anchored every second against NTP's corrections. */
static void anchor(struct rxp_capw *w)
{
	uint64_t t0 = rte_rdtsc();
	uint64_t ns = realtime_ns();
	uint64_t t1 = rte_rdtsc();
	w->anchor_tsc = t0 + (t1 - t0) / 2;
	w->anchor_ns = ns;
	w->anchor_next_tsc = w->anchor_tsc + w->hz;
	nic_anchor(w);
}

/* tsc_to_ns converts a TSC stamp to UTC ns; never below the last one. */
static inline uint64_t tsc_to_ns(struct rxp_capw *w, uint64_t tsc)
{
	int64_t d = (int64_t)(tsc - w->anchor_tsc);
	__int128 ns = (__int128)w->anchor_ns + (((__int128)d * (__int128)w->ns_mult) >> 32);
	uint64_t v = ns < 0 ? 0 : (uint64_t)ns;
	if (v < w->wc.last_ts_ns)
		v = w->wc.last_ts_ns;
	STORE(&w->wc.last_ts_ns, v);
	return v;
}

/* ---- writer: blocks ---- */

static void take_block(struct rxp_capw *w)
{
	void *b;
	uint64_t t0 = 0;
	while (rte_ring_sc_dequeue(w->free_blks, &b) != 0) {
		if (t0 == 0)
			t0 = mono_ns();
		sleep_us(20);
	}
	if (t0 != 0)
		ADD(&w->wc.block_wait_ns, mono_ns() - t0);
	w->cur = b;
	w->cur->len = 0;
	w->cur->flags = 0;
	w->cur->npkts = 0;
	w->cur->file_len = 0;
}

static void submit_block(struct rxp_capw *w, uint32_t flags)
{
	w->cur->flags |= flags;
	if (flags & BLK_CLOSE)
		w->cur->file_len = w->file_len;
	while (rte_ring_sp_enqueue(w->full_blks, w->cur) != 0)
		sleep_us(20); /* cannot happen: the ring holds every block */
	sem_post(&w->io_sem);
	w->cur = NULL;
}

/* put copies len bytes into the file, across blocks. */
static void put(struct rxp_capw *w, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	while (len > 0) {
		uint32_t room = w->cfg.block_size - w->cur->len;
		uint32_t k = len < room ? len : room;
		memcpy(w->cur->data + w->cur->len, s, k);
		w->cur->len += k;
		w->file_len += k;
		s += k;
		len -= k;
		if (w->cur->len == w->cfg.block_size) {
			submit_block(w, 0);
			take_block(w);
		}
	}
}

static inline uint32_t pad4(uint32_t v) { return (v + 3u) & ~3u; }

static uint8_t *opt(uint8_t *p, uint16_t code, const void *val, uint16_t len)
{
	memcpy(p, &code, 2);
	memcpy(p + 2, &len, 2);
	memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return p + 4 + pad4(len);
}

static uint8_t *opt_u64(uint8_t *p, uint16_t code, uint64_t v) { return opt(p, code, &v, 8); }

static uint8_t *opt_ts(uint8_t *p, uint16_t code, uint64_t ns)
{
	uint32_t v[2] = {(uint32_t)(ns >> 32), (uint32_t)ns};
	return opt(p, code, v, 8);
}

/* finish writes the block's trailing length and both length fields. */
static void finish(uint8_t *b, uint8_t *end)
{
	memset(end, 0, 4); /* opt_endofopt */
	uint32_t len = (uint32_t)(end + 8 - b);
	memcpy(b + 4, &len, 4);
	memcpy(end + 4, &len, 4);
	(void)len;
}

/* put_header writes the SHB and the IDB of a new file (via the stage). */
static void put_header(struct rxp_capw *w)
{
	uint8_t *b = w->stage, *p;
	uint32_t v;
	/* SHB */
	v = PNG_SHB;
	memcpy(b, &v, 4);
	v = PNG_BOM;
	memcpy(b + 8, &v, 4);
	uint16_t ver[2] = {1, 0};
	memcpy(b + 12, ver, 4);
	uint64_t seclen = UINT64_MAX;
	memcpy(b + 16, &seclen, 8);
	p = opt(b + 24, SHB_USERAPPL, "rxprobe", 7);
	finish(b, p);
	put(w, b, (uint32_t)(p + 8 - b));
	/* IDB */
	v = PNG_IDB;
	memcpy(b, &v, 4);
	uint16_t lt[2] = {LINKTYPE_ETHERNET, 0};
	memcpy(b + 8, lt, 4);
	memcpy(b + 12, &w->cfg.snaplen, 4);
	p = b + 16;
	if (w->cfg.if_name[0] != 0)
		p = opt(p, IF_NAME, w->cfg.if_name, (uint16_t)strlen(w->cfg.if_name));
	if (w->cfg.if_desc[0] != 0)
		p = opt(p, IF_DESCRIPTION, w->cfg.if_desc, (uint16_t)strlen(w->cfg.if_desc));
	uint8_t res = 9; /* 10^-9 s */
	p = opt(p, IF_TSRESOL, &res, 1);
	if (w->cfg.filter[0] != 0) {
		/* if_filter: a type byte (0: libpcap filter string) then the text */
		uint16_t fl = (uint16_t)strlen(w->cfg.filter);
		uint16_t code = IF_FILTER, len = fl + 1;
		memcpy(p, &code, 2);
		memcpy(p + 2, &len, 2);
		p[4] = 0;
		memcpy(p + 5, w->cfg.filter, fl);
		memset(p + 5 + fl, 0, pad4(len) - len);
		p += 4 + pad4(len);
	}
	finish(b, p);
	put(w, b, (uint32_t)(p + 8 - b));
}

/* put_isb writes an interface statistics block with the figures so far. */
static void put_isb(struct rxp_capw *w, uint64_t now_ns)
{
	uint8_t *b = w->stage, *p;
	uint32_t v = PNG_ISB, zero = 0;
	memcpy(b, &v, 4);
	memcpy(b + 8, &zero, 4);
	uint32_t ts[2] = {(uint32_t)(now_ns >> 32), (uint32_t)now_ns};
	memcpy(b + 12, ts, 8);
	uint64_t enq = LOAD(&w->rxc->cap_enqueued), filt = LOAD(&w->rxc->cap_filtered);
	uint64_t drop = LOAD(&w->rxc->cap_dropped);
	p = opt_ts(b + 20, ISB_STARTTIME, w->file_start_ns);
	p = opt_ts(p, ISB_ENDTIME, now_ns);
	p = opt_u64(p, ISB_IFRECV, enq + filt + drop);
	p = opt_u64(p, ISB_IFDROP, LOAD(&w->ifdrop));
	p = opt_u64(p, ISB_FILTERACCEPT, enq + drop);
	p = opt_u64(p, ISB_OSDROP, drop);
	p = opt_u64(p, ISB_USRDELIV, w->delivered);
	finish(b, p);
	put(w, b, (uint32_t)(p + 8 - b));
}

/* expand builds a file name from the pattern: {port}, {queue}, {seq},
 * {event}, then strftime with the UTC start time. */
static void expand(struct rxp_capw *w, char *out, size_t len, uint64_t start_ns)
{
	char *t = w->tmpname;
	size_t n = 0;
	for (const char *s = w->cfg.pattern; *s != 0 && n + 24 < sizeof(w->tmpname);) {
		if (strncmp(s, "{port}", 6) == 0) {
			n += (size_t)snprintf(t + n, sizeof(w->tmpname) - n, "%u", w->cfg.port);
			s += 6;
		} else if (strncmp(s, "{queue}", 7) == 0) {
			n += (size_t)snprintf(t + n, sizeof(w->tmpname) - n, "%u", w->cfg.queue);
			s += 7;
		} else if (strncmp(s, "{seq}", 5) == 0) {
			n += (size_t)snprintf(t + n, sizeof(w->tmpname) - n, "%06llu", (unsigned long long)w->seq);
			s += 5;
		} else if (strncmp(s, "{event}", 7) == 0) {
			uint32_t r = w->event_reason < 5 ? w->event_reason : 0;
			n += (size_t)snprintf(t + n, sizeof(w->tmpname) - n, "%s", reason_names[r]);
			s += 7;
		} else {
			t[n++] = *s++;
		}
	}
	t[n] = 0;
	time_t sec = (time_t)(start_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&sec, &tm);
	if (strftime(out, len, t, &tm) == 0)
		snprintf(out, len, "%s", t);
}

/* name_taken says whether NAME or NAME.part exists in the directory:
 * a file this run did not create (an earlier run's), never overwritten. */
static int name_taken(struct rxp_capw *w, const char *name)
{
	snprintf(w->wpath, sizeof(w->wpath), "%s/%s", w->cfg.dir, name);
	if (access(w->wpath, F_OK) == 0)
		return 1;
	snprintf(w->wpath, sizeof(w->wpath), "%s/%s.part", w->cfg.dir, name);
	return access(w->wpath, F_OK) == 0;
}

static void open_file(struct rxp_capw *w)
{
	take_block(w);
	uint64_t now = realtime_ns();
	w->file_start_ns = now;
	w->file_len = 0;
	w->file_pkts = 0;
	w->file_deadline_ns = w->cfg.rotate_ns != 0 ? (now / w->cfg.rotate_ns + 1) * w->cfg.rotate_ns : UINT64_MAX;
	expand(w, w->cur->name, sizeof(w->cur->name), now);
	/* skip the sequence numbers an earlier run's files hold; without
	 * {seq} the name cannot change, and the I/O thread refuses it */
	for (int i = 0; i < 4096 && strstr(w->cfg.pattern, "{seq}") != NULL && name_taken(w, w->cur->name); i++) {
		w->seq++;
		expand(w, w->cur->name, sizeof(w->cur->name), now);
	}
	w->cur->flags = BLK_OPEN;
	w->seq++;
	ADD(&w->wc.files_started, 1);
	put_header(w);
}

static void close_file(struct rxp_capw *w)
{
	put_isb(w, realtime_ns());
	submit_block(w, BLK_CLOSE);
}

/* stamp_ns is the packet's UTC time: the NIC's RX timestamp when the
 * port set it (and the device clock is anchored), else the RX core's TSC
 * at the burst; never below the last one written. */
static inline uint64_t stamp_ns(struct rxp_capw *w, struct rte_mbuf *m)
{
	if (w->cfg.nic_ts_flag != 0 && (m->ol_flags & w->cfg.nic_ts_flag) != 0 && w->nicclk.ns != 0) {
		uint64_t v = rxp_nicclk_ns(&w->nicclk, *RTE_MBUF_DYNFIELD(m, w->cfg.nic_ts_off, rte_mbuf_timestamp_t *));
		if (v < w->wc.last_ts_ns)
			v = w->wc.last_ts_ns;
		STORE(&w->wc.last_ts_ns, v);
		ADD(&w->wc.ts_nic, 1);
		return v;
	}
	return tsc_to_ns(w, *RTE_MBUF_DYNFIELD(m, w->q.tsc_off, uint64_t *));
}

/* epb_len is the size of m's EPB at the snaplen; *cap gets the bytes kept. */
static inline uint32_t epb_len(const struct rxp_capw *w, struct rte_mbuf *m, uint32_t *cap)
{
	uint32_t wire = rte_pktmbuf_pkt_len(m);
	*cap = wire < w->cfg.snaplen ? wire : w->cfg.snaplen;
	return EPB_FIXED + pad4(*cap) + EPB_TAIL;
}

/* encode_epb writes m's EPB (total bytes, cap of them packet data) at b
 * and counts it as encoded. Both modes use it. */
static void encode_epb(struct rxp_capw *w, struct rte_mbuf *m, uint8_t *b, uint32_t cap, uint32_t total)
{
	uint32_t wire = rte_pktmbuf_pkt_len(m);
	uint64_t ns = stamp_ns(w, m);
	uint32_t h[7] = {PNG_EPB, total, 0, (uint32_t)(ns >> 32), (uint32_t)ns, cap, wire};
	memcpy(b, h, sizeof(h));
	const void *d = rte_pktmbuf_read(m, 0, cap, b + EPB_FIXED);
	if (d != NULL && d != b + EPB_FIXED)
		rte_memcpy(b + EPB_FIXED, d, cap);
	uint8_t *p = b + EPB_FIXED + cap;
	memset(p, 0, pad4(cap) - cap);
	p += pad4(cap) - cap;
	uint32_t flags = EPB_INBOUND, queue = w->cfg.queue;
	p = opt(p, EPB_FLAGS, &flags, 4);
	p = opt(p, EPB_QUEUE, &queue, 4);
	memset(p, 0, 4);
	memcpy(p + 4, &total, 4);
	w->wc.packets++;
	w->wc.bytes += cap;
	w->wc.wire_bytes += wire;
	if (cap < wire)
		w->wc.truncated++;
}

/* put_epb encodes one packet into the file: in place when it fits the
 * block, else through the stage. */
static void put_epb(struct rxp_capw *w, struct rte_mbuf *m)
{
	uint32_t cap, total = epb_len(w, m, &cap);
	int direct = w->cfg.block_size - w->cur->len >= total;
	uint8_t *b = direct ? w->cur->data + w->cur->len : w->stage;
	encode_epb(w, m, b, cap, total);
	w->file_pkts++;
	w->delivered++;
	if (!direct) {
		put(w, b, total);
		w->cur->npkts++;
		return;
	}
	w->cur->len += total;
	w->file_len += total;
	w->cur->npkts++;
	if (w->cur->len == w->cfg.block_size) {
		submit_block(w, 0);
		take_block(w);
	}
}

/* ---- writer: trigger mode ---- */

/* hist_expire drops the oldest EPB of the history. */
static void hist_expire(struct rxp_capw *w)
{
	uint32_t len;
	/* head and the capacity are multiples of 4: the length word never
	 * straddles the wrap */
	memcpy(&len, w->hist + (w->hist_head + 4) % w->hist_cap, 4);
	w->hist_head = (w->hist_head + len) % w->hist_cap;
	w->hist_fill -= len;
	w->hist_pkts--;
	w->wc.expired++;
}

/* hist_epb encodes one packet into the history, expiring the oldest
 * packets to make room. */
static void hist_epb(struct rxp_capw *w, struct rte_mbuf *m)
{
	uint32_t cap, total = epb_len(w, m, &cap);
	while (w->hist_cap - w->hist_fill < total)
		hist_expire(w);
	uint64_t tail = (w->hist_head + w->hist_fill) % w->hist_cap;
	if (w->hist_cap - tail >= total) {
		encode_epb(w, m, w->hist + tail, cap, total);
	} else {
		uint64_t k = w->hist_cap - tail;
		encode_epb(w, m, w->stage, cap, total);
		memcpy(w->hist + tail, w->stage, k);
		memcpy(w->hist, w->stage + k, total - k);
	}
	w->hist_fill += total;
	w->hist_pkts++;
}

/* hist_flush puts the history, oldest first, into the open file and
 * empties it. */
static void hist_flush(struct rxp_capw *w)
{
	uint64_t first = RTE_MIN(w->hist_fill, w->hist_cap - w->hist_head);
	put(w, w->hist + w->hist_head, (uint32_t)first);
	if (w->hist_fill > first)
		put(w, w->hist, (uint32_t)(w->hist_fill - first));
	/* the file's blocks add up in the I/O thread: the count can ride on
	 * any of them */
	w->cur->npkts += w->hist_pkts;
	w->file_pkts += w->hist_pkts;
	w->delivered += w->hist_pkts;
	w->hist_head = w->hist_fill = w->hist_pkts = 0;
}

/* start_event opens the event file, records it and writes the history. */
static void start_event(struct rxp_capw *w, uint32_t reason, uint64_t now)
{
	w->event_reason = reason;
	open_file(w);
	uint32_t n = w->nevents;
	if (n < RXP_CAP_EVENTS) {
		struct rxp_cap_event *e = &w->events[n];
		e->ns = now;
		e->reason = reason;
		snprintf(e->name, sizeof(e->name), "%s", w->cur->name);
	}
	__atomic_store_n(&w->nevents, n + 1, __ATOMIC_RELEASE);
	hist_flush(w);
	w->event_end_ns = now + w->cfg.after_ns;
	w->in_event = 1;
}

/* trigger_poll starts an event on a new trigger and ends the open one
 * when its time is up. */
static void trigger_poll(struct rxp_capw *w, uint64_t now)
{
	uint64_t req = __atomic_load_n(&w->trig_req, __ATOMIC_ACQUIRE);
	if (req != w->trig_seen) {
		uint64_t n = req - w->trig_seen;
		w->trig_seen = req;
		uint32_t reason = __atomic_exchange_n(&w->trig_reason, 0, __ATOMIC_ACQ_REL);
		if (w->in_event) {
			ADD(&w->wc.triggers_coalesced, n);
		} else {
			ADD(&w->wc.triggers, 1);
			ADD(&w->wc.triggers_coalesced, n - 1);
			start_event(w, reason, now);
		}
	}
	if (w->in_event && now >= w->event_end_ns) {
		close_file(w);
		w->in_event = 0;
	}
}

void rxp_capw_trigger(struct rxp_capw *w, uint32_t reason)
{
	if (w->cfg.mode != RXP_CAP_TRIGGER)
		return;
	uint32_t zero = 0;
	__atomic_compare_exchange_n(&w->trig_reason, &zero, reason, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	__atomic_fetch_add(&w->trig_req, 1, __ATOMIC_RELEASE);
}

uint32_t rxp_capw_events(const struct rxp_capw *w, struct rxp_cap_event *out, uint32_t max)
{
	uint32_t n = __atomic_load_n(&w->nevents, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < max && i < RXP_CAP_EVENTS; i++)
		out[i] = w->events[i];
	return n;
}

static void block_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}

#define WRITER_BURST 256

static void *writer_main(void *arg)
{
	struct rxp_capw *w = arg;
	struct rte_mbuf *ms[WRITER_BURST];
	const uint32_t epb_max = EPB_FIXED + pad4(w->cfg.snaplen) + EPB_TAIL;
	block_signals();
	/* an lcore id gives this thread a mempool cache: freed mbufs go back
	 * to the pool in bulk instead of one ring operation per burst */
	int registered = rte_thread_register() == 0;
	const int trig = w->cfg.mode == RXP_CAP_TRIGGER;
	STORE(&w->wc.running, 1);
	anchor(w);
	if (!trig)
		open_file(w);
	for (;;) {
		/* stop is set after the RX loop returned: read it before the
		 * dequeue, so an empty dequeue after it means drained */
		uint32_t stopping = __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
		unsigned n = rte_ring_sc_dequeue_burst(w->q.ring, (void **)ms, WRITER_BURST, NULL);
		uint64_t now = realtime_ns();
		if (trig) {
			trigger_poll(w, now);
		} else if (now >= w->file_deadline_ns) {
			close_file(w);
			open_file(w);
		}
		if (n == 0) {
			if (stopping)
				break;
			sleep_us(w->cfg.idle_us);
			continue;
		}
		uint64_t t0 = mono_ns();
		if (rte_rdtsc() >= w->anchor_next_tsc)
			anchor(w);
		for (unsigned i = 0; i < n; i++) {
			if (trig && !w->in_event) {
				hist_epb(w, ms[i]);
				continue;
			}
			if (!trig && w->cfg.rotate_bytes != 0 && w->file_pkts != 0 &&
			    w->file_len + epb_max + ISB_LEN > w->cfg.rotate_bytes) {
				close_file(w);
				open_file(w);
			}
			put_epb(w, ms[i]);
		}
		rte_pktmbuf_free_bulk(ms, n);
		STORE(&w->wc.packets, w->wc.packets);
		STORE(&w->wc.bytes, w->wc.bytes);
		STORE(&w->wc.wire_bytes, w->wc.wire_bytes);
		STORE(&w->wc.truncated, w->wc.truncated);
		STORE(&w->wc.expired, w->wc.expired);
		STORE(&w->wc.history_bytes, w->hist_fill);
		ADD(&w->wc.bursts, 1);
		ADD(&w->wc.busy_ns, mono_ns() - t0);
		if (w->cfg.slow_us != 0)
			sleep_us(w->cfg.slow_us);
	}
	if (!trig || w->in_event) {
		close_file(w);
	} else { /* the history nobody asked for */
		w->wc.expired += w->hist_pkts;
		w->hist_head = w->hist_fill = w->hist_pkts = 0;
		STORE(&w->wc.expired, w->wc.expired);
		STORE(&w->wc.history_bytes, 0);
	}
	w->in_event = 0;
	take_block(w);
	submit_block(w, BLK_STOP);
	if (registered)
		rte_thread_unregister();
	STORE(&w->wc.running, 0);
	return NULL;
}

/* ---- I/O thread ---- */

static void io_error(struct rxp_capw *w, int e)
{
	ADD(&w->ioc.errors, 1);
	STORE(&w->ioc.last_errno, (uint64_t)e);
	w->file_failed = 1;
}

static void path_of(struct rxp_capw *w, char *out, const char *name, const char *suffix)
{
	snprintf(out, sizeof(w->path), "%s/%s%s", w->cfg.dir, name, suffix);
}

/* delete_oldest removes the oldest finished file; 0 when there was none. */
static int delete_oldest(struct rxp_capw *w)
{
	if (w->done_n == 0)
		return 0;
	path_of(w, w->path2, w->done_names[w->done_head], "");
	if (unlink(w->path2) == 0)
		ADD(&w->ioc.files_deleted, 1);
	w->done_head = (w->done_head + 1) % w->done_cap;
	w->done_n--;
	return 1;
}

/* room_for makes sure writing len bytes leaves min_free_bytes free,
 * deleting the oldest finished files if needed. */
static int room_for(struct rxp_capw *w, uint64_t len)
{
	if (w->cfg.min_free_bytes == 0)
		return 1;
	for (;;) {
		struct statvfs sv;
		if (fstatvfs(w->fd, &sv) != 0)
			return 0;
		uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
		if (avail >= w->cfg.min_free_bytes + len)
			return 1;
		if (!delete_oldest(w))
			return 0;
	}
}

static void io_open(struct rxp_capw *w, const char *name)
{
	w->off = 0;
	w->io_file_pkts = 0;
	w->file_failed = 0;
	snprintf(w->io_name, sizeof(w->io_name), "%s", name);
	path_of(w, w->path, name, ".part");
	/* O_EXCL: never truncate a file this run did not create */
	w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, 0644);
	if (w->fd < 0 && errno == EINVAL) /* no O_DIRECT on this file system */
		w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	else if (w->fd >= 0)
		STORE(&w->ioc.direct, 1);
	w->part_created = w->fd >= 0;
	if (w->fd < 0)
		io_error(w, errno);
}

static void io_write(struct rxp_capw *w, const struct rxp_blk *b)
{
	if (w->fd < 0 || w->file_failed)
		return;
	uint64_t len = ((uint64_t)b->len + RXP_CAP_ALIGN - 1) & ~(uint64_t)(RXP_CAP_ALIGN - 1);
	if (len == 0)
		return;
	if (!room_for(w, len)) {
		io_error(w, ENOSPC);
		return;
	}
	uint64_t t0 = mono_ns(), done = 0;
	while (done < len) {
		ssize_t k = pwrite(w->fd, b->data + done, len - done, (off_t)(w->off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			io_error(w, k < 0 ? errno : EIO);
			return;
		}
		done += (uint64_t)k;
	}
	uint64_t dt = mono_ns() - t0;
	ADD(&w->ioc.write_ns, dt);
	if (dt > LOAD(&w->ioc.write_ns_max))
		STORE(&w->ioc.write_ns_max, dt);
	ADD(&w->ioc.blocks, 1);
	ADD(&w->ioc.bytes_written, b->len);
	w->off += b->len; /* only the last block of a file is short */
}

/* hook_announce tells the on_file process about the file just renamed
 * (w->io_name): one line, one write(2), no waiting, no allocation. */
static void hook_announce(struct rxp_capw *w)
{
	if (w->hook_fd < 0)
		return;
	int n = snprintf(w->hook_line, sizeof(w->hook_line), "%u %u %s/%s\n", w->cfg.port, w->cfg.queue,
			 w->cfg.dir, w->io_name);
	if (n > 0 && (size_t)n < sizeof(w->hook_line) && n <= PIPE_BUF &&
	    write(w->hook_fd, w->hook_line, (size_t)n) == n)
		ADD(&w->ioc.hook_sent, 1);
	else
		ADD(&w->ioc.hook_dropped, 1); /* EAGAIN (full), EPIPE (gone) */
}

static void io_close(struct rxp_capw *w, const struct rxp_blk *b)
{
	if (w->fd >= 0) {
		if (!w->file_failed && ftruncate(w->fd, (off_t)b->file_len) != 0)
			io_error(w, errno);
		close(w->fd);
		w->fd = -1;
	}
	path_of(w, w->path2, w->io_name, "");
	/* RENAME_NOREPLACE: an existing NAME (not ours) is kept, this file
	 * counted as dropped */
	if (!w->file_failed && renameat2(AT_FDCWD, w->path, AT_FDCWD, w->path2, RENAME_NOREPLACE) != 0)
		io_error(w, errno);
	if (w->file_failed) {
		if (w->part_created)
			unlink(w->path);
		w->part_created = 0;
		ADD(&w->ioc.disk_dropped, w->io_file_pkts);
		return;
	}
	ADD(&w->ioc.written_packets, w->io_file_pkts);
	ADD(&w->ioc.files_closed, 1);
	if (w->done_n == w->done_cap) { /* untracked from here on: never deleted */
		w->done_head = (w->done_head + 1) % w->done_cap;
		w->done_n--;
	}
	snprintf(w->done_names[(w->done_head + w->done_n) % w->done_cap], RXP_CAP_NAME_MAX, "%s", w->io_name);
	w->done_n++;
	snprintf(w->last_done, sizeof(w->last_done), "%s", w->io_name);
	hook_announce(w);
	while (w->cfg.max_files != 0 && w->done_n > w->cfg.max_files)
		delete_oldest(w);
}

static void *io_main(void *arg)
{
	struct rxp_capw *w = arg;
	block_signals();
	STORE(&w->ioc.running, 1);
	for (;;) {
		void *p;
		while (sem_wait(&w->io_sem) != 0)
			;
		if (rte_ring_sc_dequeue(w->full_blks, &p) != 0)
			continue;
		struct rxp_blk *b = p;
		uint32_t flags = b->flags;
		if (flags & BLK_STOP) {
			rte_ring_sp_enqueue(w->free_blks, b);
			break;
		}
		if (flags & BLK_OPEN)
			io_open(w, b->name);
		io_write(w, b);
		w->io_file_pkts += b->npkts;
		if (flags & BLK_CLOSE)
			io_close(w, b);
		rte_ring_sp_enqueue(w->free_blks, b);
	}
	STORE(&w->ioc.running, 0);
	return NULL;
}

static int spawn(struct rxp_capw *w, pthread_t *t, void *(*fn)(void *), const char *name, void *stack)
{
	pthread_attr_t attr;
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int i = 0; i < w->cfg.ncpus; i++)
		CPU_SET(w->cfg.cpus[i], &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	/* our own stack: glibc neither maps it at start nor madvises it away
	 * at exit */
	pthread_attr_setstack(&attr, stack, RXP_CAP_STACK);
	int rc = pthread_create(t, &attr, fn, w);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		pthread_setname_np(*t, name);
	return rc;
}

int rxp_capw_start(struct rxp_capw *w)
{
	if (w->rxc == NULL || w->started)
		return -EINVAL;
	char name[16];
	snprintf(name, sizeof(name), "rxpio-%u.%u", w->cfg.port, w->cfg.queue);
	int rc = spawn(w, &w->io, io_main, name, w->stacks);
	if (rc != 0)
		return -rc;
	snprintf(name, sizeof(name), "rxpcap-%u.%u", w->cfg.port, w->cfg.queue);
	rc = spawn(w, &w->writer, writer_main, name, w->stacks + RXP_CAP_STACK);
	if (rc != 0) {
		/* stop the I/O thread: a STOP block of our own */
		void *b;
		if (rte_ring_sc_dequeue(w->free_blks, &b) == 0) {
			((struct rxp_blk *)b)->flags = BLK_STOP;
			rte_ring_sp_enqueue(w->full_blks, b);
			sem_post(&w->io_sem);
		}
		pthread_join(w->io, NULL);
		return -rc;
	}
	w->started = 1;
	return 0;
}

int rxp_capw_stop(struct rxp_capw *w)
{
	if (!w->started)
		return 0;
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	pthread_join(w->writer, NULL);
	pthread_join(w->io, NULL);
	w->started = 0;
	return 0;
}

void rxp_capw_read(const struct rxp_capw *w, struct rxp_capw_counters *wc,
		   struct rxp_capio_counters *ioc)
{
	const uint64_t *s = (const uint64_t *)&w->wc;
	uint64_t *d = (uint64_t *)wc;
	for (size_t i = 0; i < sizeof(*wc) / 8; i++)
		d[i] = LOAD(&s[i]);
	s = (const uint64_t *)&w->ioc;
	d = (uint64_t *)ioc;
	for (size_t i = 0; i < sizeof(*ioc) / 8; i++)
		d[i] = LOAD(&s[i]);
}

void rxp_capw_last_file(const struct rxp_capw *w, char *out, size_t len)
{
	snprintf(out, len, "%s", w->last_done);
}

void rxp_capw_set_hook(struct rxp_capw *w, int fd) { w->hook_fd = fd; }

void rxp_capw_free(struct rxp_capw *w)
{
	if (w == NULL)
		return;
	if (w->started)
		rxp_capw_stop(w);
	rte_ring_free(w->q.ring);
	rte_ring_free(w->free_blks);
	rte_ring_free(w->full_blks);
	rte_free(w->blks);
	rte_free(w->mem);
	rte_free(w->stage);
	rte_free(w->done_names);
	rte_free(w->stacks);
	rte_free(w->hist);
	if (w->sem_ok)
		sem_destroy(&w->io_sem);
	rte_free(w);
}
