/* SPDX-License-Identifier: MIT */
/*
 * Pages as user code maps them: every user-reachable leaf of the tracked
 * tables, counted by what it maps (base, size), and how many of them are
 * writable. Two rules read the counts:
 *
 * PT_PAGE_MAPPED: a live page-table page that user code can reach through
 * a leaf entry (the "Dirty Pagetable" exploitation primitive: a page the
 * kernel uses as a page table is also mapped into a user address space,
 * so user code reads and writes page-table entries directly). Whatever the
 * order: a user-reachable leaf made over a live table page, or a page
 * mapped that way linked in as a table. The architecture says what user
 * code may pass (ptw_arch_ops.user_ok: arm64 AP[1] and APTable, x86 U/S at
 * every level); the core says which pages are live tables.
 *
 * COW_SHARED_WRITABLE (Linux): an anonymous or KSM page mapped writable
 * by one user entry while another present user entry maps it: a write
 * through the first changes what the second reads, which copy-on-write
 * exists to prevent (seed 002: do_wp_page() reusing a KSM page still
 * shared; the invariant of Linux's CONFIG_PAGE_TABLE_CHECK, "an anon page
 * is mapped writable in at most one place", checked across every address
 * space ptwatch tracks). Linux removes a writable mapping's last sharer
 * before it makes it writable (fork write-protects the parent first, a
 * write fault reuses a page only when it is exclusive), and ptwatch's
 * counts move with each entry store, so a correct kernel never has both.
 * Whether the page is anonymous comes from its struct page (BTF,
 * guest_linux_mm.c), read only when the counts say both; without BTF the
 * rule is off (said once in ptwatch.log), as on a guest that is not Linux.
 *
 * Not modelled: a change of a table entry's user permission above a leaf
 * after the leaf was counted (arm64 APTable, x86 U/S of a directory) is
 * seen for the leaves written after it; a page mapped by leaves of two
 * sizes (a THP by a PMD here and by PTEs there) is counted per size.
 */
#include "detectors.h"

/* leaf sizes: the 4K granule's (both arches), then arm64's 16K
 * granule's; a map key carries the index in its low bits */
#define NSIZES 7
static const uint64_t sizes[NSIZES] = {4096ULL,	     2ULL << 20, 1ULL << 30,
				       512ULL << 30, 16384ULL,	 32ULL << 20,
				       64ULL << 30};
#define MAX_REPORTED 65536

/* the user-reachable leaves mapping one (base, size) */
typedef struct {
	uint64_t pte_pa, va, desc;
	int level;
	ptw_ctx made; /* when it was made (icount 0: found in a new table) */
} user_leaf_seen;

typedef struct {
	unsigned count, writable;
	/* the latest of them, and before it another entry (which may have
	 * gone since: for the report's words) */
	uint64_t pte_pa, va, desc;
	int level;
	ptw_ctx made;
	user_leaf_seen other;
} user_map;

typedef struct {
	unsigned id;
	GHashTable *maps;     /* base | size index -> user_map */
	GHashTable *reported; /* (page, leaf entry) reported, per kind */
} ptmapped_state;

static void *usermap_init(ptw_engine *e, unsigned id)
{
	(void)e;
	ptmapped_state *s = g_new0(ptmapped_state, 1);
	s->id = id;
	s->maps = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	s->reported = g_hash_table_new_full(u64_hash, u64_eq, g_free, NULL);
	return s;
}

static void usermap_free(ptw_engine *e, void *st)
{
	(void)e;
	ptmapped_state *s = st;
	g_hash_table_destroy(s->maps);
	g_hash_table_destroy(s->reported);
	g_free(s);
}

/* per table: which entries are counted in maps, and which of them as
 * writable (so each count is taken back exactly once, whatever happened
 * above the table since): words [0, n) and [n, 2n) */
static uint64_t *counted_of(ptmapped_state *s, ptw_table *t)
{
	uint64_t **slot = (uint64_t **)ptw_table_slot(t, s->id);
	if (!*slot)
		*slot = g_new0(uint64_t, 2 * ((t->nent + 63) / 64));
	return *slot;
}

static uint64_t *writable_of(ptmapped_state *s, ptw_table *t)
{
	return counted_of(s, t) + (t->nent + 63) / 64;
}

static int size_index(uint64_t size)
{
	for (int k = 0; k < NSIZES; k++)
		if (sizes[k] == size)
			return k;
	return -1;
}

static uint64_t map_key(uint64_t base, int k)
{
	return base | (uint64_t)k;
}

