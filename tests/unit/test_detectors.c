/* SPDX-License-Identifier: MIT */
/* Detectors on synthetic arm64 and x86-64 event streams: the per-entry BBM
 * automaton, window reads, units and partial unmaps, contiguous groups,
 * PTE ABA, tracked data. */
#include <string.h>

#include <glib/gstdio.h>

#include "fake_guest.h"
#include "tap.h"

#define RAM	 0x40000000ULL
#define L0	 (RAM + 0x100000)
#define L1	 (RAM + 0x101000)
#define L2	 (RAM + 0x102000)
#define L3	 (RAM + 0x103000)
#define PAGE_A	 (RAM + 0x200000)
#define PAGE_B	 (RAM + 0x201000)
#define UNIT_PA	 (RAM + 0x210000) /* 64 KiB aligned */
#define VA	 0x100000000ULL	  /* L3[0] */
#define ASID	 1ULL
#define TBL(pa)	 ((pa) | 3ULL)
#define PAGE(pa) ((pa) | (1ULL << 11) | (1ULL << 10) | (3ULL << 8) | 3ULL)
#define CONT	 (1ULL << 52)

enum { TLBI_IS = 3, TLBI_LOCAL = 7 };

static void setup(fake_guest *g)
{
	fake_init(g, PTW_ARCH_ARM64, 2, RAM, 4 << 20);
	const uint64_t tables[4] = {L0, L1, L2, L3};
	fake_arm64_map_48(g, 2, tables, VA, PAGE(PAGE_A), ASID);
}

static void dsb(fake_guest *g, unsigned cpu, unsigned crm)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_arm64_dsb(g->e, &c, crm);
}

/* TLBI VAE1(IS) alone */
static void tlbi_raw(fake_guest *g, unsigned cpu, unsigned crm, uint64_t va,
		     uint64_t asid)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_arm64_tlbi(g->e, &c, 0, crm, 1, (va >> 12) | (asid << 48));
}

/* as Linux's __flush_tlb_page(): dsb(ishst) to complete the page-table
 * stores, then the TLBI */
static void tlbi(fake_guest *g, unsigned cpu, unsigned crm, uint64_t va,
		 uint64_t asid)
{
	dsb(g, cpu, 0xa);
	tlbi_raw(g, cpu, crm, va, asid);
}

static void pt_load(fake_guest *g, unsigned cpu, uint64_t pa)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_access(g->e, &c, pa, pa, 8, false, mem_r64(g, pa));
}

static unsigned n(fake_guest *g, ptw_kind k)
{
	return ptw_finding_count(g->e, k);
}

static unsigned nsev(fake_guest *g, ptw_kind k, ptw_severity s)
{
	return ptw_finding_count_sev(g->e, k, s);
}

/* ---- BBM automaton ---- */

static void mbi_without_tlbi(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 1);
	CHECK_EQ(n(&g, PTW_KIND_BBM_VALID_TO_VALID), 0);
	fake_fini(&g);
}

static void mbi_tlbi_not_completed(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xa); /* ISHST does not complete TLB maintenance */
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 1);
	/* the breaker issued the TLBI itself and went on without its DSB:
	 * its own sequence is broken (arm64 map_kernel()) */
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_ERROR),
		 1);
	fake_fini(&g);
}

/* arm64 reclaim's batched flush: cpu 0 breaks and issues a broadcast TLBI
 * without completing it (TTU_BATCH_FLUSH); cpu 1 faults and makes the
 * entry with a new page before cpu 0's DSB: a warning, not an error. The
 * same make with no TLBI in flight, or a local one, is an error. */
static void mbi_batched_flush_is_warning(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	pt_store(&g, 1, L3, PAGE(PAGE_B));
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 1);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_WARNING),
		 1);
	CHECK_EQ(ptw_finding_count_sev(g.e, PTW_KIND_NONE, PTW_SEV_ERROR), 0);
	fake_fini(&g);
	/* the same page also mapped at VA by a forked child (ASID 2): the
	 * batch's TLBI for the child's mapping, after the one for this
	 * entry, is no mistake of this break: still a warning */
	setup(&g);
	pt_store(&g, 0, L3, 0);
	dsb(&g, 0, 0xa); /* dsb ishst, as __flush_tlb_page_nosync() */
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xa);
	tlbi(&g, 0, TLBI_IS, VA, 2);
	pt_store(&g, 1, L3, PAGE(PAGE_B));
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_WARNING),
		 1);
	CHECK_EQ(ptw_finding_count_sev(g.e, PTW_KIND_NONE, PTW_SEV_ERROR), 0);
	fake_fini(&g);
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_LOCAL, VA, ASID); /* reaches cpu 0 only */
	pt_store(&g, 1, L3, PAGE(PAGE_B));
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_ERROR),
		 1);
	fake_fini(&g);
}

/* store-invalid; TLBI; DSB; DSB; store-new: the TLBI came before a DSB
 * completed the invalid store, so a walk could refill the old entry after
 * it: it does not count. With the DSB first (Linux's dsb(ishst)) it does. */
