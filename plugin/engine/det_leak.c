/* SPDX-License-Identifier: MIT */
/*
 * SWAP_ENTRY_LEAKED (Linux, seed 004): a user page table is freed while it
 * still holds swap entries.
 *
 * Linux frees a process's page tables (free_pgtables(): each PMD entry
 * cleared, then the PTE table freed) only after the unmap that precedes it
 * (unmap_vmas() at munmap() and exit) has taken every entry out of them:
 * a swap entry is a reference to its slot (swap_map's count) and is
 * counted in the mm's MM_SWAPENTS, and zap_pte_range() drops both
 * (free_swap_and_cache_nr(), rss[MM_SWAPENTS]--). A table unlinked with a
 * swap entry left in it takes the only pointer to that reference away: the
 * slot is never freed (the swap device fills up) and MM_SWAPENTS stays
 * counted, which check_mm() reports at exit as "Bad rss-counter state ...
 * type:MM_SWAPENTS" on a kernel built with it. Seed 004 (5abfd71d936a
 * taken back) makes zap_pte_range() skip every swap entry whenever its
 * caller passed zap_details, which unmap_vmas() always does.
 *
 * The rule: a user last-level table is unlinked (its parent entry no
 * longer points to it) holding swap-device entries, and is not linked
 * again with them. A table moved as a whole is linked again at once, its
 * entries intact (mremap's move_normal_pmd(); khugepaged's failed
 * collapse, which puts the table back): those are no leak. So the unlink
 * is judged later: when the same table is linked again (still holding the
 * entries: moved, nothing; zeroed: the page was freed and reused, the
 * leak), when 65536 entry changes have passed, when too many unlinks
 * wait, or at the end of the run. Found at munmap() or exit, before the
 * slot's absence is felt, on any kernel ptwatch has symbols for (no BTF
 * needed). The report's other side is the unlinking task's own last read
 * of the first entry left behind (the unmap that read it and went on),
 * when there is one.
 */
#include "detectors.h"

#define MAX_WAITING 1024  /* unlinks waiting to be judged */
#define JUDGE_AFTER 65536 /* entry changes an unlink waits at most */
#define MAX_READS   65536 /* swap-entry reads remembered (cleared past) */

typedef struct {
	uint64_t tpa;	  /* the unlinked table */
	uint64_t va;	  /* VA of its first entry left behind */
	uint64_t pte_pa;  /* ... and where that entry is */
	uint64_t value;	  /* ... its value */
	unsigned nswap;	  /* swap-device entries in the table */
	int level;	  /* the table's */
	uint64_t changes; /* the engine's entry changes at the unlink */
	ptw_ctx unlink;
	bool has_read;
	ptw_ctx read; /* the unlinking task's last read of that entry */
} unlinked;

typedef struct {
	uint64_t who;
	ptw_ctx c;
} swap_read;

#define ZAP_CACHE 256

typedef struct {
	unlinked wait[MAX_WAITING];
	unsigned head, n;
	GHashTable *reads; /* pte_pa -> swap_read: the last read of a swap
			      entry in a user table */
	int on;		   /* -1 not decided yet */
	uint64_t unlinks, moved, leaked;
	/* whether a kernel PC is in an unmap (ptw_linux_zapper()), by PC:
	 * swap entries are read by the million, by a few hundred PCs */
	struct {
		uint64_t pc;
		bool zapper;
	} zap_cache[ZAP_CACHE];
} leak_state;

static void *leak_init(ptw_engine *e, unsigned id)
{
	(void)e;
	(void)id;
	leak_state *s = g_new0(leak_state, 1);
	s->reads = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	s->on = -1;
	return s;
}

static void leak_free(ptw_engine *e, void *st)
{
	(void)e;
	leak_state *s = st;
	g_hash_table_destroy(s->reads);
	g_free(s);
}

static bool leak_on(ptw_engine *e, leak_state *s)
{
	if (s->on < 0)
		s->on = ptw_guest_is_linux(e);
	return s->on;
}

