/* SPDX-License-Identifier: MIT */
/*
 * Break-before-make (arm64 rule; windows on both architectures): a break
 * record per entry taken down, its named state (BREAK_UNSYNCED ->
 * UNCLEAN -> INVALIDATING -> CLEAN) driven by the breaker's DSB and the
 * TLBIs that cover it; BBM_VALID_TO_VALID for a live valid entry replaced
 * by another without a break; BBM_MAKE_BEFORE_INVALIDATE when it is made
 * again before clean; BBM_WINDOW_READ for another CPU's load inside it,
 * decided by whether the reader re-validates.
 *
 * The rule (Arm ARM DDI 0487J.a D8.14.1 "Using break-before-make when updating
 * translation table entries", with the list of changes that need it in the
 * architecture's bbm_reason(), arch_arm64.c): a valid entry is replaced
 * by another valid one only through an invalid entry, the invalid entry
 * made visible (DSB), every TLB that may hold the old entry invalidated
 * (a TLBI covering the entry, broadcast when other CPUs may hold it), that
 * invalidation completed (DSB), and only then the new entry stored.
 *
 * Publishes through the interface: the open break of an entry
 * (break_find) and its end (break_closed), which the unit detector and
 * the window-walk detector use.
 */
#include "detectors.h"
#include "u64map.h"

#define MAX_CAND   256
#define MAX_BREAKS 65536
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

/* The break automaton of one entry (Casemate's valid / invalid-unclean /
 * invalid, with arm64's two steps inside unclean). The state is read from
 * the record's per-CPU masks by break_state_of(): 'need' (CPUs that may
 * hold the old entry), 'stored' (the breaker's DSB made the invalid entry
 * visible), 'inflight' (covered by TLBIs not yet completed by their DSB).
 * Valid is no record at all. */
typedef enum {
	BREAK_UNSYNCED,	    /* invalid stored, not yet visible to walkers: a
			       TLBI now does not count (the walker may refill
			       the old entry) */
	BREAK_UNCLEAN,	    /* visible; CPUs may hold the old entry and no
			       covering TLBI is in flight */
	BREAK_INVALIDATING, /* covering TLBIs issued, awaiting their DSB */
	BREAK_CLEAN,	    /* no CPU may hold the old entry: it may be made
			       again with anything */
} break_state;

/* why the last TLBI of a break did not count (ptw_break.miss_why) */
enum {
	MISS_NONE,
	MISS_BEFORE_DSB,
	MISS_ASID,
	MISS_VA,
	MISS_LOCAL,
};

/* An open break window on one entry (valid -> invalid, not yet made). */
typedef struct {
	uint64_t pte_pa, space, va;
	int level;
	uint16_t asid;
	bool global;
	uint64_t old_desc;
	unsigned cpu; /* the breaker */
	ptw_ctx when;
	uint64_t need;		/* CPUs that may still hold the old entry */
	uint64_t breaker_lower; /* the breaker's returns to user at the break */
	bool stored;		/* the breaker ran a DSB since the break: the
				   invalid entry is visible, a TLBI can count */
	uint8_t miss_why;	/* the last TLBI that did not count, and why */
	uint64_t miss_pc;
	uint16_t miss_asid; /* MISS_ASID: the ASID that TLBI named */
	uint64_t inflight;  /* invalidated by TLBIs not yet completed */
	uint64_t issuers;   /* CPUs that issued those TLBIs */
	bool local_inflight;
	uint64_t readers; /* other CPUs that loaded the entry meanwhile */
	uint64_t seq;
	bool unclean_listed; /* in bbm_state.unclean */
	/* transient window: the breaker has written nothing outside the
	 * entry's group (its unit, or 16 entries) since the break */
	uint64_t tpa;
	unsigned group_base, group_n;
	bool moved_on, in_cand;
} ptw_break;

/* What a window read will report: its finding and how it was decided.
 * Apart from the read's own fields, which every page-table load of its
 * reader looks at: those stay small and together. */
typedef struct {
	ptw_finding f; /* ctx: the read; other: the break */
	char how[256];
} window_story;

/* A CPU's load of an entry inside another CPU's break. Its severity waits
 * for the reader's next moves and for the break to close (window_read_*). */
