/* SPDX-License-Identifier: MIT */
/*
 * Tracked guest data (client TRACK, UNTRACK, EXPECT_WRITE): a load that
 * returns something else than its address space stored is DATA_MISMATCH.
 */
#include <stddef.h>

#include "detectors.h"

extern const ptw_detector ptw_det_data;

#define CLIENT_TRACK	    0x50570004
#define CLIENT_UNTRACK	    0x50570005
#define CLIENT_EXPECT_WRITE 0x50570006

/* what an address space last stored at one 8-byte word */
typedef struct {
	uint8_t val[8];
	uint8_t known; /* which bytes of val were stored */
	uint8_t cpu;
	uint64_t pc, icount; /* the last store */
} data_cell;

/* what the pages are looked up by (a data_page begins with it: a lookup
 * builds this, not a 16 KiB data_page zeroed on the stack, which was two
 * thirds of a replay's instructions) */
typedef struct {
	uint64_t space, page;
} data_key;

/* one page of tracked data of one address space: its words (a word's
 * cell means something only while its bit in live is set: forgetting a
 * range clears bits, not cells), and whether a mismatch in it was
 * reported since its last store */
typedef struct {
	data_key key; /* first: the table's key is the page */
	bool reported;
	uint64_t live[8];
	data_cell cell[512];
} data_page;

typedef struct {
	uint64_t space, lo, hi; /* [lo, hi) */
} region;

#define RECENT_PAGES 16

typedef struct {
	/* the lock-free filter, read on every access */
	uint64_t track_lo PTW_LINE_ALONE, track_hi;
	GArray *regions PTW_LINE_ALONE; /* tracked data regions */
	GHashTable *pages;		/* (space, page) -> data_page */
	/* the pages accesses used last, by the page's low VA bits (a test
	 * copying between two buffers uses two pages at a time) */
	data_page *recent[RECENT_PAGES];
} data_state;

static guint page_hash(gconstpointer p)
{
	const data_key *d = p;
	uint64_t k = d->space * 0x9e3779b97f4a7c15ULL ^ d->page;
	return u64_hash(&k);
}

static gboolean page_eq(gconstpointer a, gconstpointer b)
{
	const data_key *x = a, *y = b;
	return x->space == y->space && x->page == y->page;
}

/* the page of (space, va), made when make (a store), else NULL */
static data_page *page_of(data_state *s, uint64_t space, uint64_t va, bool make)
{
	uint64_t page = va & ~0xfffULL;
	data_page **slot = &s->recent[page >> 12 & (RECENT_PAGES - 1)];
	if (*slot && (*slot)->key.space == space && (*slot)->key.page == page)
		return *slot;
	data_key key = {.space = space, .page = page};
	data_page *d = g_hash_table_lookup(s->pages, &key);
	if (!d && make) {
		/* the cells are not cleared: live says which mean something */
		d = g_malloc(sizeof(*d));
		memset(d, 0, offsetof(data_page, cell));
		d->key = key;
		g_hash_table_add(s->pages, d);
	}
	if (d)
		*slot = d;
	return d;
}

static void *data_init(ptw_engine *e, unsigned id)
{
	(void)e;
	(void)id;
	data_state *s = g_aligned_alloc0(1, sizeof(data_state), PTW_CACHELINE);
	s->regions = g_array_new(FALSE, TRUE, sizeof(region));
	s->pages = g_hash_table_new_full(page_hash, page_eq, g_free, NULL);
	return s;
}

static void data_free(ptw_engine *e, void *st)
{
	(void)e;
	data_state *s = st;
	g_array_free(s->regions, TRUE);
	g_hash_table_destroy(s->pages);
	g_aligned_free(s);
}

/* ------------------------------------------------------------------ */
/* tracked data */

static void bounds_update(ptw_engine *e, data_state *s)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (guint i = 0; i < s->regions->len; i++) {
		region *r = &g_array_index(s->regions, region, i);
		if (r->lo < lo)
			lo = r->lo;
		if (r->hi > hi)
			hi = r->hi;
	}
	if (!s->regions->len)
		lo = hi = 0;
	__atomic_store_n(&s->track_lo, lo, __ATOMIC_RELAXED);
	__atomic_store_n(&s->track_hi, hi, __ATOMIC_RELAXED);
	ptw_interest_grew(e); /* data_interest() */
	if (e->watch.vrange)
		e->watch.vrange(e->watch.opaque, lo, hi);
}

void ptw_tracked_bounds(ptw_engine *e, uint64_t *lo, uint64_t *hi)
{
	data_state *s = ptw_det_state(e, &ptw_det_data);
	*lo = __atomic_load_n(&s->track_lo, __ATOMIC_RELAXED);
	*hi = __atomic_load_n(&s->track_hi, __ATOMIC_RELAXED);
}