/* a swap-device entry of a user last-level table */
static bool user_swap_entry(ptw_engine *e, const ptw_table *t, unsigned idx,
			    uint64_t v)
{
	unsigned type;
	uint64_t off;
	return ptw_linux_swap_device_entry(e->cfg.arch, v, &type, &off) &&
	       ptw_is_last_level(e, t->level) && t->space != PTW_KSPACE &&
	       !e->ops->upper_half(ptw_entry_va(e, t, idx));
}

static void report_leak(ptw_engine *e, leak_state *s, const unlinked *u)
{
	s->leaked++;
	char desc[80];
	ptw_linux_describe_swap(e->cfg.arch, u->value, desc, sizeof(desc));
	char d[sizeof(((ptw_finding *)0)->detail)];
	snprintf(d, sizeof(d),
		 "the last-level table at PA 0x%" PRIx64
		 " was unlinked holding %u swap entr%s (the first at VA "
		 "0x%" PRIx64
		 ": %s) and was not linked again with them: each is a "
		 "reference to its swap slot and counted in the mm's "
		 "MM_SWAPENTS, which only the unmap that clears the entry "
		 "drops (zap_pte_range(): free_swap_and_cache_nr()); the "
		 "slots are never freed and check_mm() finds the counter off "
		 "at exit (seed 004: the unmap skipped swap entries)%s",
		 u->tpa, u->nswap, u->nswap == 1 ? "y" : "ies", u->va, desc,
		 u->has_read ? "; the other side is the unlinking task's own "
			       "last read of that entry: it saw the swap "
			       "entry and left it"
			     : "");
	report2(e, PTW_KIND_SWAP_ENTRY_LEAKED, PTW_SEV_ERROR,
		"a page table freed with swap entries in it: their slots leak "
		"and the mm's swap counter is wrong",
		&u->unlink, "unlinked the table", u->has_read ? &u->read : NULL,
		"read the entry and left it", u->pte_pa, u->va, u->level,
		u->value, u->value, d);
}

static unlinked *oldest(leak_state *s)
{
	return &s->wait[s->head];
}

static void pop(leak_state *s)
{
	s->head = (s->head + 1) % MAX_WAITING;
	s->n--;
}

/* judge the unlinks that waited long enough (all: at the end) */
static void judge_due(ptw_engine *e, leak_state *s, bool all)
{
	while (s->n &&
	       (all || e->stats[ST_ENTRY_CHANGES] - oldest(s)->changes >=
			       JUDGE_AFTER)) {
		unlinked u = *oldest(s);
		pop(s);
		if (u.tpa)
			report_leak(e, s, &u);
	}
}

/* table tpa is linked again: moved with its entries (no leak), or its page
 * freed and reused (the entries gone with it: the leak) */
static void relinked(ptw_engine *e, leak_state *s, uint64_t tpa)
{
	for (unsigned k = 0; k < s->n; k++) {
		unlinked *u = &s->wait[(s->head + k) % MAX_WAITING];
		if (u->tpa != tpa)
			continue;
		uint64_t now = 0;
		bool same = ptw_read_phys(e, u->pte_pa, &now, sizeof(now)) &&
			    now == u->value;
		if (same)
			s->moved++;
		else
			report_leak(e, s, u);
		u->tpa = 0; /* judged */
	}
}

/* entry idx of t, pointing to a last-level table, was unlinked: note the
 * swap entries the table still holds */
static void unlinking(ptw_engine *e, leak_state *s, const ptw_ctx *c,
		      ptw_table *child)
{
	s->unlinks++;
	unlinked u = {0};
	for (unsigned i = 0; i < child->nent; i++) {
		if (!user_swap_entry(e, child, i, child->shadow[i]))
			continue;
		if (!u.nswap++) {
			u.pte_pa = child->pa + i * 8ULL;
			u.va = ptw_entry_va(e, child, i);
			u.value = child->shadow[i];
		}
	}
	if (!u.nswap)
		return;
	u.tpa = child->pa;
	u.level = child->level;
	u.changes = e->stats[ST_ENTRY_CHANGES];
	u.unlink = *c;
	uint64_t who = ptw_task_who(e, c->cpu);
	swap_read *r = g_hash_table_lookup(s->reads, &u.pte_pa);
	if (r && r->who == who) {
		u.has_read = true;
		u.read = r->c;
	}
	if (s->n == MAX_WAITING) {
		unlinked old = *oldest(s);
		pop(s);
		if (old.tpa)
			report_leak(e, s, &old);
	}
	s->wait[(s->head + s->n++) % MAX_WAITING] = u;
}

