/* SPDX-License-Identifier: MIT */
/*
 * ptwatch detectors built on the shadow page tables (engine.c):
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
 */
#include <string.h>

#include "engine_internal.h"

#define ABA_WINDOW 2000000ULL /* guest instructions between the two reads */
/* A CPU that loaded an entry inside another CPU's break re-validates it
 * when it loads the entry again after the make, before it returns to user
 * mode and within this many of its instructions (handle_pte_fault()'s
 * re-check under the PTE lock, contpte_ptep_get_lockless()'s retry). */
#define WR_WINDOW                                                              \
	2000000ULL  /* counted from the reader's first page-table              \
			 load after the make */
#define MAX_WR 1024 /* pending window reads per reader CPU */
/* a reader restarts its walk of a block when it reads again an entry of
 * the block that it read at most this many instructions before its read in
 * the window (contpte_ptep_get_lockless(): 16 loads and a retry) */
#define RESTART_WINDOW 4096ULL
/* A break is a transient window (contpte fold/unfold, mprotect's
 * modify_prot_start/commit, COW's clear-flush-set) while its breaker writes
 * no page-table entry outside the entry's group (its unit, or the aligned 16
 * entries around it) before making it again. A break followed by writes
 * elsewhere is an unmap; a later map of the same VA is unrelated. */
#define MAX_CAND	    256
#define MAX_BREAKS	    65536
#define MAX_ABA		    262144
#define CLIENT_TRACK	    0x50570004
#define CLIENT_UNTRACK	    0x50570005
#define CLIENT_EXPECT_WRITE 0x50570006

typedef struct {
	uint64_t who, pte_pa; /* the key's parts (the key is a hash) */
	uint64_t value;
	uint32_t ver, iver;
	uint64_t gen; /* table registration the version belongs to */
	uint64_t icount, pc;
	unsigned cpu;		/* the vCPU that read */
	uint64_t lower_entries; /* the reader's returns to user so far */
	bool ahead;		/* read a value the shadow did not hold yet */
} aba_read;

/* Who reads, for PTE_ABA: the guest task the vCPU runs (a kernel address
 * on Linux) or, while no task is known, the vCPU (1 + its number). */
uint64_t det_who(const ptw_engine *e, unsigned cpu)
{
	return e->task[cpu] ? e->task[cpu] : cpu + 1ULL;
}

/* e->aba's key: one reader's last read of one entry */
static uint64_t aba_key(uint64_t who, uint64_t pte_pa)
{
	return who * 0x9e3779b97f4a7c15ULL ^ pte_pa;
}

static aba_read *aba_lookup(ptw_engine *e, uint64_t who, uint64_t pte_pa)
{
	uint64_t key = aba_key(who, pte_pa);
	aba_read *r = g_hash_table_lookup(e->aba, &key);
	return r && r->who == who && r->pte_pa == pte_pa ? r : NULL;
}

/* The reader's returns to user mode so far: a task's own (those of its
 * earlier runs, plus those of its vCPU since it was switched in), or the
 * vCPU's. */
uint64_t det_who_returns(ptw_engine *e, uint64_t who)
{
	if (who <= PTW_MAX_CPUS)
		return e->lower_entries[who - 1];
	uint64_t *n = g_hash_table_lookup(e->task_lower, &who);
	uint64_t sum = n ? *n : 0;
	for (unsigned k = 0; k < e->cfg.ncpus; k++)
		if (e->task[k] == who)
			sum += e->lower_entries[k] - e->task_lower_base[k];
	return sum;
}

void det_task_switch(ptw_engine *e, unsigned cpu, uint64_t task)
{
	uint64_t old = e->task[cpu];
	if (old == task)
		return;
	e->stats[ST_TASK_SWITCHES]++;
	if (old) {
		uint64_t ran = e->lower_entries[cpu] - e->task_lower_base[cpu];
		uint64_t *n = g_hash_table_lookup(e->task_lower, &old);
		if (!n) {
			if (g_hash_table_size(e->task_lower) >= MAX_ABA)
				g_hash_table_remove_all(e->task_lower);
			n = g_new0(uint64_t, 1);
			g_hash_table_insert(e->task_lower,
					    g_memdup2(&old, sizeof(old)), n);
		}
		*n += ran;
	}
	e->task[cpu] = task;
	e->task_lower_base[cpu] = e->lower_entries[cpu];
}

/* why the last TLBI of a break did not count (ptw_break.miss_why) */
enum {
	MISS_NONE,
	MISS_BEFORE_DSB,
	MISS_ASID,
	MISS_VA,
	MISS_LOCAL,
};

static void miss_describe(const ptw_break *b, char *buf, size_t n);

/* A CPU's load of an entry inside another CPU's break. Its severity waits
 * for the reader's next moves and for the break to close (window_read_*). */
typedef struct {
	ptw_finding f; /* ctx: the read; other: the break */
	uint64_t pte_pa, tpa;
	unsigned gbase, gn;   /* the break's group in table tpa */
	uint64_t seq;	      /* the break's serial */
	uint64_t lower;	      /* the reader's returns to user at its read */
	bool made;	      /* the breaker made the entry again (transient) */
	uint64_t after;	      /* the reader's icount at its first page-table
				 load after the make (0: none yet) */
	ptw_severity decided; /* known before the make, or PTW_SEV_NONE */
	char how[256];
} window_read;

/* A pass that took down part of a unit while other entries of it were in
 * another CPU's break window: a finding once such an entry comes back. */
typedef struct {
	uint64_t id;
	uint64_t pte_pa, va;
	int level;
	char detail[400];
	ptw_ctx pass_ctx;
	unsigned pending; /* break records pointing here */
} suspect;

static GHashTable *suspects_of(ptw_engine *e);

typedef struct {
	uint64_t space, va8;
	uint8_t val[8];
	uint8_t known;
	unsigned cpu;
	uint64_t pc, icount; /* the last store */
} data_slot;

typedef struct {
	uint64_t space, lo, hi; /* [lo, hi) */
} region;

static guint u64_hash(gconstpointer p)
{
	uint64_t v = *(const uint64_t *)p;
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (guint)v;
}

static gboolean u64_eq(gconstpointer a, gconstpointer b)
{
	return *(const uint64_t *)a == *(const uint64_t *)b;
}

static guint slot_hash(gconstpointer p)
{
	const data_slot *s = p;
	uint64_t k = s->space * 0x9e3779b97f4a7c15ULL ^ s->va8;
	return u64_hash(&k);
}

static gboolean slot_eq(gconstpointer a, gconstpointer b)
{
	const data_slot *x = a, *y = b;
	return x->space == y->space && x->va8 == y->va8;
}

void det_init(ptw_engine *e)
{
	e->breaks = g_hash_table_new_full(u64_hash, u64_eq, NULL, g_free);
	e->unclean = g_ptr_array_new();
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		e->cand[i] = g_ptr_array_new();
	e->aba = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	e->task_lower = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	e->regions = g_array_new(FALSE, TRUE, sizeof(region));
	e->data = g_hash_table_new_full(slot_hash, slot_eq, g_free, NULL);
	e->data_reported =
		g_hash_table_new_full(u64_hash, u64_eq, g_free, NULL);
	for (int i = 0; i < PTW_MAX_CPUS; i++) {
		e->cont_dirty[i] =
			g_array_new(FALSE, FALSE, sizeof(ptw_cont_group));
		e->new_units[i] =
			g_array_new(FALSE, FALSE, sizeof(ptw_cont_group));
		e->wr[i] = g_array_new(FALSE, FALSE, sizeof(window_read));
	}
}

