/* SPDX-License-Identifier: MIT */
/*
 * arm64 contiguous groups, checked when the CPU that last wrote them
 * completes its writes with a DSB: CONTIG_MISPROGRAMMED.
 */
#include "detectors.h"

typedef struct {
	uint64_t tpa;
	unsigned group;
} cont_group;

typedef struct {
	unsigned id;
	GArray *dirty[PTW_MAX_CPUS]; /* groups written since the last DSB */
} contig_state;

static void *contig_init(ptw_engine *e, unsigned id)
{
	(void)e;
	contig_state *s = g_new0(contig_state, 1);
	s->id = id;
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		s->dirty[i] = g_array_new(FALSE, FALSE, sizeof(cont_group));
	return s;
}

static void contig_free(ptw_engine *e, void *st)
{
	(void)e;
	contig_state *s = st;
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_array_free(s->dirty[i], TRUE);
	g_free(s);
}

/* per last-level table, per 16 entries: 1 + the CPU that last wrote a
 * contiguous entry there */
static void contig_table_added(ptw_engine *e, void *st, ptw_table *t)
{
	contig_state *s = st;
	if (e->ops->cont_bit && ptw_is_last_level(e, t->level))
		*ptw_table_slot(t, s->id) =
			g_new0(uint8_t, (t->nent + 15) / 16);
}

/* ------------------------------------------------------------------ */
/* contiguous groups (arm64) */

static void cont_mark(contig_state *s, unsigned cpu, ptw_table *t, unsigned idx)
{
	GArray *a = s->dirty[cpu];
	cont_group g = {t->pa, idx / 16};
	uint8_t *writer = *ptw_table_slot(t, s->id);
	if (writer)
		writer[idx / 16] = (uint8_t)(cpu + 1);
	for (guint i = 0; i < a->len; i++) {
		cont_group *x = &g_array_index(a, cont_group, i);
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
	uint64_t amask = e->ops->unit_attr_mask(e);
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

/* the CPU completed its writes: the groups it wrote must be consistent
 * (Arm ARM DDI 0487J.a chapter D8, "The Contiguous bit": all entries of the
 * aligned group valid, contiguous output, identical attributes, or the walk is
 * CONSTRAINED UNPREDICTABLE) */
static void contig_sync(ptw_engine *e, void *st, const ptw_ctx *c)
{
	contig_state *s = st;
	GArray *a = s->dirty[c->cpu];
	for (guint i = 0; i < a->len; i++) {
		cont_group *g = &g_array_index(a, cont_group, i);
		unsigned idx;
		ptw_table *t = ptw_table_of(e, g->tpa, &idx);
		/* a group another CPU wrote since is that CPU's to complete
		 * (it may be in the middle of a contpte unfold or a zap, its
		 * first entries cleared): checked at that CPU's DSB */
		uint8_t *writer = t ? *ptw_table_slot(t, s->id) : NULL;
		if (t && t->pa == g->tpa &&
		    (!writer || writer[g->group] == c->cpu + 1))
			cont_check(e, c, t, g->group);
	}
	g_array_set_size(a, 0);
}

static void contig_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
				 ptw_table *t, unsigned idx, uint64_t old,
				 uint64_t new)
{
	if (ptw_is_last_level(e, t->level) && ((old | new) & e->ops->cont_bit))
		cont_mark(st, c->cpu, t, idx);
}

const ptw_detector ptw_det_contig = {
	.name = "contig",
	.init = contig_init,
	.free = contig_free,
	.table_free = g_free,
	.table_added = contig_table_added,
	.entry_changed = contig_entry_changed,
	.sync = contig_sync,
};