typedef struct {
	window_story *story;  /* freed with the read (the array's clear) */
	uint64_t read_icount; /* the read's (story->f.ctx.icount) */
	uint64_t pte_pa, tpa;
	unsigned gbase, gn;   /* the break's group in table tpa */
	uint64_t seq;	      /* the break's serial */
	uint64_t alive_at;    /* the break was there at this breaks_gone */
	uint64_t lower;	      /* the reader's returns to user at its read */
	bool made;	      /* the breaker made the entry again (transient) */
	uint64_t after;	      /* the reader's icount at its first page-table
				 load after the make (0: none yet) */
	ptw_severity decided; /* known before the make, or PTW_SEV_NONE */
} window_read;

static void window_read_clear(void *p)
{
	window_read *w = p;
	g_free(w->story);
	w->story = NULL;
}

typedef struct {
	unsigned id;	    /* in the detector table */
	u64map breaks;	    /* pte_pa -> ptw_break* (the break owned here) */
	GPtrArray *unclean; /* breaks some CPU may still cache (need != 0) */
	GPtrArray *cand[PTW_MAX_CPUS]; /* breaks still transient, per breaker */
	unsigned breaks_since_trim;
	uint64_t break_seq;
	uint64_t breaks_gone; /* breaks removed so far (window_reads_load) */
	/* per reader CPU: window reads whose severity waits for whether the
	 * reader loads the entry again */
	GArray *wr[PTW_MAX_CPUS];
} bbm_state;

static void *bbm_init(ptw_engine *e, unsigned id)
{
	(void)e;
	bbm_state *s = g_new0(bbm_state, 1);
	s->id = id;
	u64map_init(&s->breaks, sizeof(ptw_break *));
	s->unclean = g_ptr_array_new();
	for (int i = 0; i < PTW_MAX_CPUS; i++) {
		s->cand[i] = g_ptr_array_new();
		s->wr[i] = g_array_new(FALSE, FALSE, sizeof(window_read));
		g_array_set_clear_func(s->wr[i], window_read_clear);
	}
	return s;
}