void det_free(ptw_engine *e)
{
	g_ptr_array_free(e->unclean, TRUE);
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_ptr_array_free(e->cand[i], TRUE);
	g_hash_table_destroy(e->breaks);
	g_hash_table_destroy(e->aba);
	g_hash_table_destroy(e->task_lower);
	g_array_free(e->regions, TRUE);
	g_hash_table_destroy(e->data);
	g_hash_table_destroy(e->data_reported);
	if (e->suspects)
		g_hash_table_destroy(e->suspects);
	for (int i = 0; i < PTW_MAX_CPUS; i++) {
		g_array_free(e->cont_dirty[i], TRUE);
		g_array_free(e->new_units[i], TRUE);
		g_array_free(e->wr[i], TRUE);
	}
}

static void report2(ptw_engine *e, ptw_kind k, ptw_severity sev,
		    const char *sev_why, const ptw_ctx *c, const char *role,
		    const ptw_ctx *other, const char *other_role,
		    uint64_t pte_pa, uint64_t va, int level, uint64_t old,
		    uint64_t new, const char *detail)
{
	ptw_finding f = {0};
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

static void report(ptw_engine *e, ptw_kind k, ptw_severity sev,
		   const char *sev_why, const ptw_ctx *c, uint64_t pte_pa,
		   uint64_t va, int level, uint64_t old, uint64_t new,
		   const char *detail)
{
	report2(e, k, sev, sev_why, c, NULL, NULL, NULL, pte_pa, va, level, old,
		new, detail);
}

static const char *bbm_change_reason(ptw_engine *e, uint64_t old, uint64_t new,
				     int level)
{
	return e->ops->bbm_reason ? e->ops->bbm_reason(e, old, new, level)
				  : NULL;
}

/* Describe a non-present entry with the guest-OS layer (Linux swap and
 * migration entry layouts). */
static void describe_nonpresent(ptw_engine *e, uint64_t d, int level, char *buf,
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

/* ------------------------------------------------------------------ */
/* break windows */

static break_state break_state_of(const ptw_break *b)
{
	if (!b->need)
		return BREAK_CLEAN;
	if (!b->stored)
		return BREAK_UNSYNCED;
	return b->inflight ? BREAK_INVALIDATING : BREAK_UNCLEAN;
}

static ptw_break *break_get(ptw_engine *e, uint64_t pte_pa)
{
	return g_hash_table_lookup(e->breaks, &pte_pa);
}

static void suspect_release(ptw_engine *e, ptw_break *b, const ptw_ctx *c,
			    bool came_back);

static void unclean_drop(ptw_engine *e, ptw_break *b)
{
	if (b->unclean_listed) {
		g_ptr_array_remove_fast(e->unclean, b);
		b->unclean_listed = false;
	}
}

static void cand_drop(ptw_engine *e, ptw_break *b)
{
	if (b->in_cand) {
		g_ptr_array_remove(e->cand[b->cpu], b);
		b->in_cand = false;
	}
}

/* cpu wrote entry idx of t: its breaks outside that group are not
 * transient any more. */
static void cand_moved(ptw_engine *e, unsigned cpu, ptw_table *t, unsigned idx)
{
	GPtrArray *a = e->cand[cpu];
	for (guint i = 0; i < a->len;) {
		ptw_break *b = g_ptr_array_index(a, i);
		if (b->tpa == t->pa && idx >= b->group_base &&
		    idx < b->group_base + b->group_n) {
			i++;
			continue;
		}
		b->moved_on = true;
		b->in_cand = false;
		g_ptr_array_remove_index(a, i);
	}
}

static void break_remove(ptw_engine *e, ptw_break *b)
{
	suspect_release(e, b, NULL, false);
	unclean_drop(e, b);
	cand_drop(e, b);
	g_hash_table_remove(e->breaks, &b->pte_pa);
}

/* Breaks that can no longer be transient (their breaker moved on) and that
 * no TLB can hold are plain unmaps: forget them. Also bound the table. */
static void breaks_trim(ptw_engine *e)
{
	unsigned n = g_hash_table_size(e->breaks);
	if (++e->breaks_since_trim < 4096 && n < MAX_BREAKS)
		return;
	e->breaks_since_trim = 0;
	uint64_t cut = n >= MAX_BREAKS ? e->break_seq - MAX_BREAKS / 2 : 0;
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, e->breaks);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		ptw_break *b = v;
		if ((b->moved_on && !b->need) || b->seq < cut) {
			suspect_release(e, b, NULL, false);
			unclean_drop(e, b);
			cand_drop(e, b);
			g_hash_table_iter_remove(&it);
		}
	}
}

static void break_open(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, uint64_t old)
{
	ptw_break *b = break_get(e, t->pa + idx * 8ULL);
	if (b)
		break_remove(e, b);
	breaks_trim(e);
	b = g_new0(ptw_break, 1);
	b->pte_pa = t->pa + idx * 8ULL;
	b->va = ptw_entry_va(e, t, idx);
	b->space = ptw_entry_space(e, t, b->va);
	b->level = t->level;
	b->old_desc = old;
	b->cpu = c->cpu;
	b->when = *c;
	b->seq = ++e->break_seq;
	b->breaker_lower = e->lower_entries[c->cpu];
	b->global = e->ops->global(e, c->cpu, old);
	ptw_table *root = NULL;
	unsigned ridx;
	root = ptw_table_of(e, t->space, &ridx);
	b->asid = (root && root->is_root) ? root->asid : 0;
	/* x86 has no break-before-make rule: only arm64 tracks who may
	 * still hold the old entry */
	b->need = e->ops->bbm_reason ? ptw_may_hold(e, t, b->va) : 0;
	b->tpa = t->pa;
	unsigned gn = (t->uorder && t->uorder[idx]) ? 1u << t->uorder[idx] : 16;
	if (gn > t->nent)
		gn = t->nent;
	b->group_n = gn;
	b->group_base = idx & ~(gn - 1);
	GPtrArray *ca = e->cand[c->cpu];
	if (ca->len >= MAX_CAND) {
		ptw_break *o = g_ptr_array_index(ca, 0);
		o->moved_on = true;
		o->in_cand = false;
		g_ptr_array_remove_index(ca, 0);
	}
	g_ptr_array_add(ca, b);
	b->in_cand = true;
	g_hash_table_replace(e->breaks, &b->pte_pa, b);
	if (b->need) {
		g_ptr_array_add(e->unclean, b);
		b->unclean_listed = true;
	}
	e->stats[ST_BREAKS]++;
	if (e->cfg.widen_ns)
		__atomic_store_n(&e->stall[c->cpu], 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* units and passes (last-level tables only) */

static bool bit_get(const uint64_t *m, unsigned i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *m, unsigned i)
{
	m[i / 64] |= 1ULL << (i % 64);
}

static void fmt_bits(const uint64_t *m, unsigned base, unsigned n, char *buf,
		     size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = base; i < base + n && o + 12 < len;) {
		if (!bit_get(m, i)) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j + 1 < base + n && bit_get(m, j + 1))
			j++;
		if (j == i)
			o += snprintf(buf + o, len - o, "%s%u", o ? "," : "",
				      i - base);
		else
			o += snprintf(buf + o, len - o, "%s%u-%u", o ? "," : "",
				      i - base, j - base);
		i = j + 1;
	}
}