static void mbi_tlbi_before_dsb(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi_raw(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_ERROR),
		 1);
	CHECK(strstr(ptw_finding_get(g.e, 0)->detail,
		     "did not count: it was issued before a DSB completed") !=
	      NULL);
	fake_fini(&g);
	setup(&g);
	pt_store(&g, 0, L3, 0);
	dsb(&g, 0, 0xa);
	tlbi_raw(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

static void mbi_ok_with_completed_tlbi(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

static void mbi_wrong_asid_and_local(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID + 1);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 1);
	CHECK(strstr(ptw_finding_get(g.e, 0)->detail,
		     "did not count: it named another ASID") != NULL);
	/* KPTI: the kernel ASID first, then the entry's: the second counts,
	 * and the break's deferred flush met by another CPU's make is a
	 * warning, not a wrong-scope error */
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID + 1);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	pt_store(&g, 1, L3, PAGE(PAGE_A));
	pt_store(&g, 1, L3, 0); /* back to B for what follows */
	pt_store(&g, 1, L3, PAGE(PAGE_B));
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_WARNING),
		 1);
	dsb(&g, 0, 0xb);
	/* a local TLBI + DSB NSH leaves cpu 1 holding the entry */
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_LOCAL, VA, ASID);
	dsb(&g, 0, 0x7);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 4);
	/* the same code path again is a repeat, not a new finding */
	for (int i = 0; i < 2; i++) {
		ptw_ctx b = {.cpu = 0, .pc = 0x6000, .icount = 1},
			m = {.cpu = 0, .pc = 0x7000, .icount = 2};
		mem_w64(&g, L3, 0);
		ptw_ev_access(g.e, &b, L3, L3, 8, true, 0);
		mem_w64(&g, L3, PAGE(i ? PAGE_A : PAGE_B));
		ptw_ev_access(g.e, &m, L3, L3, 8, true, 0);
	}
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 5);
	fake_fini(&g);
}

static void remake_same_descriptor_is_fine(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	/* only a permission differs: no break needed either */
	pt_store(&g, 0, L3, 0);
	pt_store(&g, 0, L3, PAGE(PAGE_A) | (1ULL << 7));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* ---- window reads ---- */

static void window_read_transient(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_load(&g, 1, L3); /* another CPU sees the entry invalid */
	pt_load(&g, 0, L3); /* the breaker's own read does not count */
	pt_store(&g, 0, L3, PAGE(PAGE_A) | (1ULL << 7));
	/* undecided until the reader moves on */
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	CHECK_EQ(ptw_stat(g.e, "break_windows_observed"), 1);
	CHECK_EQ(ptw_stat(g.e, "break_windows"), 1);
	/* it returns to user mode and reads another entry: it acted on the
	 * transient value without re-checking (seed 001's reader) */
	ptw_ev_lower_half_entry(g.e, 1);
	pt_load(&g, 1, L2);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_ERROR), 1);
	CHECK_EQ(ptw_stat(g.e, "window_reads_not_revalidated"), 1);
	fake_fini(&g);

	/* the reader loads the entry again after the make, in the same
	 * kernel entry (handle_pte_fault()'s re-check under the PTL): note */
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_load(&g, 1, L3);
	pt_load(&g, 1, L3); /* again inside the window: still a read in it */
	pt_store(&g, 0, L3, PAGE(PAGE_A) | (1ULL << 7));
	pt_load(&g, 1, L2);
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	pt_load(&g, 1, L3);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_NOTE), 1);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_ERROR), 0);
	CHECK_EQ(ptw_stat(g.e, "window_reads_revalidated"), 1);
	fake_fini(&g);

	/* the entry comes back mapping another page (COW's clear-flush-set):
	 * a reader that skipped it missed nothing of the old page: note */
	setup(&g);
	pt_store(&g, 0, L3, 0);
	pt_load(&g, 1, L3);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_NOTE), 1);
	fake_fini(&g);

	/* the run ends before the reader loads it again: error */
	setup(&g);
	pt_store(&g, 0, L3, 0);
	pt_load(&g, 1, L3);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	ptw_engine_finish(g.e);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_ERROR), 1);
	fake_fini(&g);
}

/* Two readers of a block under cpu 0's break of entries 0..3 (a contpte
 * unfold): a lockless getter that read entry 1, then entry 0 in the window,
 * and restarts by reading entry 1 again re-validated (note); a forward scan
 * that reads entries 0..2 in the window and entry 3 after the make, then
 * returns to user, acted on what it read (errors, seed 001). */
static void window_read_restart_and_scan(void)
{
	fake_guest g;
	setup(&g);
	for (unsigned i = 1; i < 4; i++)
		pt_store(&g, 0, L3 + i * 8, PAGE(PAGE_A + i * 4096));
	pt_load(&g, 1, L3 + 8); /* contpte_ptep_get_lockless: orig entry */
	for (unsigned i = 0; i < 4; i++)
		pt_store(&g, 0, L3 + i * 8, 0);
	pt_load(&g, 1, L3);	/* entry 0 invalid: retry */
	pt_load(&g, 1, L3 + 8); /* the retry reads the orig entry again */
	for (unsigned i = 0; i < 4; i++)
		pt_store(&g, 0, L3 + i * 8, PAGE(PAGE_A + i * 4096));
	/* the orig entry read invalid on the retry is returned to the
	 * caller, which re-checks it under the PTL */
	pt_load(&g, 1, L3 + 8);
	ptw_ev_lower_half_entry(g.e, 1);
	pt_load(&g, 1, L2);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_NOTE), 2);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_ERROR), 0);
	fake_fini(&g);

	setup(&g);
	for (unsigned i = 1; i < 4; i++)
		pt_store(&g, 0, L3 + i * 8, PAGE(PAGE_A + i * 4096));
	for (unsigned i = 0; i < 4; i++)
		pt_store(&g, 0, L3 + i * 8, 0);
	for (unsigned i = 0; i < 3; i++)
		pt_load(&g, 1, L3 + i * 8); /* page_vma_mapped_walk: none */
	for (unsigned i = 0; i < 4; i++)
		pt_store(&g, 0, L3 + i * 8, PAGE(PAGE_A + i * 4096));
	pt_load(&g, 1, L3 + 3 * 8); /* present: takes the PTL from here */
	ptw_ev_lower_half_entry(g.e, 1);
	pt_load(&g, 1, L2);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_ERROR), 3);
	CHECK_EQ(ptw_stat(g.e, "window_reads_not_revalidated"), 3);
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_NOTE), 0);
	fake_fini(&g);

	/* a reader that returned to user while the window was still open,
	 * then the break is made: an error; a break that is never made
	 * again (an unmap) is no window at all */
	setup(&g);
	pt_store(&g, 0, L3, 0);
	pt_load(&g, 1, L3);
	ptw_ev_lower_half_entry(g.e, 1);
	pt_load(&g, 1, L2);
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_ERROR), 1);
	fake_fini(&g);
}