/* whether c's PC is in one of Linux's unmap functions; a kernel PC's
 * answer is kept (the symbols do not change once loaded) */
static bool in_zapper(ptw_engine *e, leak_state *s, const ptw_ctx *c)
{
	bool kernel = e->ops->upper_half(c->pc);
	unsigned slot =
		(unsigned)(c->pc * 0x9e3779b97f4a7c15ULL >> 56) % ZAP_CACHE;
	if (kernel && c->pc && s->zap_cache[slot].pc == c->pc)
		return s->zap_cache[slot].zapper;
	char sym[96];
	ptw_symbolize(e, c->cpu, c->pc, sym, sizeof(sym));
	bool z = sym[0] && ptw_linux_zapper(sym);
	if (kernel && sym[0]) {
		s->zap_cache[slot].pc = c->pc;
		s->zap_cache[slot].zapper = z;
	}
	return z;
}

static void leak_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t value)
{
	leak_state *s = st;
	if (!user_swap_entry(e, t, idx, value) || !leak_on(e, s))
		return;
	uint64_t pte_pa = t->pa + idx * 8ULL;
	swap_read *r = g_hash_table_lookup(s->reads, &pte_pa);
	if (!r) {
		if (g_hash_table_size(s->reads) >= MAX_READS)
			g_hash_table_remove_all(s->reads);
		r = g_new0(swap_read, 1);
		g_hash_table_insert(s->reads, g_memdup2(&pte_pa, 8), r);
	}
	r->who = ptw_task_who(e, c->cpu);
	r->c = *c;
	/* the read a leak names is the unmap's (zap_pte_range()): its stack
	 * is taken, not those of the many other readers of swap entries
	 * (faults, reclaim's and readahead's walks) */
	if (in_zapper(e, s, c))
		ptw_stack_capture(e, &r->c);
}

static void leak_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			       ptw_table *t, unsigned idx, uint64_t old,
			       uint64_t new)
{
	leak_state *s = st;
	if (!leak_on(e, s))
		return;
	judge_due(e, s, false);
	if (ptw_is_last_level(e, t->level)) {
		if (user_swap_entry(e, t, idx, old)) {
			uint64_t pte_pa = t->pa + idx * 8ULL;
			g_hash_table_remove(s->reads, &pte_pa);
		}
		return;
	}
	ptw_desc dold = ptw_decode_entry(e, old, t->level);
	ptw_desc dnew = ptw_decode_entry(e, new, t->level);
	if (dnew.type == PTW_DESC_TABLE && s->n)
		relinked(e, s, dnew.oa);
	if (dold.type != PTW_DESC_TABLE ||
	    (dnew.type == PTW_DESC_TABLE && dnew.oa == dold.oa))
		return;
	unsigned i;
	ptw_table *child = ptw_table_of(e, dold.oa, &i);
	if (child && child->pa == dold.oa && !child->is_root &&
	    ptw_is_last_level(e, child->level) && child->space != PTW_KSPACE)
		unlinking(e, s, c, child);
}

static void leak_finish(ptw_engine *e, void *st)
{
	judge_due(e, st, true);
}

static void leak_summary_stats(ptw_engine *e, void *st, FILE *f)
{
	(void)e;
	leak_state *s = st;
	fprintf(f,
		",\n    \"user_table_unlinks\": %" PRIu64
		", \"swap_tables_moved\": %" PRIu64
		", \"swap_tables_leaked\": %" PRIu64,
		s->unlinks, s->moved, s->leaked);
}

const ptw_detector ptw_det_leak = {
	.name = "leak",
	.init = leak_init,
	.free = leak_free,
	.entry_changed = leak_entry_changed,
	.entry_loaded = leak_entry_loaded,
	.finish = leak_finish,
	.summary_stats = leak_summary_stats,
};