static bool in_region(data_state *s, uint64_t space, uint64_t va)
{
	for (guint i = 0; i < s->regions->len; i++) {
		region *r = &g_array_index(s->regions, region, i);
		if (r->space == space && va >= r->lo && va < r->hi)
			return true;
	}
	return false;
}

static void forget(data_state *s, uint64_t space, uint64_t lo, uint64_t hi)
{
	GHashTableIter it;
	gpointer k, v;
	memset(s->recent, 0, sizeof(s->recent));
	g_hash_table_iter_init(&it, s->pages);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		data_page *d = k;
		if (d->key.space != space || d->key.page + 4096 <= lo ||
		    d->key.page >= hi)
			continue;
		if (lo == 0 && hi == UINT64_MAX) {
			g_hash_table_iter_remove(&it); /* the space ended */
			continue;
		}
		if (d->key.page >= lo && d->key.page + 4096 <= hi) {
			memset(d->live, 0, sizeof(d->live));
			continue;
		}
		for (unsigned w = 0; w < 512; w++) {
			uint64_t a = d->key.page + w * 8ULL;
			if (a + 8 > lo && a < hi)
				d->live[w / 64] &= ~(1ULL << (w % 64));
		}
	}
}

/* the address space ended: a later one whose root reuses the page must
 * not inherit its tracked data */
static void data_space_ended(ptw_engine *e, void *st, uint64_t space)
{
	data_state *s = st;
	bool had = false;
	for (guint i = 0; i < s->regions->len;) {
		region *r = &g_array_index(s->regions, region, i);
		if (r->space == space) {
			g_array_remove_index_fast(s->regions, i);
			had = true;
		} else {
			i++;
		}
	}
	if (had) {
		forget(s, space, 0, UINT64_MAX);
		bounds_update(e, s);
	}
}

static bool data_client(ptw_engine *e, void *st, const ptw_ctx *c, uint64_t req,
			const uint64_t a[4])
{
	data_state *s = st;
	uint64_t va = a[0], len = a[1];
	if (req != CLIENT_TRACK && req != CLIENT_UNTRACK &&
	    req != CLIENT_EXPECT_WRITE)
		return false;
	const char *name = req == CLIENT_TRACK	   ? "TRACK"
			   : req == CLIENT_UNTRACK ? "UNTRACK"
						   : "EXPECT_WRITE";
	uint64_t space = ptw_access_space(e, c->cpu, va);
	uint64_t dummy;
	bool user_pc = !e->ops->upper_half(c->pc);
	bool kernel_va = e->ops->upper_half(va);
	const char *bad = NULL;
	if (len == 0)
		bad = "zero length";
	else if (va + len < va)
		bad = "range wraps around";
	else if (len > (256ULL << 20))
		bad = "longer than 256 MiB";
	else if (user_pc && kernel_va)
		bad = "kernel address from user mode";
	else if (!space)
		bad = "no address space (MMU off)";
	else if (!user_pc && !ptw_translate(e, c->cpu, va, &dummy, NULL, NULL))
		bad = "start address not mapped"; /* user memory may be
						   * populated later */
	if (bad) {
		ptw_warn(e, "client-range",
			 "%s 0x%" PRIx64 "+0x%" PRIx64
			 " from vcpu %u pc 0x%" PRIx64 " ignored: %s",
			 name, va, len, c->cpu, c->pc, bad);
		return true;
	}
	if (req == CLIENT_TRACK) {
		region r = {space, va, va + len};
		g_array_append_val(s->regions, r);
		ptw_report_line(
			e, "track: VA 0x%" PRIx64 "+0x%" PRIx64 " (vcpu %u)",
			va, len, c->cpu);
	} else if (req == CLIENT_UNTRACK) {
		for (guint i = 0; i < s->regions->len;) {
			region *r = &g_array_index(s->regions, region, i);
			if (r->space == space && r->lo >= va &&
			    r->hi <= va + len)
				g_array_remove_index_fast(s->regions, i);
			else
				i++;
		}
		forget(s, space, va, va + len);
	} else {
		forget(s, space, va, va + len);
	}
	bounds_update(e, s);
	return true;
}

/* The 8 bytes at p as a number, byte k its bits 8k to 8k + 7 */
static inline uint64_t le64_at(const uint8_t *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return GUINT64_FROM_LE(x);
}

/* Do the n bytes at in, loaded at byte off of sl's word, differ from a
 * byte stored there? One compare of the word under the mask of the bytes
 * both known and loaded (a byte at a time was a tenth of a replay). */
