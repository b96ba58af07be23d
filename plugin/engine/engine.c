/* SPDX-License-Identifier: MIT */
/*
 * ptwatch engine core: shadow page tables, roots, the registry of vCPUs,
 * and the dispatch of what changes to the detectors (detector.h), which it
 * does not know by name.
 *
 * Page-table pages are discovered from the roots each vCPU loads (TTBR0/1
 * with TCR on arm64, CR3 with CR4.LA57 on x86-64) and followed through table
 * descriptors as they are written. Every tracked entry has a shadow; a store
 * to a tracked page is turned into a transition (old shadow -> value re-read
 * from guest memory), which the detectors are told of (entry_written,
 * entry_changed), as they are of loads, invalidations, barriers and the
 * rest; the core answers their queries (engine_internal.h).
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <stdarg.h>
#include <string.h>

#include "detector.h"
#include "ptw_trace.h"

const char *const ptw_stat_names[ST_COUNT] = {
	[ST_TABLES_REGISTERED] = "tables_registered",
	[ST_TABLES_DROPPED] = "tables_dropped",
	[ST_TABLE_ALIASES] = "table_aliases",
	[ST_ROOTS] = "roots_registered",
	[ST_ROOTS_COLD] = "roots_dropped_cold",
	[ST_ROOTS_PARKED] = "roots_parked",
	[ST_ROOTS_UNPARKED] = "roots_unparked",
	[ST_ROOTS_PARKED_STALE] = "roots_parked_stale",
	[ST_WATCH_UNLINGERED] = "watch_pages_unlingered",
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
	[ST_WINDOW_READS_SMALL_FOLIO] = "window_reads_small_folio",
	[ST_WINDOW_READS_UNCHECKED] = "window_reads_not_revalidated",
	[ST_FAULTS] = "translation_faults",
	[ST_WINDOW_WALKS] = "faults_on_broken_entries",
	[ST_HW_UPDATES] = "hw_access_dirty_updates",
	[ST_HW_DIRTIED] = "hw_dirtied_entries",
	[ST_HW_DIRTY_UNTRACKED] = "hw_dirty_untracked",
	[ST_PENDING_CHECKS] = "pending_page_accesses",
	[ST_LINUX_PAGES_READ] = "linux_pages_read",
	[ST_LINUX_PAGES_UNKNOWN] = "linux_pages_unknown",
	[ST_INTEREST_CACHE_HITS] = "interest_cache_hits",
	[ST_INTEREST_CACHE_MISSES] = "interest_cache_misses",
	[ST_INTEREST_GENERATIONS] = "interest_generations",
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
	[PTW_KIND_PT_PAGE_MAPPED] = "PT_PAGE_MAPPED",
	[PTW_KIND_COW_SHARED_WRITABLE] = "COW_SHARED_WRITABLE",
	[PTW_KIND_PINNED_PAGE_DIVERGED] = "PINNED_PAGE_DIVERGED",
	[PTW_KIND_SWAP_SLOT_UNCLAIMED] = "SWAP_SLOT_UNCLAIMED",
	[PTW_KIND_SWAP_ENTRY_LEAKED] = "SWAP_ENTRY_LEAKED",
	[PTW_KIND_ZAP_LEFT_ENTRY] = "ZAP_LEFT_ENTRY",
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

#define CLIENT_EXPECT	0x50570001
#define CLIENT_PHASE	0x50570002
#define CLIENT_DONE	0x50570003
#define CLIENT_PROGRAM	0x50570007
#define CLIENT_OP_BEGIN 0x50570008

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
	return e->ops->entry_shift(e, level);
}

static ptw_desc decode(ptw_engine *e, uint64_t d, int level)
{
	return e->ops->decode(e, d, level);
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

/* publish the CPUs' address-space keys (ptw_cpu.space_key): only those
 * that changed, as every access of that vCPU may read them, and a changed
 * one empties that vCPU's interest cache (its space epoch) */
static void cpus_publish(ptw_engine *e)
{
	for (unsigned i = 0; i < e->cfg.ncpus; i++) {
		ptw_cpu *c = &e->cpu[i];
		bool changed = false;
		for (int k = 0; k < 2; k++) {
			uint64_t key =
				c->mmu_on && c->root[k] ? c->root[k]->pa : 0;
			if (c->space_key[k] == key)
				continue;
			__atomic_store_n(&c->space_key[k], key,
					 __ATOMIC_RELAXED);
			changed = true;
		}
		if (changed)
			__atomic_store_n(&e->interest_cache[i].space_epoch,
					 e->interest_cache[i].space_epoch + 1,
					 __ATOMIC_RELEASE);
	}
}

uint64_t ptw_access_space_lockfree(ptw_engine *e, unsigned cpu, uint64_t va)
{
	ptw_cpu *c = &e->cpu[cpu];
	if (!__atomic_load_n(&c->mmu_on, __ATOMIC_RELAXED))
		return 0;
	if (e->ops->shared_upper && e->ops->upper_half(va))
		return PTW_KSPACE;
	return __atomic_load_n(&c->space_key[e->ops->root_index(va)],
			       __ATOMIC_RELAXED);
}

unsigned ptw_entry_shift(ptw_engine *e, int level)
{
	return entry_shift(e, level);
}

