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
 *
 * One file per detector family (det_bbm.c, det_units.c, det_contig.c,
 * det_aba.c, det_data.c); this one builds findings and dispatches the
 * engine's hooks to them.
 */
#include "detectors.h"

guint u64_hash(gconstpointer p)
{
	uint64_t v = *(const uint64_t *)p;
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (guint)v;
}

gboolean u64_eq(gconstpointer a, gconstpointer b)
{
	return *(const uint64_t *)a == *(const uint64_t *)b;
}

/* The detector families, in the order they are set up and torn down; the
 * engine's hooks below dispatch to them in the order each event needs. */
static const struct {
	const char *name;
	void (*init)(ptw_engine *e);
	void (*free)(ptw_engine *e);
} families[] = {
	{"bbm", det_bbm_init, det_bbm_free},
	{"units", det_units_init, det_units_free},
	{"contig", det_contig_init, det_contig_free},
	{"aba", det_aba_init, det_aba_free},
	{"data", det_data_init, det_data_free},
	{"walk", det_walk_init, det_walk_free},
	{"dirty", det_dirty_init, det_dirty_free},
};

void det_init(ptw_engine *e)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(families); i++)
		families[i].init(e);
}

void det_free(ptw_engine *e)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(families); i++)
		families[i].free(e);
}

void report2(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	     const ptw_ctx *c, const char *role, const ptw_ctx *other,
	     const char *other_role, uint64_t pte_pa, uint64_t va, int level,
	     uint64_t old, uint64_t new, const char *detail)
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

void report(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	    const ptw_ctx *c, uint64_t pte_pa, uint64_t va, int level,
	    uint64_t old, uint64_t new, const char *detail)
{
	report2(e, k, sev, sev_why, c, NULL, NULL, NULL, pte_pa, va, level, old,
		new, detail);
}

const char *bbm_change_reason(ptw_engine *e, uint64_t old, uint64_t new,
			      int level)
{
	return e->ops->bbm_reason ? e->ops->bbm_reason(e, old, new, level)
				  : NULL;
}

/* Describe a non-present entry with the guest-OS layer (Linux swap and
 * migration entry layouts). */
void describe_nonpresent(ptw_engine *e, uint64_t d, int level, char *buf,
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
			window_walks_close(e, b, transient, new, dur);
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
				(c->cpu << 24) | ((e->units.pass_id[c->cpu] +
						   e->lower_entries[c->cpu]) &
						  0xffffff);
			/* a make ends no pass, but one pass makes a unit */
			ptw_pass *p = &e->units.pass[c->cpu];
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
				if (all_gone && !e->units.pass[c->cpu].open)
					memset(t->uorder + base, 0, n);
			}
		}
	}
}

void det_x86_flush(ptw_engine *e, const ptw_ctx *c)
{
	pass_end(e, c->cpu, c);
}

void det_table_dropped(ptw_engine *e, ptw_table *t)
{
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++)
		if (e->units.pass[i].open && e->units.pass[i].tpa == t->pa)
			e->units.pass[i].open = false;
	if (g_hash_table_size(e->bbm.breaks)) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, e->bbm.breaks);
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
		GArray *a = e->bbm.wr[i];
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
		units += e->units.by_size[k];
	e->stats[ST_UNITS] = units;
}
