/* SPDX-License-Identifier: MIT */
/*
 * Multi-page units (aligned runs of 2^k entries mapping one naturally
 * aligned physical range with identical attributes, made in one pass) and
 * the passes that unmap them: PARTIAL_UNIT_UNMAP.
 */
#include "detectors.h"

#define MAX_SUSPECTS 65536
/* 64-bit words of a bitmap over a table's entries (2048 with 16K pages) */
#define ENTRY_WORDS 32
/* log2 of the largest unit: a whole table of 2048 entries */
#define UNIT_ORDERS 12

/* One CPU's run of writes to one large mapping unit. */
typedef struct {
	bool open;
	uint64_t tpa;			/* leaf table */
	unsigned base, n;		/* unit entries [base, base + n) */
	uint64_t unmapped[ENTRY_WORDS]; /* entries this pass took down */
	uint64_t windowed[ENTRY_WORDS]; /* entries in another CPU's open
					   break */
	unsigned window_cpu;
	ptw_ctx start;
} ptw_pass;

typedef struct {
	uint64_t tpa;
	unsigned group;
} unit_ref;

/* A pass that took down part of a unit while other entries of it were in
 * another CPU's break window: a finding once such an entry comes back. */
typedef struct {
	uint64_t id;
	uint64_t pte_pa, va;
	int level;
	char detail[400];
	ptw_ctx pass_ctx;
	unsigned pending; /* breaks it waits for */
} suspect;

/* a break that a suspect waits for (the break's serial: a later break of
 * the same entry is another) */
typedef struct {
	uint64_t seq, suspect;
} suspect_wait;

/* per last-level table: the pass that made each entry valid, and the
 * log2 size of the unit each entry belongs to (0: none) */
typedef struct {
	uint32_t *made;
	uint8_t *uorder;
} units_table;

typedef struct {
	GHashTable *suspects; /* id -> suspect */
	GHashTable *waits;    /* pte_pa -> suspect_wait */
	uint64_t suspect_seq;
	ptw_pass pass[PTW_MAX_CPUS];
	uint32_t pass_id[PTW_MAX_CPUS];
	GArray *new_units[PTW_MAX_CPUS]; /* units made in the current run */
	uint64_t by_size[UNIT_ORDERS];
	unsigned id;
	/* the break the CPU's current store closed, and whether it was its
	 * breaker's transient window that came back with the same page
	 * (break_closed, then entry_changed for the same store) */
	uint64_t closed_pa[PTW_MAX_CPUS];
	bool closed_same[PTW_MAX_CPUS];
} units_state;

static void *units_init(ptw_engine *e, unsigned id)
{
	(void)e;
	units_state *s = g_new0(units_state, 1);
	s->id = id;
	s->suspects = g_hash_table_new_full(u64_hash, u64_eq, NULL, g_free);
	s->waits = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		s->new_units[i] = g_array_new(FALSE, FALSE, sizeof(unit_ref));
	return s;
}

static void units_free(ptw_engine *e, void *st)
{
	(void)e;
	units_state *s = st;
	g_hash_table_destroy(s->suspects);
	g_hash_table_destroy(s->waits);
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_array_free(s->new_units[i], TRUE);
	g_free(s);
}

static units_table *ut(units_state *s, ptw_table *t)
{
	return *ptw_table_slot(t, s->id);
}

static void units_table_added(ptw_engine *e, void *st, ptw_table *t)
{
	units_state *s = st;
	if (!ptw_is_last_level(e, t->level))
		return;
	units_table *u = g_new(units_table, 1);
	u->made = g_new0(uint32_t, t->nent);
	u->uorder = g_new0(uint8_t, t->nent);
	*ptw_table_slot(t, s->id) = u;
}