unsigned ptw_cont_entries(ptw_engine *e, int level)
{
	return e->ops->cont_entries(e, level);
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

unsigned ptw_table_nviews(const ptw_table *t)
{
	return table_nviews(t);
}

ptw_view ptw_table_view(const ptw_table *t, unsigned k)
{
	return table_view(t, k);
}

uint64_t ptw_view_entry_va(ptw_engine *e, const ptw_table *t, const ptw_view *v,
			   unsigned idx)
{
	return view_entry_va(e, t, v, idx);
}

uint64_t ptw_view_entry_space(ptw_engine *e, const ptw_view *v, uint64_t va)
{
	return view_entry_space(e, v, va);
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
		__atomic_store_n(&e->high_tables,
				 e->high_tables + (on ? 1 : -1),
				 __ATOMIC_RELAXED);
		if (on)
			ptw_interest_grew(e);
		return;
	}
	if (!e->bitmap[chunk])
		e->bitmap[chunk] = g_new0(
			uint64_t, (1u << (BITMAP_CHUNK_SHIFT - 12)) / 64);
	uint64_t bit = (pa & ((1ULL << BITMAP_CHUNK_SHIFT) - 1)) >> 12;
	uint64_t m = 1ULL << (bit & 63);
	if (on) {
		__atomic_fetch_or(&e->bitmap[chunk][bit / 64], m,
				  __ATOMIC_RELEASE);
		ptw_interest_grew(e);
	} else
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

/* widening: a changer is about to complete a deferred flush; a detector
 * may hold it there */
uint64_t ptw_apply_deferred_flush(ptw_engine *e, const ptw_ctx *c)
{
	return ptw_det_deferred_flush(e, c);
}

void ptw_request_stall(ptw_engine *e, unsigned cpu)
{
	if (e->cfg.widen_ns)
		__atomic_store_n(&e->stall[cpu], 1, __ATOMIC_RELAXED);
}

void ptw_apply_call(ptw_engine *e, const ptw_ctx *c)
{
	e->call_site[c->cpu] = c->pc;
}

void ptw_apply_zap(ptw_engine *e, const ptw_ctx *c, uint64_t start,
		   uint64_t size, uint64_t details)
{
	ptw_linux_zap z = {.start = start, .end = start + size};
	z.cows_known = ptw_linux_zap_even_cows(e, details, &z.cows);
	ptw_det_linux_zap(e, c, &z);
}

void ptw_apply_lower_entry(ptw_engine *e, unsigned cpu, uint64_t pc)
{
	__atomic_store_n(&e->lower_pc[cpu], pc, __ATOMIC_RELAXED);
	__atomic_store_n(&e->lower_entries[cpu], e->lower_entries[cpu] + 1,
			 __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->stats[ST_LOWER_ENTRIES], 1, __ATOMIC_RELAXED);
}

bool ptw_barrier_due(ptw_engine *e, unsigned cpu)
{
	return cpu < PTW_MAX_CPUS &&
	       __atomic_load_n(&e->barrier_due[cpu], __ATOMIC_RELAXED);
}

static void barrier_due_set(ptw_engine *e, unsigned cpu, int due)
{
	if (cpu < PTW_MAX_CPUS)
		__atomic_store_n(&e->barrier_due[cpu], due, __ATOMIC_RELAXED);
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
	if (!e->linger_filter)
		e->linger_filter = g_new0(uint16_t, 1u << LINGER_FILTER_BITS);
}

static unsigned linger_slot(uint64_t page)
{
	return (unsigned)((page >> 12) * 0x9e3779b97f4a7c15ULL >>
			  (64 - LINGER_FILTER_BITS));
}

/* page p starts (+1) or stops (-1) lingering in a set */
static void linger_count(ptw_engine *e, uint64_t p, int d)
{
	__atomic_fetch_add(&e->linger_filter[linger_slot(p)], (uint16_t)d,
			   __ATOMIC_RELAXED);
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
 * (WATCH_LINGER: engine_internal.h). But a lingering page is most often a
 * freed page given to new data at once, which the guest clears byte by
 * byte (x86-64 `rep stosb`): the first report the filters drop on it ends
 * its linger (ptw_watch_unwanted()). */

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
		linger_count(e, old, -1);
		watch_call(e, w, old, 4096, false);
	}
}

/* a report on page p the filters dropped: if it lingers in w, unwatch
 * it */
static void unlinger(ptw_engine *e, ptw_watch_set *w, uint64_t p)
{
	gpointer k, v;
	if (!w->refs ||
	    !g_hash_table_lookup_extended(w->refs, GSIZE_TO_POINTER(p), &k,
					  &v) ||
	    v)
		return;
	g_hash_table_remove(w->refs, GSIZE_TO_POINTER(p));
	linger_count(e, p, -1);
	e->stats[ST_WATCH_UNLINGERED]++;
	watch_call(e, w, p, 4096, false);
}