static void bbm_free(ptw_engine *e, void *st)
{
	(void)e;
	bbm_state *s = st;
	g_ptr_array_free(s->unclean, TRUE);
	for (int i = 0; i < PTW_MAX_CPUS; i++) {
		g_ptr_array_free(s->cand[i], TRUE);
		g_array_free(s->wr[i], TRUE);
	}
	for (size_t i = 0; i < s->breaks.cap; i++) {
		ptw_break **b = u64map_slot_value(&s->breaks, i);
		if (b)
			g_free(*b);
	}
	u64map_free(&s->breaks);
	g_free(s);
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

static ptw_break *break_get(bbm_state *s, uint64_t pte_pa)
{
	/* most loads come while no break is open anywhere */
	if (!s->breaks.len)
		return NULL;
	ptw_break **b = u64map_get(&s->breaks, pte_pa);
	return b ? *b : NULL;
}

static void break_info(const ptw_break *b, ptw_break_info *o)
{
	*o = (ptw_break_info){.pte_pa = b->pte_pa,
			      .va = b->va,
			      .tpa = b->tpa,
			      .level = b->level,
			      .old_desc = b->old_desc,
			      .cpu = b->cpu,
			      .when = b->when,
			      .seq = b->seq,
			      .transient = !b->moved_on,
			      .group_base = b->group_base,
			      .group_n = b->group_n};
}

static void unclean_drop(bbm_state *s, ptw_break *b)
{
	if (b->unclean_listed) {
		g_ptr_array_remove_fast(s->unclean, b);
		b->unclean_listed = false;
	}
}

static void cand_drop(bbm_state *s, ptw_break *b)
{
	if (b->in_cand) {
		g_ptr_array_remove(s->cand[b->cpu], b);
		b->in_cand = false;
	}
}

/* b can no longer close as a transient window (its breaker moved on):
 * its window reads would only be dropped when it closes, so they go now
 * rather than be scanned at every page-table load of their readers until
 * then (an unmapped entry's break stays open until a fault maps the VA
 * again, or its table goes) */
static void window_reads_drop(bbm_state *s, const ptw_break *b)
{
	for (unsigned cpu = 0; b->readers >> cpu; cpu++) {
		if (!(b->readers >> cpu & 1))
			continue;
		GArray *a = s->wr[cpu];
		for (guint i = 0; i < a->len;) {
			if (g_array_index(a, window_read, i).seq == b->seq)
				g_array_remove_index(a, i);
			else
				i++;
		}
	}
}

/* cpu wrote entry idx of t: its breaks outside that group are not
 * transient any more. */
static void cand_moved(bbm_state *s, unsigned cpu, ptw_table *t, unsigned idx)
{
	GPtrArray *a = s->cand[cpu];
	for (guint i = 0; i < a->len;) {
		ptw_break *b = g_ptr_array_index(a, i);
		if (b->tpa == t->pa && idx >= b->group_base &&
		    idx < b->group_base + b->group_n) {
			i++;
			continue;
		}
		b->moved_on = true;
		b->in_cand = false;
		window_reads_drop(s, b);
		g_ptr_array_remove_index(a, i);
	}
}

/* The one teardown of a break (break_forget), after the other detectors
 * heard how it ended (break_drop: c and made say how, a store that made
 * the entry again, transiently or not; NULL: not a store). */
static void break_forget(bbm_state *s, ptw_break *b)
{
	unclean_drop(s, b);
	cand_drop(s, b);
	s->breaks_gone++;
	u64map_remove(&s->breaks, b->pte_pa);
	g_free(b);
}

static void break_drop(ptw_engine *e, bbm_state *s, ptw_break *b,
		       const ptw_ctx *c, bool made, uint64_t new, uint64_t dur)
{
	ptw_break_info bi;
	break_info(b, &bi);
	ptw_det_break_closed(e, s->id, &bi, c, made, new, dur);
	PTW_TL(e, .kind = PTW_TL_BREAK_CLOSE, .cpu = b->cpu, .at = c,
	       .id = b->seq, .made = made);
	break_forget(s, b);
}

/* Breaks that can no longer be transient (their breaker moved on) and that
 * no TLB can hold are plain unmaps: forget them. Also bound the table. */
static void breaks_trim(ptw_engine *e, bbm_state *s)
{
	size_t n = s->breaks.len;
	if (++s->breaks_since_trim < 4096 && n < MAX_BREAKS)
		return;
	s->breaks_since_trim = 0;
	uint64_t cut = n >= MAX_BREAKS ? s->break_seq - MAX_BREAKS / 2 : 0;
	GPtrArray *gone = g_ptr_array_new();
	for (size_t i = 0; i < s->breaks.cap; i++) {
		ptw_break **v = u64map_slot_value(&s->breaks, i);
		if (v && (((*v)->moved_on && !(*v)->need) || (*v)->seq < cut))
			g_ptr_array_add(gone, *v);
	}
	for (guint i = 0; i < gone->len; i++)
		break_drop(e, s, gone->pdata[i], NULL, false, 0, 0);
	g_ptr_array_free(gone, TRUE);
}

static void break_open(ptw_engine *e, bbm_state *s, const ptw_ctx *c,
		       ptw_table *t, unsigned idx, uint64_t old)
{
	ptw_break *b = break_get(s, t->pa + idx * 8ULL);
	if (b)
		break_drop(e, s, b, NULL, false, 0, 0);
	breaks_trim(e, s);
	b = g_new0(ptw_break, 1);
	b->pte_pa = t->pa + idx * 8ULL;
	b->va = ptw_entry_va(e, t, idx);
	b->space = ptw_entry_space(e, t, b->va);
	b->level = t->level;
	b->old_desc = old;
	b->cpu = c->cpu;
	b->when = *c;
	b->seq = ++s->break_seq;
	b->breaker_lower = ptw_lower_entries(e, c->cpu);
	/* global (nG clear, x86 G) is a leaf's attribute: a table
	 * descriptor has no such bit, and the walk cache's copy of a
	 * lower-half one is used with its walk's ASID (PCID), which a TLBI
	 * by that ASID removes (Arm ARM DDI 0487 D8.16, TLBI ASIDE1 applies
	 * to entries from any level of the walk; Intel SDM 4.10.3, paging-
	 * structure caches are kept per PCID). Linux relies on it: its
	 * flush_tlb_mm() frees user page tables (tlb_flush() of a full mm),
	 * and a range of 512 pages or more, such as a PMD's table collapsed
	 * by pmdp_collapse_flush(), is flushed by ASID the same way. */
	b->global = e->ops->global(e, c->cpu, old) &&
		    !(e->ops->decode(e, old, t->level).type == PTW_DESC_TABLE &&
		      !e->ops->upper_half(b->va));
	b->asid = ptw_space_asid(e, t->space);
	/* x86 has no break-before-make rule: only arm64 tracks who may
	 * still hold the old entry */
	b->need = e->ops->bbm_reason ? ptw_may_hold(e, t, b->va) : 0;
	b->tpa = t->pa;
	unsigned ord = ptw_is_last_level(e, t->level)
			       ? ptw_det_unit_order(e, t, idx)
			       : 0;
	unsigned gn = ord ? 1u << ord : ptw_cont_entries(e, t->level);
	if (gn > t->nent)
		gn = t->nent;
	b->group_n = gn;
	b->group_base = idx & ~(gn - 1);
	GPtrArray *ca = s->cand[c->cpu];
	if (ca->len >= MAX_CAND) {
		ptw_break *o = g_ptr_array_index(ca, 0);
		o->moved_on = true;
		o->in_cand = false;
		window_reads_drop(s, o);
		g_ptr_array_remove_index(ca, 0);
	}
	g_ptr_array_add(ca, b);
	b->in_cand = true;
	/* break_open() dropped the entry's earlier break: the key is new */
	*(ptw_break **)u64map_put(&s->breaks, b->pte_pa, NULL) = b;
	if (b->need) {
		g_ptr_array_add(s->unclean, b);
		b->unclean_listed = true;
	}
	e->stats[ST_BREAKS]++;
	PTW_TL(e, .kind = PTW_TL_BREAK_OPEN, .cpu = c->cpu, .at = c,
	       .id = b->seq, .pte_pa = b->pte_pa, .va = b->va,
	       .level = b->level);
	ptw_request_stall(e, c->cpu);
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
	ptw_finding *f = &w->story->f;
	size_t n = strlen(f->detail);
	snprintf(f->detail + n, sizeof(f->detail) - n, "; %s", w->story->how);
	f->severity = w->decided;
	f->severity_why = w->decided == PTW_SEV_NOTE ? wr_note : wr_error;
	e->stats[w->decided == PTW_SEV_NOTE ? ST_WINDOW_READS_REVALIDATED
					    : ST_WINDOW_READS_UNCHECKED]++;
	ptw_report_finding(e, f);
}

/* decide w; reported (and to be removed: true) once the break was made */
static bool window_read_decide(ptw_engine *e, window_read *w, ptw_severity sev,
			       const char *how)
{
	if (w->decided == PTW_SEV_NONE) {
		w->decided = sev;
		g_strlcpy(w->story->how, how, sizeof(w->story->how));
	}
	if (!w->made)
		return false;
	window_read_report(e, w);
	return true;
}

/* the function a read is judged by: the reading function's, or, for an
 * entry getter (arm64's contpte_ptep_get(), ptep_get() of a contiguous
 * entry, which gathers the block's access and dirty bits), its caller's
 * (page_vma_mapped_walk()'s check of a contpte entry), from the call
 * stack; sym is left as it is when the stack has no caller */
static void reader_of(ptw_engine *e, const ptw_ctx *c, char *sym, size_t n)
{
	if (!sym[0] || !ptw_linux_entry_getter(sym))
		return;
	ptw_ctx at = *c;
	ptw_stack_capture(e, &at);
	const ptw_stack *st = at.stack ? ptw_stack_get(e, at.stack) : NULL;
	if (st && st->n >= 2)
		ptw_stack_symbolize(e, c->cpu, st->pc[1], sym, n);
}

/* cpu c read entry idx of t (value: in b's window when b != NULL): create
 * or decide its window reads. Called before the read updates e->aba. */
static void window_reads_load(ptw_engine *e, bbm_state *s, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, const ptw_break *b)
{
	GArray *a = s->wr[c->cpu];
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t lower = ptw_lower_entries(e, c->cpu);
	bool have = false;
	for (guint i = 0; i < a->len;) {
		window_read *w = &g_array_index(a, window_read, i);
		char how[160];
		bool done = false;
		const ptw_break *wb;
		/* looked up again only once some break went away since
		 * (this runs on every page-table load, for each read) */
		if (!w->made && w->alive_at != s->breaks_gone) {
			if (!(wb = break_get(s, w->pte_pa)) ||
			    wb->seq != w->seq) {
				/* the break went away without a transient
				 * make (an unmap, a table freed): it was no
				 * window */
				g_array_remove_index(a, i);
				continue;
			}
			w->alive_at = s->breaks_gone;
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
				 c->pc, c->icount - w->read_icount);
			done = window_read_decide(e, w, PTW_SEV_NOTE, how);
		} else if (t->pa == w->tpa && idx >= w->gbase &&
			   idx < w->gbase + w->gn && w->pte_pa != pte_pa) {
			/* another entry of the group, which this CPU had read
			 * just before its read in the window: it restarted its
			 * walk of the block (contpte_ptep_get_lockless()'s
			 * retry), so the transient value was not used. A
			 * forward scan (page_vma_mapped_walk()) reads each
			 * entry once. */
			unsigned rcpu;
			uint64_t ricount;
			if (ptw_det_last_load(e, ptw_task_who(e, c->cpu),
					      pte_pa, &rcpu, &ricount) &&
			    rcpu == c->cpu && ricount < w->read_icount &&
			    w->read_icount - ricount <= RESTART_WINDOW) {
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
	/* a break whose breaker moved on cannot close as a transient
	 * window: a read in it is no window read (window_reads_drop) */
	if (!b || have || b->moved_on)
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
	window_read w = {.story = g_new0(window_story, 1)};
	char sym[96];
	ptw_symbolize(e, c->cpu, c->pc, sym, sizeof(sym));
	reader_of(e, c, sym, sizeof(sym));
	if (sym[0] && ptw_linux_rechecking_reader(sym)) {
		/* the fault path re-checks under the PTE lock, or returns and
		 * lets the access retry (the walker reads the entry again):
		 * decided now, reported when the break is made */
		w.decided = PTW_SEV_NOTE;
		snprintf(w.story->how, sizeof(w.story->how),
			 "re-validated: a fault-path reader (%s), which "
			 "re-checks under the PTE lock or lets the access "
			 "retry",
			 sym);
	} else if (sym[0] && ptw_linux_single_page_benign_reader(sym)) {
		/* seed 001's reader: an error only when its caller unmaps
		 * what it finds and the entry maps part of a large folio
		 * (Linux's struct page says; without BTF, a multi-page unit
		 * in the tables) */
		char caller[96] = "";
		int large = -1;
		if (e->call_site[c->cpu])
			ptw_symbolize(e, c->cpu, e->call_site[c->cpu], caller,
				      sizeof(caller));
		if (caller[0] && !ptw_linux_unmapping_walker(caller)) {
			w.decided = PTW_SEV_NOTE;
			snprintf(w.story->how, sizeof(w.story->how),
				 "benign: the walk was called from %.80s, "
				 "which only reads what it finds (a skipped "
				 "entry misses an access or dirty bit, not a "
				 "mapping)",
				 caller);
		} else if (ptw_is_last_level(e, t->level) &&
			   (large = ptw_linux_folio_large(e, t->level,
							  b->old_desc)) == 0) {
			/* Linux's own answer, when its struct pages can be
			 * read: reclaim holds the folio locked over
			 * try_to_unmap(), so its size now is the one that
			 * chose the flags. A large folio split since it was
			 * mapped still looks like a unit in the tables. */
			w.decided = PTW_SEV_NOTE;
			e->stats[ST_WINDOW_READS_SMALL_FOLIO]++;
			snprintf(w.story->how, sizeof(w.story->how),
				 "benign for a small folio (order 0 in its "
				 "struct page): %.80s missing it makes "
				 "try_to_unmap() fail and reclaim keep the "
				 "page (Linux locks first, TTU_SYNC, only for "
				 "large folios)",
				 sym);
		} else if (ptw_is_last_level(e, t->level) && large < 0 &&
			   ptw_det_unit_order(e, t, idx) == 0) {
			w.decided = PTW_SEV_NOTE;
			snprintf(w.story->how, sizeof(w.story->how),
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
	w.alive_at = s->breaks_gone;
	w.lower = lower;
	w.read_icount = c->icount;
	ptw_finding *f = &w.story->f;
	f->kind = PTW_KIND_BBM_WINDOW_READ;
	f->ctx = *c;
	/* a read not known benign may be reported later: its stack now */
	if (w.decided == PTW_SEV_NONE)
		ptw_stack_capture(e, &f->ctx);
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
static void window_reads_close(ptw_engine *e, bbm_state *s, const ptw_break *b,
			       bool made, uint64_t new, uint64_t dur)
{
	for (unsigned cpu = 0; cpu < e->cfg.ncpus; cpu++) {
		if (!(b->readers >> cpu & 1))
			continue;
		GArray *a = s->wr[cpu];
		for (guint i = 0; i < a->len;) {
			window_read *w = &g_array_index(a, window_read, i);
			if (w->seq != b->seq) {
				i++;
				continue;
			}
			if (made) {
				w->made = true;
				ptw_finding *f = &w->story->f;
				f->new_desc = new;
				snprintf(f->detail, sizeof(f->detail),
					 "vcpu %u loaded this entry at pc "
					 "0x%" PRIx64 " icount %" PRIu64
					 " while it was transiently invalid "
					 "inside vcpu %u's break (opened at pc "
					 "0x%" PRIx64 " icount %" PRIu64
					 ", made again %" PRIu64
					 " instructions later); readers "
					 "0x%" PRIx64,
					 cpu, f->ctx.pc, f->ctx.icount, b->cpu,
					 b->when.pc, b->when.icount, dur,
					 b->readers);
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
						w->story->how,
						"the entry came back mapping "
						"another page: a reader that "
						"skipped it missed nothing of "
						"the page it mapped before",
						sizeof(w->story->how));
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

/* Invalidation reaching the CPUs in targets: the breaks it covers go
 * towards clean (Arm ARM DDI 0487J.a chapter D8, "TLB maintenance
 * instructions": a TLBI is complete only after a DSB on the issuing PE). */
static void bbm_invalidate(ptw_engine *e, void *st, const ptw_ctx *c,
			   const inval_scope *sc, uint64_t targets)
{
	bbm_state *s = st;
	bool local = targets == (1ULL << c->cpu);
	for (guint i = 0; i < s->unclean->len; i++) {
		ptw_break *b = g_ptr_array_index(s->unclean, i);
		uint64_t size = 1ULL << ptw_entry_shift(e, b->level);
		/* only the breaker's own TLBIs can be mistakes of its
		 * sequence; another CPU's TLBI that does not count is simply
		 * not the invalidation of this break */
		bool own = c->cpu == b->cpu;
		if (!ptw_scope_covers(sc, b->va, size, b->global, b->asid)) {
			/* say why, when the TLBI looks meant for this entry:
			 * its VA with another ASID, or the breaker's own TLBI
			 * by VA of another page */
			inval_scope any = *sc;
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
				b->miss_asid = sc->asid;
			} else if (sc->by_va && c->cpu == b->cpu) {
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

/* Arm ARM (DDI 0487J.a chapter D8, "TLB maintenance"): a DSB completes the TLB
 * maintenance its PE issued before it (for an NSH option only that PE's own
 * TLB); any DSB, ST included, makes the breaker's invalid store visible to
 * walkers. The kind comes from the architecture (ptw_arch_ops.barrier). */
static void bbm_barrier(ptw_engine *e, void *st, const ptw_ctx *c,
			const ptw_barrier *k)
{
	(void)e;
	bbm_state *s = st;
	bool full = k->completes_maintenance, nsh = k->local;
	for (guint i = 0; i < s->unclean->len;) {
		ptw_break *b = g_ptr_array_index(s->unclean, i);
		if (b->cpu == c->cpu)
			b->stored = true;
		if (full && (b->issuers & (1ULL << c->cpu))) {
			uint64_t done = nsh ? b->inflight & (1ULL << c->cpu)
					    : b->inflight;
			b->need &= ~done;
			b->inflight &= ~done;
			if (!b->inflight)
				b->issuers = 0;
		}
		if (full && break_state_of(b) == BREAK_CLEAN) {
			g_ptr_array_remove_index_fast(s->unclean, i);
			b->unclean_listed = false;
		} else {
			i++;
		}
	}
}

static void report_mbi(ptw_engine *e, const ptw_ctx *c, const ptw_break *b,
		       ptw_table *t, unsigned idx, uint64_t new,
		       const char *why)
{
	break_state st = break_state_of(b);
	char d[512], miss[200];
	miss_describe(b, miss, sizeof(miss));
	snprintf(d, sizeof(d),
		 "entry made valid again while the "
		 "old translation may still be cached "
		 "(no completed invalidation reaching "
		 "vcpus 0x%" PRIx64 " since the break by vcpu %u at pc "
		 "0x%" PRIx64 "%s); the new "
		 "descriptor differs: %s%s",
		 b->need, b->cpu, b->when.pc,
		 st == BREAK_INVALIDATING ? ", a TLBI was issued "
					    "but not completed by "
					    "a DSB"
					  : "",
		 why, miss);
	/* another CPU (a fault) makes the entry while the breaker's own
	 * flush is deferred: arm64 reclaim's batched flush (TTU_BATCH_FLUSH
	 * issues TLBI IS and completes it in try_to_unmap_flush()) or a
	 * zap's mmu_gather (flushed after the PTE lock is dropped). The
	 * maker cannot know; Linux takes this path on purpose: a warning. A
	 * breaker that makes the entry again itself without a completed
	 * invalidation, or a TLBI of the wrong scope (another ASID or VA,
	 * local only, before the DSB of the invalid store): an error. */
	uint64_t me = 1ULL << c->cpu;
	bool batched = b->cpu != c->cpu && !(b->issuers & me) &&
		       !b->local_inflight && b->miss_why != MISS_BEFORE_DSB &&
		       b->miss_why != MISS_ASID;
	report2(e, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE,
		batched ? PTW_SEV_WARNING : PTW_SEV_ERROR,
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
		c, "maker", &b->when, "broken by", b->pte_pa,
		ptw_entry_va(e, t, idx), t->level, b->old_desc, new, d);
}

/* invalid -> valid: the break b ends; a transient window of its breaker
 * when the breaker makes it again before moving on or returning to user */
static void break_make(ptw_engine *e, bbm_state *s, const ptw_ctx *c,
		       ptw_table *t, unsigned idx, ptw_break *b, uint64_t new)
{
	uint64_t dur = c->icount - b->when.icount;
	const char *why =
		e->ops->bbm_reason
			? e->ops->bbm_reason(e, b->old_desc, new, t->level)
			: NULL;
	if (why && break_state_of(b) != BREAK_CLEAN)
		report_mbi(e, c, b, t, idx, new, why);
	/* no kernel break-before-make sequence spans a return to user mode
	 * by the breaking task: a break left that way is an unmap (a zap,
	 * then a new fault maps the VA again) */
	bool transient = b->cpu == c->cpu && !b->moved_on &&
			 ptw_lower_entries(e, c->cpu) == b->breaker_lower;
	if (transient) {
		e->stats[ST_WINDOWS]++;
		if (dur > e->stats[ST_BREAK_LONGEST])
			e->stats[ST_BREAK_LONGEST] = dur;
	}
	ptw_break_info bi;
	break_info(b, &bi);
	/* the others first (a partial unit's report, then walks in the
	 * window), then this detector's own window reads */
	ptw_det_break_closed(e, s->id, &bi, c, transient, new, dur);
	if (b->readers)
		window_reads_close(e, s, b, transient, new, dur);
	if (b->readers && transient)
		e->stats[ST_BREAKS_OBSERVED]++;
	PTW_TL(e, .kind = PTW_TL_BREAK_CLOSE, .cpu = b->cpu, .at = c,
	       .id = b->seq, .made = transient);
	break_forget(s, b);
}

static void bbm_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new)
{
	bbm_state *s = st;
	cand_moved(s, c->cpu, t, idx);
	ptw_desc dold = ptw_decode_entry(e, old, t->level);
	ptw_desc dnew = ptw_decode_entry(e, new, t->level);
	bool was_valid = dold.type != PTW_DESC_INVALID;
	bool is_valid = dnew.type != PTW_DESC_INVALID;
	uint64_t pte_pa = t->pa + idx * 8ULL;
	if (was_valid && !is_valid) {
		break_open(e, s, c, t, idx, old);
	} else if (!was_valid && is_valid) {
		ptw_break *b = break_get(s, pte_pa);
		if (b)
			break_make(e, s, c, t, idx, b, new);
	} else if (!was_valid && !is_valid) {
		/* the broken entry became a swap or migration entry: an unmap
		 * (try_to_unmap, migration), not a transient window */
		ptw_break *b = break_get(s, pte_pa);
		if (b) {
			b->moved_on = true;
			cand_drop(s, b);
			window_reads_drop(s, b);
		}
	} else if (e->ops->bbm_reason &&
		   (t->space == PTW_KSPACE ||
		    ptw_may_hold(e, t, ptw_entry_va(e, t, idx)))) {
		/* valid -> valid (Arm ARM DDI 0487J.a D8.14.1): what needs a
		 * break is the architecture's to say. Only of a live entry:
		 * an address space no TLB may hold (a cold root, kept
		 * parked by the core) can change any way it likes. */
		const char *why = e->ops->bbm_reason(e, old, new, t->level);
		if (why) {
			char d[256];
			snprintf(d, sizeof(d),
				 "live valid descriptor replaced by another "
				 "valid one without break-before-make: %s "
				 "(old %s 0x%" PRIx64 ", new %s 0x%" PRIx64 ")",
				 why,
				 dold.type == PTW_DESC_TABLE ? "table" : "oa",
				 dold.oa,
				 dnew.type == PTW_DESC_TABLE ? "table" : "oa",
				 dnew.oa);
			report2(e, PTW_KIND_BBM_VALID_TO_VALID, PTW_SEV_ERROR,
				"a live entry changed in a way the "
				"architecture requires break-before-make for",
				c, "writer", NULL, NULL, pte_pa,
				ptw_entry_va(e, t, idx), t->level, old, new, d);
		}
	}
}

/* another CPU reads the entry inside a break; a reader of a
 * present-invalid entry (pmdp_invalidate()) still sees the page: Linux
 * keeps it "present" for exactly those readers */
static void bbm_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			     ptw_table *t, unsigned idx, uint64_t value)
{
	bbm_state *s = st;
	ptw_break *b = break_get(s, t->pa + idx * 8ULL);
	bool in_window =
		b && b->cpu != c->cpu &&
		ptw_decode_entry(e, value, t->level).type == PTW_DESC_INVALID &&
		!ptw_linux_present_invalid(e->cfg.arch, value);
	if (in_window || s->wr[c->cpu]->len)
		window_reads_load(e, s, c, t, idx, in_window ? b : NULL);
	if (in_window)
		b->readers |= 1ULL << c->cpu;
}

static void bbm_table_dropped(ptw_engine *e, void *st, ptw_table *t)
{
	bbm_state *s = st;
	if (!s->breaks.len)
		return;
	GPtrArray *gone = g_ptr_array_new();
	for (size_t i = 0; i < s->breaks.cap; i++) {
		ptw_break **v = u64map_slot_value(&s->breaks, i);
		if (v && (*v)->pte_pa >= t->pa &&
		    (*v)->pte_pa < t->pa + t->nent * 8ULL)
			g_ptr_array_add(gone, *v);
	}
	for (guint i = 0; i < gone->len; i++)
		break_drop(e, s, gone->pdata[i], NULL, false, 0, 0);
	g_ptr_array_free(gone, TRUE);
}

static void bbm_finish(ptw_engine *e, void *st)
{
	bbm_state *s = st;
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++) {
		GArray *a = s->wr[i];
		for (guint j = 0; j < a->len; j++) {
			window_read *w = &g_array_index(a, window_read, j);
			if (w->made) /* an open window at the end: no window */
				window_read_decide(e, w, PTW_SEV_ERROR,
						   "the reader had not loaded "
						   "the entry again when the "
						   "run ended");
		}
		g_array_set_size(a, 0);
	}
}

static bool bbm_break_find(ptw_engine *e, void *st, uint64_t pte_pa,
			   ptw_break_info *out)
{
	(void)e;
	ptw_break *b = break_get(st, pte_pa);
	if (b)
		break_info(b, out);
	return b != NULL;
}

const ptw_detector ptw_det_bbm = {
	.name = "bbm",
	.init = bbm_init,
	.free = bbm_free,
	.entry_changed = bbm_entry_changed,
	.entry_loaded = bbm_entry_loaded,
	.invalidate = bbm_invalidate,
	.barrier = bbm_barrier,
	.table_dropped = bbm_table_dropped,
	.finish = bbm_finish,
	.break_find = bbm_break_find,
};