static void window_read_not_transient(void)
{
	/* the breaker returns to user mode between the break and the make:
	 * a zap, then a new fault (MADV_DONTNEED and a refill), no window */
	{
		fake_guest h;
		setup(&h);
		pt_store(&h, 0, L3, 0);
		pt_load(&h, 1, L3);
		ptw_ev_lower_half_entry(h.e, 0);
		pt_store(&h, 0, L3, PAGE(PAGE_B));
		pt_load(&h, 1, L2);
		ptw_engine_finish(h.e);
		CHECK_EQ(n(&h, PTW_KIND_BBM_WINDOW_READ), 0);
		CHECK_EQ(ptw_stat(h.e, "break_windows"), 0);
		fake_fini(&h);
	}
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, L3, 0); /* an unmap */
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_load(&g, 1, L3);
	pt_store(&g, 1, L3, PAGE(PAGE_B)); /* another CPU maps it: a fault */
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	fake_fini(&g);
	/* the breaker unmaps, writes elsewhere (moves on), and much later
	 * maps the VA again (vunmap, then an unrelated vmap): no window */
	setup(&g);
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3 + 100 * 8, PAGE(PAGE_A));
	pt_load(&g, 1, L3);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	/* unmapped to a swap entry, read, swapped in by the same CPU: an
	 * unmap and a fault, not a transient window */
	fake_fini(&g);
	setup(&g);
	pt_store(&g, 0, L3, 0);
	pt_store(&g, 0, L3, (0x42ULL << 12) | (1 << 6));
	pt_load(&g, 1, L3);
	pt_store(&g, 0, L3, 0);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	/* invalidated in place (present-invalid, pmdp_invalidate()), read,
	 * made again: the reader still saw the page, not a window read */
	pt_store(&g, 0, L3, PAGE(PAGE_A) & ~1ULL);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_load(&g, 1, L3);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	CHECK_EQ(n(&g, PTW_KIND_BBM_WINDOW_READ), 0);
	/* read after the make: nothing */
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_load(&g, 1, L3);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* ---- units ---- */

/* cpu maps L3[first..first+15] to the 64 KiB at UNIT_PA, without a DSB */
static void map_block(fake_guest *g, unsigned cpu, unsigned first,
		      uint64_t extra)
{
	for (unsigned i = 0; i < 16; i++)
		pt_store(g, cpu, L3 + (first + i) * 8,
			 PAGE(UNIT_PA + i * 4096ULL) | extra);
}

static void make_unit(fake_guest *g, uint64_t extra)
{
	map_block(g, 0, 16, extra);
	dsb(g, 0, 0xb);
}

static uint64_t swp(unsigned i)
{
	return ((0x100ULL + i) << 12) | (1 << 6); /* Linux arm64 6.12 layout */
}

static void partial_unit_unmap(void)
{
	fake_guest g;
	setup(&g);
	make_unit(&g, 0);
	for (unsigned i = 0; i < 3; i++) /* cpu 0 breaks 0..2 */
		pt_store(&g, 0, L3 + (16 + i) * 8, 0);
	dsb(&g, 0, 0xb);
	for (unsigned i = 3; i < 16; i++) /* cpu 1 swaps out 3..15 */
		pt_store(&g, 1, L3 + (16 + i) * 8, swp(i));
	dsb(&g, 1, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_PARTIAL_UNIT_UNMAP), 0); /* not yet mixed */
	for (unsigned i = 0; i < 3; i++) /* cpu 0 makes 0..2 again */
		pt_store(&g, 0, L3 + (16 + i) * 8, PAGE(UNIT_PA + i * 4096ULL));
	CHECK_EQ(n(&g, PTW_KIND_PARTIAL_UNIT_UNMAP), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f)
		CHECK(strstr(f->detail, "swap type 1 offset 0x103") != NULL);
	CHECK_EQ(ptw_stat(g.e, "units_seen"), 0); /* counted at exit */
	fake_fini(&g);
}

/* 16 single-page faults on contiguous pages, each its own kernel entry
 * (arm64 user PTEs need no DSB, so only the returns to user separate
 * them): no unit, so the partial_unit_unmap sequence finds nothing */
static void faults_on_contiguous_pages_no_unit(void)
{
	fake_guest g;
	setup(&g);
	for (unsigned i = 0; i < 16; i++) {
		pt_store(&g, 0, L3 + (16 + i) * 8, PAGE(UNIT_PA + i * 4096ULL));
		ptw_ev_lower_half_entry(g.e, 0);
	}
	for (unsigned i = 0; i < 3; i++)
		pt_store(&g, 0, L3 + (16 + i) * 8, 0);
	dsb(&g, 0, 0xb);
	for (unsigned i = 3; i < 16; i++)
		pt_store(&g, 1, L3 + (16 + i) * 8, swp(i));
	dsb(&g, 1, 0xb);
	for (unsigned i = 0; i < 3; i++)
		pt_store(&g, 0, L3 + (16 + i) * 8, PAGE(UNIT_PA + i * 4096ULL));
	CHECK_EQ(n(&g, PTW_KIND_PARTIAL_UNIT_UNMAP), 0);
	ptw_engine_finish(g.e);
	CHECK_EQ(ptw_stat(g.e, "units_seen"), 0);
	fake_fini(&g);
}