void ptw_watch_unwanted(ptw_engine *e, uint64_t pa)
{
	uint64_t p = pa & ~0xfffULL;
	if (!e->linger_filter ||
	    !__atomic_load_n(&e->linger_filter[linger_slot(p)],
			     __ATOMIC_RELAXED))
		return;
	bool lock = !e->cfg.single_threaded;
	if (lock)
		pthread_mutex_lock(&e->lock);
	unlinger(e, &e->watch_all, p);
	unlinger(e, &e->watch_stores, p);
	if (lock)
		pthread_mutex_unlock(&e->lock);
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
		if (!known) {
			added = true;
		} else if (!m) {
			linger_count(e, p, 1);
			watch_linger(e, w, p);
		} else if (!n) {
			linger_count(e, p, -1); /* back from its linger */
		}
	}
	if (added) /* one call, one TLB rescan, for the whole range */
		watch_call(e, w, pa & ~0xfffULL,
			   ((pa + len + 0xfff) & ~0xfffULL) - (pa & ~0xfffULL),
			   true);
}

/* the page watch as a service to the detectors (engine_internal.h) */
void ptw_watch_phys(ptw_engine *e, bool stores_only, uint64_t pa, uint64_t len,
		    int d)
{
	watch_ref(e, stores_only ? &e->watch_stores : &e->watch_all, pa, len,
		  d);
}

void ptw_watch_vpages(ptw_engine *e, uint64_t va, uint64_t len, bool on)
{
	if (e->watch.vpages)
		e->watch.vpages(e->watch.opaque, va, len, on);
}

/* A range of this size is watched through its virtual pages and its
 * physical page's stores (ptw_watch_ops), not through every access to its
 * physical page. */
bool ptw_watch_by_va(const ptw_engine *e, uint64_t len)
{
	return e->watch.vpages && e->watch.phys_stores &&
	       len <= PTW_WATCH_VPAGES_MAX;
}

/* what the detectors' filters and the table bitmap want of an access */
static unsigned interest_of(ptw_engine *e, unsigned cpu, uint64_t va,
			    uint64_t pa, unsigned size, bool is_store)
{
	unsigned want = ptw_det_interest(e, cpu, va, pa, size, is_store);
	if (ptw_is_table_page(e, pa))
		want |= PTW_ACC_TABLE;
	return want;
}

static inline unsigned interest_slot(uint64_t va_page)
{
	return (unsigned)(((va_page >> 12) * 0x9e3779b97f4a7c15ULL) >>
			  (64 - INTEREST_CACHE_BITS));
}

/* slot sl remembers page vp (at pp) as of this generation and epoch */
static inline bool interest_slot_holds(const ptw_interest_slot *sl, uint64_t vp,
				       uint64_t pp, uint64_t gen,
				       uint64_t epoch)
{
	return sl->va_page == vp && sl->pa_page == pp && sl->gen == gen &&
	       sl->space_epoch == epoch;
}

/* the bit of ptw_interest_slot.quiet for a load or a store */
static inline uint8_t interest_kind(bool is_store)
{
	return is_store ? 2 : 1;
}

void ptw_interest_grew(ptw_engine *e)
{
	/* release: a vCPU that reads the new generation sees the filter
	 * change made before it */
	__atomic_fetch_add(&e->interest_gen, 1, __ATOMIC_RELEASE);
}

/* ptw_access_interest() without an answer in the cache: the filters
 * asked, and the page remembered if they want none of it. Apart, so that
 * the hit path stays a leaf with no spills. */
static __attribute__((noinline)) unsigned
interest_miss(ptw_engine *e, unsigned cpu, uint64_t va, uint64_t pa,
	      unsigned size, bool is_store, uint64_t gen, uint64_t epoch)
{
	ptw_interest_cache *ic = &e->interest_cache[cpu];
	__atomic_store_n(&ic->misses, ic->misses + 1, __ATOMIC_RELAXED);
	uint64_t vp = va & ~0xfffULL, pp = pa & ~0xfffULL;
	if (interest_of(e, cpu, vp, pp, 4096, is_store))
		return interest_of(e, cpu, va, pa, size, is_store);
	ptw_interest_slot *sl = &ic->slot[interest_slot(vp)];
	uint8_t kind = interest_kind(is_store);
	if (interest_slot_holds(sl, vp, pp, gen, epoch)) {
		sl->quiet |= kind;
		return 0;
	}
	sl->va_page = vp;
	sl->pa_page = pp;
	sl->space_epoch = epoch;
	sl->gen = gen;
	sl->quiet = kind;
	return 0;
}

/* Lock-free, on every access: which of the engine's parts want it.
 *
 * Most accesses are wanted by none, and asking every filter (the stale-TLB
 * records' counting filters by PA and by VA, several leaf sizes each, the
 * tracked range, the table bitmap) cost half of a stock-QEMU run
 * (bench/profile.md, session 18). So a vCPU remembers the pages nothing
 * wanted: an access within one 4 KiB page, at the same VA page, PA page
 * and kind (load or store) as a remembered one, is not wanted either
 * while the generation and the vCPU's space epoch (its address-space
 * keys, cpus_publish()) are the same. What a filter wants of
 * a page is a superset of what it wants of any access within it
 * (detector.h, interest), and a filter that may start to want a page
 * raises the generation (ptw_interest_grew()) after the change. A miss
 * asks the filters for the whole page, and for the access itself only if
 * the page is wanted. */
