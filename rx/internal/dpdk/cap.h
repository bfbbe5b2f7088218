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
 */
#ifndef RXP_CAP_H
#define RXP_CAP_H

#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_ring.h>
#include <rte_mbuf.h>

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

#endif