/* Attributes that must be identical across a unit (ignoring A/D state). */
static uint64_t unit_attr_mask(ptw_engine *e)
{
	return e->ops->unit_attr_mask(e);
}

/* After entry idx was made valid by this pass: does an aligned group ending
 * at idx now form a unit (all made in this pass, contiguous, aligned, same
 * attributes)? Record the largest. */
static void unit_detect(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			unsigned idx)
{
	uint32_t pass = t->made[idx];
	uint64_t amask = unit_attr_mask(e);
	int best = 0;
	for (int k = 1; k <= 9; k++) {
		unsigned n = 1u << k;
		if ((idx + 1) % n)
			break;
		unsigned base = idx + 1 - n;
		ptw_desc d0 = ptw_decode_entry(e, t->shadow[base], t->level);
		if (d0.type != PTW_DESC_PAGE || (d0.oa & (n * 4096ULL - 1)))
			break;
		bool ok = true;
		for (unsigned i = base; i <= idx && ok; i++) {
			ptw_desc d =
				ptw_decode_entry(e, t->shadow[i], t->level);
			ok = d.type == PTW_DESC_PAGE && t->made[i] == pass &&
			     d.oa == d0.oa + (i - base) * 4096ULL &&
			     ((t->shadow[i] ^ t->shadow[base]) & amask) == 0;
		}
		if (!ok)
			break;
		best = k;
	}
	if (best) {
		unsigned n = 1u << best, base = idx + 1 - n;
		/* entries re-made inside a larger unit stay in it */
		for (unsigned i = base; i <= idx; i++)
			if (t->uorder[i] > best)
				return;
		for (unsigned i = base; i <= idx; i++)
			t->uorder[i] = (uint8_t)best;
		/* counted when the making CPU's run of writes ends */
		GArray *nu = e->new_units[c->cpu];
		ptw_cont_group u = {t->pa, base};
		if (nu->len < 4096)
			g_array_append_val(nu, u);
	}
}

/* Count the units a CPU established, once its run of writes ended. */
static void units_count(ptw_engine *e, unsigned cpu)
{
	GArray *nu = e->new_units[cpu];
	for (guint i = 0; i < nu->len; i++) {
		ptw_cont_group *u = &g_array_index(nu, ptw_cont_group, i);
		unsigned idx;
		ptw_table *t = ptw_table_of(e, u->tpa, &idx);
		if (!t || t->pa != u->tpa || !t->uorder)
			continue;
		unsigned ord = t->uorder[u->group];
		if (!ord || (u->group & ((1u << ord) - 1)))
			continue; /* absorbed into a larger unit */
		bool dup = false;
		for (guint j = i + 1; j < nu->len && !dup; j++) {
			ptw_cont_group *w =
				&g_array_index(nu, ptw_cont_group, j);
			dup = w->tpa == u->tpa && w->group == u->group;
		}
		if (!dup)
			e->units_by_size[ord]++;
	}
	g_array_set_size(nu, 0);
}

static void pass_end(ptw_engine *e, unsigned cpu, const ptw_ctx *c)
{
	units_count(e, cpu);
	ptw_pass *p = &e->pass[cpu];
	if (!p->open)
		return;
	p->open = false;
	e->pass_id[cpu]++;
	unsigned idx0 = p->base;
	ptw_table *t = ptw_table_of(e, p->tpa + idx0 * 8ULL, &idx0);
	unsigned unmapped = 0;
	bool skipped = false;
	for (unsigned i = p->base; i < p->base + p->n; i++) {
		if (bit_get(p->unmapped, i))
			unmapped++;
		else if (bit_get(p->windowed, i))
			skipped = true;
	}
	/* one entry at a time (COW of a page, a single-page zap) is not an
	 * unmap of the unit as a whole */
	if (!t || unmapped < 2 || !skipped)
		return;
	char un[96], win[96], first[96] = "";
	fmt_bits(p->unmapped, p->base, p->n, un, sizeof(un));
	uint64_t rest[8];
	for (int w = 0; w < 8; w++)
		rest[w] = p->windowed[w] & ~p->unmapped[w];
	fmt_bits(rest, p->base, p->n, win, sizeof(win));
	for (unsigned i = p->base; i < p->base + p->n; i++)
		if (bit_get(p->unmapped, i)) {
			describe_nonpresent(e, t->shadow[i], t->level, first,
					    sizeof(first));
			break;
		}
	suspect *sp = g_new0(suspect, 1);
	sp->id = ++e->break_seq;
	sp->pte_pa = p->tpa + p->base * 8ULL;
	sp->va = ptw_entry_va(e, t, p->base);
	sp->level = t->level;
	/* the pass is named by its first take-down (the unmapping code,
	 * try_to_unmap_one() in seed 001), not by where it ended */
	sp->pass_ctx = p->start.icount ? p->start : *c;
	snprintf(sp->detail, sizeof(sp->detail),
		 "unit of %u entries (%u KiB) unmapped in part by one pass of "
		 "vcpu %u (from pc 0x%" PRIx64 " to pc 0x%" PRIx64
		 "): entries %.60s taken down (first now "
		 "%s) while entries %.60s were in vcpu %u's break window and "
		 "have come back mapped: the unit is left mixed",
		 p->n, p->n * 4, cpu, sp->pass_ctx.pc, c->pc, un, first, win,
		 p->window_cpu);
	for (unsigned i = p->base; i < p->base + p->n; i++) {
		if (!bit_get(rest, i))
			continue;
		ptw_break *b = break_get(e, p->tpa + i * 8ULL);
		if (b && !b->suspect) {
			b->suspect = sp->id;
			sp->pending++;
		}
	}
	if (sp->pending)
		g_hash_table_insert(suspects_of(e), &sp->id, sp);
	else
		g_free(sp);
}

static GHashTable *suspects_of(ptw_engine *e)
{
	if (!e->suspects)
		e->suspects =
			g_hash_table_new_full(u64_hash, u64_eq, NULL, g_free);
	return e->suspects;
}

/* A break record goes away; report its suspect if the entry came back. */
static void suspect_release(ptw_engine *e, ptw_break *b, const ptw_ctx *c,
			    bool came_back)
{
	if (!b->suspect || !e->suspects)
		return;
	suspect *sp = g_hash_table_lookup(e->suspects, &b->suspect);
	b->suspect = 0;
	if (!sp)
		return;
	if (came_back && c) {
		report2(e, PTW_KIND_PARTIAL_UNIT_UNMAP, PTW_SEV_ERROR,
			"a large folio's mapping was taken down in part: the "
			"unit is left mixed",
			c, "breaker making its entries again", &sp->pass_ctx,
			"partial unmap pass", sp->pte_pa, sp->va, sp->level, 0,
			0, sp->detail);
		g_hash_table_remove(e->suspects, &sp->id);
		return;
	}
	if (--sp->pending == 0)
		g_hash_table_remove(e->suspects, &sp->id);
}

