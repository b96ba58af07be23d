/* SPDX-License-Identifier: MIT */
/* Engine on synthetic x86-64 event streams: 4/5-level roots, per-CPU
 * invalidation (INVLPG, CR3, CR4.PGE), shared kernel half, no BBM rule. */
#include <string.h>

#include "fake_guest.h"
#include "tap.h"

#define PML5   0x100000ULL
#define PML4   0x101000ULL
#define PDPT   0x102000ULL
#define PD     0x103000ULL
#define PT     0x104000ULL
#define KPDPT  0x105000ULL
#define PML4B  0x106000ULL
#define PDPTB  0x107000ULL
#define PAGE_A 0x200000ULL
#define PAGE_B 0x201000ULL
#define VA     0x40000000ULL /* PML4[0] PDPT[1] PD[0] PT[0] */
#define SPARE  0x300000ULL   /* free pages for more roots */

#define TBL(pa)	 ((pa) | 0x63ULL)
#define PTE(pa)	 ((pa) | 0x63ULL)
#define GPTE(pa) ((pa) | 0x163ULL)
#define CR0_PG	 (1ULL << 31)
#define CR4_PAE	 (1ULL << 5)
#define CR4_PGE	 (1ULL << 7)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)

static void enable_paging(fake_guest *g, unsigned cpu, uint64_t cr3,
			  uint64_t cr4)
{
	sysreg(g, cpu, PTW_REG_X86_CR4, cr4);
	sysreg(g, cpu, PTW_REG_X86_EFER, EFER_LME);
	sysreg(g, cpu, PTW_REG_X86_CR3, cr3);
	sysreg(g, cpu, PTW_REG_X86_CR0, CR0_PG | 1);
}

static void setup(fake_guest *g, unsigned ncpus)
{
	fake_init(g, PTW_ARCH_X86_64, ncpus, 0, 4 << 20);
	mem_w64(g, PML4, TBL(PDPT));
	mem_w64(g, PML4 + 511 * 8, TBL(KPDPT)); /* kernel half */
	mem_w64(g, PDPT + 8, TBL(PD));
	mem_w64(g, PD, TBL(PT));
	mem_w64(g, PT, PTE(PAGE_A));
	for (unsigned c = 0; c < ncpus; c++)
		enable_paging(g, c, PML4, CR4_PAE | CR4_PGE);
}

static void invlpg(fake_guest *g, unsigned cpu, uint64_t va)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_x86_invlpg(g->e, &c, va);
}

static void four_level_discovery(void)
{
	fake_guest g;
	setup(&g, 2);
	CHECK_EQ(ptw_table_count(g.e), 5);
	uint64_t v;
	CHECK(ptw_shadow_get(g.e, PT, &v));
	CHECK_EQ(v, PTE(PAGE_A));
	fake_fini(&g);
}

static void five_level_discovery(void)
{
	fake_guest g;
	fake_init(&g, PTW_ARCH_X86_64, 1, 0, 4 << 20);
	mem_w64(&g, PML5, TBL(PML4));
	mem_w64(&g, PML4, TBL(PDPT));
	mem_w64(&g, PDPT + 8, TBL(PD));
	mem_w64(&g, PD, TBL(PT));
	mem_w64(&g, PT, PTE(PAGE_A));
	enable_paging(&g, 0, PML5, CR4_PAE | CR4_LA57);
	CHECK_EQ(ptw_table_count(g.e), 5);
	/* remap without INVLPG, own CPU reads through the old entry */
	pt_store(&g, 0, PT, PTE(PAGE_B));
	guest_load(&g, 0, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		CHECK_EQ(f->level, 1);
		CHECK_EQ(f->va, VA);
	}
	fake_fini(&g);
}

static void valid_to_valid_is_not_bbm_on_x86(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, PT, PTE(PAGE_B));
	invlpg(&g, 0, VA);
	guest_load(&g, 0, VA, PAGE_B);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

static void invlpg_is_per_cpu(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, PT, PTE(PAGE_B));
	invlpg(&g, 0, VA);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 1); /* cpu 1 still owes */
	guest_load(&g, 1, VA, PAGE_A); /* shootdown window: statistic */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	invlpg(&g, 1, VA);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	fake_fini(&g);
}

/* the lock-free pre-filter of the hot path: an access can only match a
 * pending record through the record's old page */