static void units_table_free(void *slot)
{
	units_table *u = slot;
	g_free(u->made);
	g_free(u->uorder);
	g_free(u);
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

/* After entry idx was made valid by this pass: does an aligned group ending
 * at idx now form a unit (all made in this pass, contiguous, aligned, same
 * attributes)? Record the largest. */
static void unit_detect(ptw_engine *e, units_state *s, const ptw_ctx *c,
			ptw_table *t, unsigned idx)
{
	units_table *u = ut(s, t);
	uint32_t pass = u->made[idx];
	/* attributes that must be identical across a unit (ignoring A/D
	 * state): the architecture's */
	uint64_t amask = e->ops->unit_attr_mask(e);
	int best = 0;
	uint64_t page = 1ULL << ptw_entry_shift(e, t->level);
	for (int k = 1; k < UNIT_ORDERS && (1u << k) <= t->nent; k++) {
		unsigned n = 1u << k;
		if ((idx + 1) % n)
			break;
		unsigned base = idx + 1 - n;
		ptw_desc d0 = ptw_decode_entry(e, t->shadow[base], t->level);
		if (d0.type != PTW_DESC_PAGE || (d0.oa & (n * page - 1)))
			break;
		bool ok = true;
		for (unsigned i = base; i <= idx && ok; i++) {
			ptw_desc d =
				ptw_decode_entry(e, t->shadow[i], t->level);
			ok = d.type == PTW_DESC_PAGE && u->made[i] == pass &&
			     d.oa == d0.oa + (i - base) * page &&
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
			if (u->uorder[i] > best)
				return;
		for (unsigned i = base; i <= idx; i++)
			u->uorder[i] = (uint8_t)best;
		/* counted when the making CPU's run of writes ends */
		GArray *nu = s->new_units[c->cpu];
		unit_ref r = {t->pa, base};
		if (nu->len < 4096)
			g_array_append_val(nu, r);
	}
}

/* Count the units a CPU established, once its run of writes ended. */
static void units_count(ptw_engine *e, units_state *s, unsigned cpu)
{
	GArray *nu = s->new_units[cpu];
	for (guint i = 0; i < nu->len; i++) {
		unit_ref *r = &g_array_index(nu, unit_ref, i);
		unsigned idx;
		ptw_table *t = ptw_table_of(e, r->tpa, &idx);
		if (!t || t->pa != r->tpa || !ut(s, t))
			continue;
		unsigned ord = ut(s, t)->uorder[r->group];
		if (!ord || (r->group & ((1u << ord) - 1)))
			continue; /* absorbed into a larger unit */
		bool dup = false;
		for (guint j = i + 1; j < nu->len && !dup; j++) {
			unit_ref *w = &g_array_index(nu, unit_ref, j);
			dup = w->tpa == r->tpa && w->group == r->group;
		}
		if (!dup)
			s->by_size[ord]++;
	}
	g_array_set_size(nu, 0);
}

static void pass_end(ptw_engine *e, units_state *s, unsigned cpu,
		     const ptw_ctx *c)
{
	units_count(e, s, cpu);
	ptw_pass *p = &s->pass[cpu];
	if (!p->open)
		return;
	p->open = false;
	PTW_TL(e, .kind = PTW_TL_PASS_CLOSE, .cpu = cpu, .at = c,
	       .id = s->pass_id[cpu]);
	s->pass_id[cpu]++;
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
	uint64_t rest[ENTRY_WORDS];
	for (int w = 0; w < ENTRY_WORDS; w++)
		rest[w] = p->windowed[w] & ~p->unmapped[w];
	fmt_bits(rest, p->base, p->n, win, sizeof(win));
	for (unsigned i = p->base; i < p->base + p->n; i++)
		if (bit_get(p->unmapped, i)) {
			describe_nonpresent(e, t->shadow[i], t->level, first,
					    sizeof(first));
			break;
		}
	suspect *sp = g_new0(suspect, 1);
	sp->id = ++s->suspect_seq;
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
		 p->n,
		 (unsigned)(((uint64_t)p->n << ptw_entry_shift(e, t->level)) >>
			    10),
		 cpu, sp->pass_ctx.pc, c->pc, un, first, win, p->window_cpu);
	for (unsigned i = p->base; i < p->base + p->n; i++) {
		if (!bit_get(rest, i))
			continue;
		uint64_t pte_pa = p->tpa + i * 8ULL;
		ptw_break_info b;
		if (!ptw_det_break_find(e, pte_pa, &b))
			continue;
		/* a page Linux's struct page says is a folio of its own (a
		 * large folio split since it was mapped, as reclaim splits
		 * one it cannot swap out whole, keeps its entries): the walk
		 * that skipped it left no folio mixed */
		if (ptw_linux_folio_large(e, b.level, b.old_desc) == 0)
			continue;
		suspect_wait *w = g_hash_table_lookup(s->waits, &pte_pa);
		if (w && w->seq == b.seq)
			continue; /* that break is some suspect's already */
		if (!w) {
			if (g_hash_table_size(s->waits) >= MAX_SUSPECTS)
				continue;
			w = g_new(suspect_wait, 1);
			g_hash_table_insert(s->waits,
					    g_memdup2(&pte_pa, sizeof(pte_pa)),
					    w);
		}
		w->seq = b.seq;
		w->suspect = sp->id;
		sp->pending++;
	}
	if (sp->pending)
		g_hash_table_insert(s->suspects, &sp->id, sp);
	else
		g_free(sp);
}

/* A break ended (break-window detector): report the suspect waiting for
 * it if its breaker made the entry again (came back), else it waits for
 * one break less. Also note, for this store's entry_changed, whether it
 * made the entry again with the same page. */
static void units_break_closed(ptw_engine *e, void *st, const ptw_break_info *b,
			       const ptw_ctx *c, bool made, uint64_t new,
			       uint64_t dur)
{
	(void)dur;
	units_state *s = st;
	if (c) {
		s->closed_pa[c->cpu] = b->pte_pa;
		s->closed_same[c->cpu] =
			made && ptw_decode_entry(e, b->old_desc, b->level).oa ==
					ptw_decode_entry(e, new, b->level).oa;
	}
	suspect_wait *w = g_hash_table_lookup(s->waits, &b->pte_pa);
	if (!w || w->seq != b->seq)
		return;
	uint64_t id = w->suspect;
	g_hash_table_remove(s->waits, &b->pte_pa);
	suspect *sp = g_hash_table_lookup(s->suspects, &id);
	if (!sp)
		return;
	if (made && c) {
		report2(e, PTW_KIND_PARTIAL_UNIT_UNMAP, PTW_SEV_ERROR,
			"a large folio's mapping was taken down in part: the "
			"unit is left mixed",
			c, "breaker making its entries again", &sp->pass_ctx,
			"partial unmap pass", sp->pte_pa, sp->va, sp->level, 0,
			0, sp->detail);
		g_hash_table_remove(s->suspects, &sp->id);
		return;
	}
	if (--sp->pending == 0)
		g_hash_table_remove(s->suspects, &sp->id);
}

/* A write by cpu to last-level entry idx of t. */
static void pass_track(ptw_engine *e, units_state *s, const ptw_ctx *c,
		       ptw_table *t, unsigned idx, bool unmapped)
{
	ptw_pass *p = &s->pass[c->cpu];
	if (p->open &&
	    (p->tpa != t->pa || idx < p->base || idx >= p->base + p->n))
		pass_end(e, s, c->cpu, c); /* moved on */
	if (!p->open) {
		unsigned ord = ut(s, t)->uorder[idx];
		if (!ord)
			return;
		memset(p, 0, sizeof(*p));
		p->open = true;
		p->tpa = t->pa;
		p->n = 1u << ord;
		p->base = idx & ~(p->n - 1);
		p->start = *c;
		PTW_TL(e, .kind = PTW_TL_PASS_OPEN, .cpu = c->cpu, .at = c,
		       .id = s->pass_id[c->cpu], .pte_pa = t->pa + idx * 8ULL,
		       .va = ptw_entry_va(e, t, idx), .level = t->level,
		       .n = p->n);
		ptw_request_stall(e, c->cpu);
	}
	if (unmapped)
		bit_set(p->unmapped, idx);
	/* entries of the unit inside another CPU's open break window */
	for (unsigned i = p->base; i < p->base + p->n; i++) {
		ptw_break_info b;
		if (ptw_det_break_find(e, t->pa + i * 8ULL, &b) &&
		    b.cpu != c->cpu && b.transient) {
			bit_set(p->windowed, i);
			p->window_cpu = b.cpu;
		}
	}
}

/* The unit part of an entry change (last-level tables only): makes form
 * units, and passes over a unit end or take it down. */
static void units_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
				ptw_table *t, unsigned idx, uint64_t old,
				uint64_t new)
{
	units_state *s = st;
	units_table *u = ut(s, t);
	uint64_t pte_pa = t->pa + idx * 8ULL;
	/* the breaker made the entry again with the same page (a permission
	 * change: change_protection(), a contpte unfold) */
	bool remade_same =
		s->closed_pa[c->cpu] == pte_pa && s->closed_same[c->cpu];
	s->closed_pa[c->cpu] = 0;
	if (!u)
		return;
	bool was_valid =
		ptw_decode_entry(e, old, t->level).type != PTW_DESC_INVALID;
	bool is_valid =
		ptw_decode_entry(e, new, t->level).type != PTW_DESC_INVALID;
	if (!was_valid && is_valid) {
		/* one pass: one CPU's makes with no takedown pass ended and no
		 * return to user in between (single-page faults on contiguous
		 * pages, one after another, are no unit) */
		u->made[idx] =
			(c->cpu << 24) |
			((s->pass_id[c->cpu] + ptw_lower_entries(e, c->cpu)) &
			 0xffffff);
		/* a make ends no pass, but one pass makes a unit */
		ptw_pass *p = &s->pass[c->cpu];
		if (p->open &&
		    (p->tpa != t->pa || idx < p->base || idx >= p->base + p->n))
			pass_end(e, s, c->cpu, c);
		/* a unit is what one pass maps; a pass that rewrites the
		 * entries of physically contiguous single pages in place
		 * (mprotect, uffd-wp) maps nothing new and makes no unit of
		 * them */
		if (!p->open && !remade_same)
			unit_detect(e, s, c, t, idx);
		else
			pass_track(e, s, c, t, idx, false);
	} else {
		pass_track(e, s, c, t, idx, was_valid && !is_valid);
		if (!is_valid && u->uorder[idx]) {
			/* a unit whose entries are all gone is gone */
			unsigned n = 1u << u->uorder[idx];
			unsigned base = idx & ~(n - 1);
			bool all_gone = true;
			for (unsigned i = base; i < base + n; i++)
				if (t->shadow[i] & 1)
					all_gone = false;
			if (all_gone && !s->pass[c->cpu].open)
				memset(u->uorder + base, 0, n);
		}
	}
}