/* A write by cpu to last-level entry idx of t. */
static void pass_track(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, bool unmapped)
{
	ptw_pass *p = &e->pass[c->cpu];
	if (p->open &&
	    (p->tpa != t->pa || idx < p->base || idx >= p->base + p->n))
		pass_end(e, c->cpu, c); /* moved on */
	if (!p->open) {
		unsigned ord = t->uorder[idx];
		if (!ord)
			return;
		memset(p, 0, sizeof(*p));
		p->open = true;
		p->tpa = t->pa;
		p->n = 1u << ord;
		p->base = idx & ~(p->n - 1);
		p->start = *c;
		if (e->cfg.widen_ns)
			__atomic_store_n(&e->stall[c->cpu], 1,
					 __ATOMIC_RELAXED);
	}
	if (unmapped)
		bit_set(p->unmapped, idx);
	/* entries of the unit inside another CPU's open break window */
	if (g_hash_table_size(e->breaks)) {
		for (unsigned i = p->base; i < p->base + p->n; i++) {
			ptw_break *b = break_get(e, t->pa + i * 8ULL);
			if (b && b->cpu != c->cpu && !b->moved_on) {
				bit_set(p->windowed, i);
				p->window_cpu = b->cpu;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* contiguous groups (arm64) */

static void cont_mark(ptw_engine *e, unsigned cpu, ptw_table *t, unsigned idx)
{
	GArray *a = e->cont_dirty[cpu];
	ptw_cont_group g = {t->pa, idx / 16};
	if (t->cont_writer)
		t->cont_writer[idx / 16] = (uint8_t)(cpu + 1);
	for (guint i = 0; i < a->len; i++) {
		ptw_cont_group *x = &g_array_index(a, ptw_cont_group, i);
		if (x->tpa == g.tpa && x->group == g.group)
			return;
	}
	if (a->len < 4096)
		g_array_append_val(a, g);
}

static void cont_check(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned group)
{
	unsigned base = group * 16;
	if (base + 16 > t->nent)
		return;
	bool any = false;
	for (unsigned i = base; i < base + 16; i++)
		if ((t->shadow[i] & 1) && (t->shadow[i] & e->ops->cont_bit))
			any = true;
	if (!any)
		return;
	uint64_t amask = unit_attr_mask(e);
	ptw_desc d0 = ptw_decode_entry(e, t->shadow[base], t->level);
	const char *why = NULL;
	unsigned bad = base;
	for (unsigned i = base; i < base + 16 && !why; i++) {
		uint64_t v = t->shadow[i];
		ptw_desc d = ptw_decode_entry(e, v, t->level);
		bad = i;
		if (d.type != PTW_DESC_PAGE)
			why = "an entry of the group is not a valid page";
		else if (!(v & e->ops->cont_bit))
			why = "an entry of the group lacks the contiguous bit";
		else if (d0.type != PTW_DESC_PAGE || (d0.oa & 0xffffULL) ||
			 d.oa != d0.oa + (i - base) * 4096ULL)
			why = "output addresses are not one aligned 64 KiB "
			      "range";
		else if ((v ^ t->shadow[base]) & amask)
			why = "attributes differ within the group";
	}
	if (!why)
		return;
	char d[256];
	snprintf(d, sizeof(d),
		 "contiguous group of 16 at VA 0x%" PRIx64
		 " is inconsistent when vcpu %u completes its writes (DSB): "
		 "%s (entry %u)",
		 ptw_entry_va(e, t, base), c->cpu, why, bad - base);
	report(e, PTW_KIND_CONTIG_MISPROGRAMMED, PTW_SEV_ERROR,
	       "a walker may use an inconsistent contiguous group", c,
	       t->pa + bad * 8ULL, ptw_entry_va(e, t, bad), t->level,
	       t->shadow[base], t->shadow[bad], d);
}

static void cont_flush(ptw_engine *e, const ptw_ctx *c)
{
	GArray *a = e->cont_dirty[c->cpu];
	for (guint i = 0; i < a->len; i++) {
		ptw_cont_group *g = &g_array_index(a, ptw_cont_group, i);
		unsigned idx;
		ptw_table *t = ptw_table_of(e, g->tpa, &idx);
		/* a group another CPU wrote since is that CPU's to complete
		 * (it may be in the middle of a contpte unfold or a zap, its
		 * first entries cleared): checked at that CPU's DSB */
		if (t && t->pa == g->tpa &&
		    (!t->cont_writer || t->cont_writer[g->group] == c->cpu + 1))
			cont_check(e, c, t, g->group);
	}
	g_array_set_size(a, 0);
}

/* ------------------------------------------------------------------ */
/* window reads: a note when the reader re-validates, else an error */

static const char wr_error[] =
	"the reader left without loading the entry again: it acted on the "
	"transient value (seed 001: page_vma_mapped_walk() skipping a none "
	"entry)";
static const char wr_note[] =
	"benign by design: the reader re-checked after its read in the window "
	"(loaded the entry again, as under the PTE lock, restarted its walk "
	"of the block, or is a fault-path reader), or the entry came back "
	"mapping another page";

static void window_read_report(ptw_engine *e, window_read *w)
{
	size_t n = strlen(w->f.detail);
	snprintf(w->f.detail + n, sizeof(w->f.detail) - n, "; %s", w->how);
	w->f.severity = w->decided;
	w->f.severity_why = w->decided == PTW_SEV_NOTE ? wr_note : wr_error;
	e->stats[w->decided == PTW_SEV_NOTE ? ST_WINDOW_READS_REVALIDATED
					    : ST_WINDOW_READS_UNCHECKED]++;
	ptw_report_finding(e, &w->f);
}

/* decide w; reported (and to be removed: true) once the break was made */
static bool window_read_decide(ptw_engine *e, window_read *w, ptw_severity sev,
			       const char *how)
{
	if (w->decided == PTW_SEV_NONE) {
		w->decided = sev;
		g_strlcpy(w->how, how, sizeof(w->how));
	}
	if (!w->made)
		return false;
	window_read_report(e, w);
	return true;
}

/* cpu c read entry idx of t (value: in b's window when b != NULL): create
 * or decide its window reads. Called before the read updates e->aba. */
static void window_reads_load(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			      unsigned idx, const ptw_break *b)
{
	GArray *a = e->wr[c->cpu];
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t lower = e->lower_entries[c->cpu];
	bool have = false;
	for (guint i = 0; i < a->len;) {
		window_read *w = &g_array_index(a, window_read, i);
		char how[160];
		bool done = false;
		const ptw_break *wb;
		if (!w->made &&
		    (!(wb = break_get(e, w->pte_pa)) || wb->seq != w->seq)) {
			/* the break went away without a transient make (an
			 * unmap, a table freed): it was no window */
			g_array_remove_index(a, i);
			continue;
		}
		if (b && w->seq == b->seq && w->pte_pa == pte_pa) {
			have = true; /* read again inside the same window */
		} else if (w->lower != lower) {
			done = window_read_decide(
				e, w, PTW_SEV_ERROR,
				"the reader returned to user mode without "
				"loading the entry again");
		} else if (w->made && w->after &&
			   c->icount - w->after > WR_WINDOW) {
			/* counted from after the make: a reader that waits
			 * for the breaker's PTE lock spins meanwhile */
			snprintf(how, sizeof(how),
				 "the reader did not load the entry again "
				 "within "
				 "%llu of its instructions after the make",
				 (unsigned long long)WR_WINDOW);
			done = window_read_decide(e, w, PTW_SEV_ERROR, how);
		} else if (w->pte_pa == pte_pa && w->made) {
			snprintf(how, sizeof(how),
				 "re-validated: the reader loaded it again at "
				 "pc "
				 "0x%" PRIx64 ", %" PRIu64
				 " instructions after its read in the window",
				 c->pc, c->icount - w->f.ctx.icount);
			done = window_read_decide(e, w, PTW_SEV_NOTE, how);
		} else if (t->pa == w->tpa && idx >= w->gbase &&
			   idx < w->gbase + w->gn && w->pte_pa != pte_pa) {
			/* another entry of the group, which this CPU had read
			 * just before its read in the window: it restarted its
			 * walk of the block (contpte_ptep_get_lockless()'s
			 * retry), so the transient value was not used. A
			 * forward scan (page_vma_mapped_walk()) reads each
			 * entry once. */
			aba_read *r = aba_lookup(e, det_who(e, c->cpu), pte_pa);
			if (r && r->cpu == c->cpu &&
			    r->icount < w->f.ctx.icount &&
			    w->f.ctx.icount - r->icount <= RESTART_WINDOW) {
				snprintf(how, sizeof(how),
					 "re-validated: the reader restarted "
					 "its "
					 "walk of the block at pc 0x%" PRIx64
					 " (read an entry of it again)",
					 c->pc);
				done = window_read_decide(e, w, PTW_SEV_NOTE,
							  how);
			}
		}
		if (done) {
			g_array_remove_index(a, i);
		} else {
			if (w->made && !w->after)
				w->after = c->icount ? c->icount : 1;
			i++;
		}
	}
	if (!b || have)
		return;
	if (a->len >= MAX_WR) {
		/* the oldest undecided read: decided as not re-validated */
		window_read *o = &g_array_index(a, window_read, 0);
		if (window_read_decide(e, o, PTW_SEV_ERROR,
				       "not decided: too many pending window "
				       "reads on this vcpu") ||
		    !o->made)
			g_array_remove_index(a, 0);
	}
	window_read w = {0};
	char sym[96];
	ptw_symbolize(e, c->cpu, c->pc, sym, sizeof(sym));
	if (sym[0] && ptw_linux_rechecking_reader(sym)) {
		/* the fault path re-checks under the PTE lock, or returns and
		 * lets the access retry (the walker reads the entry again):
		 * decided now, reported when the break is made */
		w.decided = PTW_SEV_NOTE;
		snprintf(w.how, sizeof(w.how),
			 "re-validated: a fault-path reader (%s), which "
			 "re-checks under the PTE lock or lets the access "
			 "retry",
			 sym);
	} else if (sym[0] && ptw_linux_single_page_benign_reader(sym)) {
		/* seed 001's reader: an error only when its caller unmaps
		 * what it finds and the entry maps part of a large folio */
		char caller[96] = "";
		if (e->call_site[c->cpu])
			ptw_symbolize(e, c->cpu, e->call_site[c->cpu], caller,
				      sizeof(caller));
		if (caller[0] && !ptw_linux_unmapping_walker(caller)) {
			w.decided = PTW_SEV_NOTE;
			snprintf(w.how, sizeof(w.how),
				 "benign: the walk was called from %.80s, "
				 "which only reads what it finds (a skipped "
				 "entry misses an access or dirty bit, not a "
				 "mapping)",
				 caller);
		} else if (t->uorder && t->uorder[idx] == 0) {
			w.decided = PTW_SEV_NOTE;
			snprintf(w.how, sizeof(w.how),
				 "benign for a single page (no multi-page "
				 "unit): %.80s missing it makes try_to_unmap() "
				 "fail and reclaim keep the page (Linux locks "
				 "first, TTU_SYNC, only for large folios)",
				 sym);
		}
	}
	w.pte_pa = pte_pa;
	w.tpa = b->tpa;
	w.gbase = b->group_base;
	w.gn = b->group_n;
	w.seq = b->seq;
	w.lower = lower;
	ptw_finding *f = &w.f;
	f->kind = PTW_KIND_BBM_WINDOW_READ;
	f->ctx = *c;
	f->role = "reader in the window";
	f->has_other = true;
	f->other = b->when;
	f->other_role = "broken by";
	f->pte_pa = pte_pa;
	f->va = b->va;
	f->level = b->level;
	f->old_desc = b->old_desc;
	g_array_append_val(a, w);
}

/* break b closed: made again transiently (made: true) or not a window */
static void window_reads_close(ptw_engine *e, const ptw_break *b, bool made,
			       uint64_t new, uint64_t dur)
{
	for (unsigned cpu = 0; cpu < e->cfg.ncpus; cpu++) {
		if (!(b->readers >> cpu & 1))
			continue;
		GArray *a = e->wr[cpu];
		for (guint i = 0; i < a->len;) {
			window_read *w = &g_array_index(a, window_read, i);
			if (w->seq != b->seq) {
				i++;
				continue;
			}
			if (made) {
				w->made = true;
				w->f.new_desc = new;
				snprintf(w->f.detail, sizeof(w->f.detail),
					 "vcpu %u loaded this entry at pc "
					 "0x%" PRIx64 " icount %" PRIu64
					 " while it was transiently invalid "
					 "inside vcpu %u's break (opened at pc "
					 "0x%" PRIx64 " icount %" PRIu64
					 ", made again %" PRIu64
					 " instructions later); readers "
					 "0x%" PRIx64,
					 cpu, w->f.ctx.pc, w->f.ctx.icount,
					 b->cpu, b->when.pc, b->when.icount,
					 dur, b->readers);
				/* the entry came back mapping another page
				 * (COW's clear-flush-set, a new fault): a
				 * reader that skipped it missed nothing of the
				 * page it mapped before. The seed-001 hazard is
				 * an entry that comes back with the same page
				 * (contpte fold/unfold, mprotect) and is
				 * skipped by a walk of that page's folio. */
				if (w->decided == PTW_SEV_NONE &&
				    ptw_decode_entry(e, b->old_desc, b->level)
						    .oa !=
					    ptw_decode_entry(e, new, b->level)
						    .oa) {
					w->decided = PTW_SEV_NOTE;
					g_strlcpy(
						w->how,
						"the entry came back mapping "
						"another page: a reader that "
						"skipped it missed nothing of "
						"the page it mapped before",
						sizeof(w->how));
				}
				if (w->decided == PTW_SEV_NONE) {
					i++;
					continue;
				}
				window_read_report(e, w);
			}
			g_array_remove_index(a, i);
		}
	}
}

/* ------------------------------------------------------------------ */
/* hooks from the engine */

void det_entry_changed(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, uint64_t old, uint64_t new)
{
	cand_moved(e, c->cpu, t, idx);
	ptw_desc dold = ptw_decode_entry(e, old, t->level);
	ptw_desc dnew = ptw_decode_entry(e, new, t->level);
	bool was_valid = dold.type != PTW_DESC_INVALID;
	bool is_valid = dnew.type != PTW_DESC_INVALID;
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t va = ptw_entry_va(e, t, idx);
	bool last = ptw_is_last_level(e, t->level);
	/* the breaker made the entry again with the same page (a permission
	 * change: change_protection(), a contpte unfold) */
	bool remade_same = false;

	if (last && ((old | new) & e->ops->cont_bit))
		cont_mark(e, c->cpu, t, idx);

	if (was_valid && !is_valid) {
		break_open(e, c, t, idx, old);
	} else if (!was_valid && is_valid) {
		ptw_break *b = break_get(e, pte_pa);
		if (b) {
			uint64_t dur = c->icount - b->when.icount;
			const char *why = bbm_change_reason(e, b->old_desc, new,
							    t->level);
			break_state st = break_state_of(b);
			if (why && st != BREAK_CLEAN) {
				char d[512], miss[200];
				miss_describe(b, miss, sizeof(miss));
				snprintf(d, sizeof(d),
					 "entry made valid again while the "
					 "old translation may still be cached "
					 "(no completed invalidation reaching "
					 "vcpus 0x%" PRIx64
					 " since the break by vcpu %u at pc "
					 "0x%" PRIx64 "%s); the new "
					 "descriptor differs: %s%s",
					 b->need, b->cpu, b->when.pc,
					 st == BREAK_INVALIDATING
						 ? ", a TLBI was issued "
						   "but not completed by "
						   "a DSB"
						 : "",
					 why, miss);
				/* another CPU (a fault) makes the entry
				 * while the breaker's own flush is deferred:
				 * arm64 reclaim's batched flush
				 * (TTU_BATCH_FLUSH issues TLBI IS and
				 * completes it in try_to_unmap_flush()) or a
				 * zap's mmu_gather (flushed after the PTE
				 * lock is dropped). The maker cannot know;
				 * Linux takes this path on purpose: a
				 * warning. A breaker that makes the entry
				 * again itself without a completed
				 * invalidation, or a TLBI of the wrong scope
				 * (another ASID or VA, local only, before
				 * the DSB of the invalid store): an error. */
				uint64_t me = 1ULL << c->cpu;
				bool batched = b->cpu != c->cpu &&
					       !(b->issuers & me) &&
					       !b->local_inflight &&
					       b->miss_why != MISS_BEFORE_DSB &&
					       b->miss_why != MISS_ASID;
				report2(e, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE,
					batched ? PTW_SEV_WARNING
						: PTW_SEV_ERROR,
					batched ? "the breaker, another CPU, "
						  "defers its flush (reclaim's "
						  "batched TLBI, mmu_gather); "
						  "the maker, a fault, cannot "
						  "see it: a path Linux takes "
						  "on purpose"
						: "the breaker made the entry "
						  "again itself without a "
						  "completed invalidation, or "
						  "invalidated with the wrong "
						  "scope",
					c, "maker", &b->when, "broken by",
					pte_pa, va, t->level, b->old_desc, new,
					d);
			}
			/* no kernel break-before-make sequence spans a
			 * return to user mode by the breaking task: a break
			 * left that way is an unmap (a zap, then a new fault
			 * maps the VA again) */
			bool transient =
				b->cpu == c->cpu && !b->moved_on &&
				e->lower_entries[c->cpu] == b->breaker_lower;
			remade_same =
				transient &&
				ptw_decode_entry(e, b->old_desc, t->level).oa ==
					dnew.oa;
			if (transient)
				e->stats[ST_WINDOWS]++;
			if (transient && dur > e->stats[ST_BREAK_LONGEST])
				e->stats[ST_BREAK_LONGEST] = dur;
			if (transient)
				suspect_release(e, b, c, true);
			if (b->readers)
				window_reads_close(e, b, transient, new, dur);
			if (b->readers && transient)
				e->stats[ST_BREAKS_OBSERVED]++;
			break_remove(e, b);
		}
	} else if (!was_valid && !is_valid) {
		/* the broken entry became a swap or migration entry: an unmap
		 * (try_to_unmap, migration), not a transient window */
		ptw_break *b = break_get(e, pte_pa);
		if (b) {
			b->moved_on = true;
			cand_drop(e, b);
		}
	}

	if (last && t->made) {
		if (!was_valid && is_valid) {
			/* one pass: one CPU's makes with no takedown pass
			 * ended and no return to user in between (single-page
			 * faults on contiguous pages, one after another, are
			 * no unit) */
			t->made[idx] =
				(c->cpu << 24) | ((e->pass_id[c->cpu] +
						   e->lower_entries[c->cpu]) &
						  0xffffff);
			/* a make ends no pass, but one pass makes a unit */
			ptw_pass *p = &e->pass[c->cpu];
			if (p->open && (p->tpa != t->pa || idx < p->base ||
					idx >= p->base + p->n))
				pass_end(e, c->cpu, c);
			/* a unit is what one pass maps; a pass that
			 * rewrites the entries of physically contiguous
			 * single pages in place (mprotect, uffd-wp) maps
			 * nothing new and makes no unit of them */
			if (!p->open && !remade_same)
				unit_detect(e, c, t, idx);
			else
				pass_track(e, c, t, idx, false);
		} else {
			pass_track(e, c, t, idx, was_valid && !is_valid);
			if (!is_valid && t->uorder[idx]) {
				/* a unit whose entries are all gone is gone */
				unsigned n = 1u << t->uorder[idx];
				unsigned base = idx & ~(n - 1);
				bool all_gone = true;
				for (unsigned i = base; i < base + n; i++)
					if (t->shadow[i] & 1)
						all_gone = false;
				if (all_gone && !e->pass[c->cpu].open)
					memset(t->uorder + base, 0, n);
			}
		}
	}
}

/* Either read of a would-be PTE_ABA pair is by a Linux walker that never
 * re-checks a value it read in an earlier walk (ptw_linux_aba_walker()):
 * the pair spans two walks, not one operation. A stopgap until reads are
 * paired by guest task rather than by vCPU (a kernel thread never returns
 * to user mode, so nothing else ends its pairs). */
static bool aba_walker_pair(ptw_engine *e, const ptw_ctx *c, uint64_t first_pc)
{
	char a[96], b[96];
	ptw_symbolize(e, c->cpu, c->pc, a, sizeof(a));
	ptw_symbolize(e, c->cpu, first_pc, b, sizeof(b));
	return (a[0] && ptw_linux_aba_walker(a)) ||
	       (b[0] && ptw_linux_aba_walker(b));
}

void det_entry_load(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		    uint64_t value)
{
	uint64_t pte_pa = t->pa + idx * 8ULL;
	/* another CPU reads the entry inside a break; a reader of a
	 * present-invalid entry (pmdp_invalidate()) still sees the page:
	 * Linux keeps it "present" for exactly those readers */
	ptw_break *b = break_get(e, pte_pa);
	bool in_window =
		b && b->cpu != c->cpu &&
		ptw_decode_entry(e, value, t->level).type == PTW_DESC_INVALID &&
		!ptw_linux_present_invalid(e->cfg.arch, value);
	if (in_window || e->wr[c->cpu]->len)
		window_reads_load(e, c, t, idx, in_window ? b : NULL);
	if (in_window)
		b->readers |= 1ULL << c->cpu;

	uint64_t who = det_who(e, c->cpu);
	aba_read *r = aba_lookup(e, who, pte_pa);
	uint32_t ver = t->ver[idx], iver = t->iver[idx];
	uint64_t lower = det_who_returns(e, who);
	e->last_icount[c->cpu] = c->icount;
	/* instructions since the first read, counted on the vCPU that made
	 * it (a task may have moved to another vCPU in between) */
	uint64_t since = r ? e->last_icount[r->cpu] - r->icount : 0;
	/* another CPU's store reached memory but its callback has not run
	 * yet (it waits for the engine lock): the versions do not yet count
	 * the change this value came from, so this read cannot be the first
	 * of a pair */
	uint64_t sh = t->shadow[idx];
	bool ahead = ((value ^ sh) & ~e->ops->hw_managed(sh, value)) != 0;
	if (r) {
		/* the entry referred to something else in between (another
		 * page, another swap slot), and back: a transient clear, or a
		 * permission or A/D change (fork's wrprotect, a write fault's
		 * reuse), changes no identity */
		uint32_t nonzero = iver - r->iver;
		/* an empty entry has no identity to confuse: only a present
		 * entry or a swap/migration entry can be ABA'd */
		if (value != 0 && r->value == value && r->gen == t->gen &&
		    r->ver != ver && nonzero > 0 && nonzero < (1u << 31) &&
		    since <= ABA_WINDOW && r->lower_entries == lower &&
		    !r->ahead && !aba_walker_pair(e, c, r->pc)) {
			char d[320];
			snprintf(
				d, sizeof(d),
				"vcpu %u read 0x%016" PRIx64
				" from this entry at icount %" PRIu64
				"; it changed %u time(s), referring to another "
				"page or swap slot in between, and came back "
				"to "
				"the same value before this read: a pte_same() "
				"check here passes on a changed entry",
				r->cpu, value, r->icount, ver - r->ver);
			ptw_ctx first = {r->cpu, 0, r->icount};
			first.pc = r->pc;
			report2(e, PTW_KIND_PTE_ABA, PTW_SEV_ERROR,
				"a pte_same() check would pass on a changed "
				"entry",
				c, "second read", &first, "first read", pte_pa,
				ptw_entry_va(e, t, idx), t->level, value, value,
				d);
		}
	} else {
		if (g_hash_table_size(e->aba) >= MAX_ABA)
			g_hash_table_remove_all(e->aba);
		r = g_new0(aba_read, 1);
		uint64_t key = aba_key(who, pte_pa);
		g_hash_table_replace(e->aba, g_memdup2(&key, sizeof(key)), r);
	}
	r->who = who;
	r->pte_pa = pte_pa;
	r->cpu = c->cpu;
	r->value = value;
	r->ver = ver;
	r->iver = iver;
	r->gen = t->gen;
	r->icount = c->icount;
	r->pc = c->pc;
	r->lower_entries = lower;
	r->ahead = ahead;
}

static void miss_describe(const ptw_break *b, char *buf, size_t n)
{
	static const char *const why[] = {
		[MISS_BEFORE_DSB] = "it was issued before a DSB completed the "
				    "store of the invalid entry, so a walk "
				    "could still refill the old entry",
		[MISS_ASID] = "it named another ASID than the entry's "
			      "non-global one",
		[MISS_VA] = "it named another VA",
		[MISS_LOCAL] = "it was local (not broadcast) while other CPUs "
			       "may hold the entry",
	};
	if (b->miss_why == MISS_NONE || b->miss_why > MISS_LOCAL)
		buf[0] = 0;
	else if (b->miss_why == MISS_ASID)
		snprintf(buf, n,
			 "; the TLBI at pc 0x%" PRIx64
			 " did not count: %s (TLBI ASID %u, the "
			 "entry's %u)",
			 b->miss_pc, why[b->miss_why], b->miss_asid, b->asid);
	else
		snprintf(buf, n,
			 "; the TLBI at pc 0x%" PRIx64 " did not count: %s",
			 b->miss_pc, why[b->miss_why]);
}

void det_invalidate(ptw_engine *e, const ptw_ctx *c, const inval_scope *s,
		    uint64_t targets)
{
	bool local = targets == (1ULL << c->cpu);
	for (guint i = 0; i < e->unclean->len; i++) {
		ptw_break *b = g_ptr_array_index(e->unclean, i);
		uint64_t size = 1ULL << ptw_entry_shift(e, b->level);
		/* only the breaker's own TLBIs can be mistakes of its
		 * sequence; another CPU's TLBI that does not count is simply
		 * not the invalidation of this break */
		bool own = c->cpu == b->cpu;
		if (!ptw_scope_covers(s, b->va, size, b->global, b->asid)) {
			/* say why, when the TLBI looks meant for this entry:
			 * its VA with another ASID, or the breaker's own TLBI
			 * by VA of another page */
			inval_scope any = *s;
			any.by_asid = false;
			/* after one of the breaker's own TLBIs counted, a
			 * later one that does not is meant for another entry
			 * (reclaim's batch: the same page at the same VA in a
			 * forked child, another ASID) */
			if (!own || (b->issuers & (1ULL << c->cpu)))
				continue;
			if (ptw_scope_covers(&any, b->va, size, b->global, 0)) {
				b->miss_why = MISS_ASID;
				b->miss_pc = c->pc;
				b->miss_asid = s->asid;
			} else if (s->by_va && c->cpu == b->cpu) {
				b->miss_why = MISS_VA;
				b->miss_pc = c->pc;
			}
			continue;
		}
		if (break_state_of(b) == BREAK_UNSYNCED) {
			/* store-invalid; TLBI; DSB: the walker may still see
			 * the old entry after the TLBI and refill the TLB */
			if (own) {
				b->miss_why = MISS_BEFORE_DSB;
				b->miss_pc = c->pc;
			}
			continue;
		}
		/* a TLBI that counts supersedes an earlier one that did not
		 * (arm64 with KPTI invalidates the kernel ASID, then the
		 * user ASID the entry is tagged with) */
		if (own && local && (b->need & ~targets)) {
			b->miss_why = MISS_LOCAL;
			b->miss_pc = c->pc;
		} else if (own) {
			b->miss_why = MISS_NONE;
		}
		b->inflight |= targets & b->need;
		b->issuers |= 1ULL << c->cpu;
		if (local && own)
			b->local_inflight = true;
	}
}

static bool dsb_full(unsigned crm)
{
	return crm == 0xf || crm == 0xb || crm == 0x7 || crm == 0x3;
}

void det_dsb(ptw_engine *e, const ptw_ctx *c, unsigned crm)
{
	/* ST/LD variants do not complete TLB maintenance */
	bool full = dsb_full(crm), nsh = crm == 0x7;
	for (guint i = 0; i < e->unclean->len;) {
		ptw_break *b = g_ptr_array_index(e->unclean, i);
		/* any DSB (ST included) completes the breaker's invalid
		 * store */
		if (b->cpu == c->cpu)
			b->stored = true;
		if (full && (b->issuers & (1ULL << c->cpu))) {
			/* DSB NSH completes only this CPU's own invalidation */
			uint64_t done = nsh ? b->inflight & (1ULL << c->cpu)
					    : b->inflight;
			b->need &= ~done;
			b->inflight &= ~done;
			if (!b->inflight)
				b->issuers = 0;
		}
		if (full && break_state_of(b) == BREAK_CLEAN) {
			g_ptr_array_remove_index_fast(e->unclean, i);
			b->unclean_listed = false;
		} else {
			i++;
		}
	}
	if (!full)
		return;
	pass_end(e, c->cpu, c);
	cont_flush(e, c);
}

void det_x86_flush(ptw_engine *e, const ptw_ctx *c)
{
	pass_end(e, c->cpu, c);
}

void det_table_dropped(ptw_engine *e, ptw_table *t)
{
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++)
		if (e->pass[i].open && e->pass[i].tpa == t->pa)
			e->pass[i].open = false;
	if (g_hash_table_size(e->breaks)) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, e->breaks);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			ptw_break *b = v;
			if (b->pte_pa >= t->pa &&
			    b->pte_pa < t->pa + t->nent * 8ULL) {
				suspect_release(e, b, NULL, false);
				unclean_drop(e, b);
				cand_drop(e, b);
				g_hash_table_iter_remove(&it);
			}
		}
	}
}