static void unit_negatives(void)
{
	fake_guest g;
	setup(&g);
	make_unit(&g, 0);
	/* a sub-range unmap with nothing else going on (MADV_DONTNEED) */
	for (unsigned i = 4; i < 8; i++)
		pt_store(&g, 1, L3 + (16 + i) * 8, 0);
	dsb(&g, 1, 0xb);
	/* the rest one by one, each its own pass */
	for (unsigned i = 0; i < 16; i++) {
		if (i >= 4 && i < 8)
			continue;
		pt_store(&g, 1, L3 + (16 + i) * 8, swp(i));
		dsb(&g, 1, 0xb);
	}
	CHECK_EQ(ptw_findings_total(g.e), 0);
	/* a pass that takes down one entry while others are in a window is
	 * no unmap of the unit (COW of one page) */
	make_unit(&g, 0);
	pt_store(&g, 0, L3 + 16 * 8, 0);
	pt_store(&g, 1, L3 + 20 * 8, 0);
	dsb(&g, 1, 0xb);
	pt_store(&g, 0, L3 + 16 * 8, PAGE(UNIT_PA));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	/* skipped entries that never come back are no finding */
	make_unit(&g, 0);
	for (unsigned i = 0; i < 3; i++)
		pt_store(&g, 0, L3 + (16 + i) * 8, 0);
	for (unsigned i = 3; i < 16; i++)
		pt_store(&g, 1, L3 + (16 + i) * 8, swp(i));
	dsb(&g, 1, 0xb);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* ---- contiguous groups ---- */

static void contig_groups(void)
{
	fake_guest g;
	setup(&g);
	make_unit(&g, CONT); /* consistent */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	/* entry 5 pointing elsewhere, checked at the DSB */
	pt_store(&g, 0, L3 + 21 * 8, 0);
	pt_store(&g, 0, L3 + 21 * 8, PAGE(PAGE_B) | CONT);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 0);
	dsb(&g, 0, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 1);
	/* a group half written with no DSB yet is not checked */
	for (unsigned i = 0; i < 16; i++)
		pt_store(&g, 1, L3 + (32 + i) * 8, 0);
	pt_store(&g, 1, L3 + 32 * 8, PAGE(UNIT_PA) | CONT);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 1);
	dsb(&g, 1, 0xb); /* ... but is when the CPU completes */
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 2);
	/* cpu 0 maps a contiguous block (no DSB: user PTEs need none), cpu 1
	 * starts to unfold it (entry 0 cleared) when cpu 0 reaches a DSB:
	 * the group is cpu 1's now, in the middle of its writes */
	unsigned before = ptw_findings_total(g.e);
	map_block(&g, 0, 48, CONT);
	pt_store(&g, 1, L3 + 48 * 8, 0);
	dsb(&g, 0, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 2);
	for (unsigned i = 1; i < 16; i++)
		pt_store(&g, 1, L3 + (48 + i) * 8, 0);
	for (unsigned i = 0; i < 16; i++)
		tlbi(&g, 1, TLBI_IS, VA + (48 + i) * 4096ULL, ASID);
	dsb(&g, 1, 0xb);
	map_block(&g, 1, 48, 0);
	dsb(&g, 1, 0xb);
	CHECK_EQ(ptw_findings_total(g.e), before);
	/* ... but a group left inconsistent is still found at the DSB of
	 * the CPU that wrote it last */
	map_block(&g, 0, 64, CONT);
	pt_store(&g, 1, L3 + 64 * 8, 0);
	dsb(&g, 0, 0xb);
	dsb(&g, 1, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 3);
	fake_fini(&g);
}

/* On Linux, a group whose valid entries agree but which still has
 * invalid ones at its writer's DSB is being made or broken (7.x's lazy
 * MMU mode defers the barriers; a preempted vmap_pte_range() reaches
 * __switch_to()'s DSB half way): judged when the writing task returns to
 * user mode, or at the end of the run */
static void as_linux(fake_guest *g);
static void contig_transitional_linux(void)
{
	fake_guest g;
	setup(&g);
	as_linux(&g);
	/* two entries of the group written, a DSB, then the rest */
	for (unsigned i = 0; i < 2; i++)
		pt_store(&g, 0, L3 + (80 + i) * 8,
			 PAGE(UNIT_PA + i * 4096ULL) | CONT);
	dsb(&g, 0, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 0);
	for (unsigned i = 2; i < 16; i++)
		pt_store(&g, 0, L3 + (80 + i) * 8,
			 PAGE(UNIT_PA + i * 4096ULL) | CONT);
	dsb(&g, 0, 0xb);
	ptw_ev_lower_half_entry(g.e, 0);
	dsb(&g, 1, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 0);
	/* left half made when its writer returns to user mode: found at
	 * the next DSB */
	for (unsigned i = 0; i < 2; i++)
		pt_store(&g, 0, L3 + (96 + i) * 8,
			 PAGE(UNIT_PA + i * 4096ULL) | CONT);
	dsb(&g, 0, 0xb);
	dsb(&g, 1, 0xb); /* another CPU's DSB: still the writer's */
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 0);
	ptw_ev_lower_half_entry(g.e, 0);
	dsb(&g, 1, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 1);
	/* valid entries that disagree are found at the DSB, invalid ones
	 * beside them or not */
	pt_store(&g, 0, L3 + 112 * 8, PAGE(UNIT_PA) | CONT);
	pt_store(&g, 0, L3 + 113 * 8, PAGE(UNIT_PA) | CONT);
	dsb(&g, 0, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 2);
	/* a group half broken at the end of the run */
	map_block(&g, 0, 128, CONT);
	dsb(&g, 0, 0xb);
	pt_store(&g, 1, L3 + 128 * 8, 0);
	dsb(&g, 1, 0xb);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 2);
	ptw_engine_finish(g.e);
	CHECK_EQ(n(&g, PTW_KIND_CONTIG_MISPROGRAMMED), 3);
	fake_fini(&g);
}

