/* SPDX-License-Identifier: MIT */
/*
 * Walks in break windows (BBM_WINDOW_WALK), from a patched QEMU's fault
 * events (qemu-patches/), which name the entry the walk faulted on: another
 * CPU's MMU read an entry while it was transiently invalid inside a break,
 * and the access faulted. The fault is spurious only if the break was a
 * window: the finding waits for the breaker to make the entry again
 * (window_walks_close); a break that ends as an unmap (the entry stays
 * invalid, or its breaker moved on) made the fault a true one, and nothing
 * is reported.
 *
 * Severity: on Linux, a fault on a user address goes to handle_mm_fault(),
 * which looks at the entry again under the PTE lock and lets the access
 * retry (a note); a fault on a kernel address (the linear map, vmalloc,
 * the kernel image) has no such path: the kernel oopses (an error). On a
 * guest that is not Linux (no kernel symbols) a note: the architecture
 * lets a walk fault inside another CPU's correct break (Arm ARM DDI 0487J.a
 * D8.14.1: the entry is invalid from the break to the make), and what could be
 * wrong is what the guest does with that fault, which ptwatch does not
 * see on a guest it does not know.
 * Whether the guest is Linux is known from its kernel symbols, not from
 * the faulting PC: a user program's PC names no kernel symbol.
 */
#include "detectors.h"

/* at most this many undecided faults per vCPU (oldest dropped) */
#define MAX_WINDOW_WALKS 32

typedef struct {
	uint64_t pte_pa, seq; /* the entry and its break's serial */
	uint64_t va;
	int level;
	ptw_ctx ctx; /* the fault */
	bool store, fetch;
} window_walk;

/* each vCPU's faults on entries in another CPU's break, waiting for the
 * break to close */
typedef struct {
	GArray *pending[PTW_MAX_CPUS];
} walk_state;

static void *walk_init(ptw_engine *e, unsigned id)
{
	(void)e;
	(void)id;
	walk_state *s = g_new0(walk_state, 1);
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		s->pending[i] = g_array_new(FALSE, FALSE, sizeof(window_walk));
	return s;
}

static void walk_free(ptw_engine *e, void *st)
{
	(void)e;
	walk_state *s = st;
	for (int i = 0; i < PTW_MAX_CPUS; i++)
		g_array_free(s->pending[i], TRUE);
	g_free(s);
}

static void walk_fault(ptw_engine *e, void *st, const ptw_ctx *c,
		       const ptw_event *ev)
{
	walk_state *s = st;
	if (ev->fault.type != PTW_FAULT_TRANSLATION || !ev->fault.has_desc)
		return;
	ptw_break_info b;
	/* the entry is invalid inside another CPU's break, and the walker
	 * read it so */
	if (!ptw_det_break_find(e, ev->fault.pte_pa, &b) || b.cpu == c->cpu ||
	    ptw_decode_entry(e, ev->fault.desc, ev->fault.level).type !=
		    PTW_DESC_INVALID)
		return;
	e->stats[ST_WINDOW_WALKS]++;
	GArray *a = s->pending[c->cpu];
	/* forget faults whose break ended without a make (an unmap) */
	for (guint i = 0; i < a->len;) {
		window_walk *o = &g_array_index(a, window_walk, i);
		ptw_break_info ob;
		if (!ptw_det_break_find(e, o->pte_pa, &ob) || ob.seq != o->seq)
			g_array_remove_index(a, i);
		else
			i++;
	}
	if (a->len >= MAX_WINDOW_WALKS)
		g_array_remove_index(a, 0);
	window_walk n = {.pte_pa = ev->fault.pte_pa,
			 .seq = b.seq,
			 .va = ev->fault.va,
			 .level = ev->fault.level,
			 .ctx = *c,
			 .store = ev->fault.store,
			 .fetch = ev->fault.fetch};
	g_array_append_val(a, n);
}

/* break b closed: made again in a window (made) or not a window */
static void walk_break_closed(ptw_engine *e, void *st, const ptw_break_info *b,
			      const ptw_ctx *c, bool made, uint64_t new,
			      uint64_t dur)
{
	walk_state *s = st;
	if (!c)
		return; /* no store ended it: the faults are forgotten when
			   the next one comes (as they always were) */
	for (unsigned cpu = 0; cpu < e->cfg.ncpus; cpu++) {
		GArray *a = s->pending[cpu];
		for (guint i = 0; i < a->len;) {
			window_walk *w = &g_array_index(a, window_walk, i);
			if (w->seq != b->seq || w->pte_pa != b->pte_pa) {
				i++;
				continue;
			}
			if (made) {
				bool is_linux = ptw_guest_is_linux(e);
				bool upper = e->ops->upper_half(w->va);
				bool retried = is_linux &&
					       ptw_linux_fault_retried(upper);
				bool benign = retried || !is_linux;
				char d[512];
				snprintf(d, sizeof(d),
					 "vcpu %u's %s at VA 0x%" PRIx64
					 " faulted: its page-table walk read "
					 "this level-%d entry while it was "
					 "transiently invalid inside vcpu %u's "
					 "break (opened at pc 0x%" PRIx64
					 " icount %" PRIu64
					 ", made again %" PRIu64
					 " instructions later); %s",
					 cpu,
					 w->fetch   ? "instruction fetch"
					 : w->store ? "store"
						    : "load",
					 w->va, w->level, b->cpu, b->when.pc,
					 b->when.icount, dur,
					 retried ? "a user address: Linux's "
						   "fault handler looks at "
						   "the entry again under the "
						   "PTE lock and lets the "
						   "access retry"
					 : is_linux
						 ? "a kernel address: no "
						   "fault path expects the "
						   "entry to come back"
						 : "a guest ptwatch does not "
						   "know: the architecture "
						   "allows this fault, the "
						   "guest's handler decides "
						   "what it means");
				report2(e, PTW_KIND_BBM_WINDOW_WALK,
					benign ? PTW_SEV_NOTE : PTW_SEV_ERROR,
					retried ? "benign by design: the fault "
						  "handler re-validates and "
						  "the access retries"
					: benign ? "a walk may fault inside a "
						   "correct break (Arm ARM "
						   "DDI 0487J.a D8.14.1); "
						   "not an error of "
						   "the breaker, and whether "
						   "the guest handles it is "
						   "not seen"
						 : "an access faulted on an "
						   "entry "
						   "that was only being "
						   "changed: the faulting "
						   "context sees a hole that "
						   "is not there",
					&w->ctx, "faulting walk", &b->when,
					"broken by", b->pte_pa, w->va, w->level,
					b->old_desc, new, d);
			}
			g_array_remove_index(a, i);
		}
	}
}

const ptw_detector ptw_det_walk = {
	.name = "walk",
	.init = walk_init,
	.free = walk_free,
	.fault = walk_fault,
	.break_closed = walk_break_closed,
};