unsigned ptw_access_interest(ptw_engine *e, unsigned cpu, uint64_t va,
			     uint64_t pa, unsigned size, bool is_store)
{
	if (cpu >= e->cfg.ncpus)
		return 0;
	uint64_t off = va & 0xfff;
	if (off + size > 4096 || (pa & 0xfff) != off)
		return interest_of(e, cpu, va, pa, size, is_store);
	/* read before the filters: a change after these reads raises the
	 * generation or the vCPU's space epoch past them */
	ptw_interest_cache *ic = &e->interest_cache[cpu];
	uint64_t gen = __atomic_load_n(&e->interest_gen, __ATOMIC_ACQUIRE);
	uint64_t epoch = __atomic_load_n(&ic->space_epoch, __ATOMIC_ACQUIRE);
	uint64_t vp = va - off;
	const ptw_interest_slot *sl = &ic->slot[interest_slot(vp)];
	if (interest_slot_holds(sl, vp, pa - off, gen, epoch) &&
	    (sl->quiet & interest_kind(is_store))) {
		__atomic_store_n(&ic->hits, ic->hits + 1, __ATOMIC_RELAXED);
		return 0;
	}
	return interest_miss(e, cpu, va, pa, size, is_store, gen, epoch);
}

/* the vCPUs' interest cache counters into the stats (for the summary) */
void ptw_interest_cache_stats(ptw_engine *e)
{
	uint64_t h = 0, m = 0;
	for (unsigned i = 0; i < e->cfg.ncpus; i++) {
		h += __atomic_load_n(&e->interest_cache[i].hits,
				     __ATOMIC_RELAXED);
		m += __atomic_load_n(&e->interest_cache[i].misses,
				     __ATOMIC_RELAXED);
	}
	e->stats[ST_INTEREST_CACHE_HITS] = h;
	e->stats[ST_INTEREST_CACHE_MISSES] = m;
	e->stats[ST_INTEREST_GENERATIONS] =
		__atomic_load_n(&e->interest_gen, __ATOMIC_RELAXED) - 1;
}

/* ------------------------------------------------------------------ */
/* table registry */

/* The vCPU's last lower-half code ran at a VA its current tables map to
 * the same PA: kernel code through an ID map (Linux's idmap_pg_dir while
 * it replaces TTBR1, brings a CPU up or resumes one), not user code. Such
 * a root is not a process's: Linux frees its tables as pages (the init
 * section), so it must not be parked (root_maybe_drop()). A user program
 * whose code sits at VA = PA is not a case Linux makes. */
static bool ran_id_mapped(ptw_engine *e, unsigned cpu)
{
	uint64_t pc = __atomic_load_n(&e->lower_pc[cpu], __ATOMIC_RELAXED), pa;
	return pc && ptw_translate(e, cpu, pc, &pa, NULL, NULL) && pa == pc;
}

static ptw_table *table_lookup(ptw_engine *e, uint64_t pa)
{
	ptw_table **t = u64map_get(&e->tables, pa);
	return t ? *t : NULL;
}

/* The 4 KiB pages a table spans (one, or four for a 16K-granule table of
 * 2048 entries): each has its list of the tables in it (table_pages,
 * through the tables' next_in_page[] for that page), its bit in the
 * lock-free bitmap, and its watch. */
static ptw_table **page_link(ptw_table *t, uint64_t page)
{
	return &t->next_in_page[(page - (t->pa & ~0xfffULL)) >> 12];
}

static uint64_t table_last_page(const ptw_table *t)
{
	return (t->pa + t->nent * 8ULL - 1) & ~0xfffULL;
}

/* the first table of a page (table_pages), or NULL */
static ptw_table *page_first_table(ptw_engine *e, uint64_t page)
{
	ptw_table **head = u64map_get(&e->table_pages, page);
	return head ? *head : NULL;
}

static void table_pages_add(ptw_engine *e, ptw_table *t)
{
	for (uint64_t page = t->pa & ~0xfffULL; page <= table_last_page(t);
	     page += 4096) {
		ptw_table **head = u64map_put(&e->table_pages, page, NULL);
		*page_link(t, page) = *head;
		if (!*head)
			watch_ref(e, &e->watch_all, page, 4096, 1);
		*head = t;
		bitmap_set(e, page, true);
	}
}

static void table_pages_remove(ptw_engine *e, ptw_table *t)
{
	for (uint64_t page = t->pa & ~0xfffULL; page <= table_last_page(t);
	     page += 4096) {
		ptw_table **slot = u64map_get(&e->table_pages, page);
		ptw_table *head = slot ? *slot : NULL;
		ptw_table *next = *page_link(t, page);
		if (head == t) {
			if (next)
				*slot = next;
			else {
				u64map_remove(&e->table_pages, page);
				bitmap_set(e, page, false);
				watch_ref(e, &e->watch_all, page, 4096, -1);
			}
			continue;
		}
		for (ptw_table *p = head; p; p = *page_link(p, page))
			if (*page_link(p, page) == t) {
				*page_link(p, page) = next;
				break;
			}
	}
}

/* The tracked table holding the entry at pa, and its index. */
ptw_table *ptw_table_of(ptw_engine *e, uint64_t pa, unsigned *idx)
{
	uint64_t page = pa & ~0xfffULL;
	for (ptw_table *t = page_first_table(e, page); t;
	     t = *page_link(t, page))
		if (pa >= t->pa && pa < t->pa + t->nent * 8ULL) {
			*idx = (unsigned)((pa - t->pa) / 8);
			return t;
		}
	return NULL;
}