void det_finish(ptw_engine *e)
{
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++) {
		GArray *a = e->wr[i];
		for (guint j = 0; a && j < a->len; j++) {
			window_read *w = &g_array_index(a, window_read, j);
			if (w->made) /* an open window at the end: no window */
				window_read_decide(e, w, PTW_SEV_ERROR,
						   "the reader had not loaded "
						   "the entry again when the "
						   "run ended");
		}
		if (a)
			g_array_set_size(a, 0);
	}
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		units_count(e, i);
	uint64_t units = 0;
	for (int k = 1; k < 10; k++)
		units += e->units_by_size[k];
	e->stats[ST_UNITS] = units;
}

/* ------------------------------------------------------------------ */
/* tracked data */

static void bounds_update(ptw_engine *e)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (guint i = 0; i < e->regions->len; i++) {
		region *r = &g_array_index(e->regions, region, i);
		if (r->lo < lo)
			lo = r->lo;
		if (r->hi > hi)
			hi = r->hi;
	}
	if (!e->regions->len)
		lo = hi = 0;
	__atomic_store_n(&e->track_lo, lo, __ATOMIC_RELAXED);
	__atomic_store_n(&e->track_hi, hi, __ATOMIC_RELAXED);
}

void ptw_tracked_bounds(ptw_engine *e, uint64_t *lo, uint64_t *hi)
{
	*lo = __atomic_load_n(&e->track_lo, __ATOMIC_RELAXED);
	*hi = __atomic_load_n(&e->track_hi, __ATOMIC_RELAXED);
}

