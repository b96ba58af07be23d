/* SPDX-License-Identifier: MIT */
/*
 * The detector table and its dispatch: ptwatch's detectors, built on the
 * shadow page tables (engine.c), each in its own det_*.c:
 *
 *  - a per-entry break-before-make automaton in the spirit of Casemate:
 *    valid -> (store invalid) -> invalid-unclean -> (TLBI reaching every CPU
 *    that may hold the entry, completed by DSB) -> invalid (clean) ->
 *    (store valid) -> valid. A make while unclean that changes anything
 *    needing a break is BBM_MAKE_BEFORE_INVALIDATE (arm64); another CPU
 *    loading the entry between a break and the breaker's make is
 *    BBM_WINDOW_READ (both architectures);
 *  - large mapping units (aligned runs of 2^k PTEs mapping one contiguous,
 *    naturally aligned physical range with identical attributes, made in one
 *    pass) and unmap passes over them: PARTIAL_UNIT_UNMAP;
 *  - arm64 contiguous groups checked when the CPU that last wrote them
 *    completes its writes with a DSB: CONTIG_MISPROGRAMMED;
 *  - a CPU reading the same entry value twice across a change and change
 *    back: PTE_ABA;
 *  - tracked guest data regions: DATA_MISMATCH.
 *
 *  - stale-TLB records: STALE_TLB_ACCESS (det_stale.c);
 *  - walks in break windows: BBM_WINDOW_WALK (det_walk.c);
 *  - dirty state the MMU set, overwritten: DIRTY_LOST (det_dirty.c);
 *  - live page-table pages mapped where user code reaches them:
 *    PT_PAGE_MAPPED, and an anonymous page writable through one mapping while
 *    another maps it: COW_SHARED_WRITABLE (det_usermap.c);
 *  - a pinned page's mapping replaced: PINNED_PAGE_DIVERGED (det_pin.c);
 *  - a swap-in that never held its slot: SWAP_SLOT_UNCLAIMED (det_swap.c);
 *  - a page table freed with swap entries in it: SWAP_ENTRY_LEAKED
 *    (det_leak.c);
 *  - an entry a zap had to remove, left: ZAP_LEFT_ENTRY (det_zap.c).
 *
 * This file holds the table (the only place that names the detectors),
 * the dispatch of the core's notifications and of what detectors publish
 * (detector.h), and the helpers every detector builds findings with.
 */
#include "detectors.h"

guint u64_hash(gconstpointer p)
{
	uint64_t v = *(const uint64_t *)p;
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (guint)v;
}

gboolean u64_eq(gconstpointer a, gconstpointer b)
{
	return *(const uint64_t *)a == *(const uint64_t *)b;
}

/* The detectors, in the order they are set up, torn down and notified
 * (that order matters where one publishes to another: the break-window
 * detector before those that hear of its breaks). A new detector: its
 * det_NAME.c exporting `const ptw_detector ptw_det_NAME`, one line here. */
#define DETECTORS(X)                                                           \
	X(bbm)	   /* BBM_*: break-before-make, window reads */                \
	X(units)   /* PARTIAL_UNIT_UNMAP */                                    \
	X(contig)  /* CONTIG_MISPROGRAMMED */                                  \
	X(aba)	   /* PTE_ABA */                                               \
	X(data)	   /* DATA_MISMATCH */                                         \
	X(walk)	   /* BBM_WINDOW_WALK */                                       \
	X(dirty)   /* DIRTY_LOST */                                            \
	X(stale)   /* STALE_TLB_ACCESS */                                      \
	X(usermap) /* PT_PAGE_MAPPED, COW_SHARED_WRITABLE */                   \
	X(pin)	   /* PINNED_PAGE_DIVERGED */                                  \
	X(swap)	   /* SWAP_SLOT_UNCLAIMED */                                   \
	X(leak)	   /* SWAP_ENTRY_LEAKED */                                     \
	X(zap)	   /* ZAP_LEFT_ENTRY */

#define DECLARE(name) extern const ptw_detector ptw_det_##name;
#define ENTRY(name)   &ptw_det_##name,
DETECTORS(DECLARE)
const ptw_detector *const ptw_detectors[] = {DETECTORS(ENTRY)};
const unsigned ptw_ndetectors = G_N_ELEMENTS(ptw_detectors);
G_STATIC_ASSERT(G_N_ELEMENTS(ptw_detectors) <= PTW_MAX_DETECTORS);

#define EACH(i, d)                                                             \
	for (unsigned i = 0; i < ptw_ndetectors; i++)                          \
		for (const ptw_detector *d = ptw_detectors[i]; d; d = NULL)