static void pending_filter_old_page_only(void)
{
	fake_guest g;
	setup(&g, 2);
	CHECK(!ptw_pending_may_hit(g.e, PAGE_A));
	pt_store(&g, 0, PT, PTE(PAGE_B));
	CHECK(ptw_has_pending(g.e));
	CHECK(ptw_pending_may_hit(g.e, PAGE_A));
	CHECK(ptw_pending_may_hit(g.e, PAGE_A + 0xff8));
	CHECK(!ptw_pending_may_hit(g.e, PAGE_B));
	CHECK(!ptw_pending_may_hit(g.e, PAGE_A + 0x2000));
	invlpg(&g, 0, VA);
	invlpg(&g, 1, VA);
	CHECK(!ptw_has_pending(g.e));
	CHECK(!ptw_pending_may_hit(g.e, PAGE_A));
	fake_fini(&g);
}

static void cr3_write_flushes_non_global_only(void)
{
	fake_guest g;
	setup(&g, 1);
	mem_w64(&g, PT + 8, GPTE(PAGE_B)); /* unseen: not yet cached */
	pt_store(&g, 0, PT + 8, GPTE(PAGE_B));
	pt_store(&g, 0, PT, 0);	    /* non-global unmap */
	pt_store(&g, 0, PT + 8, 0); /* global unmap */
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 2);
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 1);
	guest_load(&g, 0, VA + 4096, PAGE_B); /* global survives CR3 */
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	/* toggling CR4.PGE flushes everything */
	sysreg(&g, 0, PTW_REG_X86_CR4, CR4_PAE);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	fake_fini(&g);
}

static void shared_kernel_half(void)
{
	fake_guest g;
	setup(&g, 2);
	/* a second address space sharing the kernel PDPT */
	mem_w64(&g, PML4B + 511 * 8, TBL(KPDPT));
	sysreg(&g, 1, PTW_REG_X86_CR3, PML4B);
	CHECK_EQ(ptw_table_count(g.e), 6); /* KPDPT not duplicated */
	/* a kernel mapping changed from cpu 0 is seen by cpu 1's space */
	uint64_t kva = 0xffffff8000000000ULL;
	pt_store(&g, 0, KPDPT, 0x400000e3ULL); /* 1 GiB page */
	pt_store(&g, 0, KPDPT, 0);
	guest_load(&g, 0, kva, 0x40000000ULL);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	fake_fini(&g);
}

#define CR4_PCIDE (1ULL << 17)
#define NOFLUSH	  (1ULL << 63)

/* Without PCIDs a CR3 write flushes every non-global entry: the old root
 * is cold (no TLB can hold it). It is parked, not dropped: its stores are
 * still followed and a change needs no invalidation; reloaded, it is used
 * as it is when guest memory still matches, and read afresh when it was
 * rewritten unseen. Beyond PTW_PARKED_MAX (64) parked roots, the oldest
 * is dropped. Only a root user mode ran on is parked (a process's); a
 * cold root that never did is dropped. */
static void cold_root_parked(void)
{
	fake_guest g;
	setup(&g, 1);
	mem_w64(&g, PML4B + 511 * 8, TBL(KPDPT)); /* kernel half only */
	ptw_ev_lower_half_entry(g.e, 0);	  /* PML4's process ran */
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4B);
	CHECK(ptw_is_table_page(g.e, PML4));
	CHECK(ptw_is_table_page(g.e, PT));
	CHECK_EQ(ptw_stat(g.e, "roots_parked"), 1);
	/* a store while parked is followed: no stale-TLB record, since no
	 * TLB holds the space */
	pt_store(&g, 0, PT, PTE(PAGE_B));
	unsigned tables = ptw_table_count(g.e);
	uint64_t regs = ptw_stat(g.e, "tables_registered");
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4); /* back: used as parked */
	CHECK_EQ(ptw_stat(g.e, "roots_unparked"), 1);
	CHECK_EQ(ptw_stat(g.e, "tables_registered"), regs);
	CHECK_EQ(ptw_table_count(g.e), tables - 1); /* PML4B: empty, dropped */
	guest_load(&g, 0, VA, PAGE_B);
	/* parked again, rewritten unseen, reloaded: read afresh */
	ptw_ev_lower_half_entry(g.e, 0);
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4B);
	CHECK_EQ(ptw_stat(g.e, "roots_parked"), 2);
	mem_w64(&g, PT, PTE(PAGE_A));
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4);
	CHECK_EQ(ptw_stat(g.e, "roots_parked_stale"), 1);
	uint64_t v;
	CHECK(ptw_shadow_get(g.e, PT, &v));
	CHECK_EQ(v, PTE(PAGE_A));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	/* 65 more address spaces, each left cold once: the oldest parked
	 * roots beyond 64 are dropped */
	for (unsigned i = 0; i < 66; i++) {
		uint64_t root = SPARE + i * 4096ULL;
		mem_w64(&g, root, TBL(PDPT)); /* a user entry: not empty */
		mem_w64(&g, root + 511 * 8, TBL(KPDPT));
		ptw_ev_lower_half_entry(g.e, 0);
		sysreg(&g, 0, PTW_REG_X86_CR3, root);
	}
	CHECK_EQ(ptw_stat(g.e, "roots_dropped_cold"), 2);
	CHECK(!ptw_is_table_page(g.e, PML4)); /* the oldest: dropped */
	CHECK(ptw_is_table_page(g.e, PDPT));  /* still the newer ones' */
	/* roots left with no return to user since they were loaded: cold,
	 * dropped, not parked */
	uint64_t parked = ptw_stat(g.e, "roots_parked");
	for (unsigned i = 70; i < 72; i++) {
		uint64_t root = SPARE + i * 4096ULL;
		mem_w64(&g, root, TBL(PDPT));
		mem_w64(&g, root + 511 * 8, TBL(KPDPT));
		sysreg(&g, 0, PTW_REG_X86_CR3, root);
	}
	CHECK_EQ(ptw_stat(g.e, "roots_dropped_cold"), 4);
	CHECK_EQ(ptw_stat(g.e, "roots_parked"), parked);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