static bool in_region(ptw_engine *e, uint64_t space, uint64_t va)
{
	for (guint i = 0; i < e->regions->len; i++) {
		region *r = &g_array_index(e->regions, region, i);
		if (r->space == space && va >= r->lo && va < r->hi)
			return true;
	}
	return false;
}

static void forget(ptw_engine *e, uint64_t space, uint64_t lo, uint64_t hi)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, e->data);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		data_slot *s = k;
		if (s->space == space && s->va8 + 8 > lo && s->va8 < hi)
			g_hash_table_iter_remove(&it);
	}
}

void det_space_gone(ptw_engine *e, uint64_t space)
{
	bool had = false;
	for (guint i = 0; i < e->regions->len;) {
		region *r = &g_array_index(e->regions, region, i);
		if (r->space == space) {
			g_array_remove_index_fast(e->regions, i);
			had = true;
		} else {
			i++;
		}
	}
	if (had) {
		forget(e, space, 0, UINT64_MAX);
		bounds_update(e);
	}
	if (e->progs)
		g_hash_table_remove(e->progs, &space);
}

bool det_client(ptw_engine *e, const ptw_ctx *c, uint64_t req, uint64_t va,
		uint64_t len)
{
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
		g_array_append_val(e->regions, r);
		ptw_report_line(
			e, "track: VA 0x%" PRIx64 "+0x%" PRIx64 " (vcpu %u)",
			va, len, c->cpu);
	} else if (req == CLIENT_UNTRACK) {
		for (guint i = 0; i < e->regions->len;) {
			region *r = &g_array_index(e->regions, region, i);
			if (r->space == space && r->lo >= va &&
			    r->hi <= va + len)
				g_array_remove_index_fast(e->regions, i);
			else
				i++;
		}
		forget(e, space, va, va + len);
	} else {
		forget(e, space, va, va + len);
	}
	bounds_update(e);
	return true;
}

