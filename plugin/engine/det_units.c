/* SPDX-License-Identifier: MIT */
/*
 * Multi-page units (aligned runs of 2^k entries mapping one naturally
 * aligned physical range with identical attributes, made in one pass) and
 * the passes that unmap them: PARTIAL_UNIT_UNMAP.
 */
#include "detectors.h"

void det_units_init(ptw_engine *e)
{
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		e->units.new_units[i] =
			g_array_new(FALSE, FALSE, sizeof(ptw_cont_group));
}

void det_units_free(ptw_engine *e)
{
	if (e->units.suspects)
		g_hash_table_destroy(e->units.suspects);
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_array_free(e->units.new_units[i], TRUE);
}

/* ------------------------------------------------------------------ */
/* units and passes (last-level tables only) */

bool bit_get(const uint64_t *m, unsigned i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

void bit_set(uint64_t *m, unsigned i)
{
	m[i / 64] |= 1ULL << (i % 64);
}

void fmt_bits(const uint64_t *m, unsigned base, unsigned n, char *buf,
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
uint64_t unit_attr_mask(ptw_engine *e)
{
	return e->ops->unit_attr_mask(e);
}

/* After entry idx was made valid by this pass: does an aligned group ending
 * at idx now form a unit (all made in this pass, contiguous, aligned, same
 * attributes)? Record the largest. */
void unit_detect(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx)
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
		GArray *nu = e->units.new_units[c->cpu];
		ptw_cont_group u = {t->pa, base};
		if (nu->len < 4096)
			g_array_append_val(nu, u);
	}
}

/* Count the units a CPU established, once its run of writes ended. */
void units_count(ptw_engine *e, unsigned cpu)
{
	GArray *nu = e->units.new_units[cpu];
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
			e->units.by_size[ord]++;
	}
	g_array_set_size(nu, 0);
}

void pass_end(ptw_engine *e, unsigned cpu, const ptw_ctx *c)
{
	units_count(e, cpu);
	ptw_pass *p = &e->units.pass[cpu];
	if (!p->open)
		return;
	p->open = false;
	e->units.pass_id[cpu]++;
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
	sp->id = ++e->bbm.break_seq;
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

GHashTable *suspects_of(ptw_engine *e)
{
	if (!e->units.suspects)
		e->units.suspects =
			g_hash_table_new_full(u64_hash, u64_eq, NULL, g_free);
	return e->units.suspects;
}

/* A break record goes away; report its suspect if the entry came back. */
void suspect_release(ptw_engine *e, ptw_break *b, const ptw_ctx *c,
		     bool came_back)
{
	if (!b->suspect || !e->units.suspects)
		return;
	suspect *sp = g_hash_table_lookup(e->units.suspects, &b->suspect);
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
		g_hash_table_remove(e->units.suspects, &sp->id);
		return;
	}
	if (--sp->pending == 0)
		g_hash_table_remove(e->units.suspects, &sp->id);
}

/* A write by cpu to last-level entry idx of t. */
void pass_track(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		bool unmapped)
{
	ptw_pass *p = &e->units.pass[c->cpu];
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
	if (g_hash_table_size(e->bbm.breaks)) {
		for (unsigned i = p->base; i < p->base + p->n; i++) {
			ptw_break *b = break_get(e, t->pa + i * 8ULL);
			if (b && b->cpu != c->cpu && !b->moved_on) {
				bit_set(p->windowed, i);
				p->window_cpu = b->cpu;
			}
		}
	}
}
