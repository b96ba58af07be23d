/* SPDX-License-Identifier: MIT */
/*
 * Lost dirty state (DIRTY_LOST), from a patched QEMU's page-table walk
 * callback (qemu-patches/0003), which reports each access/dirty update the
 * MMU writes into an entry: arm64 FEAT_HAFDBS (a write through an entry
 * with DBM clears AP[2]), x86 (a write sets D).
 *
 * Once the MMU has made an entry dirty, the entry is the only record that
 * the page was written. Software that replaces it must read it first and
 * carry the dirty state over (to the entry it writes, to the folio, or on
 * purpose nowhere, as MADV_FREE does): Linux does so with an atomic
 * exchange (ptep_get_and_clear()) or a compare-and-exchange loop
 * (ptep_set_wrprotect(), ptep_set_access_flags() on arm64). A plain store
 * computed from a value read before the MMU's update writes a clean entry
 * over a dirty one: write-back and reclaim then see a clean page and the
 * write is lost (a file page is never written back; an anonymous page
 * without a swap copy is freed as clean after MADV_FREE).
 *
 * The rule: a store that replaces a user leaf entry whose dirty state the
 * MMU set (and no store has replaced since) with an entry that carries no
 * dirty state, hardware or the OS's software bit (Linux: arm64 PTE_DIRTY,
 * x86 _PAGE_SAVED_DIRTY), by a vCPU that has not loaded that dirty value
 * (the load half of an atomic exchange counts): an error. The vCPU's recent
 * page-table loads are kept per vCPU (RECENT_LOADS), since its load may
 * reach the engine before the MMU's report of the update it saw.
 *
 * Only a patched QEMU reports the MMU's updates: stock QEMU finds none.
 */
#include "detectors.h"

/* entries the MMU made dirty and no store has replaced since, at most */
#define MAX_HW_DIRTY 65536

typedef struct {
	uint64_t value; /* the entry as the MMU left it */
	uint64_t va;	/* the access that made it dirty */
	uint64_t gen;	/* the table's registration */
	ptw_ctx ctx;	/* its vCPU (pc: not known) */
} hw_dirtied;

/* entries the MMU made dirty (pte_pa -> record), and each vCPU's last
 * RECENT_LOADS page-table loads (pa, value) */
#define RECENT_LOADS 16
typedef struct {
	GHashTable *hw;
	struct {
		uint64_t pa, value;
	} recent[PTW_MAX_CPUS][RECENT_LOADS];
	unsigned recent_next[PTW_MAX_CPUS];
} dirty_state;

static void *dirty_init(ptw_engine *e, unsigned id)
{
	(void)e;
	(void)id;
	dirty_state *s = g_new0(dirty_state, 1);
	s->hw = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	return s;
}

static void dirty_free(ptw_engine *e, void *st)
{
	(void)e;
	dirty_state *s = st;
	g_hash_table_destroy(s->hw);
	g_free(s);
}

/* the entry carries the page's dirty state (the MMU's, or the OS's) */
static bool dirty_kept(ptw_engine *e, uint64_t d, int level)
{
	if (ptw_decode_entry(e, d, level).type == PTW_DESC_INVALID &&
	    !ptw_linux_present_invalid(e->cfg.arch, d))
		return false;
	return e->ops->hw_dirty(d) || ptw_linux_sw_dirty(e->cfg.arch, d);
}

/* forget records of entries in tables dropped since (a table's page may
 * be freed before its entries are rewritten); called when the set fills */
static void forget_dropped_tables(ptw_engine *e, dirty_state *s)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, s->hw);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		unsigned idx;
		const ptw_table *t = ptw_table_of(e, *(uint64_t *)k, &idx);
		if (!t || t->gen != ((hw_dirtied *)v)->gen)
			g_hash_table_iter_remove(&it);
	}
}