/* ---- PTE ABA ---- */

/* cpu 0 maps L3[0] to page B and back to A, each with a full BBM */
static void to_b_and_back(fake_guest *g)
{
	for (int i = 0; i < 2; i++) {
		pt_store(g, 0, L3, 0);
		tlbi(g, 0, TLBI_IS, VA, ASID);
		dsb(g, 0, 0xb);
		pt_store(g, 0, L3, PAGE(i ? PAGE_A : PAGE_B));
	}
}

/* cpu 0 maps L3[0] to page B, unmaps it with a full BBM, and leaves swap
 * entry slot there (a swap-in, then a swap-out) */
static void via_b_to_swap(fake_guest *g, unsigned slot)
{
	pt_store(g, 0, L3, PAGE(PAGE_B));
	pt_store(g, 0, L3, 0);
	tlbi(g, 0, TLBI_IS, VA, ASID);
	dsb(g, 0, 0xb);
	pt_store(g, 0, L3, swp(slot));
}

/* the guest gives kernel symbols: it is Linux, whose tasks and returns to
 * user delimit the reads PTE_ABA pairs (a guest that is not Linux pairs
 * only within operations it marks: pte_aba_bare_metal) */
static void as_linux(fake_guest *g)
{
	char *dir = g_dir_make_tmp("ptw-det-XXXXXX", NULL);
	char *path = g_build_filename(dir, "System.map", NULL);
	CHECK(g_file_set_contents(path,
				  "ffff800080000000 T _text\n"
				  "ffff800080000100 T handle_mm_fault\n"
				  "ffff800080200000 T _etext\n",
				  -1, NULL));
	char *err = NULL;
	CHECK(ptw_symbols_load(g->e, path, &err));
	g_free(err);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* the severity of the newest finding, which must be a PTE_ABA */
static ptw_severity last_aba_severity(fake_guest *g)
{
	const ptw_finding *f =
		ptw_finding_get(g->e, ptw_findings_total(g->e) - 1);
	CHECK_EQ(f->kind, PTW_KIND_PTE_ABA);
	return f->severity;
}

static void pte_aba(void)
{
	fake_guest g;
	setup(&g);
	as_linux(&g);
	pt_load(&g, 1, L3);
	pt_load(&g, 1, L3); /* no change in between */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	/* cleared and restored to the same value: no change of meaning */
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	/* write-protected and made writable again (fork, then a write
	 * fault's reuse): same page, no ABA */
	pt_store(&g, 0, L3, PAGE(PAGE_A) | (1ULL << 7));
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	/* invalidated in place and restored (arm64 6.12 pmdp_invalidate(),
	 * pte_mkinvalid(): valid bit clear, PTE_PRESENT_INVALID = nG kept):
	 * still the same page, no ABA */
	pt_store(&g, 0, L3, PAGE(PAGE_A) & ~1ULL);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	/* present(A) -> none -> migration entry(A) -> present(A) (a folio
	 * split: try_to_migrate_one(), remove_migration_ptes()): the page
	 * keeps its identity through the migration entry, no ABA */
	pt_store(&g, 0, L3, 0);
	pt_store(&g, 0, L3, (29ULL << 6) | (PAGE_A >> 12 << 12));
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	/* A -> B -> A between two reads */
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	/* the report lists the 4 changes in between, oldest first, from the
	 * ring of all entries' changes (the stores before the first read are
	 * not among them) */
	{
		const ptw_finding *f =
			ptw_finding_get(g.e, ptw_findings_total(g.e) - 1);
		char want[256];
		CHECK(strstr(f->detail, "; its changes since that read: 0x0 "
					"(vcpu 0 pc ") != NULL);
		snprintf(want, sizeof(want), " 0x%" PRIx64 " (vcpu 0",
			 (uint64_t)PAGE(PAGE_B));
		CHECK(strstr(f->detail, want) != NULL);
		snprintf(want, sizeof(want), " 0x%" PRIx64 " (vcpu 0",
			 (uint64_t)PAGE(PAGE_A));
		const char *b = strstr(f->detail, " 0x0 (vcpu 0");
		const char *last = strstr(f->detail, want);
		CHECK(b && last && last > b);
	}
	/* the same, but cpu 1 returned to user mode between its reads: two
	 * kernel operations (a fault, then the next fault), no ABA */
	to_b_and_back(&g);
	ptw_ev_lower_half_entry(g.e, 1);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	CHECK_EQ(ptw_stat(g.e, "lower_half_entries"), 1);
	/* cpu 0 returning to user does not split cpu 1's reads */
	to_b_and_back(&g);
	ptw_ev_lower_half_entry(g.e, 0);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 2);
	/* cpu 0 swaps the page out (cleared, then a swap entry); cpu 1 loads
	 * the swap entry after cpu 0's store reached memory but before its
	 * callback ran, and again after: one change of identity in the
	 * shadow, none in memory between the two reads */
	pt_store(&g, 0, L3, 0);
	tlbi(&g, 0, TLBI_IS, VA, ASID);
	dsb(&g, 0, 0xb);
	mem_w64(&g, L3, swp(0));
	pt_load(&g, 1, L3);
	ptw_ctx c0 = fake_ctx(&g, 0);
	ptw_ev_access(g.e, &c0, L3, L3, 8, true, swp(0));
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 2);
	/* swap slot S -> page B -> none -> S between two reads, only one
	 * slot and one page: a folio swapped in and out again with its slot
	 * (do_swap_page() finds it consistent): a warning, not an error */
	via_b_to_swap(&g, 0);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 3);
	CHECK_EQ(last_aba_severity(&g), PTW_SEV_WARNING);
	/* S -> B -> another slot -> B -> S: a third identity in between,
	 * the slot was given up: an error */
	via_b_to_swap(&g, 1);
	via_b_to_swap(&g, 0);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 4);
	CHECK_EQ(last_aba_severity(&g), PTW_SEV_ERROR);
	fake_fini(&g);
}

