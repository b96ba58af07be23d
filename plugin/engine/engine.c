/* SPDX-License-Identifier: MIT */
/*
 * ptwatch engine: shadow page tables and detectors.
 *
 * Page-table pages are discovered from the roots each vCPU loads (TTBR0/1
 * with TCR on arm64, CR3 with CR4.LA57 on x86-64) and followed through table
 * descriptors as they are written. Every tracked entry has a shadow; a store
 * to a tracked page is turned into a transition (old shadow -> value re-read
 * from guest memory), which feeds:
 *  - the arm64 break-before-make rule for live valid -> valid changes,
 *  - pending-change records: the old translation of a leaf that changed, and
 *    which CPUs have not invalidated it since (stale-TLB detection).
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <stdarg.h>
#include <string.h>

#include "engine_internal.h"
#include "ptw_trace.h"

const char *const ptw_stat_names[ST_COUNT] = {
	[ST_TABLES_REGISTERED] = "tables_registered",
	[ST_TABLES_DROPPED] = "tables_dropped",
	[ST_TABLE_ALIASES] = "table_aliases",
	[ST_ROOTS] = "roots_registered",
	[ST_ROOTS_COLD] = "roots_dropped_cold",
	[ST_PT_STORES] = "page_table_stores",
	[ST_ENTRY_CHANGES] = "entry_changes",
	[ST_HW_AD_ONLY] = "access_dirty_only_changes",
	[ST_LEAF_CHANGES] = "leaf_mapping_changes",
	[ST_TLBI] = "tlbi",
	[ST_DSB] = "dsb",
	[ST_INVLPG] = "invlpg",
	[ST_CR3_WRITES] = "cr3_writes",
	[ST_STALE_ACCESSES] = "stale_accesses",
	[ST_STALE_DEFERRED] = "stale_deferred_flush_windows",
	[ST_OPERATIONS] = "operations_started",
	[ST_PENDING_OVERFLOW] = "pending_records_evicted",
	[ST_PENDING_VA_EVICTED] = "pending_records_evicted_per_va",
	[ST_PENDING_MERGED] = "pending_records_merged",
	[ST_PENDING_SPACE_GONE] = "pending_records_space_gone",
	[ST_PENDING_PEAK] = "pending_records_peak",
	[ST_CLIENT_REQUESTS] = "client_requests",
	[ST_BREAKS] = "entries_broken",
	[ST_WINDOWS] = "break_windows",
	[ST_BREAKS_OBSERVED] = "break_windows_observed",
	[ST_BREAK_LONGEST] = "break_window_longest_insns",
	[ST_UNITS] = "units_seen",
	[ST_PT_LOADS] = "page_table_loads",
	[ST_DATA_LOADS_CHECKED] = "tracked_loads_checked",
	[ST_WARNINGS] = "warnings",
	[ST_STALLS] = "widen_stalls",
	[ST_LOWER_ENTRIES] = "lower_half_entries",
	[ST_TASK_SWITCHES] = "task_switches",
	[ST_WINDOW_READS_REVALIDATED] = "window_reads_revalidated",
	[ST_WINDOW_READS_UNCHECKED] = "window_reads_not_revalidated",
	[ST_FAULTS] = "translation_faults",
	[ST_WINDOW_WALKS] = "faults_on_broken_entries",
	[ST_HW_UPDATES] = "hw_access_dirty_updates",
	[ST_HW_DIRTIED] = "hw_dirtied_entries",
	[ST_HW_DIRTY_UNTRACKED] = "hw_dirty_untracked",
	[ST_PENDING_CHECKS] = "pending_page_accesses",
};

static const char *const kind_names[PTW_KIND_COUNT] = {
	[PTW_KIND_NONE] = "NONE",
	[PTW_KIND_BBM_VALID_TO_VALID] = "BBM_VALID_TO_VALID",
	[PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE] = "BBM_MAKE_BEFORE_INVALIDATE",
	[PTW_KIND_BBM_WINDOW_READ] = "BBM_WINDOW_READ",
	[PTW_KIND_STALE_TLB_ACCESS] = "STALE_TLB_ACCESS",
	[PTW_KIND_PARTIAL_UNIT_UNMAP] = "PARTIAL_UNIT_UNMAP",
	[PTW_KIND_CONTIG_MISPROGRAMMED] = "CONTIG_MISPROGRAMMED",
	[PTW_KIND_PTE_ABA] = "PTE_ABA",
	[PTW_KIND_DATA_MISMATCH] = "DATA_MISMATCH",
	[PTW_KIND_BBM_WINDOW_WALK] = "BBM_WINDOW_WALK",
	[PTW_KIND_DIRTY_LOST] = "DIRTY_LOST",
};

const char *ptw_kind_name(ptw_kind k)
{
	return (k > 0 && k < PTW_KIND_COUNT) ? kind_names[k] : "UNKNOWN";
}

ptw_kind ptw_kind_from_name(const char *name)
{
	for (int k = 1; k < PTW_KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return (ptw_kind)k;
	return PTW_KIND_NONE;
}

static const char *const sev_names[PTW_SEV_COUNT] = {
	[PTW_SEV_NONE] = "none",
	[PTW_SEV_NOTE] = "note",
	[PTW_SEV_WARNING] = "warning",
	[PTW_SEV_ERROR] = "error",
};

const char *ptw_severity_name(ptw_severity s)
{
	return (s > 0 && s < PTW_SEV_COUNT) ? sev_names[s] : "none";
}

ptw_severity ptw_severity_from_name(const char *name)
{
	for (int s = 1; s < PTW_SEV_COUNT; s++)
		if (strcmp(sev_names[s], name) == 0)
			return (ptw_severity)s;
	return PTW_SEV_NONE;
}

#define CLIENT_EXPECT  0x50570001
#define CLIENT_PHASE   0x50570002
#define CLIENT_DONE    0x50570003
#define CLIENT_PROGRAM 0x50570007

/* ------------------------------------------------------------------ */
/* architecture glue */

static int last_level(ptw_engine *e)
{
	return e->ops->last_level;
}

static int next_level(ptw_engine *e, int level)
{
	return level + e->ops->level_step;
}

static unsigned entry_shift(ptw_engine *e, int level)
{
	return e->ops->entry_shift(level);
}

static ptw_desc decode(ptw_engine *e, uint64_t d, int level)
{
	return e->ops->decode(e, d, level);
}

/* What an entry refers to, for PTE_ABA: the output address of a present
 * (or present-invalid) entry, whatever its permissions and A/D state; the
 * whole value of a swap or migration entry. */
static uint64_t entry_identity(ptw_engine *e, uint64_t v, int level)
{
	ptw_desc d = decode(e, v, level);
	if (d.type != PTW_DESC_INVALID)
		return d.oa | 1;
	if (ptw_linux_present_invalid(e->cfg.arch, v))
		return decode(e, ptw_linux_revalidate(e->cfg.arch, v), level)
			       .oa |
		       1;
	uint64_t pfn;
	if (ptw_linux_pfn_entry(e->cfg.arch, v, &pfn))
		return pfn << 12 | 1; /* migration: still that page */
	return v & ~1ULL;
}

static bool is_leaf(const ptw_desc *d)
{
	return d->type == PTW_DESC_PAGE || d->type == PTW_DESC_BLOCK;
}

/* Views of a table: 0 is (t->space, t->va_base), 1.. its aliases. */
static unsigned table_nviews(const ptw_table *t)
{
	return 1 + t->nalias;
}

static ptw_view table_view(const ptw_table *t, unsigned k)
{
	if (k == 0) {
		ptw_view v = {t->space, t->va_base, t->refs};
		for (unsigned i = 0; i < t->nalias; i++)
			v.refs -= t->alias[i].refs;
		return v;
	}
	return t->alias[k - 1];
}

/* Entry idx of t seen through view v: its VA and its address space. */
static uint64_t view_entry_va(ptw_engine *e, const ptw_table *t,
			      const ptw_view *v, unsigned idx)
{
	uint64_t va = v->va_base + ((uint64_t)idx << entry_shift(e, t->level));
	return e->ops->canonical(e, va);
}

static uint64_t view_entry_space(ptw_engine *e, const ptw_view *v, uint64_t va)
{
	if (e->ops->shared_upper && e->ops->upper_half(va))
		return PTW_KSPACE;
	return v->space;
}

/* The same through the table's first view. */
static uint64_t entry_va(ptw_engine *e, const ptw_table *t, unsigned idx)
{
	ptw_view v = {t->space, t->va_base, 0};
	return view_entry_va(e, t, &v, idx);
}

static uint64_t entry_space(ptw_engine *e, const ptw_table *t, uint64_t va)
{
	ptw_view v = {t->space, t->va_base, 0};
	return view_entry_space(e, &v, va);
}

/* Address-space key of cpu's translation of va, 0 if none. */
static uint64_t access_space(ptw_engine *e, unsigned cpu, uint64_t va)
{
	ptw_cpu *c = &e->cpu[cpu];
	if (!c->mmu_on)
		return 0;
	if (e->ops->shared_upper && e->ops->upper_half(va))
		return PTW_KSPACE;
	ptw_table *r = c->root[e->ops->root_index(va)];
	return r ? r->pa : 0;
}

unsigned ptw_entry_shift(ptw_engine *e, int level)
{
	return entry_shift(e, level);
}

uint64_t ptw_entry_va(ptw_engine *e, const ptw_table *t, unsigned idx)
{
	return entry_va(e, t, idx);
}

uint64_t ptw_entry_space(ptw_engine *e, const ptw_table *t, uint64_t va)
{
	return entry_space(e, t, va);
}

uint64_t ptw_access_space(ptw_engine *e, unsigned cpu, uint64_t va)
{
	return access_space(e, cpu, va);
}