static void dirty_hw_update(ptw_engine *e, void *st, const ptw_ctx *c,
			    ptw_table *t, unsigned idx, uint64_t old,
			    uint64_t new, uint64_t va)
{
	dirty_state *s = st;
	if (!e->ops->hw_dirty(new) || e->ops->hw_dirty(old))
		return; /* the access flag only */
	e->stats[ST_HW_DIRTIED]++;
	uint64_t pa = t->pa + idx * 8ULL;
	if (g_hash_table_size(s->hw) >= MAX_HW_DIRTY &&
	    !g_hash_table_contains(s->hw, &pa))
		forget_dropped_tables(e, s);
	if (g_hash_table_size(s->hw) >= MAX_HW_DIRTY &&
	    !g_hash_table_contains(s->hw, &pa)) {
		if (!e->stats[ST_HW_DIRTY_UNTRACKED]++)
			ptw_warn(e, "hw-dirty-full",
				 "more than %u entries made dirty by the MMU "
				 "and not rewritten since: the others are not "
				 "checked for a lost dirty state (counted in "
				 "hw_dirty_untracked)",
				 MAX_HW_DIRTY);
		return;
	}
	hw_dirtied *h = g_new(hw_dirtied, 1);
	h->value = new;
	h->va = va;
	h->gen = t->gen;
	h->ctx = *c;
	g_hash_table_insert(s->hw, g_memdup2(&pa, sizeof(pa)), h);
}

static void dirty_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			       ptw_table *t, unsigned idx, uint64_t value)
{
	(void)e;
	dirty_state *s = st;
	uint64_t pa = t->pa + idx * 8ULL;
	unsigned n = s->recent_next[c->cpu]++ % RECENT_LOADS;
	s->recent[c->cpu][n].pa = pa;
	s->recent[c->cpu][n].value = value;
}

static bool loaded_recently(dirty_state *s, unsigned cpu, uint64_t pa,
			    uint64_t value)
{
	for (unsigned i = 0; i < RECENT_LOADS; i++)
		if (s->recent[cpu][i].pa == pa &&
		    s->recent[cpu][i].value == value)
			return true;
	return false;
}

static void dirty_entry_written(ptw_engine *e, void *st, const ptw_ctx *c,
				ptw_table *t, unsigned idx, uint64_t old,
				uint64_t new)
{
	dirty_state *s = st;
	if (!g_hash_table_size(s->hw))
		return;
	uint64_t pa = t->pa + idx * 8ULL;
	hw_dirtied *h = g_hash_table_lookup(s->hw, &pa);
	if (!h)
		return;
	hw_dirtied d = *h;
	g_hash_table_remove(s->hw, &pa); /* a store ends the record */
	ptw_desc dold = ptw_decode_entry(e, old, t->level);
	uint64_t va = ptw_entry_va(e, t, idx);
	if (d.value != old || d.gen != t->gen || dirty_kept(e, new, t->level) ||
	    (dold.type != PTW_DESC_PAGE && dold.type != PTW_DESC_BLOCK) ||
	    e->ops->upper_half(va) || loaded_recently(s, c->cpu, pa, old))
		return;
	char detail[512];
	snprintf(detail, sizeof(detail),
		 "vcpu %u's MMU made this entry dirty (a write to VA 0x%" PRIx64
		 ", icount %" PRIu64
		 "); vcpu %u then replaced it with an entry that keeps no "
		 "dirty state (0x%" PRIx64 " -> 0x%" PRIx64
		 ") without having read the dirty entry: a store computed "
		 "from an older value, where an atomic exchange or "
		 "compare-and-exchange would have seen the update; the page "
		 "at 0x%" PRIx64 " now looks clean to write-back and reclaim",
		 d.ctx.cpu, d.va, d.ctx.icount, c->cpu, old, new, dold.oa);
	report2(e, PTW_KIND_DIRTY_LOST, PTW_SEV_ERROR,
		"the only record that the page was written is overwritten: "
		"the write is lost when the page is reclaimed or written back",
		c, "writer", &d.ctx, "dirtied by", pa, va, t->level, old, new,
		detail);
}

const ptw_detector ptw_det_dirty = {
	.name = "dirty",
	.init = dirty_init,
	.free = dirty_free,
	.entry_written = dirty_entry_written,
	.entry_loaded = dirty_entry_loaded,
	.hw_update = dirty_hw_update,
};