/* desc, in a table user code can reach, is a leaf that grants it access */
static bool user_leaf(ptw_engine *e, ptw_table *t, bool path, uint64_t desc,
		      ptw_desc *d)
{
	return path && ptw_user_leaf(e, t->level, desc, d) &&
	       size_index(d->size) >= 0;
}
/* once per (page, leaf entry, kind) */
static bool first_report(ptmapped_state *s, uint64_t page, uint64_t pte_pa,
			 ptw_kind k)
{
	uint64_t key = (page * 0x9e3779b97f4a7c15ULL ^ pte_pa) + k;
	if (g_hash_table_contains(s->reported, &key))
		return false;
	if (g_hash_table_size(s->reported) >= MAX_REPORTED)
		g_hash_table_remove_all(s->reported);
	g_hash_table_add(s->reported, g_memdup2(&key, sizeof(key)));
	return true;
}

static void report_pair(ptw_engine *e, ptmapped_state *s, const ptw_ctx *c,
			uint64_t page, const user_map *m, bool table_came_last)
{
	if (!first_report(s, page, m->pte_pa, PTW_KIND_PT_PAGE_MAPPED))
		return;
	char d[400];
	snprintf(d, sizeof(d),
		 "the page-table page at PA 0x%" PRIx64
		 " is live (reachable from a root) and mapped by a leaf entry "
		 "user code can reach (entry PA 0x%" PRIx64 ", VA 0x%" PRIx64
		 ", level %d): user code can read and write page-table entries "
		 "directly; %s",
		 page, m->pte_pa, m->va, m->level,
		 table_came_last ? "the page was mapped first, then linked in "
				   "as a table"
				 : "the mapping was made over a live table");
	const ptw_ctx *other =
		table_came_last && m->made.icount ? &m->made : NULL;
	report2(e, PTW_KIND_PT_PAGE_MAPPED, PTW_SEV_ERROR,
		"a live page table reachable by user code: the Dirty "
		"Pagetable primitive (arbitrary physical memory through "
		"forged entries)",
		c, table_came_last ? "table linked" : "user mapping made",
		other, other ? "user mapping made" : NULL, m->pte_pa, m->va,
		m->level, m->desc, m->desc, d);
}

/* a user-reachable leaf (d, entry idx of t) is counted (+1) or not (-1);
 * a new one over a live table page is reported */
static void cow_check(ptw_engine *e, ptmapped_state *s, const ptw_ctx *c,
		      const user_map *m, uint64_t pa);

static void count_leaf(ptw_engine *e, ptmapped_state *s, const ptw_ctx *c,
		       ptw_table *t, unsigned idx, uint64_t desc,
		       const ptw_desc *d, int delta)
{
	uint64_t key = map_key(d->oa, size_index(d->size));
	user_map *m = g_hash_table_lookup(s->maps, &key);
	uint64_t *counted = counted_of(s, t), bit = 1ULL << (idx % 64);
	uint64_t *writable = writable_of(s, t);
	if (delta < 0) {
		bool was_writable = writable[idx / 64] & bit;
		counted[idx / 64] &= ~bit;
		writable[idx / 64] &= ~bit;
		if (m && was_writable && m->writable)
			m->writable--;
		if (m && --m->count == 0)
			g_hash_table_remove(s->maps, &key);
		return;
	}
	bool rw = e->ops->writable && e->ops->writable(desc);
	if (!m) {
		m = g_new0(user_map, 1);
		g_hash_table_insert(s->maps, g_memdup2(&key, sizeof(key)), m);
	}
	if (m->count && m->pte_pa != t->pa + idx * 8ULL)
		m->other = (user_leaf_seen){m->pte_pa, m->va, m->desc, m->level,
					    m->made};
	m->count++;
	counted[idx / 64] |= bit;
	if (rw) {
		m->writable++;
		writable[idx / 64] |= bit;
	}
	m->pte_pa = t->pa + idx * 8ULL;
	m->va = ptw_entry_va(e, t, idx);
	m->desc = desc;
	m->level = t->level;
	m->made = c ? *c : (ptw_ctx){0};
	if (!c)
		return;
	/* each page-table page in it (a table spans one page of its
	 * granule: reported once, at its first 4 KiB) */
	uint64_t tsize = 8ULL << (e->page_shift - 3);
	for (uint64_t p = d->oa; p < d->oa + d->size; p += 4096)
		if (ptw_is_table_page(e, p) &&
		    (!(p & (tsize - 1)) || !ptw_is_table_page(e, p - 4096)))
			report_pair(e, s, c, p, m, false);
	/* another user entry maps the page, and one of them is writable */
	if (m->count > 1 && m->writable)
		cow_check(e, s, c, m, d->oa);
}