ptw_desc ptw_decode_entry(ptw_engine *e, uint64_t d, int level)
{
	return decode(e, d, level);
}

bool ptw_is_last_level(ptw_engine *e, int level)
{
	return level == last_level(e);
}

/* ------------------------------------------------------------------ */
/* warnings */

void ptw_warn(ptw_engine *e, const char *key, const char *fmt, ...)
{
	gpointer cnt = g_hash_table_lookup(e->warn_keys, key);
	unsigned n = GPOINTER_TO_UINT(cnt) + 1;
	g_hash_table_insert(e->warn_keys, g_strdup(key), GUINT_TO_POINTER(n));
	e->stats[ST_WARNINGS]++;
	if (n > 5) {
		if (n == 6)
			ptw_report_line(e,
					"warning[%s]: further warnings of this "
					"kind are counted, not logged",
					key);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ptw_report_line(e, "warning[%s]: %s", key, msg);
	g_free(msg);
}

/* ------------------------------------------------------------------ */
/* table-page bitmap (lock-free reads) */

static void bitmap_set(ptw_engine *e, uint64_t pa, bool on)
{
	uint64_t chunk = pa >> BITMAP_CHUNK_SHIFT;
	if (chunk >= BITMAP_CHUNKS) {
		e->high_tables += on ? 1 : -1;
		return;
	}
	if (!e->bitmap[chunk])
		e->bitmap[chunk] = g_new0(
			uint64_t, (1u << (BITMAP_CHUNK_SHIFT - 12)) / 64);
	uint64_t bit = (pa & ((1ULL << BITMAP_CHUNK_SHIFT) - 1)) >> 12;
	uint64_t m = 1ULL << (bit & 63);
	if (on)
		__atomic_fetch_or(&e->bitmap[chunk][bit / 64], m,
				  __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&e->bitmap[chunk][bit / 64], ~m,
				   __ATOMIC_RELEASE);
}

bool ptw_is_table_page(ptw_engine *e, uint64_t pa)
{
	uint64_t chunk = pa >> BITMAP_CHUNK_SHIFT;
	if (chunk >= BITMAP_CHUNKS)
		return __atomic_load_n(&e->high_tables, __ATOMIC_RELAXED) > 0;
	uint64_t *b = __atomic_load_n(&e->bitmap[chunk], __ATOMIC_ACQUIRE);
	if (!b)
		return false;
	uint64_t bit = (pa & ((1ULL << BITMAP_CHUNK_SHIFT) - 1)) >> 12;
	return (__atomic_load_n(&b[bit / 64], __ATOMIC_RELAXED) >> (bit & 63)) &
	       1;
}

uint64_t ptw_apply_deferred_flush(ptw_engine *e, const ptw_ctx *c)
{
	/* widening: the changer is about to complete a batched flush it
	 * deferred past the PTE lock; hold it there, where the entries are
	 * gone, the old translations live and the lock is free */
	(void)c;
	if (!e->cfg.widen_ns ||
	    !__atomic_load_n(&e->npending, __ATOMIC_RELAXED))
		return 0;
	__atomic_fetch_add(&e->stats[ST_STALLS], 1, __ATOMIC_RELAXED);
	return e->cfg.widen_ns;
}

void ptw_apply_call(ptw_engine *e, const ptw_ctx *c)
{
	e->call_site[c->cpu] = c->pc;
}

void ptw_apply_lower_entry(ptw_engine *e, unsigned cpu)
{
	__atomic_store_n(&e->lower_entries[cpu], e->lower_entries[cpu] + 1,
			 __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->stats[ST_LOWER_ENTRIES], 1, __ATOMIC_RELAXED);
}

uint64_t ptw_take_stall(ptw_engine *e, unsigned cpu)
{
	if (!e->cfg.widen_ns || cpu >= PTW_MAX_CPUS ||
	    !__atomic_load_n(&e->stall[cpu], __ATOMIC_RELAXED))
		return 0;
	__atomic_store_n(&e->stall[cpu], 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->stats[ST_STALLS], 1, __ATOMIC_RELAXED);
	return e->cfg.widen_ns;
}

bool ptw_has_pending(ptw_engine *e)
{
	return __atomic_load_n(&e->npending, __ATOMIC_RELAXED) > 0;
}

#define PEND_FILTER_BITS 20
static const uint64_t leaf_sizes[] = {4096ULL, 2ULL << 20, 1ULL << 30,
				      512ULL << 30};

static unsigned pend_filter_slot(uint64_t old_pa, uint64_t size)
{
	uint64_t h = (old_pa ^ (size << 1)) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h >> (64 - PEND_FILTER_BITS));
}

/* ------------------------------------------------------------------ */
/* the page watch: the pages the filters can pass, counted */

void ptw_set_watch(ptw_engine *e, const ptw_watch_ops *ops)
{
	e->watch = *ops;
	/* keyed by the page address itself: a count change allocates
	 * nothing */
	G_STATIC_ASSERT(sizeof(gpointer) == sizeof(uint64_t));
	e->watch_stores.stores = true;
	if (!e->watch_all.refs)
		e->watch_all.refs =
			g_hash_table_new(g_direct_hash, g_direct_equal);
	if (!e->watch_stores.refs)
		e->watch_stores.refs =
			g_hash_table_new(g_direct_hash, g_direct_equal);
}

static void watch_call(ptw_engine *e, const ptw_watch_set *w, uint64_t pa,
		       uint64_t len, bool on)
{
	(w->stores ? e->watch.phys_stores : e->watch.phys)(e->watch.opaque, pa,
							   len, on);
}

/* A page whose count falls to 0 stays watched (its entry kept at 0) until
 * WATCH_LINGER later pages have fallen to 0 too, so that a page that
 * comes and goes (an entry rewritten back and forth: each change opens
 * and closes a pending record on the same old page) costs QEMU one TLB
 * rescan, not one per change. Watching more than needed is safe: the
 * adapter filters each report as stock mode filters each access
 * (WATCH_LINGER: engine_internal.h). */

static void watch_linger(ptw_engine *e, ptw_watch_set *w, uint64_t p)
{
	uint64_t old = w->linger[w->linger_next];
	bool had = w->linger_used == WATCH_LINGER;
	w->linger[w->linger_next] = p;
	w->linger_next = (w->linger_next + 1) % WATCH_LINGER;
	if (w->linger_used < WATCH_LINGER)
		w->linger_used++;
	if (!had)
		return;
	gpointer k, v;
	if (g_hash_table_lookup_extended(w->refs, GSIZE_TO_POINTER(old), &k,
					 &v) &&
	    !v && old != p) {
		g_hash_table_remove(w->refs, GSIZE_TO_POINTER(old));
		watch_call(e, w, old, 4096, false);
	}
}

/* d = +1: the pages of [pa, pa + len) matter once more to watch set w;
 * -1: once less */
static void watch_ref(ptw_engine *e, ptw_watch_set *w, uint64_t pa,
		      uint64_t len, int d)
{
	if (!(w->stores ? e->watch.phys_stores : e->watch.phys))
		return;
	bool added = false;
	for (uint64_t p = pa & ~0xfffULL; p < pa + len; p += 4096) {
		gpointer k = NULL, v = NULL;
		bool known = g_hash_table_lookup_extended(
			w->refs, GSIZE_TO_POINTER(p), &k, &v);
		uintptr_t n = (uintptr_t)v;
		if (d < 0 && !n)
			continue; /* not counted (set before the watch) */
		uintptr_t m = n + (uintptr_t)(intptr_t)d;
		g_hash_table_insert(w->refs, GSIZE_TO_POINTER(p), (gpointer)m);
		if (!known)
			added = true;
		else if (!m)
			watch_linger(e, w, p);
	}
	if (added) /* one call, one TLB rescan, for the whole range */
		watch_call(e, w, pa & ~0xfffULL,
			   ((pa + len + 0xfff) & ~0xfffULL) - (pa & ~0xfffULL),
			   true);
}

/* A pending record of this size is watched through its virtual pages and
 * its old page's stores (ptw_watch_ops), else through its old page. */
static bool pend_watch_by_va(const ptw_engine *e, uint64_t size)
{
	return e->watch.vpages && e->watch.phys_stores &&
	       size <= PTW_WATCH_VPAGES_MAX;
}

/* a record not (-1: no longer) marked reused, counted by its old page */
static void unreused_update(ptw_engine *e, const ptw_pending *p, int d)
{
	/* a store to the old page matters while some record does not count
	 * it reused */
	if (pend_watch_by_va(e, p->size))
		watch_ref(e, &e->watch_stores, p->old_pa, p->size, d);
	__atomic_fetch_add(
		&e->pend_unreused_filter[pend_filter_slot(p->old_pa, p->size)],
		(uint32_t)d, __ATOMIC_RELAXED);
}

/* count a record of this size in (+1) or out (-1) of the filters: by its
 * old page, and by its VA (in any address space) */
static void pend_filter_update(ptw_engine *e, uint64_t old_pa, uint64_t va,
			       uint64_t size, int d)
{
	if (!pend_watch_by_va(e, size))
		watch_ref(e, &e->watch_all, old_pa, size, d);
	else
		e->watch.vpages(e->watch.opaque, va, size, d > 0);
	__atomic_fetch_add(&e->pend_filter[pend_filter_slot(old_pa, size)],
			   (uint32_t)d, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->pend_va_filter[pend_filter_slot(va, size)],
			   (uint32_t)d, __ATOMIC_RELAXED);
	for (unsigned s = 0; s < G_N_ELEMENTS(leaf_sizes); s++)
		if (leaf_sizes[s] == size)
			__atomic_fetch_add(&e->pend_by_size[s], d,
					   __ATOMIC_RELAXED);
}

