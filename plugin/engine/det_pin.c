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
 * (guest_linux_mm.c): a large folio's _pincount, or a small folio's
 * references beyond its mappings at GUP_PIN_COUNTING_BIAS or more
 * (folio_maybe_dma_pinned() counts all references, which a page mapped
 * 1024 times would pass). A GUP-fast pin that is being taken back may
 * show for an instant; not modelled. Off without BTF, and on a guest
 * that is not Linux.
 */
#include "detectors.h"

#define PIN_BIAS 1024 /* GUP_PIN_COUNTING_BIAS, include/linux/mm.h */

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
	bool pinned = pi.large ? pi.pincount > 0
			       : pi.refcount - pi.mapcount >= PIN_BIAS;
	if (!pinned)
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

static void pin_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new)
{
	(void)st;
	diverged(e, c, t, t->pa + idx * 8ULL, old, new, NULL);
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