/* COW_SHARED_WRITABLE: m's page is mapped by more than one user entry and
 * writable through one (the one just made is m's latest). An error when
 * the page is anonymous (or KSM): Linux asked. */
static void cow_check(ptw_engine *e, ptmapped_state *s, const ptw_ctx *c,
		      const user_map *m, uint64_t pa)
{
	const user_leaf_seen *other = &m->other;
	if (!ptw_guest_is_linux(e))
		return;
	ptw_linux_page_info pi;
	if (!ptw_linux_page(e, pa >> e->page_shift, &pi) || !pi.valid ||
	    !pi.anon)
		return;
	if (!first_report(s, pa, m->pte_pa, PTW_KIND_COW_SHARED_WRITABLE))
		return;
	char d[480];
	snprintf(d, sizeof(d),
		 "the %s page at PA 0x%" PRIx64
		 " is mapped by %u user entries, %u of them writable: this "
		 "entry (VA 0x%" PRIx64 ") and another (entry PA 0x%" PRIx64
		 ", VA 0x%" PRIx64
		 "); a write through the writable one changes "
		 "what the other reads (folio refcount %d, mapcount %d)",
		 pi.ksm ? "KSM" : "anonymous", pa, m->count, m->writable, m->va,
		 other->pte_pa, other->va, pi.refcount, pi.mapcount);
	report2(e, PTW_KIND_COW_SHARED_WRITABLE, PTW_SEV_ERROR,
		"an anonymous page writable through one mapping while another "
		"maps it: copy-on-write broken (CONFIG_PAGE_TABLE_CHECK's "
		"invariant)",
		c, "mapping made", other->made.icount ? &other->made : NULL,
		other->made.icount ? "other mapping made" : NULL, m->pte_pa,
		m->va, m->level, m->desc, m->desc, d);
}

/* the user-reachable leaf over page, if any */
static user_map *user_map_of(ptmapped_state *s, uint64_t page)
{
	for (int k = 0; k < NSIZES; k++) {
		uint64_t key = map_key(page & ~(sizes[k] - 1), k);
		user_map *m = g_hash_table_lookup(s->maps, &key);
		if (m)
			return m;
	}
	return NULL;
}

static bool is_counted(ptmapped_state *s, ptw_table *t, unsigned idx)
{
	uint64_t *counted = *ptw_table_slot(t, s->id);
	return counted && (counted[idx / 64] >> (idx % 64) & 1);
}

static void ptm_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new)
{
	ptmapped_state *s = st;
	ptw_desc d;
	if (is_counted(s, t, idx)) {
		d = ptw_decode_entry(e, old, t->level);
		count_leaf(e, s, NULL, t, idx, old, &d, -1);
	}
	/* the walk above the table only for a leaf that grants user access */
	if (user_leaf(e, t, true, new, &d) && ptw_table_user_path(e, t))
		count_leaf(e, s, c, t, idx, new, &d, +1);
}

static void ptm_table_added(ptw_engine *e, void *st, ptw_table *t)
{
	ptmapped_state *s = st;
	const ptw_ctx *c = ptw_event_ctx(e);
	/* its user-reachable leaves (before its children are registered:
	 * a leaf over one of them is found when the child comes) */
	bool path = ptw_table_user_path(e, t);
	ptw_desc d;
	for (unsigned i = 0; path && i < t->nent; i++)
		if (t->shadow[i] && user_leaf(e, t, path, t->shadow[i], &d))
			count_leaf(e, s, c, t, i, t->shadow[i], &d, +1);
	/* its own page, mapped for user code already */
	uint64_t tpage = t->pa & ~((8ULL << (e->page_shift - 3)) - 1);
	user_map *m = user_map_of(s, tpage);
	if (m && c)
		report_pair(e, s, c, tpage, m, true);
}

static void ptm_table_dropped(ptw_engine *e, void *st, ptw_table *t)
{
	ptmapped_state *s = st;
	ptw_desc d;
	for (unsigned i = 0; i < t->nent; i++)
		if (is_counted(s, t, i)) {
			d = ptw_decode_entry(e, t->shadow[i], t->level);
			count_leaf(e, s, NULL, t, i, t->shadow[i], &d, -1);
		}
}

const ptw_detector ptw_det_usermap = {
	.name = "usermap",
	.init = usermap_init,
	.free = usermap_free,
	.entry_changed = ptm_entry_changed,
	.table_added = ptm_table_added,
	.table_dropped = ptm_table_dropped,
	.table_free = g_free,
};