void ptw_ev_data(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned size,
		 bool is_store, const uint8_t *bytes)
{
	if (c->cpu >= e->cfg.ncpus || size == 0 || size > 64)
		return;
	g_mutex_lock(&e->lock);
	uint64_t space = ptw_access_space(e, c->cpu, va);
	if (!space || !in_region(e, space, va)) {
		g_mutex_unlock(&e->lock);
		return;
	}
	bool mismatch = false;
	uint64_t bad_va = 0, got = 0, want = 0;
	unsigned who = 0;
	uint64_t who_pc = 0, who_icount = 0;
	for (unsigned i = 0; i < size;) {
		uint64_t a = va + i;
		data_slot key = {.space = space, .va8 = a & ~7ULL};
		data_slot *s = g_hash_table_lookup(e->data, &key);
		unsigned off = a & 7, n = 8 - off;
		if (n > size - i)
			n = size - i;
		if (is_store) {
			if (!s) {
				s = g_new0(data_slot, 1);
				*s = key;
				g_hash_table_add(e->data, s);
			}
			for (unsigned j = 0; j < n; j++) {
				s->val[off + j] = bytes[i + j];
				s->known |= 1u << (off + j);
			}
			s->cpu = c->cpu;
			s->pc = c->pc;
			s->icount = c->icount;
		} else if (s && !mismatch) {
			for (unsigned j = 0; j < n; j++)
				if ((s->known >> (off + j) & 1) &&
				    s->val[off + j] != bytes[i + j]) {
					mismatch = true;
					bad_va = key.va8;
					memcpy(&want, s->val, 8);
					got = 0;
					who = s->cpu;
					who_pc = s->pc;
					who_icount = s->icount;
					for (unsigned q = 0; q < n; q++)
						((uint8_t *)&got)[off + q] =
							bytes[i + q];
					break;
				}
		}
		i += n;
	}
	uint64_t pkey = space * 0x9e3779b97f4a7c15ULL ^ (va & ~0xfffULL);
	if (is_store) {
		g_hash_table_remove(e->data_reported, &pkey);
	} else {
		e->stats[ST_DATA_LOADS_CHECKED]++;
		if (mismatch &&
		    !g_hash_table_contains(e->data_reported, &pkey)) {
			g_hash_table_add(e->data_reported,
					 g_memdup2(&pkey, sizeof(pkey)));
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
			ptw_ctx st = {who, who_pc, who_icount};
			report2(e, PTW_KIND_DATA_MISMATCH, PTW_SEV_ERROR,
				"data lost or corrupted", c, "load", &st,
				"last stored by", pte_pa, va, level, desc, desc,
				d);
		}
	}
	g_mutex_unlock(&e->lock);
}

void ptw_ev_zero(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned len)
{
	uint8_t z[64] = {0};
	for (unsigned i = 0; i < len; i += 64)
		ptw_ev_data(e, c, va + i, len - i < 64 ? len - i : 64, true, z);
}
