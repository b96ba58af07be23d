/* SPDX-License-Identifier: MIT */
/*
 * ZAP_LEFT_ENTRY (Linux, seed 004): a zap that had to remove an entry read
 * it and left it.
 *
 * zap_page_range_single(vma, start, size, details) removes the entries of
 * one VMA's range (mm/memory.c). What it must remove is the caller's to
 * say: with no zap_details (MADV_DONTNEED), or with details->even_cows
 * (a truncation: truncate_pagecache() -> unmap_mapping_range(..., 1)),
 * everything, the private COW pages of a file mapping too
 * (should_zap_cows()); with even_cows false (a hole punch, an
 * invalidation of the page cache) every page of the file but not the
 * private anonymous copies (should_zap_folio()). zap_pte_range() reads
 * each entry of the range under the PTE lock and, in the same pass,
 * clears it or keeps it by that rule. So an entry the zapping task read
 * in its zap that it had to remove, and did not write before the zap
 * ended, was left:
 *   - a swap entry, when COW pages go too: a private COW page of a
 *     truncated file stays mapped past EOF (the next fault swaps it in
 *     where Linux must raise SIGBUS), and its swap slot stays counted;
 *   - a migration entry, when COW pages go too, or of a page-cache page
 *     when they do not: when the migration completes,
 *     remove_migration_ptes() maps the page that left its file (a read
 *     returns its old data instead of the hole's zeros).
 * Seed 004 (5abfd71d936a taken back) makes zap_pte_range() skip every
 * swap and migration entry whenever details is passed.
 *
 * The zap's end is the task's next zap or its return to user mode (or the
 * end of the run): the task's reads of the range between its call and
 * then, by the zap's own functions (ptw_linux_zapper()), are the zap's.
 * An entry another task changes after the zap read it is no longer what
 * the zap left: zap_pte_range() may stop after a read when it should
 * reschedule (need_resched()), drop the lock, and read the range again
 * after cond_resched(), by when a fault may have swapped the page in or
 * another zap cleared it. So a read counts only while its entry still
 * holds what was read.
 * Found when the truncating call returns, before the program can touch
 * the range again. Needs the kernel's symbols, and its BTF for
 * details->even_cows (a zap with details is skipped, and counted, without
 * it); a migration entry when COW pages stay needs the page's anon flag.
 */
#include "detectors.h"

#define MAX_OPS	 16   /* zaps open at once (tasks zapping) */
#define MAX_LEFT 4096 /* entries of one zap awaiting its end */

typedef struct {
	uint64_t pte_pa, va, value;
	int level;
	ptw_ctx read; /* the zap's read of it */
} left_entry;

typedef struct {
	uint64_t who; /* the zapping task; 0: a free slot */
	uint64_t start, end;
	bool cows;
	uint64_t returns; /* the task's returns to user at the call */
	ptw_ctx call;
	GArray *left; /* left_entry: read, to go, not written since */
} zap_op;

typedef struct {
	zap_op op[MAX_OPS];
	unsigned nopen;
	int on; /* -1 not decided yet */
	uint64_t calls, cows_calls, details_unknown, left_zaps;
} zap_state;

static void *zap_init(ptw_engine *e, unsigned id)
{
	(void)e;
	(void)id;
	zap_state *s = g_new0(zap_state, 1);
	for (unsigned i = 0; i < MAX_OPS; i++)
		s->op[i].left = g_array_new(FALSE, FALSE, sizeof(left_entry));
	s->on = -1;
	return s;
}

static void zap_free(ptw_engine *e, void *st)
{
	(void)e;
	zap_state *s = st;
	for (unsigned i = 0; i < MAX_OPS; i++)
		g_array_free(s->op[i].left, TRUE);
	g_free(s);
}

static void report_left(ptw_engine *e, zap_state *s, const zap_op *o)
{
	const left_entry *l = &g_array_index(o->left, left_entry, 0);
	uint64_t pfn;
	bool migration = ptw_linux_pfn_entry(e->cfg.arch, l->value, &pfn);
	char desc[96];
	describe_nonpresent(e, l->value, l->level, desc, sizeof(desc));
	char d[sizeof(((ptw_finding *)0)->detail)];
	snprintf(d, sizeof(d),
		 "zap_page_range_single() of [0x%" PRIx64 ", 0x%" PRIx64
		 ") had to remove %s (%s) and left %u entr%s it read there, "
		 "the first at VA 0x%" PRIx64 ": %s. %s (seed 004: "
		 "zap_pte_range() skipped swap and migration entries whenever "
		 "it was passed zap_details)",
		 o->start, o->end,
		 o->cows ? "everything, private COW pages too"
			 : "every page of the file",
		 o->cows ? "a truncation, or no zap_details"
			 : "a hole punch or page-cache invalidation",
		 o->left->len, o->left->len == 1 ? "y" : "ies", l->va, desc,
		 migration ? "A migration entry left in the range is restored "
			     "when the migration completes "
			     "(remove_migration_ptes()): the page that left "
			     "its file is mapped again and read instead of "
			     "the hole's zeros"
			   : "A swap entry left in a truncated range maps its "
			     "private COW page past EOF again at the next "
			     "fault, where Linux must raise SIGBUS, and keeps "
			     "its swap slot counted");
	s->left_zaps++;
	report2(e, PTW_KIND_ZAP_LEFT_ENTRY, PTW_SEV_ERROR,
		"an entry a zap had to remove is still there: the range maps "
		"what the zap took away",
		&l->read, "read the entry and left it", &o->call,
		"zapped the range", l->pte_pa, l->va, l->level, l->value,
		l->value, d);
}

