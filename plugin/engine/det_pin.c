/* SPDX-License-Identifier: MIT */
/*
 * PINNED_PAGE_DIVERGED (Linux, seed 003): a user entry that mapped a
 * pinned anonymous page is made to map another page. The pin (a
 * get_user_pages(FOLL_PIN) of O_DIRECT, vmsplice, RDMA, io_uring fixed
 * buffers) keeps the old page, the address space now reads and writes the
 * new one: what the device reads is no longer what the program wrote, or
 * the other way round. Since the "mm: COW vs GUP" fixes Linux keeps a
 * pinned anonymous page exclusive to the address space that pinned it
 * (GUP unshares a shared page before pinning it), so a write fault reuses
 * it instead of copying, fork copies it for the child instead of sharing
 * it, and reclaim, migration, KSM and khugepaged leave it alone: a
 * correct kernel never replaces it. Seed 003's bug (fork shares a pinned
 * page) shows at the parent's next write, when its COW replaces the
 * pinned page: found at that store, before the write lands.
 *
 * The change is seen either as one store (valid -> valid, another page)
 * or as a break made again by its breaker with another page (COW's
 * ptep_clear_flush() then set_pte_at(): the break-window detector's
 * break_closed). Pinned, from the page's struct page through BTF
 * (guest_linux_mm.c): a small folio's references beyond its mappings at
 * GUP_PIN_COUNTING_BIAS or more (folio_maybe_dma_pinned() counts all
 * references, which a page mapped 1024 times would pass); a large
 * folio's _pincount counts the pins of all its pages, so a page of a
 * pinned large folio counts as pinned only while it is PageAnonExclusive:
 * GUP pins only an exclusive page (gup_must_unshare() unshares the
 * others first), and a correct kernel never clears that flag while the
 * folio may be pinned (__folio_try_dup_anon_rmap() and
 * folio_try_share_anon_rmap_*() refuse). Without that, 7.x's R/O pins of
 * a previously shared large folio, which reuse one page and copy the next
 * (the folio's pin then blocks reuse), looked like pinned pages copied
 * away.
 *
 * Fork (seed 003's own step): copy_present_ptes() write-protects the
 * parent's writable entry of an anonymous folio only after
 * __folio_try_dup_anon_rmap() agreed to share it, which it refuses for a
 * folio that folio_maybe_dma_pinned() says may be pinned (the page is
 * copied for the child instead, the parent's entry left writable; a
 * writable anonymous entry maps an exclusive page). So a writable user
 * entry of a pinned anonymous folio write-protected by fork's copy is the
 * pin shared with the child: found there, before either side writes.
 * Fork is told by the writer's function, or its callers' (the call
 * stack). A GUP-fast pin that is being taken back may show for an
 * instant; not modelled. Nor is MMF_HAS_PINNED, which fork's check also
 * needs: a small folio with 1024 or more references that are not pins
 * (get_user_pages() without FOLL_PIN), in an address space that never
 * pinned anything, would be reported at its fork. Off without BTF, and on a
 * guest that is not Linux.
 */
#include "detectors.h"

#define PIN_BIAS 1024 /* GUP_PIN_COUNTING_BIAS, include/linux/mm.h */

/* the folio may be pinned: folio_maybe_dma_pinned(), for a small folio
 * without the references its mappings hold */
static bool pinned(const ptw_linux_page_info *pi)
{
	return pi->large ? pi->pincount > 0
			 : pi->refcount - pi->mapcount >= PIN_BIAS;
}

/* the user entry at pte_pa of t went from old (a leaf) to new, another
 * page; other: the break that took old away (NULL: one store) */
