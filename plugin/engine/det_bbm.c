/* SPDX-License-Identifier: MIT */
/*
 * Break-before-make (arm64 rule; windows on both architectures): a break
 * record per entry taken down, its named state (BREAK_UNSYNCED ->
 * UNCLEAN -> INVALIDATING -> CLEAN) driven by the breaker's DSB and the
 * TLBIs that cover it; BBM_MAKE_BEFORE_INVALIDATE when it is made again
 * before clean; BBM_WINDOW_READ for another CPU's load inside it, decided
 * by whether the reader re-validates.
 */
#include "detectors.h"

void det_bbm_init(ptw_engine *e)
{
	e->bbm.breaks = g_hash_table_new_full(u64_hash, u64_eq, NULL, g_free);
	e->bbm.unclean = g_ptr_array_new();
	for (int i = 0; i < PTW_MAX_CPUS; i++) {
		e->bbm.cand[i] = g_ptr_array_new();
		e->bbm.wr[i] = g_array_new(FALSE, FALSE, sizeof(window_read));
	}
}

void det_bbm_free(ptw_engine *e)
{
	g_ptr_array_free(e->bbm.unclean, TRUE);
	for (int i = 0; i < PTW_MAX_CPUS; i++) {
		g_ptr_array_free(e->bbm.cand[i], TRUE);
		g_array_free(e->bbm.wr[i], TRUE);
	}
	g_hash_table_destroy(e->bbm.breaks);
}

/* ------------------------------------------------------------------ */
/* break windows */

break_state break_state_of(const ptw_break *b)
{
	if (!b->need)
		return BREAK_CLEAN;
	if (!b->stored)
		return BREAK_UNSYNCED;
	return b->inflight ? BREAK_INVALIDATING : BREAK_UNCLEAN;
}

ptw_break *break_get(ptw_engine *e, uint64_t pte_pa)
{
	return g_hash_table_lookup(e->bbm.breaks, &pte_pa);
}

void unclean_drop(ptw_engine *e, ptw_break *b)
{
	if (b->unclean_listed) {
		g_ptr_array_remove_fast(e->bbm.unclean, b);
		b->unclean_listed = false;
	}
}

void cand_drop(ptw_engine *e, ptw_break *b)
{
	if (b->in_cand) {
		g_ptr_array_remove(e->bbm.cand[b->cpu], b);
		b->in_cand = false;
	}
}

/* cpu wrote entry idx of t: its breaks outside that group are not
 * transient any more. */
void cand_moved(ptw_engine *e, unsigned cpu, ptw_table *t, unsigned idx)
{
	GPtrArray *a = e->bbm.cand[cpu];
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

void break_remove(ptw_engine *e, ptw_break *b)
{
	suspect_release(e, b, NULL, false);
	unclean_drop(e, b);
	cand_drop(e, b);
	e->bbm.breaks_gone++;
	g_hash_table_remove(e->bbm.breaks, &b->pte_pa);
}

/* Breaks that can no longer be transient (their breaker moved on) and that
 * no TLB can hold are plain unmaps: forget them. Also bound the table. */
static void breaks_trim(ptw_engine *e)
{
	unsigned n = g_hash_table_size(e->bbm.breaks);
	if (++e->bbm.breaks_since_trim < 4096 && n < MAX_BREAKS)
		return;
	e->bbm.breaks_since_trim = 0;
	uint64_t cut = n >= MAX_BREAKS ? e->bbm.break_seq - MAX_BREAKS / 2 : 0;
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, e->bbm.breaks);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		ptw_break *b = v;
		if ((b->moved_on && !b->need) || b->seq < cut) {
			suspect_release(e, b, NULL, false);
			unclean_drop(e, b);
			cand_drop(e, b);
			e->bbm.breaks_gone++;
			g_hash_table_iter_remove(&it);
		}
	}
}

void break_open(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		uint64_t old)
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
	b->seq = ++e->bbm.break_seq;
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
	GPtrArray *ca = e->bbm.cand[c->cpu];
	if (ca->len >= MAX_CAND) {
		ptw_break *o = g_ptr_array_index(ca, 0);
		o->moved_on = true;
		o->in_cand = false;
		g_ptr_array_remove_index(ca, 0);
	}
	g_ptr_array_add(ca, b);
	b->in_cand = true;
	g_hash_table_replace(e->bbm.breaks, &b->pte_pa, b);
	if (b->need) {
		g_ptr_array_add(e->bbm.unclean, b);
		b->unclean_listed = true;
	}
	e->stats[ST_BREAKS]++;
	if (e->cfg.widen_ns)
		__atomic_store_n(&e->stall[c->cpu], 1, __ATOMIC_RELAXED);
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
bool window_read_decide(ptw_engine *e, window_read *w, ptw_severity sev,
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
void window_reads_load(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, const ptw_break *b)
{
	GArray *a = e->bbm.wr[c->cpu];
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t lower = e->lower_entries[c->cpu];
	bool have = false;
	for (guint i = 0; i < a->len;) {
		window_read *w = &g_array_index(a, window_read, i);
		char how[160];
		bool done = false;
		const ptw_break *wb;
		/* looked up again only once some break went away since
		 * (this runs on every page-table load, for each read) */
		if (!w->made && w->alive_at != e->bbm.breaks_gone) {
			if (!(wb = break_get(e, w->pte_pa)) ||
			    wb->seq != w->seq) {
				/* the break went away without a transient
				 * make (an unmap, a table freed): it was no
				 * window */
				g_array_remove_index(a, i);
				continue;
			}
			w->alive_at = e->bbm.breaks_gone;
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
	w.alive_at = e->bbm.breaks_gone;
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
void window_reads_close(ptw_engine *e, const ptw_break *b, bool made,
			uint64_t new, uint64_t dur)
{
	for (unsigned cpu = 0; cpu < e->cfg.ncpus; cpu++) {
		if (!(b->readers >> cpu & 1))
			continue;
		GArray *a = e->bbm.wr[cpu];
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

void miss_describe(const ptw_break *b, char *buf, size_t n)
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
	for (guint i = 0; i < e->bbm.unclean->len; i++) {
		ptw_break *b = g_ptr_array_index(e->bbm.unclean, i);
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
	for (guint i = 0; i < e->bbm.unclean->len;) {
		ptw_break *b = g_ptr_array_index(e->bbm.unclean, i);
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
			g_ptr_array_remove_index_fast(e->bbm.unclean, i);
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