static inline bool word_differs(const data_cell *sl, unsigned off, unsigned n,
				const uint8_t *in)
{
	/* bit k of known spread to byte k of the mask */
	uint64_t x = sl->known & ((1u << n) - 1) << off;
	x = (x | x << 28) & 0x0000000f0000000fULL;
	x = (x | x << 14) & 0x0003000300030003ULL;
	x = (x | x << 7) & 0x0101010101010101ULL;
	uint64_t mask = x * 0xff, got = 0;
	if (n == 8) {
		got = le64_at(in);
	} else {
		for (unsigned j = 0; j < n; j++)
			got |= (uint64_t)in[j] << 8 * (off + j);
	}
	return ((got ^ le64_at(sl->val)) & mask) != 0;
}

static void data_access(ptw_engine *e, void *st, const ptw_ctx *c, uint64_t va,
			unsigned size, bool is_store, const uint8_t *bytes)
{
	data_state *s = st;
	uint64_t space = ptw_access_space(e, c->cpu, va);
	if (!space || !in_region(s, space, va))
		return;
	bool mismatch = false;
	uint64_t bad_va = 0, got = 0, want = 0;
	unsigned who = 0;
	uint64_t who_pc = 0, who_icount = 0;
	data_page *first = NULL, *bad_page = NULL;
	for (unsigned i = 0; i < size;) {
		uint64_t a = va + i;
		data_page *d = page_of(s, space, a, is_store);
		unsigned w = (a & 0xfff) >> 3;
		bool live = d && (d->live[w / 64] >> (w % 64) & 1);
		data_cell *sl = d ? &d->cell[w] : NULL;
		if (i == 0)
			first = d;
		unsigned off = a & 7, n = 8 - off;
		if (n > size - i)
			n = size - i;
		if (is_store) {
			if (!live) {
				sl->known = 0;
				d->live[w / 64] |= 1ULL << (w % 64);
			}
			memcpy(&sl->val[off], &bytes[i], n);
			sl->known |= (uint8_t)(((1u << n) - 1) << off);
			sl->cpu = (uint8_t)c->cpu;
			sl->pc = c->pc;
			sl->icount = c->icount;
		} else if (live && !mismatch &&
			   word_differs(sl, off, n, &bytes[i])) {
			for (unsigned j = 0; j < n; j++)
				if ((sl->known >> (off + j) & 1) &&
				    sl->val[off + j] != bytes[i + j]) {
					mismatch = true;
					bad_page = d;
					bad_va = a & ~7ULL;
					memcpy(&want, sl->val, 8);
					got = 0;
					who = sl->cpu;
					who_pc = sl->pc;
					who_icount = sl->icount;
					for (unsigned q = 0; q < n; q++)
						((uint8_t *)&got)[off + q] =
							bytes[i + q];
					break;
				}
		}
		i += n;
	}
	/* the page of the access's first byte (a load's, else the page of
	 * the mismatch) says whether it was reported; a store to it re-arms
	 * it */
	data_page *rep = first ? first : bad_page;
	if (is_store) {
		first->reported = false;
	} else {
		e->stats[ST_DATA_LOADS_CHECKED]++;
		if (mismatch && !rep->reported) {
			rep->reported = true;
			uint64_t pa = 0, pte_pa = 0;
			int level = 0;
			ptw_translate(e, c->cpu, va, &pa, &pte_pa, &level);
			char d[320];
			snprintf(d, sizeof(d),
				 "tracked data at VA 0x%" PRIx64
				 " (PA 0x%" PRIx64 ") reads 0x%016" PRIx64
				 ", but this address space last stored "
				 "0x%016" PRIx64 " there (vcpu %u pc 0x%" PRIx64
				 "); further mismatches in this page are not "
				 "reported until it is stored to again",
				 bad_va, pa, got, want, who, who_pc);
			uint64_t desc = 0;
			unsigned ti;
			ptw_table *t = ptw_table_of(e, pte_pa, &ti);
			if (t)
				desc = t->shadow[ti];
			ptw_ctx st = {
				.cpu = who, .pc = who_pc, .icount = who_icount};
			report2(e, PTW_KIND_DATA_MISMATCH, PTW_SEV_ERROR,
				"data lost or corrupted", c, "load", &st,
				"last stored by", pte_pa, va, level, desc, desc,
				d);
		}
	}
}

static unsigned data_interest(ptw_engine *e, void *st, unsigned cpu,
			      uint64_t va, uint64_t pa, unsigned size,
			      bool is_store)
{
	(void)e;
	(void)cpu;
	(void)pa;
	(void)is_store;
	data_state *s = st;
	uint64_t lo = __atomic_load_n(&s->track_lo, __ATOMIC_RELAXED);
	uint64_t hi = __atomic_load_n(&s->track_hi, __ATOMIC_RELAXED);
	return va < hi && va + size > lo ? PTW_INTEREST_DATA : 0;
}

const ptw_detector ptw_det_data = {
	.name = "data",
	.init = data_init,
	.free = data_free,
	.data = data_access,
	.interest = data_interest,
	.client = data_client,
	.space_ended = data_space_ended,
};