/* The index of va's entry in t (t->nent or more: none). Index bits only:
 * a table below the root may be reached at another VA than its first
 * view's (an alias). */
static uint64_t walk_index(ptw_engine *e, const ptw_table *t, uint64_t va)
{
	unsigned sh = entry_shift(e, t->level);
	uint64_t off = va - t->va_base;
	if (e->ops->shared_upper || !t->is_root)
		off &= (1ULL << (sh + e->page_shift - 3)) - 1;
	return off >> sh;
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
		uint64_t i = walk_index(e, t, va);
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

/* A kernel (upper-half) VA through the first vCPU whose MMU is on: the
 * tables every CPU shares there */
bool ptw_kernel_xlate(ptw_engine *e, uint64_t va, uint64_t *pa)
{
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		if (e->cpu[i].mmu_on && ptw_translate(e, i, va, pa, NULL, NULL))
			return true;
	return false;
}

bool ptw_read_kernel(ptw_engine *e, uint64_t va, void *buf, size_t len,
		     uint64_t *bad_va)
{
	uint8_t *p = buf;
	while (len) {
		size_t n = 4096 - (va & 4095);
		if (n > len)
			n = len;
		uint64_t pa;
		if (!ptw_kernel_xlate(e, va, &pa) ||
		    !ptw_read_phys(e, pa, p, n)) {
			if (bad_va)
				*bad_va = va;
			return false;
		}
		p += n;
		va += n;
		len -= n;
	}
	return true;
}

/* CPUs whose TLB may hold a translation of va through a table of the
 * address space 'space' (a table's view). */
uint64_t ptw_may_hold_in(ptw_engine *e, uint64_t space, uint64_t va)
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
	return ptw_may_hold_in(e, t->space, va);
}

bool ptw_table_user_path(ptw_engine *e, const ptw_table *t)
{
	if (!e->ops->user_ok || t->space == PTW_KSPACE)
		return false;
	uint64_t va = t->va_base;
	const ptw_table *w = table_lookup(e, t->space);
	for (int depth = 0; w && w->is_root == (depth == 0) && depth < 6;
	     depth++) {
		if (w == t)
			return true;
		uint64_t i = walk_index(e, w, va);
		if (i >= w->nent)
			return false;
		ptw_desc d = decode(e, w->shadow[i], w->level);
		if (d.type != PTW_DESC_TABLE ||
		    !e->ops->user_ok(w->shadow[i], false))
			return false;
		w = table_lookup(e, d.oa);
	}
	return false;
}

bool ptw_user_leaf(ptw_engine *e, int level, uint64_t desc, ptw_desc *d)
{
	*d = decode(e, desc, level);
	return is_leaf(d) && e->ops->user_ok && e->ops->user_ok(desc, true);
}

const ptw_ctx *ptw_event_ctx(const ptw_engine *e)
{
	return e->event_ctx;
}

uint16_t ptw_space_asid(ptw_engine *e, uint64_t space)
{
	ptw_table *root = table_lookup(e, space);
	return root ? root->asid : 0;
}

static void table_unref(ptw_engine *e, uint64_t pa, int level, uint64_t va_base,
			uint64_t space);
static void table_children(ptw_engine *e, ptw_table *t, const ptw_view *v,
			   bool link);
static bool root_is_empty(ptw_engine *e, ptw_table *t);

static void table_free(ptw_table *t)
{
	ptw_det_table_free(t);
	g_free(t->shadow);
	g_free(t->alias);
	g_free(t);
}