/* the zap ended: what it read and had to remove, and left, is reported */
static void zap_end(ptw_engine *e, zap_state *s, zap_op *o)
{
	if (o->left->len)
		report_left(e, s, o);
	g_array_set_size(o->left, 0);
	o->who = 0;
	s->nopen--;
}

/* end the zaps whose task has returned to user mode since */
static void end_returned(ptw_engine *e, zap_state *s)
{
	for (unsigned i = 0; i < MAX_OPS && s->nopen; i++)
		if (s->op[i].who &&
		    ptw_task_returns(e, s->op[i].who) != s->op[i].returns)
			zap_end(e, s, &s->op[i]);
}

static zap_op *op_of(zap_state *s, uint64_t who)
{
	for (unsigned i = 0; i < MAX_OPS; i++)
		if (s->op[i].who == who)
			return &s->op[i];
	return NULL;
}

static void zap_zap(ptw_engine *e, void *st, const ptw_ctx *c,
		    const ptw_linux_zap *z)
{
	zap_state *s = st;
	if (s->on < 0)
		s->on = ptw_guest_is_linux(e);
	if (!s->on)
		return;
	uint64_t who = ptw_task_who(e, c->cpu);
	zap_op *o = op_of(s, who);
	if (o)
		zap_end(e, s, o);
	s->calls++;
	if (!z->cows_known) {
		s->details_unknown++;
		return;
	}
	s->cows_calls += z->cows;
	o = op_of(s, 0);
	if (!o) { /* more tasks zapping than slots: end the oldest */
		o = &s->op[0];
		for (unsigned i = 1; i < MAX_OPS; i++)
			if (s->op[i].call.icount < o->call.icount)
				o = &s->op[i];
		zap_end(e, s, o);
	}
	s->nopen++;
	o->who = who;
	o->start = z->start;
	o->end = z->end;
	o->cows = z->cows;
	o->returns = ptw_task_returns(e, who);
	o->call = *c;
	ptw_stack_capture(e, &o->call);
}

/* the zap of o had to remove value (a non-present entry of a user
 * last-level table in its range) */
static bool must_go(ptw_engine *e, const zap_op *o, uint64_t value)
{
	unsigned type;
	uint64_t off, pfn;
	if (ptw_linux_swap_device_entry(e->cfg.arch, value, &type, &off))
		return o->cows;
	if (!ptw_linux_pfn_entry(e->cfg.arch, value, &pfn))
		return false;
	/* a migration entry (device entries are anon: should_zap_folio()
	 * keeps them like any anon page without cows) */
	if (o->cows)
		return true;
	ptw_linux_page_info pg;
	return ptw_linux_page(e, pfn, &pg) && !pg.anon && pg.mapping;
}

static void zap_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			     ptw_table *t, unsigned idx, uint64_t value)
{
	zap_state *s = st;
	if (!s->nopen)
		return;
	end_returned(e, s);
	zap_op *o = s->nopen ? op_of(s, ptw_task_who(e, c->cpu)) : NULL;
	if (!o || !ptw_is_last_level(e, t->level) || t->space == PTW_KSPACE)
		return;
	uint64_t va = ptw_entry_va(e, t, idx);
	if (va < o->start || va >= o->end || !must_go(e, o, value))
		return;
	uint64_t pte_pa = t->pa + idx * 8ULL;
	for (unsigned i = 0; i < o->left->len; i++)
		if (g_array_index(o->left, left_entry, i).pte_pa == pte_pa)
			return;
	char sym[96];
	ptw_symbolize(e, c->cpu, c->pc, sym, sizeof(sym));
	if (!sym[0] || !ptw_linux_zapper(sym) || o->left->len >= MAX_LEFT)
		return;
	left_entry l = {.pte_pa = pte_pa,
			.va = va,
			.value = value,
			.level = t->level,
			.read = *c};
	ptw_stack_capture(e, &l.read);
	g_array_append_val(o->left, l);
}

/* a store to an entry a zap read: by the zapping task, the zap removed
 * (or kept) it; by another, the entry is no longer what the zap read
 * (it stopped to reschedule and will read it again). Zaps that ended
 * before the store are judged first. */
static void zap_entry_written(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new)
{
	(void)c;
	(void)old;
	(void)new;
	zap_state *s = st;
	if (!s->nopen)
		return;
	end_returned(e, s);
	uint64_t pte_pa = t->pa + idx * 8ULL;
	for (unsigned k = 0; k < MAX_OPS && s->nopen; k++) {
		GArray *a = s->op[k].left;
		for (unsigned i = 0; s->op[k].who && i < a->len; i++)
			if (g_array_index(a, left_entry, i).pte_pa == pte_pa) {
				g_array_remove_index(a, i);
				break;
			}
	}
}

static void zap_finish(ptw_engine *e, void *st)
{
	zap_state *s = st;
	for (unsigned i = 0; i < MAX_OPS; i++)
		if (s->op[i].who)
			zap_end(e, s, &s->op[i]);
}

static void zap_summary_stats(ptw_engine *e, void *st, FILE *f)
{
	(void)e;
	zap_state *s = st;
	fprintf(f,
		",\n    \"zap_calls\": %" PRIu64 ", \"zap_even_cows\": %" PRIu64
		", \"zap_details_unknown\": %" PRIu64
		", \"zaps_left_entries\": %" PRIu64,
		s->calls, s->cows_calls, s->details_unknown, s->left_zaps);
}

const ptw_detector ptw_det_zap = {
	.name = "zap",
	.init = zap_init,
	.free = zap_free,
	.zap = zap_zap,
	.entry_loaded = zap_entry_loaded,
	.entry_written = zap_entry_written,
	.finish = zap_finish,
	.summary_stats = zap_summary_stats,
};