static void freed_root_reused_as_data(void)
{
	fake_guest g;
	setup(&g, 1);
	sysreg(&g, 0, PTW_REG_X86_CR4, CR4_PAE | CR4_PGE | CR4_PCIDE);
	mem_w64(&g, PML4B, TBL(PDPT));
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4B | 1 | NOFLUSH);
	/* B unloaded but its PCID may still be cached: kept */
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4 | NOFLUSH);
	CHECK(ptw_is_table_page(g.e, PML4B));
	/* a region tracked by that process goes with its address space */
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4B | 1 | NOFLUSH);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_client(g.e, &c, 0x50570004, VA, 4096, 0, 0);
	uint64_t lo, hi;
	ptw_tracked_bounds(g.e, &lo, &hi);
	CHECK_EQ(hi, VA + 4096);
	sysreg(&g, 0, PTW_REG_X86_CR3, PML4 | NOFLUSH);
	pt_store(&g, 0, PML4B, 0); /* exit: user half cleared -> dropped */
	ptw_tracked_bounds(g.e, &lo, &hi);
	CHECK_EQ(lo, hi);
	CHECK(!ptw_is_table_page(g.e, PML4B));
	/* the page is now data: stores there are not page-table changes */
	pt_store(&g, 0, PML4B, PTE(PAGE_B));
	CHECK_EQ(ptw_stat(g.e, "entry_changes"), 1);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

static void freed_table_dropped(void)
{
	fake_guest g;
	setup(&g, 1);
	pt_store(&g, 0, PD, 0); /* unlink PT */
	CHECK(!ptw_is_table_page(g.e, PT));
	pt_store(&g, 0, PT, 0x12345); /* now data */
	CHECK_EQ(ptw_stat(g.e, "page_table_stores"), 1);
	fake_fini(&g);
}

/* hugetlb PMD sharing: process B's PUD entry links process A's PD (and
 * the PT under it). A change through the shared PD leaves a stale-TLB
 * record for B's view too: A's INVLPG does not retire it, and B's CPU
 * reading the old page, reused meanwhile, through its stale entry is
 * found. */
static void shared_pd_between_processes(void)
{
	fake_guest g;
	setup(&g, 2);
	mem_w64(&g, PML4B, TBL(PDPTB));
	mem_w64(&g, PDPTB + 8, TBL(PD)); /* same VA, B's space */
	enable_paging(&g, 1, PML4B, CR4_PAE | CR4_PGE);
	CHECK_EQ(ptw_stat(g.e, "table_aliases"), 2); /* PD and PT */
	pt_store(&g, 0, PT, PTE(PAGE_B));
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 2);
	invlpg(&g, 0, VA);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 1);
	/* the old page moved (mapped at PT[1]): the same data */
	pt_store(&g, 0, PT + 8, PTE(PAGE_A));
	guest_load(&g, 1, VA, PAGE_A); /* B never flushed: deferred */
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 0);
	/* unmapped there too, and written by its next owner: reused */
	pt_store(&g, 0, PT + 8, 0);
	guest_store(&g, 0, 0xffff888000000000ULL | PAGE_A, PAGE_A, 1);
	guest_load(&g, 1, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	fake_fini(&g);
}

/* the first parent goes (A unmaps): B's view takes its place; the last
 * goes: the shared tables are dropped */