/* whether filter (one of the counting filters of pending records) may
 * count a record of some leaf size that contains addr */
static bool pend_filter_may_hit(ptw_engine *e, const uint32_t *filter,
				uint64_t addr)
{
	for (unsigned s = 0; s < G_N_ELEMENTS(leaf_sizes); s++) {
		if (!__atomic_load_n(&e->pend_by_size[s], __ATOMIC_RELAXED))
			continue;
		unsigned i = pend_filter_slot(addr & ~(leaf_sizes[s] - 1),
					      leaf_sizes[s]);
		if (__atomic_load_n(&filter[i], __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

bool ptw_pending_may_hit(ptw_engine *e, uint64_t pa)
{
	return ptw_has_pending(e) && pend_filter_may_hit(e, e->pend_filter, pa);
}

bool ptw_pending_may_matter(ptw_engine *e, uint64_t va, uint64_t pa,
			    bool is_store)
{
	/* pend_va_filter: no record for va's page (in any address space),
	 * so a load cannot be stale; pend_unreused_filter: every record
	 * whose old page may contain pa is marked reused already */
	return ptw_pending_may_hit(e, pa) &&
	       (pend_filter_may_hit(e, e->pend_va_filter, va) ||
		(is_store &&
		 pend_filter_may_hit(e, e->pend_unreused_filter, pa)));
}

unsigned ptw_access_interest(ptw_engine *e, uint64_t va, uint64_t pa,
			     unsigned size, bool is_store)
{
	unsigned want = 0;
	uint64_t lo = __atomic_load_n(&e->data.track_lo, __ATOMIC_RELAXED);
	uint64_t hi = __atomic_load_n(&e->data.track_hi, __ATOMIC_RELAXED);
	if (va < hi && va + size > lo)
		want |= PTW_INTEREST_DATA;
	if (ptw_pending_may_matter(e, va, pa, is_store))
		want |= PTW_ACC_PENDING;
	if (ptw_is_table_page(e, pa))
		want |= PTW_ACC_TABLE;
	return want;
}

/* ------------------------------------------------------------------ */
/* table registry */

static ptw_table *table_lookup(ptw_engine *e, uint64_t pa)
{
	return g_hash_table_lookup(e->tables, &pa);
}

/* The tracked table holding the entry at pa, and its index. */
ptw_table *ptw_table_of(ptw_engine *e, uint64_t pa, unsigned *idx)
{
	uint64_t page = pa & ~0xfffULL;
	for (ptw_table *t = g_hash_table_lookup(e->table_pages, &page); t;
	     t = t->next_in_page)
		if (pa >= t->pa && pa < t->pa + t->nent * 8ULL) {
			*idx = (unsigned)((pa - t->pa) / 8);
			return t;
		}
	return NULL;
}

/* Walk cpu's current tables (the shadows) for va. */
bool ptw_translate(ptw_engine *e, unsigned cpu, uint64_t va, uint64_t *pa,
		   uint64_t *pte_pa, int *level)
{
	ptw_cpu *cs = &e->cpu[cpu];
	if (!cs->mmu_on)
		return false;
	ptw_table *t = cs->root[e->ops->root_index(va)];
	for (int depth = 0; t && depth < 6; depth++) {
		unsigned sh = entry_shift(e, t->level);
		uint64_t off = va - t->va_base;
		/* index bits only: a table below the root may be reached
		 * at another VA than its first view's (an alias) */
		if (e->ops->shared_upper || !t->is_root)
			off &= (1ULL << (sh + 9)) - 1;
		uint64_t i = off >> sh;
		if (i >= t->nent)
			return false;
		ptw_desc d = decode(e, t->shadow[i], t->level);
		if (pte_pa)
			*pte_pa = t->pa + i * 8;
		if (level)
			*level = t->level;
		if (d.type == PTW_DESC_INVALID)
			return false;
		if (d.type != PTW_DESC_TABLE) {
			*pa = d.oa + (va & (d.size - 1));
			return true;
		}
		if (t->level == last_level(e))
			return false;
		t = table_lookup(e, d.oa);
	}
	return false;
}

/* CPUs whose TLB may hold a translation of va through a table of the
 * address space 'space' (a table's view). */
static uint64_t may_hold_in(ptw_engine *e, uint64_t space, uint64_t va)
{
	uint64_t m = 0;
	if (space == PTW_KSPACE || e->ops->upper_half(va)) {
		for (unsigned i = 0; i < e->cfg.ncpus; i++)
			if (e->cpu[i].mmu_on)
				m |= 1ULL << i;
		return m;
	}
	ptw_table *root = table_lookup(e, space);
	if (root)
		m = root->cached;
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		if (root &&
		    (e->cpu[i].root[0] == root || e->cpu[i].root[1] == root))
			m |= 1ULL << i;
	return m;
}

/* CPUs whose TLB may hold a translation through table t (first view). */
uint64_t ptw_may_hold(ptw_engine *e, const ptw_table *t, uint64_t va)
{
	return may_hold_in(e, t->space, va);
}

static void table_unref(ptw_engine *e, uint64_t pa, int level, uint64_t va_base,
			uint64_t space);
static void table_children(ptw_engine *e, ptw_table *t, const ptw_view *v,
			   bool link);
static bool root_is_empty(ptw_engine *e, ptw_table *t);

static void table_free(ptw_table *t)
{
	g_free(t->shadow);
	g_free(t->ver);
	g_free(t->iver);
	g_free(t->last_id);
	g_free(t->prev_id);
	g_free(t->pair_since);
	g_free(t->made);
	g_free(t->uorder);
	g_free(t->cont_writer);
	g_free(t->alias);
	g_free(t);
}

static void pend_free(ptw_engine *e, ptw_pending *p);

/* A root no CPU holds is dropped: its records go. No CPU can use its
 * translations until one loads it again, and then only what its TLB still
 * holds; a root is dropped only when every CPU that used it invalidated
 * everything since (cold), or when it is empty (the process exited: Linux
 * flushes a PCID or ASID before giving it to another mm). Keeping them
 * would let a later process whose root reuses the page inherit them. */
static void pend_space_gone(ptw_engine *e, uint64_t space)
{
	for (ptw_pending *p = e->pend_head, *next; p; p = next) {
		next = p->next;
		if (p->space == space) {
			e->stats[ST_PENDING_SPACE_GONE]++;
			pend_free(e, p);
		}
	}
}

static void table_drop(ptw_engine *e, ptw_table *t)
{
	/* an emptied root is an address space that ended (process exit): its
	 * page may become another process's root, which must not inherit
	 * tracked data or a program name */
	if (t->is_root && root_is_empty(e, t))
		det_space_gone(e, t->pa);
	if (t->is_root && !t->cpu_refs && e->npending)
		pend_space_gone(e, t->pa);
	/* unlink from page list */
	uint64_t page = t->pa & ~0xfffULL;
	ptw_table *head = g_hash_table_lookup(e->table_pages, &page);
	if (head == t) {
		if (t->next_in_page)
			g_hash_table_insert(e->table_pages,
					    g_memdup2(&page, sizeof(page)),
					    t->next_in_page);
		else {
			g_hash_table_remove(e->table_pages, &page);
			bitmap_set(e, page, false);
			watch_ref(e, &e->watch_all, page, 4096, -1);
		}
	} else {
		for (ptw_table *p = head; p; p = p->next_in_page)
			if (p->next_in_page == t) {
				p->next_in_page = t->next_in_page;
				break;
			}
	}
	det_table_dropped(e, t);
	g_hash_table_remove(e->tables, &t->pa);
	if (t->is_root)
		g_ptr_array_remove_fast(e->roots, t);
	e->stats[ST_TABLES_DROPPED]++;
	/* children lose one reference per view each (a table is dropped
	 * when its last reference goes, so only its first view is left) */
	for (unsigned k = 0; k < table_nviews(t); k++) {
		ptw_view v = table_view(t, k);
		table_children(e, t, &v, false);
	}
	table_free(t);
}

/* A parent entry reaching table pa as (space, va_base) went away. */
static void table_unref(ptw_engine *e, uint64_t pa, int level, uint64_t va_base,
			uint64_t space)
{
	ptw_table *t = table_lookup(e, pa);
	if (!t || t->is_root || t->level != level || t->refs == 0)
		return;
	for (unsigned k = 0; k < t->nalias; k++) {
		ptw_view *a = &t->alias[k];
		if (a->space != space || a->va_base != va_base)
			continue;
		t->refs--;
		if (--a->refs == 0) {
			ptw_view gone = *a;
			t->alias[k] = t->alias[--t->nalias];
			table_children(e, t, &gone, false);
		}
		return;
	}
	if (t->space != space || t->va_base != va_base)
		return; /* a path never counted (it was not followed) */
	ptw_view first = table_view(t, 0);
	if (--t->refs == 0) {
		table_drop(e, t);
	} else if (first.refs == 1) {
		/* the first view's last path went: an alias takes its place
		 * (its count becomes the first view's), and the children
		 * lose the old view's paths */
		t->space = t->alias[0].space;
		t->va_base = t->alias[0].va_base;
		t->alias[0] = t->alias[--t->nalias];
		table_children(e, t, &first, false);
	}
}

static ptw_table *table_register(ptw_engine *e, uint64_t pa, int level,
				 unsigned nent, uint64_t va_base,
				 uint64_t space, bool is_root);

/* t's children gain (link: follow t's table descriptors) or lose the path
 * through t's view v. */
static void table_children(ptw_engine *e, ptw_table *t, const ptw_view *v,
			   bool link)
{
	if (t->level == last_level(e))
		return;
	for (unsigned i = 0; i < t->nent; i++) {
		ptw_desc d = decode(e, t->shadow[i], t->level);
		if (d.type != PTW_DESC_TABLE)
			continue;
		uint64_t va = view_entry_va(e, t, v, i);
		uint64_t space = view_entry_space(e, v, va);
		if (link)
			table_register(e, d.oa, next_level(e, t->level), 512,
				       va, space, false);
		else
			table_unref(e, d.oa, next_level(e, t->level), va,
				    space);
	}
}

/* Another parent path reaches t as (space, va_base). */
static ptw_table *table_add_path(ptw_engine *e, ptw_table *t, uint64_t space,
				 uint64_t va_base)
{
	if (t->space == space && t->va_base == va_base) {
		t->refs++;
		return t;
	}
	for (unsigned k = 0; k < t->nalias; k++)
		if (t->alias[k].space == space &&
		    t->alias[k].va_base == va_base) {
			t->alias[k].refs++;
			t->refs++;
			return t;
		}
	if (t->nalias >= PTW_MAX_ALIASES) {
		ptw_warn(e, "table-alias",
			 "table at PA 0x%" PRIx64 " (level %d) is reached "
			 "through more than %d parent paths; VA 0x%" PRIx64
			 " is not followed: changes to its entries are not "
			 "checked for that VA",
			 t->pa, t->level, PTW_MAX_ALIASES + 1, va_base);
		return NULL;
	}
	e->stats[ST_TABLE_ALIASES]++;
	t->alias = g_renew(ptw_view, t->alias, t->nalias + 1);
	ptw_view v = {space, va_base, 1};
	t->alias[t->nalias++] = v;
	t->refs++;
	table_children(e, t, &v, true);
	return t;
}

/* Register (or reference) a table and, when new, read it from guest memory
 * and follow its table descriptors. Returns NULL when it cannot be tracked
 * (not in RAM, or already known at another level: a loop or an alias). */
static ptw_table *table_register(ptw_engine *e, uint64_t pa, int level,
				 unsigned nent, uint64_t va_base,
				 uint64_t space, bool is_root)
{
	ptw_table *t = table_lookup(e, pa);
	if (t) {
		if (t->level != level || t->is_root != is_root) {
			ptw_warn(e, "table-alias",
				 "table at PA 0x%" PRIx64
				 " reached as level %d (VA 0x%" PRIx64
				 ") but tracked as level %d (VA 0x%" PRIx64
				 "): a loop or an alias in the page tables; "
				 "not followed",
				 pa, level, va_base, t->level, t->va_base);
			return NULL;
		}
		return is_root ? t : table_add_path(e, t, space, va_base);
	}
	uint64_t *shadow = g_new(uint64_t, nent);
	if (!ptw_read_phys(e, pa, shadow, nent * 8)) {
		ptw_warn(e, "table-not-ram",
			 "page table at PA 0x%" PRIx64
			 " (level %d, VA 0x%" PRIx64
			 ") is not in guest RAM; not tracked",
			 pa, level, va_base);
		g_free(shadow);
		return NULL;
	}
	t = g_new0(ptw_table, 1);
	t->pa = pa;
	t->level = level;
	t->nent = nent;
	t->va_base = va_base;
	t->space = is_root ? pa : space;
	t->is_root = is_root;
	t->refs = is_root ? 0 : 1;
	t->shadow = shadow;
	t->ver = g_new0(uint32_t, nent);
	t->iver = g_new0(uint32_t, nent);
	t->last_id = g_new0(uint64_t, nent);
	t->prev_id = g_new0(uint64_t, nent);
	t->pair_since = g_new0(uint32_t, nent);
	for (unsigned i = 0; i < nent; i++)
		t->last_id[i] = entry_identity(e, shadow[i], level);
	t->gen = ++e->table_gen;
	if (level == last_level(e)) {
		t->made = g_new0(uint32_t, nent);
		t->uorder = g_new0(uint8_t, nent);
		if (e->ops->cont_bit)
			t->cont_writer = g_new0(uint8_t, (nent + 15) / 16);
	}
	g_hash_table_insert(e->tables, &t->pa, t);
	uint64_t page = pa & ~0xfffULL;
	ptw_table *head = g_hash_table_lookup(e->table_pages, &page);
	t->next_in_page = head;
	if (!head)
		watch_ref(e, &e->watch_all, page, 4096, 1);
	g_hash_table_insert(e->table_pages, g_memdup2(&page, sizeof(page)), t);
	bitmap_set(e, page, true);
	e->stats[ST_TABLES_REGISTERED]++;
	if (is_root) {
		e->stats[ST_ROOTS]++;
		g_ptr_array_add(e->roots, t);
	}
	ptw_view first = table_view(t, 0);
	table_children(e, t, &first, true);
	return t;
}

/* A root with no valid user entries that no CPU holds can go: its page may
 * be freed and reused as data (process exit). */
static bool root_is_empty(ptw_engine *e, ptw_table *t)
{
	unsigned n = t->nent;
	if (e->ops->shared_upper)
		n = t->nent / 2; /* kernel half is shared and always present */
	for (unsigned i = 0; i < n; i++)
		if (decode(e, t->shadow[i], t->level).type != PTW_DESC_INVALID)
			return false;
	return true;
}

/* A root no CPU holds and no TLB can cache (every CPU that used it has
 * invalidated everything since) is cold: changes to its tables need no
 * break-before-make and no invalidation, and its memory may be rewritten in
 * ways a plugin cannot see (DC ZVA). Drop it; it is read afresh if loaded. */
static void root_maybe_drop(ptw_engine *e, ptw_table *t)
{
	if (t->cpu_refs)
		return;
	if (!t->cached) {
		e->stats[ST_ROOTS_COLD]++;
		table_drop(e, t);
	} else if (root_is_empty(e, t)) {
		table_drop(e, t);
	}
}

static void root_put(ptw_engine *e, ptw_table *t)
{
	if (!t)
		return;
	if (t->cpu_refs)
		t->cpu_refs--;
	root_maybe_drop(e, t);
}

/* CPUs in 'targets' invalidated every non-global (or every) entry. */
static void roots_uncache(ptw_engine *e, uint64_t targets)
{
	for (guint i = 0; i < e->roots->len;) {
		ptw_table *t = g_ptr_array_index(e->roots, i);
		uint64_t keep = 0; /* a loaded root is refilled at once */
		for (unsigned c = 0; c < e->cfg.ncpus; c++)
			if (e->cpu[c].root[0] == t || e->cpu[c].root[1] == t)
				keep |= 1ULL << c;
		t->cached &= ~(targets & ~keep);
		guint before = e->roots->len;
		root_maybe_drop(e, t);
		if (e->roots->len == before)
			i++;
		else
			i = 0; /* order changed: rescan (rare) */
	}
}

static ptw_table *root_get(ptw_engine *e, unsigned cpu, uint64_t pa, int level,
			   unsigned nent, uint64_t va_base, uint16_t asid)
{
	ptw_table *t = table_lookup(e, pa);
	if (t && t->is_root &&
	    (t->level != level || t->nent != nent || t->va_base != va_base)) {
		if (t->cpu_refs == 0) {
			table_drop(e, t); /* geometry changed (TCR) */
			t = NULL;
		} else {
			ptw_warn(e, "root-geometry",
				 "root 0x%" PRIx64
				 " is used with two geometries at once "
				 "(level %d/%u entries and level %d/%u)",
				 pa, t->level, t->nent, level, nent);
			return NULL;
		}
	}
	t = table_register(e, pa, level, nent, va_base, pa, true);
	if (t) {
		t->cpu_refs++;
		t->cached |= 1ULL << cpu;
		t->asid = asid;
	}
	return t;
}

static void drop_all_roots(ptw_engine *e)
{
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		e->cpu[i].root[0] = e->cpu[i].root[1] = NULL;
	while (e->roots->len)
		table_drop(e, g_ptr_array_index(e->roots, 0));
}

/* ------------------------------------------------------------------ */
/* pending-change records (stale TLB) */

static guint64 pend_key(uint64_t space, uint64_t va)
{
	return space * 0x9e3779b97f4a7c15ULL ^ va;
}

static void chain_remove(GHashTable *h, guint64 key, ptw_pending *p, bool by_pa)
{
	ptw_pending *head = g_hash_table_lookup(h, &key);
	ptw_pending **link = &head;
	while (*link && *link != p)
		link = by_pa ? &(*link)->next_pa : &(*link)->next_key;
	if (*link)
		*link = by_pa ? p->next_pa : p->next_key;
	if (head)
		g_hash_table_insert(h, g_memdup2(&key, sizeof(key)), head);
	else
		g_hash_table_remove(h, &key);
}

static void chain_remove_va(ptw_engine *e, ptw_pending *p)
{
	guint64 key = p->va;
	ptw_pending *head = g_hash_table_lookup(e->pend_by_va, &key);
	ptw_pending **link = &head;
	while (*link && *link != p)
		link = &(*link)->next_va;
	if (*link)
		*link = p->next_va;
	if (head)
		g_hash_table_insert(e->pend_by_va, g_memdup2(&key, sizeof(key)),
				    head);
	else
		g_hash_table_remove(e->pend_by_va, &key);
}

static void pend_free(ptw_engine *e, ptw_pending *p)
{
	chain_remove(e->pend_by_key, pend_key(p->space, p->va), p, false);
	chain_remove(e->pend_by_pa, p->old_pa, p, true);
	pend_filter_update(e, p->old_pa, p->va, p->size, -1);
	if (!p->reused)
		unreused_update(e, p, -1);
	chain_remove_va(e, p);
	if (p->prev)
		p->prev->next = p->next;
	else
		e->pend_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		e->pend_tail = p->prev;
	__atomic_store_n(&e->npending, e->npending - 1, __ATOMIC_RELAXED);
	g_free(p);
}

#define PEND_PER_VA 64

static void pend_add(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		     const ptw_view *view, unsigned idx, uint64_t va,
		     const ptw_desc *dold, uint64_t old, uint64_t new)
{
	/* only CPUs that may cache the old translation can use it stale: the
	 * record is retired when each of them has invalidated (on x86, every
	 * CPU of a shootdown flushes itself: INVLPG, a CR3 write without
	 * NOFLUSH, INVPCID, a CR4.PGE toggle). A CPU that never loaded the
	 * root cannot hold it: with every CPU in 'need', a process that ran on
	 * one CPU left records no other CPU ever retired, until evicted. */
	uint64_t need = may_hold_in(e, view->space, va);
	if (!need)
		return;
	/* The same translation left stale again by the same changer (an
	 * entry rewritten over and over without invalidation): one record,
	 * its CPUs the union (a CPU that invalidated may have loaded it
	 * again since). And at most PEND_PER_VA records per (space, VA), the
	 * oldest evicted: a flood of changes to one entry costs neither
	 * memory nor time per access. */
	uint64_t sp0 = view_entry_space(e, view, va);
	uint64_t base = va & ~(dold->size - 1);
	guint64 k0 = pend_key(sp0, base);
	unsigned chain = 0;
	ptw_pending *oldest = NULL;
	for (ptw_pending *q = g_hash_table_lookup(e->pend_by_key, &k0); q;
	     q = q->next_key) {
		if (q->space != sp0 || q->va != base || q->size != dold->size)
			continue;
		if (q->old_desc == old && q->changer == c->cpu &&
		    q->pte_pa == t->pa + idx * 8ULL) {
			/* CPUs added again (they had invalidated): theirs is
			 * a new stale window, from this change */
			uint64_t again = need & ~q->need;
			if (again) {
				q->reported &= ~again;
				q->deferred &= ~again;
				q->when = *c;
			}
			q->need |= need;
			q->new_desc = new;
			e->stats[ST_PENDING_MERGED]++;
			return;
		}
		chain++;
		oldest = q;
	}
	if (chain >= PEND_PER_VA && oldest) {
		if (!e->stats[ST_PENDING_VA_EVICTED]++)
			ptw_warn(e, "pending-va-evicted",
				 "more than %u stale-TLB records pending for "
				 "one VA (entry PA 0x%" PRIx64
				 "): the oldest are evicted (counted in "
				 "pending_records_evicted_per_va)",
				 PEND_PER_VA, (uint64_t)(t->pa + idx * 8ULL));
		pend_free(e, oldest);
	}
	if ((unsigned)e->npending >= e->cfg.max_pending) {
		e->stats[ST_PENDING_OVERFLOW]++;
		if (e->stats[ST_PENDING_OVERFLOW] == 1)
			ptw_warn(e, "pending-evicted",
				 "more than %u stale-TLB records pending: the "
				 "oldest are evicted (counted in "
				 "pending_records_evicted); a stale access "
				 "through an evicted record is missed",
				 e->cfg.max_pending);
		pend_free(e, e->pend_head);
	}
	ptw_pending *p = g_new0(ptw_pending, 1);
	p->space = view_entry_space(e, view, va);
	p->va = va & ~(dold->size - 1);
	p->size = dold->size;
	p->old_pa = dold->oa;
	ptw_table *root = table_lookup(e, view->space);
	p->asid = root ? root->asid : 0;
	p->global = e->ops->global(e, c->cpu, old);
	p->changer = c->cpu;
	p->need = need;
	p->when = *c;
	p->pte_pa = t->pa + idx * 8;
	p->level = t->level;
	p->old_desc = old;
	p->new_desc = new;
	guint64 k = pend_key(p->space, p->va);
	p->next_key = g_hash_table_lookup(e->pend_by_key, &k);
	g_hash_table_insert(e->pend_by_key, g_memdup2(&k, sizeof(k)), p);
	guint64 kp = p->old_pa;
	p->next_pa = g_hash_table_lookup(e->pend_by_pa, &kp);
	g_hash_table_insert(e->pend_by_pa, g_memdup2(&kp, sizeof(kp)), p);
	pend_filter_update(e, p->old_pa, p->va, p->size, 1);
	unreused_update(e, p, 1);
	guint64 kv = p->va;
	p->next_va = g_hash_table_lookup(e->pend_by_va, &kv);
	g_hash_table_insert(e->pend_by_va, g_memdup2(&kv, sizeof(kv)), p);
	p->prev = e->pend_tail;
	if (e->pend_tail)
		e->pend_tail->next = p;
	else
		e->pend_head = p;
	e->pend_tail = p;
	__atomic_store_n(&e->npending, e->npending + 1, __ATOMIC_RELAXED);
	if ((uint64_t)e->npending > e->stats[ST_PENDING_PEAK])
		e->stats[ST_PENDING_PEAK] = e->npending;
}

/* The old physical page of a pending record was mapped or written through
 * another address: a stale access to it now reads or corrupts reused data. */
static void pend_mark_reused(ptw_engine *e, uint64_t pa, uint64_t space,
			     uint64_t va)
{
	for (unsigned s = 0; s < G_N_ELEMENTS(leaf_sizes); s++) {
		if (!e->pend_by_size[s])
			continue;
		guint64 k = pa & ~(leaf_sizes[s] - 1);
		for (ptw_pending *p = g_hash_table_lookup(e->pend_by_pa, &k); p;
		     p = p->next_pa) {
			if (p->old_pa != k || p->size != leaf_sizes[s])
				continue;
			if (p->space == space && p->va == (va & ~(p->size - 1)))
				continue;
			if (!p->reused)
				unreused_update(e, p, -1);
			p->reused = true;
		}
	}
}

static bool pc_is_kernel(ptw_engine *e, uint64_t pc)
{
	return e->ops->upper_half(pc);
}

/* A stale access through record p, an error: why, the record's other
 * side (other, other_role) and how the detail ends (how). */
static void stale_report(ptw_engine *e, const ptw_ctx *c, const ptw_pending *p,
			 uint64_t va, uint64_t pa, bool is_store,
			 const char *why, const ptw_ctx *other,
			 const char *other_role, const char *how)
{
	char detail[512];
	snprintf(detail, sizeof(detail),
		 "%s through a translation the page tables no longer hold: "
		 "old PA 0x%" PRIx64 " used (access PA 0x%" PRIx64
		 "); entry changed by vcpu %u at pc 0x%" PRIx64
		 " icount %" PRIu64 " %s",
		 is_store ? "store" : "load", p->old_pa, pa, p->changer,
		 p->when.pc, p->when.icount, how);
	report2(e, PTW_KIND_STALE_TLB_ACCESS, PTW_SEV_ERROR, why, c,
		is_store ? "stale store" : "stale load", other, other_role,
		p->pte_pa, va, p->level, p->old_desc, p->new_desc, detail);
}

static void stale_check(ptw_engine *e, const ptw_ctx *c, uint64_t va,
			uint64_t pa, bool is_store)
{
	uint64_t space = access_space(e, c->cpu, va);
	if (!space)
		return;
	uint64_t bit = 1ULL << c->cpu;
	for (unsigned s = 0; s < G_N_ELEMENTS(leaf_sizes); s++) {
		if (!e->pend_by_size[s]) /* no record of this size */
			continue;
		uint64_t sz = leaf_sizes[s];
		uint64_t base = va & ~(sz - 1);
		guint64 k = pend_key(space, base);
		for (ptw_pending *p = g_hash_table_lookup(e->pend_by_key, &k);
		     p; p = p->next_key) {
			if (p->space != space || p->va != base ||
			    p->size != sz || !(p->need & bit))
				continue;
			if ((pa & ~(sz - 1)) != p->old_pa)
				continue;
			/* the current tables may map this page to the same PA
			 * (e.g. a block split into a table of the same pages)
			 */
			uint64_t cur;
			if (ptw_translate(e, c->cpu, va, &cur, NULL, NULL) &&
			    (cur & ~0xfffULL) == (pa & ~0xfffULL))
				continue;
			e->stats[ST_STALE_ACCESSES]++;
			if (p->reported & bit)
				continue;
			/* the changer's own CPU, in the changer's own context:
			 * a user-mode access after a kernel-mode change may
			 * follow a switch to another task of the same mm while
			 * the changer's batched flush (TTU_BATCH_FLUSH) is
			 * pending, which is a deferred-flush window */
			bool own = c->cpu == p->changer &&
				   pc_is_kernel(e, c->pc) ==
					   pc_is_kernel(e, p->when.pc);
			/* an operation that depended on the entry's removal
			 * read it meanwhile and has returned to user mode */
			bool overtaken =
				p->ot_who && !own && !p->reused &&
				!p->changer_local_inval &&
				det_who_returns(e, p->ot_who) != p->ot_lower;
			if (!(own || p->reused || p->changer_local_inval ||
			      overtaken)) {
				if (!(p->deferred & bit))
					e->stats[ST_STALE_DEFERRED]++;
				p->deferred |= bit;
				continue;
			}
			p->reported |= bit;
			char how[320];
			if (overtaken) {
				snprintf(how, sizeof(how),
					 "with its invalidation deferred; vcpu "
					 "%u read the entry at pc 0x%" PRIx64
					 " icount %" PRIu64
					 " meanwhile and its task has since "
					 "returned to user mode, with no "
					 "covering invalidation on this vcpu",
					 p->ot_read.cpu, p->ot_read.pc,
					 p->ot_read.icount);
				stale_report(
					e, c, p, va, pa, is_store,
					"an operation that read this entry "
					"while its invalidation was pending "
					"(on Linux: mprotect, munmap, mremap "
					"or madvise) returned to user mode "
					"before that invalidation: the old "
					"translation outlived it (it must "
					"complete the pending batched flush "
					"first: flush_tlb_batched_pending())",
					&p->ot_read,
					"entry read during the pending flush "
					"by",
					how);
				continue;
			}
			snprintf(how, sizeof(how),
				 "with no covering invalidation on this vcpu "
				 "since; %s",
				 own ? "the accessing vcpu made the change"
				 : p->reused
					 ? "the old page has been reused since"
					 : "the changer invalidated only "
					   "locally (non-broadcast)");
			stale_report(
				e, c, p, va, pa, is_store,
				own ? "the changing vcpu itself used the "
				      "old translation"
				: p->reused ? "the old page was reused while a "
					      "stale translation could reach it"
					    : "the changer's invalidation did "
					      "not reach this vcpu",
				&p->when, "entry changed by", how);
		}
	}
}

/* Invalidation on the CPUs in 'targets' of records matching a scope. */

bool ptw_scope_covers(const inval_scope *s, uint64_t va, uint64_t size,
		      bool global, uint16_t asid)
{
	if (s->all)
		return true;
	if (s->nonglobal && !s->by_va)
		return !global && (!s->by_asid || asid == s->asid);
	if (s->by_va) {
		uint64_t lo = va, hi = va + size - 1;
		if (hi < s->va_lo || lo > s->va_hi)
			return false;
		return global || !s->by_asid || asid == s->asid;
	}
	return false;
}

static bool scope_matches(const inval_scope *s, const ptw_pending *p)
{
	return ptw_scope_covers(s, p->va, p->size, p->global, p->asid);
}

static void invalidate_one(ptw_engine *e, const ptw_ctx *c,
			   const inval_scope *s, uint64_t targets,
			   ptw_pending *p)
{
	if (!scope_matches(s, p))
		return;
	if (s->scoped && c->cpu == p->changer &&
	    (p->need & ~targets & e->all_cpus))
		p->changer_local_inval = true;
	p->need &= ~targets;
	if (!p->need)
		pend_free(e, p);
}

static void invalidate(ptw_engine *e, const ptw_ctx *c, const inval_scope *s,
		       uint64_t targets)
{
	ptw_pending *next;
	if (s->all || (s->nonglobal && !s->by_asid && !s->by_va))
		roots_uncache(e, targets);
	det_invalidate(e, c, s, targets);
	uint64_t pages = s->by_va ? ((s->va_hi - s->va_lo) >> 12) + 1 : 0;
	if (s->by_va && !s->all && pages <= 64) {
		/* by VA: only records whose base VA lies at one of the
		 * aligned bases covering the range */
		for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
			uint64_t sz = leaf_sizes[z];
			uint64_t lo = s->va_lo & ~(sz - 1), hi = s->va_hi;
			for (uint64_t b = lo; b <= hi && b >= lo; b += sz) {
				guint64 k = b;
				ptw_pending *p =
					g_hash_table_lookup(e->pend_by_va, &k);
				for (; p; p = next) {
					next = p->next_va;
					if (p->size == sz)
						invalidate_one(e, c, s, targets,
							       p);
				}
				if (sz > hi - lo)
					break;
			}
		}
		return;
	}
	for (ptw_pending *p = e->pend_head; p; p = next) {
		next = p->next;
		invalidate_one(e, c, s, targets, p);
	}
}

/* ------------------------------------------------------------------ */
/* entry transitions */

static void report_entry(ptw_engine *e, ptw_kind k, const ptw_ctx *c,
			 ptw_table *t, unsigned idx, uint64_t old, uint64_t new,
			 const char *detail)
{
	report2(e, k, PTW_SEV_ERROR,
		"a live entry changed in a way the architecture requires "
		"break-before-make for",
		c, "writer", NULL, NULL, t->pa + idx * 8, entry_va(e, t, idx),
		t->level, old, new, detail);
}

static void entry_update(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			 unsigned idx, uint64_t new)
{
	uint64_t old = t->shadow[idx];
	if (old == new)
		return;
	t->shadow[idx] = new;
	det_dirty_store(e, c, t, idx, old, new);
	uint64_t hw = e->ops->hw_managed(old, new);
	if (((old ^ new) & ~hw) == 0) {
		e->stats[ST_HW_AD_ONLY]++;
		return;
	}
	e->stats[ST_ENTRY_CHANGES]++;
	if (t->ver)
		t->ver[idx]++;
	if (new) {
		uint64_t id = entry_identity(e, new, t->level);
		if (id != t->last_id[idx]) {
			/* a third identity: the run of two begins with
			 * last_id's */
			if (id != t->prev_id[idx])
				t->pair_since[idx] = t->iver[idx];
			t->prev_id[idx] = t->last_id[idx];
			t->iver[idx]++;
			t->last_id[idx] = id;
		}
	}
	det_entry_changed(e, c, t, idx, old, new);
	if (table_lookup(e, t->pa) != t)
		return; /* cannot happen: detectors never drop tables */
	int level = t->level;
	ptw_desc dold = decode(e, old, level), dnew = decode(e, new, level);
	bool same_table = dold.type == PTW_DESC_TABLE &&
			  dnew.type == PTW_DESC_TABLE && dold.oa == dnew.oa;

	if (e->ops->bbm_reason) {
		const char *why = e->ops->bbm_reason(e, old, new, level);
		if (why) {
			char d[256];
			snprintf(d, sizeof(d),
				 "live valid descriptor replaced by another "
				 "valid one without break-before-make: %s "
				 "(old %s 0x%" PRIx64 ", new %s 0x%" PRIx64 ")",
				 why,
				 dold.type == PTW_DESC_TABLE ? "table" : "oa",
				 dold.oa,
				 dnew.type == PTW_DESC_TABLE ? "table" : "oa",
				 dnew.oa);
			report_entry(e, PTW_KIND_BBM_VALID_TO_VALID, c, t, idx,
				     old, new, d);
		}
	}

	/* leaf mapping changed: remember the old translation, through
	 * every view of the table */
	bool leaf_changed =
		is_leaf(&dold) && !(is_leaf(&dnew) && dnew.oa == dold.oa &&
				    dnew.size == dold.size);
	if (leaf_changed)
		e->stats[ST_LEAF_CHANGES]++;
	for (unsigned k = 0; k < table_nviews(t); k++) {
		ptw_view v = table_view(t, k);
		uint64_t va = view_entry_va(e, t, &v, idx);
		if (leaf_changed)
			pend_add(e, c, t, &v, idx, va, &dold, old, new);
		if (is_leaf(&dnew) && ptw_has_pending(e))
			pend_mark_reused(e, dnew.oa,
					 view_entry_space(e, &v, va), va);
	}

	/* follow table links last: dropping a child may free memory only
	 * it referenced, and a new child is read from guest memory. Copy
	 * the views first: unlinking a child never changes t's views, but
	 * keep the loop independent of t's alias array anyway. */
	if (same_table ||
	    (dold.type != PTW_DESC_TABLE && dnew.type != PTW_DESC_TABLE))
		return;
	unsigned nv = table_nviews(t);
	ptw_view one, *views = nv > 1 ? g_new(ptw_view, nv) : &one;
	for (unsigned k = 0; k < nv; k++)
		views[k] = table_view(t, k);
	for (unsigned k = 0; k < nv; k++) {
		uint64_t va = view_entry_va(e, t, &views[k], idx);
		uint64_t space = view_entry_space(e, &views[k], va);
		if (dold.type == PTW_DESC_TABLE)
			table_unref(e, dold.oa, next_level(e, level), va,
				    space);
		if (dnew.type == PTW_DESC_TABLE && level != last_level(e))
			table_register(e, dnew.oa, next_level(e, level), 512,
				       va, space, false);
	}
	if (views != &one)
		g_free(views);
}

/* The tracked table of this page with the lowest PA above 'above' (the
 * page list is not sorted). */
static ptw_table *page_next_table(ptw_engine *e, uint64_t page, uint64_t above,
				  bool any)
{
	ptw_table *best = NULL;
	for (ptw_table *q = g_hash_table_lookup(e->table_pages, &page); q;
	     q = q->next_in_page)
		if ((any || q->pa > above) && (!best || q->pa < best->pa))
			best = q;
	return best;
}

static void table_store(ptw_engine *e, const ptw_ctx *c, uint64_t pa,
			unsigned size)
{
	uint64_t page = pa & ~0xfffULL;
	uint64_t end = pa + (size ? size : 1);
	e->stats[ST_PT_STORES]++;
	/* visit the tables of the page in PA order; entry_update may add or
	 * drop tables of this page, so look the next one up afresh */
	for (ptw_table *t = page_next_table(e, page, 0, true); t;) {
		uint64_t tpa = t->pa;
		uint64_t tend = t->pa + t->nent * 8ULL;
		if (pa < tend && end > t->pa) {
			uint64_t lo = pa > t->pa ? pa : t->pa;
			uint64_t hi = end < tend ? end : tend;
			unsigned i0 = (unsigned)((lo - t->pa) / 8);
			unsigned i1 = (unsigned)((hi - 1 - t->pa) / 8);
			for (unsigned i = i0; i <= i1; i++) {
				uint64_t v;
				if (!ptw_read_phys(e, tpa + i * 8, &v, 8))
					break;
				entry_update(e, c, t, i, v);
				if (table_lookup(e, tpa) != t)
					break; /* t was dropped */
			}
			if (table_lookup(e, tpa) == t && t->is_root &&
			    t->cpu_refs == 0 && root_is_empty(e, t))
				table_drop(e, t);
		}
		t = page_next_table(e, page, tpa, false);
	}
}

/* ------------------------------------------------------------------ */
/* roots */

static void cpu_release_roots(ptw_engine *e, ptw_cpu *cs)
{
	for (int i = 0; i < 2; i++) {
		ptw_table *r = cs->root[i];
		cs->root[i] = NULL;
		root_put(e, r);
	}
}

/* cpu's roots, again from its translation registers (the architecture
 * says which tables they name) */
static void update_roots(ptw_engine *e, unsigned cpu)
{
	ptw_cpu *cs = &e->cpu[cpu];
	ptw_root_spec sp;
	e->ops->roots(e, cpu, &sp);
	if (!sp.on) {
		if (cs->mmu_on)
			ptw_warn(e, "mmu-off",
				 "vcpu %u %s: its translations are not "
				 "checked until it turns it back on",
				 cpu, sp.off_why);
		cs->mmu_on = false;
		cpu_release_roots(e, cs);
		return;
	}
	cs->mmu_on = true;
	if (sp.lpa2 != e->lpa2) {
		/* arm64 TCR_EL1.DS changes what descriptor bits 9:8 mean:
		 * every tracked table is re-read under the new format */
		if (e->roots->len)
			ptw_report_line(e,
					"note: vcpu %u switched TCR_EL1.DS to "
					"%d (LPA2): page tables re-read",
					cpu, sp.lpa2);
		drop_all_roots(e);
		e->lpa2 = sp.lpa2;
		for (unsigned o = 0; o < e->cfg.ncpus; o++) {
			ptw_root_spec so;
			if (o == cpu || !e->cpu[o].mmu_on)
				continue;
			e->ops->roots(e, o, &so);
			if (so.lpa2 == sp.lpa2)
				update_roots(e, o);
		}
	}
	for (int i = 0; i < 2; i++) {
		/* release first: the same root may come back with another
		 * geometry (Linux switches T0SZ for its ID map) */
		ptw_table *old = cs->root[i];
		cs->root[i] = NULL;
		root_put(e, old);
		if (sp.root[i].warn[0] &&
		    !(e->granule_warned & sp.root[i].warn_key)) {
			e->granule_warned |= sp.root[i].warn_key;
			ptw_warn(e, "granule", "%s", sp.root[i].warn);
		}
		if (sp.root[i].valid)
			cs->root[i] = root_get(
				e, cpu, sp.root[i].pa, sp.root[i].start_level,
				sp.root[i].nent, sp.root[i].va_base,
				sp.root[i].asid);
	}
}

/* ------------------------------------------------------------------ */
/* events */

/* A system register write, applied as the architecture says what it does
 * (ops->sysreg): the register itself is the architecture's business */
void ptw_apply_sysreg(ptw_engine *e, const ptw_ctx *c, ptw_reg reg,
		      uint64_t value)
{
	ptw_sysreg_effect fx = {.stat = -1};
	e->ops->sysreg(e, c->cpu, reg, value, &fx);
	if (fx.stat >= 0 && fx.stat < ST_COUNT)
		e->stats[fx.stat]++;
	if (fx.roots)
		update_roots(e, c->cpu);
	if (fx.flush)
		invalidate(e, c, &fx.flush_scope, 1ULL << c->cpu);
	if (fx.local_flush)
		det_x86_flush(e, c);
	if (fx.task)
		det_task_switch(e, c->cpu, fx.task);
	if (fx.note[0])
		ptw_report_line(e, "%s", fx.note);
}

/* cpu c loaded entry idx of t: if the entry has a pending stale record
 * (another CPU may still use its old translation) and the reader is an
 * operation obliged to complete such a flush first (on Linux: mprotect,
 * munmap, mremap, madvise; a guest without symbols: any reader), remember
 * the reading task: once it has returned to user mode, a use of the old
 * translation outlived an operation that depended on its removal. */
static void pend_overtake(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			  unsigned idx)
{
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t va = ptw_entry_va(e, t, idx);
	bool is_linux = e->syms && e->syms->len, asked = false;
	for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
		guint64 k = va & ~(leaf_sizes[z] - 1);
		for (ptw_pending *p = g_hash_table_lookup(e->pend_by_va, &k); p;
		     p = p->next_va) {
			if (p->pte_pa != pte_pa || p->changer == c->cpu ||
			    p->ot_who)
				continue;
			char sym[96];
			if (!asked && is_linux) {
				ptw_symbolize(e, c->cpu, c->pc, sym,
					      sizeof(sym));
				if (!sym[0] ||
				    !ptw_linux_batched_flush_obliged(sym))
					return;
			}
			asked = true;
			if (is_linux) {
				ptw_symbolize(e, p->changer, p->when.pc, sym,
					      sizeof(sym));
				if (!ptw_linux_batched_flush_changer(sym))
					continue;
			}
			p->ot_who = det_who(e, c->cpu);
			p->ot_lower = det_who_returns(e, p->ot_who);
			p->ot_read = *c;
		}
	}
}

static void table_load(ptw_engine *e, const ptw_ctx *c, uint64_t pa,
		       unsigned size, uint64_t value)
{
	if (size != 8 || (pa & 7))
		return;
	unsigned idx;
	ptw_table *t = ptw_table_of(e, pa, &idx);
	if (!t)
		return;
	e->stats[ST_PT_LOADS]++;
	det_dirty_load(e, c, pa, value);
	det_entry_load(e, c, t, idx, value);
	if (e->npending)
		pend_overtake(e, c, t, idx);
}

void ptw_apply_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		      unsigned size, unsigned flags, uint64_t value)
{
	bool is_store = flags & PTW_ACC_STORE;
	if (flags & PTW_ACC_PENDING) {
		e->stats[ST_PENDING_CHECKS]++;
		stale_check(e, c, va, pa, is_store);
		if (is_store && e->npending) {
			uint64_t sp = access_space(e, c->cpu, va);
			pend_mark_reused(e, pa, sp, va);
		}
	}
	if (flags & PTW_ACC_TABLE) {
		if (is_store)
			table_store(e, c, pa, size);
		else
			table_load(e, c, pa, size, value);
	}
}

/* The MMU updated an entry's access or dirty flags (a patched QEMU): the
 * shadow follows when it held the value the MMU updated; otherwise a store
 * the engine has not seen yet came first, and reading it back will bring
 * the update too. */
void ptw_apply_hw_update(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev)
{
	e->stats[ST_HW_UPDATES]++;
	unsigned idx;
	ptw_table *t = ptw_table_of(e, ev->hw_update.pte_pa, &idx);
	uint64_t old = ev->hw_update.old, new = ev->hw_update.new;
	if (!t || t->shadow[idx] != old || old == new ||
	    ((old ^ new) & ~e->ops->hw_managed(old, new)))
		return;
	t->shadow[idx] = new;
	det_dirty_hw_update(e, c, t, idx, old, new, ev->hw_update.va);
}

void ptw_apply_inval(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev)
{
	const ptw_inval_scope *s = &ev->inval.scope;
	switch (ev->inval.origin) {
	case PTW_INVAL_TLBI:
		e->stats[ST_TLBI]++;
		if (!ev->inval.modelled)
			ptw_warn(e, "tlbi-unknown",
				 "TLBI op1=%u CRm=%u op2=%u at pc 0x%" PRIx64
				 " not modelled: treated as invalidating all",
				 ev->inval.op1, ev->inval.crm, ev->inval.op2,
				 c->pc);
		invalidate(e, c, s,
			   ev->inval.broadcast ? e->all_cpus : 1ULL << c->cpu);
		break;
	case PTW_INVAL_LOCAL_FLUSH:
		/* x86: INVLPG, INVPCID on this CPU only; also ends the CPU's
		 * unmap pass */
		e->stats[ST_INVLPG]++;
		invalidate(e, c, s, 1ULL << c->cpu);
		det_x86_flush(e, c);
		break;
	}
}

void ptw_apply_barrier(ptw_engine *e, const ptw_ctx *c, unsigned crm)
{
	e->stats[ST_DSB]++;
	det_dsb(e, c, crm);
}

void ptw_apply_client(ptw_engine *e, const ptw_ctx *c, uint64_t req,
		      uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	e->stats[ST_CLIENT_REQUESTS]++;
	switch (req) {
	case CLIENT_EXPECT: {
		/* a1 = kind, or kind | severity << 8 (PTW_EXPECT_SEV), |
		 * 1 << 16: only where QEMU reports walks and faults
		 * (PTW_EXPECT_PATCHED) */
		uint64_t k = a1 & 0xff, sv = a1 >> 8 & 0xff;
		bool walks_only = a1 >> 16 & 1;
		if (k > 0 && k < PTW_KIND_COUNT && sv < PTW_SEV_COUNT &&
		    a2 < (1ULL << 32) && !(a1 >> 17) && walks_only &&
		    !e->cfg.sees_walks) {
			ptw_report_line(e,
					"expect: %s x%" PRIu64
					" dropped: this QEMU does not report "
					"its translation faults and its MMU's "
					"access/dirty updates (a QEMU built "
					"with qemu-patches/ does)",
					ptw_kind_name((ptw_kind)k), a2);
		} else if (k > 0 && k < PTW_KIND_COUNT && sv < PTW_SEV_COUNT &&
			   a2 < (1ULL << 32) && !(a1 >> 17)) {
			e->expected[k] += a2;
			if (sv) {
				e->expected_sev[k][sv] += a2;
				e->expected_sev_set[k] |= 1u << sv;
			}
			e->expect_declared = true;
			ptw_report_line(
				e,
				"expect: %s%s%s x%" PRIu64
				" (vcpu %u pc 0x%" PRIx64 ")",
				ptw_kind_name((ptw_kind)k), sv ? "/" : "",
				sv ? ptw_severity_name((ptw_severity)sv) : "",
				a2, c->cpu, c->pc);
		} else
			ptw_warn(e, "client-bad",
				 "EXPECT with bad kind %" PRIu64
				 " or count %" PRIu64 " ignored",
				 a1, a2);
		break;
	}
	case CLIENT_PHASE: {
		char label[17] = {0};
		memcpy(label, &a1, 8);
		memcpy(label + 8, &a2, 8);
		for (int i = 0; i < 16 && label[i]; i++)
			if (label[i] < 0x20 || label[i] > 0x7e)
				label[i] = '?';
		ptw_report_line(e,
				"phase: %s (vcpu %u pc 0x%" PRIx64
				" icount %" PRIu64 ")",
				label, c->cpu, c->pc, c->icount);
		break;
	}
	case CLIENT_PROGRAM: {
		char name[33] = {0};
		memcpy(name, &a1, 8);
		memcpy(name + 8, &a2, 8);
		memcpy(name + 16, &a3, 8);
		memcpy(name + 24, &a4, 8);
		for (int i = 0; i < 32 && name[i]; i++)
			if (name[i] < 0x20 || name[i] > 0x7e)
				name[i] = '?';
		uint64_t space = access_space(e, c->cpu, c->pc);
		if (space)
			ptw_symbols_program(e, space, name);
		break;
	}
	case CLIENT_DONE:
		e->guest_done = true;
		e->guest_status = a1;
		ptw_report_line(e, "guest done: %s (vcpu %u)",
				a1 ? "its own checks FAILED" : "checks passed",
				c->cpu);
		break;
	default:
		if (det_client(e, c, req, a1, a2))
			break;
		ptw_warn(e, "client-unknown",
			 "client request 0x%" PRIx64
			 " from vcpu %u pc 0x%" PRIx64
			 " is not supported by this ptwatch; ignored",
			 req, c->cpu, c->pc);
	}
}

/* ------------------------------------------------------------------ */
/* lifecycle and queries */

static guint u64_hash(gconstpointer p)
{
	uint64_t v = *(const uint64_t *)p;
	return (guint)(v ^ (v >> 32) ^ (v >> 17));
}

static gboolean u64_equal(gconstpointer a, gconstpointer b)
{
	return *(const uint64_t *)a == *(const uint64_t *)b;
}

ptw_engine *ptw_engine_new(const ptw_config *cfg, char **err)
{
	if (cfg->ncpus == 0 || cfg->ncpus > PTW_MAX_CPUS) {
		*err = g_strdup_printf("ptwatch supports 1..%d vCPUs, got %u",
				       PTW_MAX_CPUS, cfg->ncpus);
		return NULL;
	}
	ptw_engine *e = g_aligned_alloc0(1, sizeof(*e), PTW_CACHELINE);
	e->cfg = *cfg;
	/* the one place the core names an architecture: it picks its
	 * interface (arch_arm64.c, arch_x86.c) */
	e->ops = cfg->arch == PTW_ARCH_ARM64 ? &ptw_arch_arm64_ops
					     : &ptw_arch_x86_ops;
	if (!e->cfg.max_pending)
		e->cfg.max_pending = 65536;
	e->all_cpus = cfg->ncpus == 64 ? ~0ULL : (1ULL << cfg->ncpus) - 1;
	/* Two vCPUs that touch page tables at once meet on this lock
	 * for a microsecond; a plain mutex put the loser to sleep and its
	 * wake-up cost more than the wait (futex calls were a fifth of an
	 * arm64 boot's time with the plugin): spin briefly first. */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&e->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	e->tables = g_hash_table_new(u64_hash, u64_equal);
	e->roots = g_ptr_array_new();
	e->table_pages =
		g_hash_table_new_full(u64_hash, u64_equal, g_free, NULL);
	e->pend_by_key =
		g_hash_table_new_full(u64_hash, u64_equal, g_free, NULL);
	e->pend_by_pa =
		g_hash_table_new_full(u64_hash, u64_equal, g_free, NULL);
	e->pend_filter = g_new0(uint32_t, 1u << PEND_FILTER_BITS);
	e->pend_va_filter = g_new0(uint32_t, 1u << PEND_FILTER_BITS);
	e->pend_unreused_filter = g_new0(uint32_t, 1u << PEND_FILTER_BITS);
	e->pend_by_va =
		g_hash_table_new_full(u64_hash, u64_equal, g_free, NULL);
	e->warn_keys =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	e->findings = g_array_new(FALSE, TRUE, sizeof(ptw_finding));
	det_init(e);
	e->arch = e->ops->init(e);
	char *rerr = NULL;
	ptw_report_open(e, &rerr);
	if (!rerr && cfg->trace_path) {
		ptw_trace_meta m = {
			.version = PTW_TRACE_VERSION,
			.arch = cfg->arch,
			.ncpus = cfg->ncpus,
			.max_pending = e->cfg.max_pending,
			.widen_ns = cfg->widen_ns,
			.args = (char *)cfg->trace_args,
		};
		e->trace = ptw_trace_writer_open(cfg->trace_path, &m, &rerr);
	}
	e->cfg.trace_path = e->cfg.trace_args = NULL; /* not kept */
	if (rerr) {
		*err = rerr;
		ptw_engine_free(e);
		return NULL;
	}
	return e;
}

void ptw_apply_finish(ptw_engine *e)
{
	if (!e->finished) {
		e->finished = true;
		det_finish(e);
		ptw_report_summary(e, true);
		ptw_report_close(e);
	}
}

void ptw_engine_abandon(ptw_engine *e, const char *why)
{
	pthread_mutex_lock(&e->lock);
	if (!e->finished) {
		e->finished = true;
		ptw_report_line(e,
				"error: %s; the findings above are those "
				"up to there, without the end-of-run checks",
				why);
		ptw_report_summary(e, false);
		ptw_report_close(e);
	}
	if (e->trace) {
		char *err = NULL;
		if (!ptw_trace_writer_close(e->trace, &err)) {
			fprintf(stderr, "ptwatch: trace: %s\n", err);
			g_free(err);
		}
		e->trace = NULL;
	}
	pthread_mutex_unlock(&e->lock);
}

void ptw_engine_free(ptw_engine *e)
{
	if (!e)
		return;
	if (e->trace) {
		char *err = NULL;
		if (!ptw_trace_writer_close(e->trace, &err))
			g_free(err);
		e->trace = NULL;
	}
	if (e->log || e->jsonl)
		ptw_report_close(e);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, e->tables);
	while (g_hash_table_iter_next(&it, &k, &v))
		table_free(v);
	det_free(e);
	g_free(e->arch);
	ptw_symbols_free(e);
	ptw_suppressions_free(e);
	if (e->seen)
		g_hash_table_destroy(e->seen);
	if (e->aside_seen)
		g_hash_table_destroy(e->aside_seen);
	if (e->io_errors)
		g_ptr_array_unref(e->io_errors);
	g_hash_table_destroy(e->tables);
	g_ptr_array_free(e->roots, TRUE);
	g_hash_table_destroy(e->table_pages);
	if (e->watch_all.refs)
		g_hash_table_destroy(e->watch_all.refs);
	if (e->watch_stores.refs)
		g_hash_table_destroy(e->watch_stores.refs);
	for (ptw_pending *p = e->pend_head, *n; p; p = n) {
		n = p->next;
		g_free(p);
	}
	g_hash_table_destroy(e->pend_by_key);
	g_hash_table_destroy(e->pend_by_pa);
	g_free(e->pend_filter);
	g_free(e->pend_va_filter);
	g_free(e->pend_unreused_filter);
	g_hash_table_destroy(e->pend_by_va);
	g_hash_table_destroy(e->warn_keys);
	g_array_free(e->findings, TRUE);
	for (int i = 0; i < BITMAP_CHUNKS; i++)
		g_free(e->bitmap[i]);
	g_free(e->out_dir);
	pthread_mutex_destroy(&e->lock);
	g_aligned_free(e);
}