/* the hot hooks: their subscribers listed once (ptw_engine.hot) */
enum { HOT_INTEREST, HOT_DATA, HOT_LOADED, HOT_CHANGED, HOT_WRITTEN };

static bool has_hot(const ptw_detector *d, unsigned h)
{
	switch (h) {
	case HOT_INTEREST:
		return d->interest;
	case HOT_DATA:
		return d->data;
	case HOT_LOADED:
		return d->entry_loaded;
	case HOT_CHANGED:
		return d->entry_changed;
	default:
		return d->entry_written;
	}
}

void ptw_det_init(ptw_engine *e)
{
	G_STATIC_ASSERT(G_N_ELEMENTS(e->hot) == HOT_WRITTEN + 1);
	EACH(i, d)
	{
		e->det[i] = d->init ? d->init(e, i) : NULL;
		for (unsigned h = 0; h < G_N_ELEMENTS(e->hot); h++)
			if (has_hot(d, h)) {
				struct ptw_det_list *l = &e->hot[h];
				l->det[l->n] = d;
				l->st[l->n++] = e->det[i];
			}
	}
}

#define NOTIFY_HOT(h, hook, ...)                                               \
	for (unsigned i = 0; i < e->hot[h].n; i++)                             \
	e->hot[h].det[i]->hook(e, e->hot[h].st[i], __VA_ARGS__)

void ptw_det_free(ptw_engine *e)
{
	EACH(i, d)
	if (d->free)
		d->free(e, e->det[i]);
}

void *ptw_det_state(ptw_engine *e, const ptw_detector *want)
{
	EACH(i, d)
	if (d == want)
		return e->det[i];
	return NULL;
}

void ptw_det_table_free(ptw_table *t)
{
	EACH(i, d)
	if (t->det[i] && d->table_free)
		d->table_free(t->det[i]);
}

/* one notification: every detector that has the hook, in table order */
#define NOTIFY(hook, ...)                                                      \
	EACH(i, d)                                                             \
	if (d->hook)                                                           \
	d->hook(e, e->det[i], __VA_ARGS__)

void ptw_det_table_added(ptw_engine *e, ptw_table *t)
{
	NOTIFY(table_added, t);
}

void ptw_det_table_dropped(ptw_engine *e, ptw_table *t)
{
	NOTIFY(table_dropped, t);
}

void ptw_det_entry_written(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			   unsigned idx, uint64_t old, uint64_t new)
{
	NOTIFY_HOT(HOT_WRITTEN, entry_written, c, t, idx, old, new);
}

void ptw_det_entry_changed(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			   unsigned idx, uint64_t old, uint64_t new)
{
	NOTIFY_HOT(HOT_CHANGED, entry_changed, c, t, idx, old, new);
}

void ptw_det_entry_loaded(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			  unsigned idx, uint64_t value)
{
	NOTIFY_HOT(HOT_LOADED, entry_loaded, c, t, idx, value);
}

void ptw_det_hw_update(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, uint64_t old, uint64_t new, uint64_t va)
{
	NOTIFY(hw_update, c, t, idx, old, new, va);
}

void ptw_det_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		    bool is_store)
{
	NOTIFY(access, c, va, pa, is_store);
}

unsigned ptw_det_interest(ptw_engine *e, unsigned cpu, uint64_t va, uint64_t pa,
			  unsigned size, bool is_store)
{
	unsigned want = 0;
	const struct ptw_det_list *l = &e->hot[HOT_INTEREST];
	for (unsigned i = 0; i < l->n; i++)
		want |= l->det[i]->interest(e, l->st[i], cpu, va, pa, size,
					    is_store);
	return want;
}

void ptw_det_data_access(ptw_engine *e, const ptw_ctx *c, uint64_t va,
			 unsigned size, bool is_store, const uint8_t *bytes)
{
	NOTIFY_HOT(HOT_DATA, data, c, va, size, is_store, bytes);
}

void ptw_det_invalidate(ptw_engine *e, const ptw_ctx *c, const inval_scope *s,
			uint64_t targets)
{
	NOTIFY(invalidate, c, s, targets);
}

void ptw_det_barrier(ptw_engine *e, const ptw_ctx *c, const ptw_barrier *b)
{
	NOTIFY(barrier, c, b);
}

void ptw_det_sync(ptw_engine *e, const ptw_ctx *c)
{
	NOTIFY(sync, c);
}

void ptw_det_space_ended(ptw_engine *e, uint64_t space)
{
	NOTIFY(space_ended, space);
}

void ptw_det_root_dropped(ptw_engine *e, uint64_t space)
{
	NOTIFY(root_dropped, space);
}

bool ptw_det_client(ptw_engine *e, const ptw_ctx *c, uint64_t req,
		    const uint64_t a[4])
{
	EACH(i, d)
	if (d->client && d->client(e, e->det[i], c, req, a))
		return true;
	return false;
}