static void shared_pd_first_parent_gone(void)
{
	fake_guest g;
	setup(&g, 2);
	mem_w64(&g, PML4B, TBL(PDPTB));
	mem_w64(&g, PDPTB + 8, TBL(PD));
	enable_paging(&g, 1, PML4B, CR4_PAE | CR4_PGE);
	pt_store(&g, 0, PDPT + 8, 0); /* A's PUD entry cleared */
	CHECK(ptw_is_table_page(g.e, PT));
	invlpg(&g, 0, VA);
	invlpg(&g, 1, VA);
	pt_store(&g, 1, PT, PTE(PAGE_B));
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 1); /* B's view only */
	guest_load(&g, 1, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f)
		CHECK_EQ(f->va, VA);
	pt_store(&g, 1, PDPTB + 8, 0);
	CHECK(!ptw_is_table_page(g.e, PT));
	CHECK(!ptw_is_table_page(g.e, PD));
	fake_fini(&g);
}

/* one PT linked from two PD entries of one space: VA and VA + 2 MiB */
static void one_table_two_vas(void)
{
	fake_guest g;
	setup(&g, 1);
	pt_store(&g, 0, PD + 8, TBL(PT));
	guest_load(&g, 0, VA + (2 << 20), PAGE_A);
	pt_store(&g, 0, PT, PTE(PAGE_B));
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 2);
	invlpg(&g, 0, VA); /* the second VA is not invalidated */
	guest_load(&g, 0, VA + (2 << 20), PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f)
		CHECK_EQ(f->va, VA + (2 << 20));
	invlpg(&g, 0, VA + (2 << 20));
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	pt_store(&g, 0, PD + 8, 0);
	CHECK(ptw_is_table_page(g.e, PT)); /* still linked at VA */
	CHECK_EQ(ptw_stat(g.e, "tables_dropped"), 0);
	fake_fini(&g);
}

/* Reclaim (cpu0) unmaps V and defers its flush; an operation on cpu1 reads
 * V's entry and returns to user mode; cpu2 still uses the old translation:
 * the use outlived the operation (a guest without symbols: any reader). */
static void deferred_flush_overtaken(void)
{
	fake_guest g;
	setup(&g, 3);
	guest_load(&g, 2, VA, PAGE_A);
	pt_store(&g, 0, PT, 0); /* the flush deferred */
	guest_load(&g, 1, PT, PT);
	guest_store(&g, 2, VA, PAGE_A, 1); /* cpu1 not returned: a window */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	ptw_ev_lower_half_entry(g.e, 1);
	guest_store(&g, 2, VA, PAGE_A, 2);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->ctx.cpu, 2);
		CHECK(f->has_other);
		CHECK_EQ(f->other.cpu, 1);
		CHECK(strstr(f->detail, "returned to user mode") != NULL);
	}
	fake_fini(&g);
}

/* the same, but the flush reached cpu2 before the reader returned */
static void deferred_flush_completed_first(void)
{
	fake_guest g;
	setup(&g, 3);
	guest_load(&g, 2, VA, PAGE_A);
	pt_store(&g, 0, PT, 0);
	guest_load(&g, 1, PT, PT);
	invlpg(&g, 2, VA);
	ptw_ev_lower_half_entry(g.e, 1);
	guest_store(&g, 2, VA, PAGE_A, 2); /* cannot be through V now */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* the reader is the changer's own vCPU (its own later operation): nothing
 * to overtake; cpu1's use stays a deferred-flush window */
static void deferred_flush_read_by_changer(void)
{
	fake_guest g;
	setup(&g, 2);
	guest_load(&g, 1, VA, PAGE_A);
	pt_store(&g, 0, PT, 0);
	guest_load(&g, 0, PT, PT);
	ptw_ev_lower_half_entry(g.e, 0);
	guest_store(&g, 1, VA, PAGE_A, 2);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	fake_fini(&g);
}

int main(void)
{
	RUN(four_level_discovery);
	RUN(five_level_discovery);
	RUN(valid_to_valid_is_not_bbm_on_x86);
	RUN(invlpg_is_per_cpu);
	RUN(pending_filter_old_page_only);
	RUN(cr3_write_flushes_non_global_only);
	RUN(shared_kernel_half);
	RUN(cold_root_parked);
	RUN(freed_root_reused_as_data);
	RUN(freed_table_dropped);
	RUN(shared_pd_between_processes);
	RUN(shared_pd_first_parent_gone);
	RUN(one_table_two_vas);
	RUN(deferred_flush_overtaken);
	RUN(deferred_flush_completed_first);
	RUN(deferred_flush_read_by_changer);
	TAP_DONE();
}