static void table_drop(ptw_engine *e, ptw_table *t)
{
	/* an emptied root is an address space that ended (process exit): its
	 * page may become another process's root, which must not inherit
	 * tracked data or a program name */
	if (t->is_root && root_is_empty(e, t)) {
		ptw_det_space_ended(e, t->pa);
		if (e->progs)
			g_hash_table_remove(e->progs, &t->pa);
	}
	/* A root no CPU holds is dropped: no CPU can use its translations
	 * until one loads it again, and then only what its TLB still holds;
	 * a root is dropped only when every CPU that used it invalidated
	 * everything since (cold), or when it is empty (the process exited:
	 * Linux flushes a PCID or ASID before giving it to another mm). */
	if (t->is_root && !t->cpu_refs && !t->parked)
		ptw_det_root_dropped(e, t->pa);
	if (t->parked)
		e->nparked--;
	table_pages_remove(e, t);
	ptw_det_table_dropped(e, t);
	u64map_remove(&e->tables, t->pa);
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
			table_register(e, d.oa, next_level(e, t->level),
				       ptw_table_entries(e), va, space, false);
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
	if (t && t->parked && (t->level != level || t->is_root != is_root)) {
		/* a cold root's page is now a table of another kind: what
		 * was parked is gone */
		table_drop(e, t);
		t = NULL;
	}
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
	if (((pa + nent * 8ULL - 1) >> 12) - (pa >> 12) >= PTW_TABLE_PAGES) {
		/* only a root can be misaligned (TTBR's low address bits);
		 * the architecture wants it aligned to its size */
		ptw_warn(e, "table-misaligned",
			 "page table at PA 0x%" PRIx64
			 " (level %d, %u entries) is not aligned to its size; "
			 "not tracked",
			 pa, level, nent);
		return NULL;
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
	t->gen = ++e->table_gen;
	*(ptw_table **)u64map_put(&e->tables, t->pa, NULL) = t;
	table_pages_add(e, t);
	/* known to the queries, before its children are */
	ptw_det_table_added(e, t);
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

/* Cold roots kept (parked) at most; beyond, the one parked longest is
 * dropped. An x86-64 guest without PCIDs makes the root it leaves cold at
 * every context switch: dropping it and reading its tables afresh when the
 * process runs again was most of what a fork-heavy test cost (issue 24). */
#define PTW_PARKED_MAX 64

/* The tables of a parked root's address space (not the kernel's, which
 * live on) hold what guest memory holds: false when some entry was
 * rewritten while it was parked in a way the engine did not see (the
 * MMU off, a store the adapter does not report). buf: room for a table. */
static bool parked_tree_matches(ptw_engine *e, const ptw_table *t,
				uint64_t *buf, int depth)
{
	if (depth > 6 || !ptw_read_phys(e, t->pa, buf, t->nent * 8ULL) ||
	    memcmp(buf, t->shadow, t->nent * 8ULL))
		return false;
	if (t->level == last_level(e))
		return true;
	for (unsigned i = 0; i < t->nent; i++) {
		ptw_desc d = decode(e, t->shadow[i], t->level);
		if (d.type != PTW_DESC_TABLE)
			continue;
		const ptw_table *c = table_lookup(e, d.oa);
		if (c && c->space != PTW_KSPACE && !c->is_root &&
		    !parked_tree_matches(e, c, buf, depth + 1))
			return false;
	}
	return true;
}

/* A root no CPU holds and no TLB can cache (every CPU that used it has
 * invalidated everything since) is cold: no TLB uses its translations
 * (the detectors are told, as when it is dropped), and changes to its
 * tables need no break-before-make and no invalidation (ptw_may_hold() is
 * empty for it). It stays tracked, its stores seen as before, so that the
 * process running again costs no new registration of its tables; when it
 * is loaded again its tables are compared with guest memory, and read
 * afresh if they differ (root_unpark()). */
static void root_park(ptw_engine *e, ptw_table *t)
{
	e->stats[ST_ROOTS_PARKED]++;
	t->parked = true;
	t->parked_at = ++e->park_serial;
	e->nparked++;
	ptw_det_root_dropped(e, t->pa);
	if (e->nparked <= PTW_PARKED_MAX)
		return;
	ptw_table *oldest = NULL;
	for (guint i = 0; i < e->roots->len; i++) {
		ptw_table *r = g_ptr_array_index(e->roots, i);
		if (r->parked && (!oldest || r->parked_at < oldest->parked_at))
			oldest = r;
	}
	e->stats[ST_ROOTS_COLD]++;
	table_drop(e, oldest);
}

/* A parked root is loaded again: true if it can be used as it is. */
static bool root_unpark(ptw_engine *e, ptw_table *t)
{
	t->parked = false;
	e->nparked--;
	uint64_t *buf = g_new(uint64_t, MAX(ptw_table_entries(e), t->nent));
	bool ok = parked_tree_matches(e, t, buf, 0);
	g_free(buf);
	if (ok) {
		e->stats[ST_ROOTS_UNPARKED]++;
		return true;
	}
	e->stats[ST_ROOTS_PARKED_STALE]++;
	table_drop(e, t);
	return false;
}

/* A root no CPU holds: dropped when empty (its page may be freed and
 * reused as data: process exit); when cold, parked if it is a process's
 * (user mode ran on it), else dropped: Linux frees its early tables
 * (the ID map, the boot page tables) as pages, with their entries in
 * place, and what reuses those pages must not read as entry changes. */
static void root_maybe_drop(ptw_engine *e, ptw_table *t)
{
	/* a parked root that empties is dropped by the store that empties
	 * it (table_store()) */
	if (t->cpu_refs || t->parked)
		return;
	if (root_is_empty(e, t)) {
		table_drop(e, t);
	} else if (!t->cached && t->ran_user) {
		root_park(e, t);
	} else if (!t->cached) {
		e->stats[ST_ROOTS_COLD]++;
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
	if (t && t->is_root && t->parked && !root_unpark(e, t))
		t = NULL; /* rewritten unseen: dropped, read afresh */
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
	cpus_publish(e);
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

/* Invalidation on the CPUs in 'targets': the roots they no longer cache,
 * then the detectors. */
static void invalidate(ptw_engine *e, const ptw_ctx *c, const inval_scope *s,
		       uint64_t targets)
{
	if (s->all || (s->nonglobal && !s->by_asid && !s->by_va))
		roots_uncache(e, targets);
	ptw_det_invalidate(e, c, s, targets);
}

/* ------------------------------------------------------------------ */
/* entry transitions */

static void entry_update(ptw_engine *e, const ptw_ctx *ev_ctx, ptw_table *t,
			 unsigned idx, uint64_t new)
{
	uint64_t old = t->shadow[idx];
	if (old == new)
		return;
	t->shadow[idx] = new;
	uint64_t hw = e->ops->hw_managed(old, new);
	bool changed = ((old ^ new) & ~hw) != 0;
	/* the changer of a live entry (a break, a change of a translation
	 * some TLB may hold; not of its access or dirty state alone) is a
	 * side findings name later: its stack now */
	ptw_ctx cc = *ev_ctx;
	const ptw_ctx *c = &cc;
	if (changed && decode(e, old, t->level).type != PTW_DESC_INVALID)
		ptw_stack_capture(e, &cc);
	barrier_due_set(e, c->cpu, 1);
	ptw_det_entry_written(e, c, t, idx, old, new);
	if (!changed) {
		e->stats[ST_HW_AD_ONLY]++;
		return;
	}
	e->stats[ST_ENTRY_CHANGES]++;
	ptw_det_entry_changed(e, c, t, idx, old, new);
	if (table_lookup(e, t->pa) != t)
		return; /* cannot happen: detectors never drop tables */
	int level = t->level;
	ptw_desc dold = decode(e, old, level), dnew = decode(e, new, level);
	bool same_table = dold.type == PTW_DESC_TABLE &&
			  dnew.type == PTW_DESC_TABLE && dold.oa == dnew.oa;
	if (is_leaf(&dold) &&
	    !(is_leaf(&dnew) && dnew.oa == dold.oa && dnew.size == dold.size))
		e->stats[ST_LEAF_CHANGES]++;

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
			table_register(e, dnew.oa, next_level(e, level),
				       ptw_table_entries(e), va, space, false);
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
	for (ptw_table *q = page_first_table(e, page); q;
	     q = *page_link(q, page))
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

static void update_roots_of(ptw_engine *e, unsigned cpu);

/* cpu's roots, again from its translation registers (the architecture
 * says which tables they name), published to the lock-free filters */
static void update_roots(ptw_engine *e, unsigned cpu)
{
	update_roots_of(e, cpu);
	cpus_publish(e);
}

static void update_roots_of(ptw_engine *e, unsigned cpu)
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
		__atomic_store_n(&cs->mmu_on, false, __ATOMIC_RELAXED);
		cpu_release_roots(e, cs);
		return;
	}
	__atomic_store_n(&cs->mmu_on, true, __ATOMIC_RELAXED);
	if (sp.lpa2 != e->lpa2 ||
	    (sp.page_shift && sp.page_shift != e->page_shift)) {
		/* arm64 TCR_EL1.DS changes what descriptor bits 9:8 mean, and
		 * TG0/TG1 the granule (table sizes, index bits): every
		 * tracked table is re-read under the new format */
		if (e->roots->len)
			ptw_report_line(
				e,
				"note: vcpu %u switched TCR_EL1.DS to "
				"%d (LPA2), granule %u KiB: page "
				"tables re-read",
				cpu, sp.lpa2,
				(1u << (sp.page_shift ? sp.page_shift
						      : e->page_shift)) >>
					10);
		drop_all_roots(e);
		e->lpa2 = sp.lpa2;
		if (sp.page_shift)
			e->page_shift = sp.page_shift;
		for (unsigned o = 0; o < e->cfg.ncpus; o++) {
			ptw_root_spec so;
			if (o == cpu || !e->cpu[o].mmu_on)
				continue;
			e->ops->roots(e, o, &so);
			if (so.lpa2 == sp.lpa2 &&
			    (!so.page_shift || so.page_shift == e->page_shift))
				update_roots_of(e, o);
		}
	}
	/* asked before either root is released: the walk needs them */
	bool id_mapped = ran_id_mapped(e, cpu);
	for (int i = 0; i < 2; i++) {
		/* release first: the same root may come back with another
		 * geometry (Linux switches T0SZ for its ID map) */
		ptw_table *old = cs->root[i];
		if (old && ptw_lower_entries(e, cpu) != cs->lower_at_load[i] &&
		    !id_mapped)
			old->ran_user = true;
		cs->root[i] = NULL;
		root_put(e, old);
		if (sp.root[i].warn[0] &&
		    !(e->granule_warned & sp.root[i].warn_key)) {
			e->granule_warned |= sp.root[i].warn_key;
			ptw_warn(e, "granule", "%s", sp.root[i].warn);
		}
		cs->lower_at_load[i] = ptw_lower_entries(e, cpu);
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
		ptw_det_sync(e, c);
	if (fx.task)
		ptw_task_switch(e, c->cpu, fx.task);
	if (fx.note[0])
		ptw_report_line(e, "%s", fx.note);
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
	ptw_det_entry_loaded(e, c, t, idx, value);
}

void ptw_apply_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		      unsigned size, unsigned flags, uint64_t value)
{
	bool is_store = flags & PTW_ACC_STORE;
	/* an access a detector's interest() asked for */
	if (flags & PTW_ACC_PENDING)
		ptw_det_access(e, c, va, pa, is_store);
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
	ptw_det_hw_update(e, c, t, idx, old, new, ev->hw_update.va);
}

void ptw_apply_inval(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev)
{
	const ptw_inval_scope *s = &ev->inval.scope;
	switch (ev->inval.origin) {
	case PTW_INVAL_TLBI:
		e->stats[ST_TLBI]++;
		barrier_due_set(e, c->cpu, 1);
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
		ptw_det_sync(e, c);
		break;
	}
}

void ptw_apply_barrier(ptw_engine *e, const ptw_ctx *c, unsigned crm)
{
	e->stats[ST_DSB]++;
	ptw_barrier b = {0};
	if (e->ops->barrier)
		e->ops->barrier(crm, &b);
	ptw_det_barrier(e, c, &b);
	/* a barrier that completes the CPU's maintenance ends its run of
	 * page-table writes: nothing of this CPU's waits for a barrier
	 * after it */
	if (b.completes_maintenance) {
		ptw_det_sync(e, c);
		barrier_due_set(e, c->cpu, 0);
	}
}

void ptw_apply_fault(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev)
{
	e->stats[ST_FAULTS]++;
	ptw_det_fault(e, c, ev);
}

void ptw_apply_data(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned size,
		    bool is_store, const uint8_t *bytes)
{
	ptw_det_data_access(e, c, va, size, is_store, bytes);
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
		PTW_TL(e, .kind = PTW_TL_PHASE, .cpu = c->cpu, .at = c,
		       .text = label);
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
		PTW_TL(e, .kind = PTW_TL_PROGRAM, .cpu = c->cpu, .at = c,
		       .text = name);
		break;
	}
	case CLIENT_DONE:
		e->guest_done = true;
		e->guest_status = a1;
		ptw_report_line(e, "guest done: %s (vcpu %u)",
				a1 ? "its own checks FAILED" : "checks passed",
				c->cpu);
		break;
	case CLIENT_OP_BEGIN:
		ptw_task_op_start(e, c->cpu);
		break;
	default: {
		uint64_t a[4] = {a1, a2, a3, a4};
		if (ptw_det_client(e, c, req, a))
			break;
		ptw_warn(e, "client-unknown",
			 "client request 0x%" PRIx64
			 " from vcpu %u pc 0x%" PRIx64
			 " is not supported by this ptwatch; ignored",
			 req, c->cpu, c->pc);
	}
	}
}

/* ------------------------------------------------------------------ */
/* lifecycle and queries */

ptw_engine *ptw_engine_new(const ptw_config *cfg, char **err)
{
	if (cfg->ncpus == 0 || cfg->ncpus > PTW_MAX_CPUS) {
		*err = g_strdup_printf("ptwatch supports 1..%d vCPUs, got %u",
				       PTW_MAX_CPUS, cfg->ncpus);
		return NULL;
	}
	ptw_engine *e = g_aligned_alloc0(1, sizeof(*e), PTW_CACHELINE);
	e->cfg = *cfg;
	e->interest_gen = 1; /* a zeroed cache slot matches no generation */
	e->interest_cache = g_aligned_alloc0(
		cfg->ncpus, sizeof(ptw_interest_cache), PTW_CACHELINE);
	/* the one place the core names an architecture: it picks its
	 * interface (arch_arm64.c, arch_x86.c) */
	e->ops = cfg->arch == PTW_ARCH_ARM64 ? &ptw_arch_arm64_ops
					     : &ptw_arch_x86_ops;
	e->page_shift = 12;
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
	u64map_init(&e->tables, sizeof(ptw_table *));
	e->roots = g_ptr_array_new();
	u64map_init(&e->table_pages, sizeof(ptw_table *));
	e->warn_keys =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	e->findings = g_array_new(FALSE, TRUE, sizeof(ptw_finding));
	ptw_tasks_init(e);
	ptw_det_init(e);
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
		ptw_det_finish(e);
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
	for (size_t i = 0; i < e->tables.cap; i++) {
		ptw_table **t = u64map_slot_value(&e->tables, i);
		if (t)
			table_free(*t);
	}
	ptw_det_free(e);
	ptw_tasks_free(e);
	g_free(e->arch);
	ptw_symbols_free(e);
	ptw_stacks_free(e);
	ptw_suppressions_free(e);
	if (e->seen)
		g_hash_table_destroy(e->seen);
	if (e->aside_seen)
		g_hash_table_destroy(e->aside_seen);
	if (e->io_errors)
		g_ptr_array_unref(e->io_errors);
	u64map_free(&e->tables);
	g_ptr_array_free(e->roots, TRUE);
	u64map_free(&e->table_pages);
	g_free(e->linger_filter);
	g_aligned_free(e->interest_cache);
	if (e->watch_all.refs)
		g_hash_table_destroy(e->watch_all.refs);
	if (e->watch_stores.refs)
		g_hash_table_destroy(e->watch_stores.refs);
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
	for (ptw_table *t = page_first_table(e, page); t;
	     t = *page_link(t, page)) {
		if (pa >= t->pa && pa < t->pa + t->nent * 8ULL) {
			*val = t->shadow[(pa - t->pa) / 8];
			return true;
		}
	}
	return false;
}

unsigned ptw_table_count(ptw_engine *e)
{
	return (unsigned)e->tables.len;
}

uint64_t ptw_stat(ptw_engine *e, const char *name)
{
	ptw_interest_cache_stats(e);
	for (int i = 0; i < ST_COUNT; i++)
		if (strcmp(ptw_stat_names[i], name) == 0)
			return e->stats[i];
	if (strcmp(name, "pending_records") == 0)
		return (uint64_t)ptw_det_pending(e);
	return 0;
}