void ptw_det_fault(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev)
{
	NOTIFY(fault, c, ev);
}

void ptw_det_linux_zap(ptw_engine *e, const ptw_ctx *c, const ptw_linux_zap *z)
{
	NOTIFY(zap, c, z);
}

uint64_t ptw_det_deferred_flush(ptw_engine *e, const ptw_ctx *c)
{
	uint64_t ns = 0;
	EACH(i, d)
	if (d->deferred_flush) {
		uint64_t n = d->deferred_flush(e, e->det[i], c);
		if (n > ns)
			ns = n;
	}
	return ns;
}

void ptw_det_finish(ptw_engine *e)
{
	EACH(i, d)
	if (d->finish)
		d->finish(e, e->det[i]);
}

void ptw_det_summary_stats(ptw_engine *e, FILE *f)
{
	NOTIFY(summary_stats, f);
}

int ptw_det_pending(ptw_engine *e)
{
	int n = 0;
	EACH(i, d)
	if (d->pending)
		n += d->pending(e, e->det[i]);
	return n;
}

/* what detectors publish through the interface */

bool ptw_det_break_find(ptw_engine *e, uint64_t pte_pa, ptw_break_info *out)
{
	EACH(i, d)
	if (d->break_find && d->break_find(e, e->det[i], pte_pa, out))
		return true;
	return false;
}

bool ptw_det_last_load(ptw_engine *e, uint64_t who, uint64_t pte_pa,
		       unsigned *cpu, uint64_t *icount)
{
	EACH(i, d)
	if (d->last_load &&
	    d->last_load(e, e->det[i], who, pte_pa, cpu, icount))
		return true;
	return false;
}

unsigned ptw_det_unit_order(ptw_engine *e, ptw_table *t, unsigned idx)
{
	EACH(i, d)
	if (d->unit_order)
		return d->unit_order(e, e->det[i], t, idx);
	return 0;
}

void ptw_det_break_closed(ptw_engine *e, unsigned from, const ptw_break_info *b,
			  const ptw_ctx *c, bool made, uint64_t new,
			  uint64_t dur)
{
	EACH(i, d)
	if (i != from && d->break_closed)
		d->break_closed(e, e->det[i], b, c, made, new, dur);
}

/* ------------------------------------------------------------------ */
/* building findings */

void report2(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	     const ptw_ctx *c, const char *role, const ptw_ctx *other,
	     const char *other_role, uint64_t pte_pa, uint64_t va, int level,
	     uint64_t old, uint64_t new, const char *detail)
{
	report2_variant(e, k, NULL, sev, sev_why, c, role, other, other_role,
			pte_pa, va, level, old, new, detail);
}

void report2_variant(ptw_engine *e, ptw_kind k, const char *variant,
		     ptw_severity sev, const char *sev_why, const ptw_ctx *c,
		     const char *role, const ptw_ctx *other,
		     const char *other_role, uint64_t pte_pa, uint64_t va,
		     int level, uint64_t old, uint64_t new, const char *detail)
{
	ptw_finding f = {0};
	f.variant = variant;
	f.severity = sev;
	f.severity_why = sev_why;
	f.role = role;
	if (other) {
		f.has_other = true;
		f.other = *other;
		f.other_role = other_role;
	}
	f.kind = k;
	f.ctx = *c;
	f.pte_pa = pte_pa;
	f.va = va;
	f.level = level;
	f.old_desc = old;
	f.new_desc = new;
	g_strlcpy(f.detail, detail, sizeof(f.detail));
	ptw_report_finding(e, &f);
}

void report(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	    const ptw_ctx *c, uint64_t pte_pa, uint64_t va, int level,
	    uint64_t old, uint64_t new, const char *detail)
{
	report2(e, k, sev, sev_why, c, NULL, NULL, NULL, pte_pa, va, level, old,
		new, detail);
}

/* Describe a non-present entry with the guest-OS layer (Linux swap and
 * migration entry layouts). */
void describe_nonpresent(ptw_engine *e, uint64_t d, int level, char *buf,
			 size_t n)
{
	if (d == 0) {
		g_strlcpy(buf, "none", n);
		return;
	}
	if (ptw_linux_present_invalid(e->cfg.arch, d)) {
		snprintf(buf, n,
			 "present-invalid (PROT_NONE or changed in "
			 "place), PA 0x%" PRIx64,
			 ptw_decode_entry(
				 e, ptw_linux_revalidate(e->cfg.arch, d), level)
				 .oa);
		return;
	}
	ptw_linux_describe_swap(e->cfg.arch, d, buf, n);
}