static void diverged(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		     uint64_t pte_pa, uint64_t old, uint64_t new,
		     const ptw_ctx *other)
{
	ptw_desc dold, dnew;
	if (!ptw_guest_is_linux(e) || !ptw_user_leaf(e, t->level, old, &dold) ||
	    !ptw_user_leaf(e, t->level, new, &dnew) || dnew.oa == dold.oa ||
	    !ptw_table_user_path(e, t))
		return;
	ptw_linux_page_info pi;
	if (!ptw_linux_page(e, dold.oa >> e->page_shift, &pi) || !pi.valid ||
	    !pi.anon)
		return;
	if (!pinned(&pi) || (pi.large && !pi.anon_exclusive))
		return;
	char d[400];
	snprintf(d, sizeof(d),
		 "the entry mapped the pinned anonymous page at PA 0x%" PRIx64
		 " (folio refcount %d, mapcount %d, pincount %d) and now maps "
		 "PA 0x%" PRIx64 ": the pin keeps the old page, this address "
		 "space reads and writes the new one (seed 003: fork shared a "
		 "pinned page, and the write fault copied it away)",
		 dold.oa, pi.refcount, pi.mapcount, pi.pincount, dnew.oa);
	report2(e, PTW_KIND_PINNED_PAGE_DIVERGED, PTW_SEV_ERROR,
		"a pinned page's mapping was replaced: the pin and the "
		"address space see different data",
		c, "entry made", other, other ? "old page taken down by" : NULL,
		pte_pa, ptw_entry_va(e, t, (unsigned)((pte_pa - t->pa) / 8)),
		t->level, old, new, d);
}

/* the store at c is fork's copy of the parent's entries: its function or
 * one of its callers' */
static bool by_fork(ptw_engine *e, const ptw_ctx *c)
{
	char sym[96];
	ptw_symbolize(e, c->cpu, c->pc, sym, sizeof(sym));
	if (sym[0] && ptw_linux_fork_copier(sym))
		return true;
	ptw_ctx at = *c;
	ptw_stack_capture(e, &at);
	const ptw_stack *st = at.stack ? ptw_stack_get(e, at.stack) : NULL;
	for (unsigned i = 1; st && i < st->n; i++) {
		ptw_stack_symbolize(e, c->cpu, st->pc[i], sym, sizeof(sym));
		if (sym[0] && ptw_linux_fork_copier(sym))
			return true;
	}
	return false;
}

/* the user entry idx of t, a writable leaf (old), was write-protected
 * (new, the same page) by fork while its anonymous folio is pinned */
static void fork_shared(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			unsigned idx, uint64_t old, uint64_t new)
{
	ptw_desc dold, dnew;
	if (!ptw_guest_is_linux(e) || !e->ops->writable ||
	    !e->ops->writable(old) || e->ops->writable(new) ||
	    !ptw_user_leaf(e, t->level, old, &dold) ||
	    !ptw_user_leaf(e, t->level, new, &dnew) || dnew.oa != dold.oa ||
	    !ptw_table_user_path(e, t))
		return;
	ptw_linux_page_info pi;
	if (!ptw_linux_page(e, dold.oa >> e->page_shift, &pi) || !pi.valid ||
	    !pi.anon || !pinned(&pi) || !by_fork(e, c))
		return;
	char d[400];
	snprintf(d, sizeof(d),
		 "fork write-protected the parent's writable entry of the "
		 "pinned anonymous page at PA 0x%" PRIx64
		 " (folio refcount %d, mapcount %d, pincount %d) to share it "
		 "with the child; a correct fork copies a maybe-pinned page "
		 "for the child and leaves the parent's entry writable "
		 "(seed 003: the next write fault copies the page away from "
		 "the pin)",
		 dold.oa, pi.refcount, pi.mapcount, pi.pincount);
	report2(e, PTW_KIND_PINNED_PAGE_DIVERGED, PTW_SEV_ERROR,
		"fork shared a pinned page: the next write separates the pin "
		"from the address space",
		c, "entry write-protected by fork", NULL, NULL,
		t->pa + idx * 8ULL, ptw_entry_va(e, t, idx), t->level, old, new,
		d);
}

static void pin_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new)
{
	(void)st;
	diverged(e, c, t, t->pa + idx * 8ULL, old, new, NULL);
	fork_shared(e, c, t, idx, old, new);
}

/* a break made again by its breaker with another page (a COW) */
static void pin_break_closed(ptw_engine *e, void *st, const ptw_break_info *b,
			     const ptw_ctx *c, bool made, uint64_t new,
			     uint64_t dur)
{
	(void)st;
	(void)dur;
	unsigned idx;
	ptw_table *t;
	if (!c || !made || !(t = ptw_table_of(e, b->pte_pa, &idx)))
		return;
	diverged(e, c, t, b->pte_pa, b->old_desc, new, &b->when);
}

const ptw_detector ptw_det_pin = {
	.name = "pin",
	.entry_changed = pin_entry_changed,
	.break_closed = pin_break_closed,
};
