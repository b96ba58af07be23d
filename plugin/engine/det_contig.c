/* SPDX-License-Identifier: MIT */
/*
 * arm64 contiguous groups, checked when the CPU that last wrote them
 * completes its writes with a DSB: CONTIG_MISPROGRAMMED.
 *
 * Valid entries of a group that disagree (one without the contiguous
 * bit, output addresses not one aligned range, attributes that differ)
 * are found at that DSB. A group whose valid entries agree but that
 * still has invalid entries is a group being made or broken entry by
 * entry (vmap_pte_range() of a contiguous vmalloc range, a contpte
 * unfold or zap); on Linux the DSB need not end that: 7.x's lazy MMU
 * mode leaves the barriers out of the loop, and a preempted writer's
 * __switch_to() issues one in the middle. A walker that caches the group
 * from a valid entry uses the translation the group is being given (or
 * the one its break's TLBI removes). Such a group is misprogrammed only
 * if it stays so: on Linux it is judged when its writing task returns to
 * user mode, or at the end of the run; a later write to the group judges
 * it afresh at that writer's DSB. On a guest that is not Linux (no tasks)
 * the DSB is the writer's own statement that it is done, and it is
 * judged there.
 */
#include "detectors.h"

#define PENDING_MAX 256

typedef struct {
	uint64_t tpa;
	unsigned group;
} cont_group;

/* a group left with invalid entries beside agreeing valid ones at its
 * writer's DSB */
typedef struct {
	cont_group g;
	uint64_t who, returns; /* the writing task, its returns to user */
	ptw_ctx c;	       /* the DSB */
} cont_pending;

typedef struct {
	unsigned id;
	GArray *dirty[PTW_MAX_CPUS]; /* groups written since the last DSB */
	GArray *pending;	     /* cont_pending */
	uint64_t transitional;	     /* groups found so (summary) */
} contig_state;

static void *contig_init(ptw_engine *e, unsigned id)
{
	(void)e;
	contig_state *s = g_new0(contig_state, 1);
	s->id = id;
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		s->dirty[i] = g_array_new(FALSE, FALSE, sizeof(cont_group));
	s->pending = g_array_new(FALSE, FALSE, sizeof(cont_pending));
	return s;
}

static void contig_free(ptw_engine *e, void *st)
{
	(void)e;
	contig_state *s = st;
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_array_free(s->dirty[i], TRUE);
	g_array_free(s->pending, TRUE);
	g_free(s);
}

/* per last-level table, per group of entries: 1 + the CPU that last wrote a
 * contiguous entry there */
static void contig_table_added(ptw_engine *e, void *st, ptw_table *t)
{
	contig_state *s = st;
	if (e->ops->cont_bit && ptw_is_last_level(e, t->level))
		*ptw_table_slot(t, s->id) = g_new0(
			uint8_t, t->nent / ptw_cont_entries(e, t->level) + 1);
}

/* ------------------------------------------------------------------ */
/* contiguous groups (arm64) */

static void cont_mark(ptw_engine *e, contig_state *s, unsigned cpu,
		      ptw_table *t, unsigned idx)
{
	GArray *a = s->dirty[cpu];
	unsigned n = ptw_cont_entries(e, t->level);
	cont_group g = {t->pa, idx / n};
	uint8_t *writer = *ptw_table_slot(t, s->id);
	if (writer)
		writer[idx / n] = (uint8_t)(cpu + 1);
	for (guint i = 0; i < a->len; i++) {
		cont_group *x = &g_array_index(a, cont_group, i);
		if (x->tpa == g.tpa && x->group == g.group)
			return;
	}
	if (a->len < 4096)
		g_array_append_val(a, g);
}

/* why the group is inconsistent, NULL if it is not (or has no valid
 * contiguous entry); *bad the entry; *transitional: only invalid entries
 * beside valid ones that agree */
static const char *cont_judge(ptw_engine *e, ptw_table *t, unsigned group,
			      unsigned *bad, bool *transitional)
{
	unsigned n = ptw_cont_entries(e, t->level), base = group * n;
	uint64_t page = 1ULL << ptw_entry_shift(e, t->level);
	*transitional = false;
	if (base + n > t->nent)
		return NULL;
	uint64_t amask = e->ops->unit_attr_mask(e);
	int first = -1;
	unsigned invalid = 0;
	for (unsigned i = base; i < base + n; i++) {
		uint64_t v = t->shadow[i];
		ptw_desc d = ptw_decode_entry(e, v, t->level);
		if (d.type != PTW_DESC_PAGE) {
			if (!invalid++)
				*bad = i;
			continue;
		}
		if (first < 0 && (v & e->ops->cont_bit))
			first = (int)i;
	}
	if (first < 0)
		return NULL;
	/* the valid entries must agree: with the first valid contiguous
	 * one, as to the bit, the output address at their offset within
	 * one aligned range (64 KiB; 2 MiB with 16K pages), and attributes */
	uint64_t v0 = t->shadow[first];
	ptw_desc d0 = ptw_decode_entry(e, v0, t->level);
	uint64_t oa0 = d0.oa - (uint64_t)(first - (int)base) * page;
	for (unsigned i = base; i < base + n; i++) {
		uint64_t v = t->shadow[i];
		ptw_desc d = ptw_decode_entry(e, v, t->level);
		if (d.type != PTW_DESC_PAGE)
			continue;
		*bad = i;
		if (!(v & e->ops->cont_bit))
			return "an entry of the group lacks the contiguous bit";
		if ((oa0 & (n * page - 1)) || d.oa != oa0 + (i - base) * page)
			return n * page == 65536
				       ? "output addresses are not one aligned "
					 "64 KiB range"
				       : "output addresses are not one aligned "
					 "range of the group's size";
		if ((v ^ v0) & amask)
			return "attributes differ within the group";
	}
	if (!invalid)
		return NULL;
	*transitional = true;
	return "an entry of the group is not a valid page";
}

