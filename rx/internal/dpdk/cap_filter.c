/* cap_filter.c: tcpdump expressions for the capture stage. */
#include <errno.h>
#include <string.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "cap.h"

int rxp_filter_compile(const char *expr, uint32_t snaplen, struct bpf_program *out,
		       char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (p == NULL) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -1;
	}
	if (pcap_compile(p, out, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

struct rxp_filter *rxp_filter_load(const struct bpf_program *prog, int use_jit)
{
	struct rte_bpf_prm *prm = rte_bpf_convert(prog);
	if (prm == NULL)
		return NULL;
	struct rte_bpf *bpf = rte_bpf_load(prm);
	int e = rte_errno;
	rte_free(prm); /* one allocation: parameters and instructions */
	if (bpf == NULL) {
		rte_errno = e;
		return NULL;
	}
	struct rxp_filter *f = rte_zmalloc("rxp_filter", sizeof(*f), RTE_CACHE_LINE_SIZE);
	if (f == NULL) {
		rte_bpf_destroy(bpf);
		rte_errno = ENOMEM;
		return NULL;
	}
	f->bpf = bpf;
	struct rte_bpf_jit jit;
	memset(&jit, 0, sizeof(jit));
	if (use_jit && rte_bpf_get_jit(bpf, &jit) == 0 && jit.func != NULL)
		f->jit = jit.func;
	return f;
}

void rxp_filter_free(struct rxp_filter *f)
{
	if (f == NULL)
		return;
	rte_bpf_destroy(f->bpf);
	rte_free(f);
}

int rxp_filter_test(const struct rxp_filter *f, const struct bpf_program *prog,
		    struct rte_mempool *pool, const uint8_t *data, const uint32_t *lens,
		    uint32_t n, uint8_t *got, uint8_t *ref)
{
	uint32_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (m == NULL)
			return -ENOMEM;
		char *d = rte_pktmbuf_append(m, (uint16_t)lens[i]);
		if (d == NULL) {
			rte_pktmbuf_free(m);
			return -EINVAL;
		}
		memcpy(d, data + off, lens[i]);
		uint64_t rc = f->jit != NULL ? f->jit(m) : rte_bpf_exec(f->bpf, m);
		got[i] = rc != 0;
		struct pcap_pkthdr h = {.caplen = lens[i], .len = lens[i]};
		ref[i] = pcap_offline_filter(prog, &h, data + off) != 0;
		rte_pktmbuf_free(m);
		off += lens[i];
	}
	return 0;
}
