/* SPDX-License-Identifier: MIT */
/*
 * arm64 contiguous groups, checked when the CPU that last wrote them
 * completes its writes with a DSB: CONTIG_MISPROGRAMMED.
 */
#include "detectors.h"

void det_contig_init(ptw_engine *e)
{
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		e->contig.dirty[i] =
			g_array_new(FALSE, FALSE, sizeof(ptw_cont_group));
}

void det_contig_free(ptw_engine *e)
{
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_array_free(e->contig.dirty[i], TRUE);
}

/* ------------------------------------------------------------------ */
/* contiguous groups (arm64) */

void cont_mark(ptw_engine *e, unsigned cpu, ptw_table *t, unsigned idx)
{
	GArray *a = e->contig.dirty[cpu];
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

void cont_flush(ptw_engine *e, const ptw_ctx *c)
{
	GArray *a = e->contig.dirty[c->cpu];
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