static void cont_report(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			unsigned group, unsigned bad, const char *why,
			const char *when)
{
	unsigned n = ptw_cont_entries(e, t->level), base = group * n;
	char d[320];
	snprintf(d, sizeof(d),
		 "contiguous group of %u at VA 0x%" PRIx64
		 " is inconsistent when vcpu %u completes its writes (DSB)%s: "
		 "%s (entry %u)",
		 n, ptw_entry_va(e, t, base), c->cpu, when, why, bad - base);
	report(e, PTW_KIND_CONTIG_MISPROGRAMMED, PTW_SEV_ERROR,
	       "a walker may use an inconsistent contiguous group", c,
	       t->pa + bad * 8ULL, ptw_entry_va(e, t, bad), t->level,
	       t->shadow[base], t->shadow[bad], d);
}

static void pending_drop(contig_state *s, cont_group g)
{
	for (guint i = 0; i < s->pending->len; i++) {
		cont_pending *p = &g_array_index(s->pending, cont_pending, i);
		if (p->g.tpa == g.tpa && p->g.group == g.group) {
			g_array_remove_index_fast(s->pending, i);
			return;
		}
	}
}

static void cont_check(ptw_engine *e, contig_state *s, const ptw_ctx *c,
		       ptw_table *t, unsigned group)
{
	unsigned bad = group * ptw_cont_entries(e, t->level);
	bool transitional;
	cont_group g = {t->pa, group};
	pending_drop(s, g);
	const char *why = cont_judge(e, t, group, &bad, &transitional);
	if (!why)
		return;
	if (transitional && ptw_guest_is_linux(e) &&
	    s->pending->len < PENDING_MAX) {
		cont_pending p = {.g = g, .c = *c};
		p.who = ptw_task_who(e, c->cpu);
		p.returns = ptw_task_returns(e, p.who);
		g_array_append_val(s->pending, p);
		s->transitional++;
		return;
	}
	cont_report(e, c, t, group, bad, why, "");
}

/* the pending groups whose writer returned to user mode since (all of
 * them at the end of the run): still inconsistent, found */
static void pending_judge(ptw_engine *e, contig_state *s, bool all)
{
	for (guint i = 0; i < s->pending->len;) {
		cont_pending *p = &g_array_index(s->pending, cont_pending, i);
		if (!all && ptw_task_returns(e, p->who) == p->returns) {
			i++;
			continue;
		}
		cont_pending x = *p;
		g_array_remove_index_fast(s->pending, i);
		unsigned idx, bad = 0;
		bool transitional;
		ptw_table *t = ptw_table_of(e, x.g.tpa, &idx);
		const char *why = t && t->pa == x.g.tpa
					  ? cont_judge(e, t, x.g.group, &bad,
						       &transitional)
					  : NULL;
		if (why)
			cont_report(e, &x.c, t, x.g.group, bad, why,
				    all ? ", and still at the end of the run"
					: ", and still when its writer "
					  "returned to user mode");
	}
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
			cont_check(e, s, c, t, g->group);
	}
	g_array_set_size(a, 0);
	if (s->pending->len)
		pending_judge(e, s, false);
}

static void contig_finish(ptw_engine *e, void *st)
{
	pending_judge(e, st, true);
}

static void contig_summary_stats(ptw_engine *e, void *st, FILE *f)
{
	(void)e;
	contig_state *s = st;
	fprintf(f, ",\n    \"contig_transitional\": %" PRIu64, s->transitional);
}

static void contig_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
				 ptw_table *t, unsigned idx, uint64_t old,
				 uint64_t new)
{
	if (ptw_is_last_level(e, t->level) && ((old | new) & e->ops->cont_bit))
		cont_mark(e, st, c->cpu, t, idx);
}

const ptw_detector ptw_det_contig = {
	.name = "contig",
	.init = contig_init,
	.free = contig_free,
	.table_free = g_free,
	.table_added = contig_table_added,
	.entry_changed = contig_entry_changed,
	.sync = contig_sync,
	.finish = contig_finish,
	.summary_stats = contig_summary_stats,
};