unsigned ptw_finding_count(ptw_engine *e, ptw_kind k)
{
	return (k > 0 && k < PTW_KIND_COUNT) ? e->kind_count[k] : 0;
}

unsigned ptw_finding_count_sev(ptw_engine *e, ptw_kind k, ptw_severity s)
{
	if (s <= 0 || s >= PTW_SEV_COUNT)
		return 0;
	if (k == PTW_KIND_NONE)
		return e->sev_count[s];
	return (k > 0 && k < PTW_KIND_COUNT) ? e->kind_sev_count[k][s] : 0;
}

unsigned ptw_findings_total(ptw_engine *e)
{
	return e->findings->len;
}

const ptw_finding *ptw_finding_get(ptw_engine *e, unsigned i)
{
	if (i >= e->findings->len)
		return NULL;
	return &g_array_index(e->findings, ptw_finding, i);
}

bool ptw_shadow_get(ptw_engine *e, uint64_t pa, uint64_t *val)
{
	uint64_t page = pa & ~0xfffULL;
	for (ptw_table *t = g_hash_table_lookup(e->table_pages, &page); t;
	     t = t->next_in_page) {
		if (pa >= t->pa && pa < t->pa + t->nent * 8ULL) {
			*val = t->shadow[(pa - t->pa) / 8];
			return true;
		}
	}
	return false;
}

unsigned ptw_table_count(ptw_engine *e)
{
	return g_hash_table_size(e->tables);
}

uint64_t ptw_stat(ptw_engine *e, const char *name)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (strcmp(ptw_stat_names[i], name) == 0)
			return e->stats[i];
	if (strcmp(name, "pending_records") == 0)
		return (uint64_t)e->npending;
	return 0;
}
