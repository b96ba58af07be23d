/* SPDX-License-Identifier: MIT */
/*
 * PT_PAGE_MAPPED: a live page-table page that user code can reach through
 * a leaf entry (the "Dirty Pagetable" exploitation primitive: a page the
 * kernel uses as a page table is also mapped into a user address space,
 * so user code reads and writes page-table entries directly). Whatever the
 * order: a user-reachable leaf made over a live table page, or a page
 * mapped that way linked in as a table. The architecture says what user
 * code may pass (ptw_arch_ops.user_ok: arm64 AP[1] and APTable, x86 U/S at
 * every level); the core says which pages are live tables.
 *
 * Kept: every user-reachable leaf of the tracked tables, counted by what
 * it maps (base, size). Not modelled: a change of a table entry's user
 * permission above a leaf after the leaf was counted (arm64 APTable,
 * x86 U/S of a directory) is seen for the leaves written after it.
 */
#include "detectors.h"

#define NSIZES 4
static const uint64_t sizes[NSIZES] = {4096ULL, 2ULL << 20, 1ULL << 30,
				       512ULL << 30};
#define MAX_REPORTED 65536

/* the user-reachable leaves mapping one (base, size) */
typedef struct {
	unsigned count;
	uint64_t pte_pa, va, desc; /* the latest of them */
	int level;
	ptw_ctx made; /* when it was made (icount 0: found in a new table) */
} user_map;

typedef struct {
	unsigned id;
	GHashTable *maps;     /* base | size index -> user_map */
	GHashTable *reported; /* (table page, leaf entry) reported */
} ptmapped_state;

static void *ptm_init(ptw_engine *e, unsigned id)
{
	(void)e;
	ptmapped_state *s = g_new0(ptmapped_state, 1);
	s->id = id;
	s->maps = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	s->reported = g_hash_table_new_full(u64_hash, u64_eq, g_free, NULL);
	return s;
}

static void ptm_free(ptw_engine *e, void *st)
{
	(void)e;
	ptmapped_state *s = st;
	g_hash_table_destroy(s->maps);
	g_hash_table_destroy(s->reported);
	g_free(s);
}

/* per table: which entries are counted in maps (so each count is taken
 * back exactly once, whatever happened above the table since) */
static uint64_t *counted_of(ptmapped_state *s, ptw_table *t)
{
	uint64_t **slot = (uint64_t **)ptw_table_slot(t, s->id);
	if (!*slot)
		*slot = g_new0(uint64_t, (t->nent + 63) / 64);
	return *slot;
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
	*d = ptw_decode_entry(e, desc, t->level);
	return path &&
	       (d->type == PTW_DESC_PAGE || d->type == PTW_DESC_BLOCK) &&
	       size_index(d->size) >= 0 && e->ops->user_ok(desc, true);
}
static void report_pair(ptw_engine *e, ptmapped_state *s, const ptw_ctx *c,
			uint64_t page, const user_map *m, bool table_came_last)
{
	uint64_t key = page * 0x9e3779b97f4a7c15ULL ^ m->pte_pa;
	if (g_hash_table_contains(s->reported, &key))
		return;
	if (g_hash_table_size(s->reported) >= MAX_REPORTED)
		g_hash_table_remove_all(s->reported);
	g_hash_table_add(s->reported, g_memdup2(&key, sizeof(key)));
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
static void count_leaf(ptw_engine *e, ptmapped_state *s, const ptw_ctx *c,
		       ptw_table *t, unsigned idx, uint64_t desc,
		       const ptw_desc *d, int delta)
{
	uint64_t key = map_key(d->oa, size_index(d->size));
	user_map *m = g_hash_table_lookup(s->maps, &key);
	uint64_t *counted = counted_of(s, t), bit = 1ULL << (idx % 64);
	if (delta < 0) {
		counted[idx / 64] &= ~bit;
		if (m && --m->count == 0)
			g_hash_table_remove(s->maps, &key);
		return;
	}
	if (!m) {
		m = g_new0(user_map, 1);
		g_hash_table_insert(s->maps, g_memdup2(&key, sizeof(key)), m);
	}
	m->count++;
	counted[idx / 64] |= bit;
	m->pte_pa = t->pa + idx * 8ULL;
	m->va = ptw_entry_va(e, t, idx);
	m->desc = desc;
	m->level = t->level;
	m->made = c ? *c : (ptw_ctx){0};
	if (!c)
		return;
	for (uint64_t p = d->oa; p < d->oa + d->size; p += 4096)
		if (ptw_is_table_page(e, p))
			report_pair(e, s, c, p, m, false);
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
	user_map *m = user_map_of(s, t->pa & ~0xfffULL);
	if (m && c)
		report_pair(e, s, c, t->pa & ~0xfffULL, m, true);
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

const ptw_detector ptw_det_ptmapped = {
	.name = "ptmapped",
	.init = ptm_init,
	.free = ptm_free,
	.entry_changed = ptm_entry_changed,
	.table_added = ptm_table_added,
	.table_dropped = ptm_table_dropped,
	.table_free = g_free,
};