/* the CPU completed its run of writes (a DSB, an x86 flush): its pass
 * ends */
static void units_sync(ptw_engine *e, void *st, const ptw_ctx *c)
{
	pass_end(e, st, c->cpu, c);
}

static void units_table_dropped(ptw_engine *e, void *st, ptw_table *t)
{
	units_state *s = st;
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++)
		if (s->pass[i].open && s->pass[i].tpa == t->pa) {
			s->pass[i].open = false;
			/* pass_id stays: it names the entries' pass */
			PTW_TL(e, .kind = PTW_TL_PASS_CLOSE, .cpu = i,
			       .id = s->pass_id[i]);
		}
}

static void units_finish(ptw_engine *e, void *st)
{
	units_state *s = st;
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		units_count(e, s, i);
	uint64_t units = 0;
	for (int k = 1; k < UNIT_ORDERS; k++)
		units += s->by_size[k];
	e->stats[ST_UNITS] = units;
}

static unsigned units_unit_order(ptw_engine *e, void *st, ptw_table *t,
				 unsigned idx)
{
	(void)e;
	units_table *u = ut(st, t);
	return u ? u->uorder[idx] : 0;
}

static void units_summary_stats(ptw_engine *e, void *st, FILE *f)
{
	(void)e;
	units_state *s = st;
	fprintf(f, ",\n    \"units_by_entries\": {");
	for (int k = 1, first = 1; k < UNIT_ORDERS; k++)
		if (s->by_size[k]) {
			fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ",
				1 << k, s->by_size[k]);
			first = 0;
		}
	fprintf(f, "}");
}

const ptw_detector ptw_det_units = {
	.name = "units",
	.init = units_init,
	.free = units_free,
	.table_free = units_table_free,
	.table_added = units_table_added,
	.table_dropped = units_table_dropped,
	.entry_changed = units_entry_changed,
	.sync = units_sync,
	.finish = units_finish,
	.summary_stats = units_summary_stats,
	.break_closed = units_break_closed,
	.unit_order = units_unit_order,
};