/* Linux on arm64: SP_EL0 names the task while in the kernel. Reads pair
 * per task: a task's pair survives its vCPU running another task, two
 * tasks on one vCPU never pair, a task's own return to user ends its
 * pair, and a task that moved to another vCPU keeps it. */
#define TASK_X	0xffff000012340000ULL
#define TASK_Y	0xffff000056780000ULL
#define USER_SP 0x0000ffffc0de0000ULL

static void run_task(fake_guest *g, unsigned cpu, uint64_t task)
{
	sysreg(g, cpu, PTW_REG_ARM_SP_EL0, task);
}

static void pte_aba_per_task(void)
{
	fake_guest g;
	setup(&g);
	as_linux(&g);
	/* X reads, sleeps; Y runs on its vCPU and returns to user (its user
	 * stack pointer restored on the way: no task); X comes back after
	 * the entry went A -> B -> A and reads again: an ABA */
	run_task(&g, 1, TASK_X);
	pt_load(&g, 1, L3);
	run_task(&g, 1, TASK_Y);
	run_task(&g, 1, USER_SP);
	ptw_ev_lower_half_entry(g.e, 1);
	to_b_and_back(&g);
	run_task(&g, 1, TASK_X);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	CHECK_EQ(ptw_stat(g.e, "task_switches"), 3);
	/* X reads, Y reads after an A -> B -> A: two tasks, no pair */
	pt_load(&g, 1, L3);
	run_task(&g, 1, TASK_Y);
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	/* X's own return to user ends its pair (first the one left from
	 * its read above, which Y's run did not end, then a fresh one) */
	run_task(&g, 1, TASK_X);
	ptw_ev_lower_half_entry(g.e, 1);
	pt_load(&g, 1, L3);
	ptw_ev_lower_half_entry(g.e, 1);
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	/* X reads on vcpu 1, moves to vcpu 0 (which runs the change
	 * before), reads again there: its pair, an ABA */
	pt_load(&g, 1, L3);
	run_task(&g, 1, TASK_Y);
	to_b_and_back(&g);
	run_task(&g, 0, TASK_X);
	pt_load(&g, 0, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 2);
	const ptw_finding *f = ptw_finding_get(g.e, 1);
	if (f) {
		CHECK_EQ(f->ctx.cpu, 0);
		CHECK_EQ(f->other.cpu, 1);
	}
	fake_fini(&g);
}

/* An operation boundary (Linux: each call to handle_mm_fault(); a retried
 * fault calls it again) ends a task's pair: the retry reads the entry
 * afresh, no pte_same() connects it to the first attempt. Another task's
 * operation does not end it. */
static void op_start(fake_guest *g, unsigned cpu)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_op_start(g->e, &c);
}

static void pte_aba_per_operation(void)
{
	fake_guest g;
	setup(&g);
	as_linux(&g);
	run_task(&g, 1, TASK_X);
	op_start(&g, 1);
	pt_load(&g, 1, L3);
	to_b_and_back(&g);
	op_start(&g, 1); /* the fault retried */
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	/* within one operation: an ABA */
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	/* task Y's fault on vcpu 0 leaves X's operation going */
	pt_load(&g, 1, L3);
	run_task(&g, 0, TASK_Y);
	op_start(&g, 0);
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 2);
	CHECK_EQ(ptw_stat(g.e, "operations_started"), 3);
	fake_fini(&g);
}

/* A swap entry refers to its slot (issue 23 section 3: the CI's arm64
 * smoke on the correct kernel, do_swap_page+0x1b4 after
 * __handle_mm_fault+0x310, one vCPU): the entry loses its exclusive bit
 * (arm64 PTE_SWP_EXCLUSIVE, bit 2) and gets it back, the same slot all
 * along: no change of what it refers to, no ABA. Another slot in between
 * is one. */
static void pte_aba_swap_bits(void)
{
	fake_guest g;
	setup(&g);
	as_linux(&g);
	const uint64_t excl = 1ULL << 2;
	pt_store(&g, 0, L3, swp(0) | excl);
	pt_load(&g, 1, L3); /* the fault's lockless read */
	pt_store(&g, 0, L3, swp(0));
	pt_store(&g, 0, L3, swp(0) | excl);
	pt_load(&g, 1, L3); /* do_swap_page()'s */
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	pt_store(&g, 0, L3, swp(1));
	pt_store(&g, 0, L3, swp(0) | excl);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	/* the report says what the entry held in between, and who wrote it
	 * (issue 23: a PTE_ABA nobody could triage) */
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		char want[64];
		snprintf(want, sizeof(want), "read: 0x%llx (vcpu 0",
			 (unsigned long long)swp(1));
		CHECK(strstr(f->detail, want) != NULL);
	}
	fake_fini(&g);
}

/* A guest that is not Linux (no kernel symbols) shows no tasks or returns
 * to user that would delimit a reader's operation: two reads of an entry
 * pair only inside an operation the guest marks (OP_BEGIN); its setup
 * code's read and a later read are unrelated. */
static void pte_aba_bare_metal(void)
{
	fake_guest g;
	setup(&g);
	pt_load(&g, 1, L3);
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 0);
	/* the guest marks an operation (the OP_BEGIN client request) */
	ptw_ctx c = fake_ctx(&g, 1);
	ptw_ev_client(g.e, &c, 0x50570008, 0, 0, 0, 0);
	pt_load(&g, 1, L3);
	to_b_and_back(&g);
	pt_load(&g, 1, L3);
	CHECK_EQ(n(&g, PTW_KIND_PTE_ABA), 1);
	CHECK_EQ(ptw_stat(g.e, "operations_started"), 1);
	fake_fini(&g);
}

/* ---- tracked data ---- */

static void data_mismatch(void)
{
	fake_guest g;
	setup(&g);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_client(g.e, &c, 0x50570004, VA, 4096, 0, 0); /* TRACK */
	uint64_t lo, hi;
	ptw_tracked_bounds(g.e, &lo, &hi);
	CHECK_EQ(lo, VA);
	CHECK_EQ(hi, VA + 4096);
	uint64_t pat = 0x1122334455667788ULL, zero = 0;
	c = fake_ctx(&g, 0);
	ptw_ev_data(g.e, &c, VA + 8, 8, true, (uint8_t *)&pat);
	ptw_ctx stored = c;
	c = fake_ctx(&g, 1);
	ptw_ev_data(g.e, &c, VA + 8, 8, false, (uint8_t *)&pat);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	ptw_ev_data(g.e, &c, VA + 8, 8, false, (uint8_t *)&zero);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 1);
	/* the other side is the last store: its vcpu, pc and icount */
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		CHECK_EQ(f->other.cpu, stored.cpu);
		CHECK_EQ(f->other.pc, stored.pc);
		CHECK_EQ(f->other.icount, stored.icount);
	}
	ptw_ev_data(g.e, &c, VA + 8, 8, false, (uint8_t *)&zero);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 1); /* once per page */
	/* never-stored bytes are not checked; DC ZVA counts as a store */
	ptw_ev_data(g.e, &c, VA + 64, 8, false, (uint8_t *)&pat);
	c = fake_ctx(&g, 0);
	ptw_ev_data(g.e, &c, VA + 128, 8, true, (uint8_t *)&pat);
	ptw_ev_zero(g.e, &c, VA + 128, 64);
	ptw_ev_data(g.e, &c, VA + 128, 8, false, (uint8_t *)&zero);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 1);
	/* an expected external write forgets the values */
	ptw_ev_data(g.e, &c, VA + 256, 8, true, (uint8_t *)&pat);
	ptw_ev_client(g.e, &c, 0x50570006, VA + 256, 8, 0, 0);
	ptw_ev_data(g.e, &c, VA + 256, 8, false, (uint8_t *)&zero);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 1);
	/* untrack: nothing tracked any more */
	ptw_ev_client(g.e, &c, 0x50570005, VA, 4096, 0, 0);
	ptw_tracked_bounds(g.e, &lo, &hi);
	CHECK_EQ(lo, hi);
	fake_fini(&g);
}

/* Stores and loads of part of a word, or across two: only the bytes both
 * stored and loaded are compared, each against its own byte. */
static void data_partial_words(void)
{
	fake_guest g;
	setup(&g);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_client(g.e, &c, 0x50570004, VA, 4096, 0, 0); /* TRACK */
	const uint8_t two[2] = {0xaa, 0xbb};
	ptw_ev_data(g.e, &c, VA + 1030, 2, true, two); /* bytes 6, 7 */
	const uint8_t w8[8] = {1, 2, 3, 4, 5, 6, 0xaa, 0xbb};
	ptw_ev_data(g.e, &c, VA + 1024, 8, false, w8);
	const uint8_t w4[4] = {9, 9, 0xaa, 0xbb};
	ptw_ev_data(g.e, &c, VA + 1028, 4, false, w4);
	const uint8_t b1 = 0xbb, b2 = 0xbc, b3 = 0xab;
	ptw_ev_data(g.e, &c, VA + 1031, 1, false, &b1);
	ptw_ev_data(g.e, &c, VA + 1029, 1, false, &b3); /* never stored */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	ptw_ev_data(g.e, &c, VA + 1031, 1, false, &b2);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 1);
	/* a store across two words (and re-arming the page) */
	const uint8_t x8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	ptw_ev_data(g.e, &c, VA + 2044, 8, true, x8);
	ptw_ev_data(g.e, &c, VA + 2044, 8, false, x8);
	const uint8_t lo8[8] = {0, 0, 0, 0, 1, 2, 3, 4};
	ptw_ev_data(g.e, &c, VA + 2040, 8, false, lo8);
	const uint8_t mid2[2] = {5, 6};
	ptw_ev_data(g.e, &c, VA + 2048, 2, false, mid2);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 1);
	const uint8_t bad2[2] = {5, 7};
	c = fake_ctx(&g, 1); /* another site: not the first finding again */
	ptw_ev_data(g.e, &c, VA + 2048, 2, false, bad2);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 2);
	/* a zero byte stored in the middle of a word, another loaded */
	const uint8_t z = 0, one = 1;
	c = fake_ctx(&g, 0);
	ptw_ev_data(g.e, &c, VA + 3076, 1, true, &z);
	c = fake_ctx(&g, 1);
	ptw_ev_data(g.e, &c, VA + 3076, 1, false, &one);
	CHECK_EQ(n(&g, PTW_KIND_DATA_MISMATCH), 3);
	fake_fini(&g);
}

static void bad_client_ranges(void)
{
	fake_guest g;
	setup(&g);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_client(g.e, &c, 0x50570004, VA, 0, 0, 0);	   /* zero */
	ptw_ev_client(g.e, &c, 0x50570004, ~0ULL - 10, 100, 0, 0); /* wraps */
	ptw_ev_client(g.e, &c, 0x50570004, 0xffff000000001000ULL, 64, 0, 0);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 3);
	uint64_t lo, hi;
	ptw_tracked_bounds(g.e, &lo, &hi);
	CHECK_EQ(lo, hi);
	/* from kernel mode an unmapped start is refused; from user mode it is
	 * taken (Linux populates memory on first touch) */
	ptw_ctx k = {.cpu = 0, .pc = 0xffff800080001000ULL, .icount = 1};
	ptw_ev_client(g.e, &k, 0x50570004, 0x200000000ULL, 64, 0, 0);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 4);
	ptw_ev_client(g.e, &c, 0x50570004, 0x200000000ULL, 64, 0, 0);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 4);
	ptw_tracked_bounds(g.e, &lo, &hi);
	CHECK_EQ(lo, 0x200000000ULL);
	fake_fini(&g);
}

/* Break records and unit state of a table that is freed go with it. */
static void table_freed_with_open_break(void)
{
	fake_guest g;
	setup(&g);
	make_unit(&g, 0);
	pt_store(&g, 0, L3, 0); /* open break */
	pt_store(&g, 0, L3 + 16 * 8, 0);
	pt_store(&g, 0, L2, 0); /* unlink the table */
	CHECK(!ptw_is_table_page(g.e, L3));
	/* reused as data, then as a table again: fresh state */
	pt_store(&g, 0, L3, 0x1234);
	memset(g.mem + (L3 - RAM), 0, 4096);
	pt_store(&g, 0, L2, TBL(L3));
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* x86: a transient clear (modify_prot_start/commit) observed by another
 * CPU; no BBM kinds. */
static void x86_modify_prot_window(void)
{
	fake_guest g;
	fake_init(&g, PTW_ARCH_X86_64, 2, 0, 4 << 20);
	const uint64_t PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000,
		       PT = 0x103000;
	mem_w64(&g, PML4, PDPT | 0x63);
	mem_w64(&g, PDPT + 8, PD | 0x63);
	mem_w64(&g, PD, PT | 0x63);
	mem_w64(&g, PT, 0x200000 | 0x63);
	for (unsigned c = 0; c < 2; c++) {
		sysreg(&g, c, PTW_REG_X86_CR4, 1 << 5);
		sysreg(&g, c, PTW_REG_X86_EFER, 1 << 8);
		sysreg(&g, c, PTW_REG_X86_CR3, PML4);
		sysreg(&g, c, PTW_REG_X86_CR0, 1ULL << 31);
	}
	pt_store(&g, 0, PT, 0);
	pt_load(&g, 1, PT);
	pt_store(&g, 0, PT, 0x200000 | 0x61); /* read-only now */
	pt_load(&g, 1, PT);		      /* the reader re-checks */
	CHECK_EQ(nsev(&g, PTW_KIND_BBM_WINDOW_READ, PTW_SEV_NOTE), 1);
	CHECK_EQ(n(&g, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE), 0);
	pt_store(&g, 0, PT, 0x201000 | 0x63); /* valid->valid is fine */
	CHECK_EQ(ptw_findings_total(g.e), 1);
	/* a 2 MiB page invalidated in place and restored (change_huge_pmd():
	 * pmdp_invalidate_ad() keeps _PAGE_PSE and, as every non-present x86
	 * entry, stores the PFN inverted), read before, in between and after
	 * by the same CPU: same page, no PTE_ABA, no window read */
	const uint64_t HUGE = 0x400000 | 0xe3; /* PSE|D|A|RW|P */
	const uint64_t PFN_BITS = 0x000fffffffe00000ULL;
	pt_store(&g, 0, PD + 8, HUGE);
	pt_load(&g, 0, PD + 8);
	pt_store(&g, 0, PD + 8, (HUGE & ~1ULL) ^ PFN_BITS);
	pt_load(&g, 1, PD + 8);
	pt_store(&g, 0, PD + 8, HUGE);
	pt_load(&g, 0, PD + 8);
	CHECK_EQ(ptw_findings_total(g.e), 1);
	fake_fini(&g);
}

int main(void)
{
	RUN(mbi_without_tlbi);
	RUN(mbi_tlbi_not_completed);
	RUN(mbi_ok_with_completed_tlbi);
	RUN(mbi_tlbi_before_dsb);
	RUN(mbi_wrong_asid_and_local);
	RUN(remake_same_descriptor_is_fine);
	RUN(mbi_batched_flush_is_warning);
	RUN(window_read_transient);
	RUN(window_read_not_transient);
	RUN(window_read_restart_and_scan);
	RUN(partial_unit_unmap);
	RUN(unit_negatives);
	RUN(contig_groups);
	RUN(contig_transitional_linux);
	RUN(faults_on_contiguous_pages_no_unit);
	RUN(pte_aba);
	RUN(pte_aba_per_task);
	RUN(pte_aba_per_operation);
	RUN(pte_aba_bare_metal);
	RUN(pte_aba_swap_bits);
	RUN(data_mismatch);
	RUN(data_partial_words);
	RUN(bad_client_ranges);
	RUN(table_freed_with_open_break);
	RUN(x86_modify_prot_window);
	TAP_DONE();
}
