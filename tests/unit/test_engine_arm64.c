/* SPDX-License-Identifier: MIT */
/* Engine on synthetic arm64 event streams: shadow, BBM, stale TLB. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "engine_internal.h"
#include "fake_guest.h"
#include "tap.h"

#define RAM    0x40000000ULL
#define L0     (RAM + 0x100000)
#define L1     (RAM + 0x101000)
#define L2     (RAM + 0x102000)
#define L3     (RAM + 0x103000)
#define L3B    (RAM + 0x104000)
#define PAGE_A (RAM + 0x200000)
#define PAGE_B (RAM + 0x201000)
#define VA     0x100000000ULL /* L0[0] L1[4] L2[0] L3[0] */
#define ASID   1ULL

#define TBL(pa) ((pa) | 3ULL)
/* nG, AF, ISH, AttrIndx 0 (normal: MAIR byte 0 = 0xff) */
#define PAGE(pa) ((pa) | (1ULL << 11) | (1ULL << 10) | (3ULL << 8) | 3ULL)
#define TCR_48	 (16ULL | (1ULL << 23) /* EPD1 */ | (1ULL << 36) /* AS */)

static void setup(fake_guest *g, unsigned ncpus)
{
	fake_init(g, PTW_ARCH_ARM64, ncpus, RAM, 4 << 20);
	const uint64_t tables[4] = {L0, L1, L2, L3};
	fake_arm64_map_48(g, ncpus, tables, VA, PAGE(PAGE_A), ASID);
}

static void tlbi_vae1is(fake_guest *g, unsigned cpu, uint64_t va, uint64_t asid)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_arm64_tlbi(g->e, &c, 0, 3, 1, (va >> 12) | (asid << 48));
}

static void dsb_ish(fake_guest *g, unsigned cpu)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_arm64_dsb(g->e, &c, 0xb);
}

static void discovers_tables_from_root(void)
{
	fake_guest g;
	setup(&g, 2);
	CHECK_EQ(ptw_table_count(g.e), 4);
	uint64_t v;
	CHECK(ptw_shadow_get(g.e, L3, &v));
	CHECK_EQ(v, PAGE(PAGE_A));
	CHECK(!ptw_shadow_get(g.e, PAGE_A, &v));
	/* a data store is not a page-table store */
	guest_store(&g, 0, VA, PAGE_A, 42);
	CHECK_EQ(ptw_stat(g.e, "page_table_stores"), 0);
	fake_fini(&g);
}

static void mmu_off_releases_roots(void)
{
	fake_guest g;
	setup(&g, 1);
	/* the root still holds entries, so it is kept (ASID-tagged TLBs) */
	sysreg(&g, 0, PTW_REG_ARM_SCTLR, 0);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 1);
	/* now empty it and drop it */
	pt_store(&g, 0, L0, 0);
	CHECK_EQ(ptw_table_count(g.e), 0);
	fake_fini(&g);
}

static void bbm_valid_to_valid_oa_change(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_VALID_TO_VALID), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f->pte_pa, L3);
		CHECK_EQ(f->va, VA);
		CHECK_EQ(f->level, 3);
		CHECK_EQ(f->old_desc, PAGE(PAGE_A));
		CHECK_EQ(f->new_desc, PAGE(PAGE_B));
	}
	fake_fini(&g);
}

static void bbm_ok_sequence(void)
{
	fake_guest g;
	setup(&g, 2);
	guest_load(&g, 1, VA, PAGE_A);
	pt_store(&g, 0, L3, 0);
	dsb_ish(&g, 0);
	tlbi_vae1is(&g, 0, VA, ASID);
	dsb_ish(&g, 0);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	guest_load(&g, 0, VA, PAGE_B);
	guest_load(&g, 1, VA, PAGE_B);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	fake_fini(&g);
}

static void permission_only_change(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, PAGE(PAGE_A) | (1ULL << 7));		/* RO */
	pt_store(&g, 0, L3, PAGE(PAGE_A) | (1ULL << 7) | (3ULL << 53)); /* XN */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "leaf_mapping_changes"), 0);
	fake_fini(&g);
}

static void block_to_table_without_break(void)
{
	fake_guest g;
	setup(&g, 2);
	/* L2[1] maps a 2 MiB block; replace with a table live */
	uint64_t blk = 0x40400000ULL | (1 << 10) | 1;
	pt_store(&g, 0, L2 + 8, blk);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	for (int i = 0; i < 512; i++)
		mem_w64(&g, L3B + i * 8, PAGE(0x40400000ULL + i * 4096ULL));
	pt_store(&g, 0, L2 + 8, TBL(L3B));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_VALID_TO_VALID), 1);
	uint64_t v;
	CHECK(ptw_shadow_get(g.e, L3B + 8, &v)); /* new table followed */
	CHECK_EQ(v, PAGE(0x40401000ULL));
	fake_fini(&g);
}

/* arm64 clear_page() uses DC ZVA, which plugins do not see: a new table
 * must be read from memory, whatever it held before. */
static void new_table_read_from_memory_dc_zva(void)
{
	fake_guest g;
	setup(&g, 1);
	/* unlink L3 (break), it is dropped */
	pt_store(&g, 0, L2, 0);
	tlbi_vae1is(&g, 0, VA, ASID);
	CHECK(!ptw_is_table_page(g.e, L3));
	/* the page is zeroed by DC ZVA (no store events), reused as table */
	memset(g.mem + (L3 - RAM), 0, 4096);
	pt_store(&g, 0, L2, TBL(L3));
	uint64_t v = 1;
	CHECK(ptw_shadow_get(g.e, L3, &v));
	CHECK_EQ(v, 0);
	/* and a table that was filled without plugin-visible stores */
	mem_w64(&g, L3B + 16, PAGE(PAGE_B));
	pt_store(&g, 0, L2 + 8, TBL(L3B));
	CHECK(ptw_shadow_get(g.e, L3B + 16, &v));
	CHECK_EQ(v, PAGE(PAGE_B));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* Under MTTCG a failed CAS still reports its new value: the engine must
 * re-read memory and see no change. */
static void failed_cas_is_not_a_change(void)
{
	fake_guest g;
	setup(&g, 2);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_access(g.e, &c, L3, L3, 8, true, PAGE(PAGE_B)); /* memory: A */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	uint64_t v;
	CHECK(ptw_shadow_get(g.e, L3, &v));
	CHECK_EQ(v, PAGE(PAGE_A));
	CHECK_EQ(ptw_stat(g.e, "page_table_stores"), 1);
	CHECK_EQ(ptw_stat(g.e, "entry_changes"), 0);
	fake_fini(&g);
}

static void hardware_access_dirty_updates(void)
{
	fake_guest g;
	setup(&g, 2);
	uint64_t dbm = 1ULL << 51, ro = 1ULL << 7, af = 1ULL << 10;
	uint64_t e0 = (PAGE(PAGE_A) & ~af) | dbm | ro;
	pt_store(&g, 0, L3, e0);
	/* hardware sets AF and clears AP[2] (dirty) unseen */
	mem_w64(&g, L3, e0 | af);
	mem_w64(&g, L3, (e0 | af) & ~ro);
	/* the kernel writes back only A/D-state differences: nothing */
	pt_store(&g, 0, L3, e0 | af);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK(ptw_stat(g.e, "access_dirty_only_changes") >= 1);
	/* a real change on top of hardware bits is still seen */
	pt_store(&g, 0, L3, (e0 | af) + 0x1000);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_VALID_TO_VALID), 1);
	fake_fini(&g);
}

static void stale_own_cpu(void)
{
	fake_guest g;
	setup(&g, 2);
	guest_load(&g, 0, VA, PAGE_A);
	pt_store(&g, 0, L3, 0); /* unmap, no TLBI */
	guest_load(&g, 0, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	guest_load(&g, 0, VA, PAGE_A); /* reported once */
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	CHECK_EQ(ptw_stat(g.e, "stale_accesses"), 2);
	fake_fini(&g);
}

/* A kernel-mode change, then a user-mode access on the same CPU (another
 * task of the mm, while reclaim's batched flush is pending): a window. */
static void stale_own_cpu_other_mode(void)
{
	fake_guest g;
	setup(&g, 2);
	ptw_ctx k = {.cpu = 0, .pc = 0xffff800080001000ULL, .icount = 5};
	mem_w64(&g, L3, 0);
	ptw_ev_access(g.e, &k, L3, L3, 8, true, 0);
	guest_load(&g, 0, VA, PAGE_A); /* user pc */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	fake_fini(&g);
}

/* A kernel-mode change by one task, then a kernel-mode access on the same
 * CPU by another task (switched in while the changer's batched flush is
 * pending: a migration sleeping on a folio lock, a thread of the mm
 * reading the page in a system call): a window; the changing task itself
 * using the old translation: an error */
static void stale_own_cpu_other_task(void)
{
	fake_guest g;
	setup(&g, 2);
	const uint64_t A = 0xffff000012340000ULL, B = 0xffff000056780000ULL;
	ptw_ctx k = {.cpu = 0, .pc = 0xffff800080001000ULL, .icount = 5};
	ptw_ev_task(g.e, &k, A);
	mem_w64(&g, L3, 0);
	ptw_ev_access(g.e, &k, L3, L3, 8, true, 0);
	ptw_ctx k2 = {.cpu = 0, .pc = 0xffff800080002000ULL, .icount = 9};
	ptw_ev_task(g.e, &k2, B);
	ptw_ev_access(g.e, &k2, VA, PAGE_A, 8, false, 0); /* uaccess */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	ptw_ctx k3 = {.cpu = 0, .pc = 0xffff800080003000ULL, .icount = 12};
	ptw_ev_task(g.e, &k3, A);
	ptw_ev_access(g.e, &k3, VA, PAGE_A, 8, false, 0);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	fake_fini(&g);
}

static void stale_other_cpu_is_deferred_flush(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, 0);
	guest_load(&g, 1, VA, PAGE_A); /* batched-flush window: statistic */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	tlbi_vae1is(&g, 0, VA, ASID);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	fake_fini(&g);
}

static void stale_after_tlbi_wrong_asid(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, 0);
	tlbi_vae1is(&g, 0, VA, ASID + 1); /* wrong ASID: no effect */
	guest_load(&g, 0, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	fake_fini(&g);
}

static void stale_after_local_tlbi(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, 0);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_arm64_tlbi(g.e, &c, 0, 7, 1,
			  (VA >> 12) | (ASID << 48)); /* VAE1 */
	guest_load(&g, 0, VA, PAGE_A);		      /* own CPU is clean now */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	guest_load(&g, 1, VA, PAGE_A); /* not covered by a local TLBI */
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	fake_fini(&g);
}

/* A page moved is not a page reused (issue 27): the old page mapped at
 * another VA (mremap) still holds the same data, and another CPU's stale
 * load of it is a deferred-flush window. Once every mapping made since is
 * gone and the page is written through another address (its next
 * owner), it was reused: a stale load now is a use after free, reported
 * with the reuse as its other side. */
static void stale_old_page_moved_then_reused(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, 0);
	/* moved: the old page mapped at L3[5] and written there */
	pt_store(&g, 0, L3 + 5 * 8, PAGE(PAGE_A));
	guest_store(&g, 0, VA + 5 * 4096, PAGE_A, 1);
	guest_load(&g, 1, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	/* the new mapping goes too, and the page is written through the
	 * linear map: reused */
	pt_store(&g, 0, L3 + 5 * 8, 0);
	const uint64_t linear = 0xffff000000000000ULL | PAGE_A;
	ptw_ctx r = fake_ctx(&g, 0);
	ptw_ev_access(g.e, &r, linear, PAGE_A, 8, true, 0);
	guest_load(&g, 1, VA, PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		CHECK(strstr(f->detail, "use after free") != NULL);
		CHECK_EQ(f->other.icount, r.icount); /* the reuse */
	}
	fake_fini(&g);
}

/* The old page of a pending record, through another address (the
 * kernel's linear map): a load there can be neither stale nor a reuse,
 * and never reaches the engine; a store reuses the page (and the next
 * stores there tell nothing new), and another CPU's stale access is then
 * reported. */
static void old_page_through_another_address(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, 0);
	const uint64_t linear = 0xffff000000000000ULL | PAGE_A;
	CHECK(ptw_pending_may_hit(g.e, PAGE_A));
	CHECK(!ptw_pending_may_matter(g.e, 0, linear, PAGE_A, false));
	CHECK(ptw_pending_may_matter(g.e, 0, linear, PAGE_A, true));
	CHECK(ptw_pending_may_matter(g.e, 0, VA + 8, PAGE_A + 8, false));
	guest_load(&g, 1, linear, PAGE_A);
	CHECK_EQ(ptw_stat(g.e, "pending_page_accesses"), 0);
	guest_load(&g, 1, VA, PAGE_A); /* a deferred-flush window */
	CHECK_EQ(ptw_stat(g.e, "pending_page_accesses"), 1);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	guest_store(&g, 1, linear, PAGE_A, 0); /* the page reused */
	CHECK_EQ(ptw_stat(g.e, "pending_page_accesses"), 2);
	CHECK(!ptw_pending_may_matter(g.e, 0, linear, PAGE_A, true));
	guest_store(&g, 1, linear + 8, PAGE_A + 8, 0);
	CHECK_EQ(ptw_stat(g.e, "pending_page_accesses"), 2);
	guest_load(&g, 1, VA + 8, PAGE_A + 8);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	/* invalidated: no record, no filter */
	tlbi_vae1is(&g, 0, VA, ASID);
	CHECK(!ptw_pending_may_matter(g.e, 0, linear, PAGE_A, true));
	fake_fini(&g);
}

/* A pending record's VA, used by a CPU in another address space (a
 * forked parent using the page its child's record left): the filter asks
 * for the record in the vCPU's own address space, so a load there never
 * reaches the engine; a store to the old page still does (a reuse). */
static void pending_va_of_another_space(void)
{
	fake_guest g;
	setup(&g, 2);
	const uint64_t l0b = RAM + 0x105000; /* an empty root */
	sysreg(&g, 1, PTW_REG_ARM_TTBR0, l0b | (2ULL << 48));
	pt_store(&g, 0, L3, 0); /* the record: space L0, VA */
	CHECK(ptw_pending_may_matter(g.e, 0, VA, PAGE_A, false));
	CHECK(!ptw_pending_may_matter(g.e, 1, VA, PAGE_A, false));
	CHECK(ptw_pending_may_matter(g.e, 1, VA, PAGE_A, true));
	guest_load(&g, 1, VA, PAGE_A);
	CHECK_EQ(ptw_stat(g.e, "pending_page_accesses"), 0);
	/* back in the record's space: the same load is checked */
	sysreg(&g, 1, PTW_REG_ARM_TTBR0, L0 | (ASID << 48));
	CHECK(ptw_pending_may_matter(g.e, 1, VA, PAGE_A, false));
	/* the changer invalidates locally: in no record's need any more,
	 * its loads of the old page are not checked; CPU 1's still are */
	ptw_ctx c0 = fake_ctx(&g, 0);
	ptw_ev_arm64_tlbi(g.e, &c0, 0, 7, 1, (VA >> 12) | (ASID << 48));
	CHECK(!ptw_pending_may_matter(g.e, 0, VA, PAGE_A, false));
	CHECK(ptw_pending_may_matter(g.e, 1, VA, PAGE_A, false));
	/* the MMU off: no address space, nothing can be stale */
	sysreg(&g, 1, PTW_REG_ARM_SCTLR, 0);
	CHECK(!ptw_pending_may_matter(g.e, 1, VA, PAGE_A, false));
	fake_fini(&g);
}

/* The per-vCPU cache of pages no filter wanted (ptw_access_interest())
 * never hides what a filter starts to want after it answered: a new
 * pending record (its VA and its old page), a new table page, another
 * address space; and it answers repeated accesses itself. */
static void interest_cache_follows_filters(void)
{
	fake_guest g;
	setup(&g, 2);
	const uint64_t linear = 0xffff000000000000ULL | PAGE_A;
	const uint64_t l0b = RAM + 0x105000; /* an empty root */
	uint64_t hits = ptw_stat(g.e, "interest_cache_hits");
	CHECK_EQ(ptw_access_interest(g.e, 1, VA + 16, PAGE_A + 16, 8, false),
		 0);
	CHECK_EQ(ptw_access_interest(g.e, 1, VA + 8, PAGE_A + 8, 8, false), 0);
	CHECK_EQ(ptw_stat(g.e, "interest_cache_hits"), hits + 1);
	/* loads and stores of one page share its slot */
	CHECK_EQ(ptw_access_interest(g.e, 1, linear, PAGE_A, 8, true), 0);
	CHECK_EQ(ptw_access_interest(g.e, 1, linear + 8, PAGE_A + 8, 8, false),
		 0);
	CHECK_EQ(ptw_access_interest(g.e, 1, linear, PAGE_A, 8, true), 0);
	CHECK_EQ(ptw_access_interest(g.e, 1, linear, PAGE_A, 8, false), 0);
	CHECK_EQ(ptw_stat(g.e, "interest_cache_hits"), hits + 3);
	/* CPU 0 unmaps VA: CPU 1's next load there and a store to the old
	 * page through the linear map are wanted */
	pt_store(&g, 0, L3, 0);
	CHECK_EQ(ptw_access_interest(g.e, 1, VA + 8, PAGE_A + 8, 8, false),
		 PTW_ACC_PENDING);
	CHECK_EQ(ptw_access_interest(g.e, 1, linear, PAGE_A, 8, true),
		 PTW_ACC_PENDING);
	/* a page that becomes a table: its stores are wanted */
	const uint64_t lin_b = 0xffff000000000000ULL | L3B;
	CHECK_EQ(ptw_access_interest(g.e, 1, lin_b, L3B, 8, true), 0);
	pt_store(&g, 0, L2 + 8, TBL(L3B));
	CHECK(ptw_access_interest(g.e, 1, lin_b, L3B, 8, true) & PTW_ACC_TABLE);
	/* the same VA and PA in another address space, then back */
	sysreg(&g, 1, PTW_REG_ARM_TTBR0, l0b | (2ULL << 48));
	CHECK_EQ(ptw_access_interest(g.e, 1, VA, PAGE_A, 8, false), 0);
	sysreg(&g, 1, PTW_REG_ARM_TTBR0, L0 | (ASID << 48));
	CHECK_EQ(ptw_access_interest(g.e, 1, VA, PAGE_A, 8, false),
		 PTW_ACC_PENDING);
	/* an access that crosses into the next page is never cached */
	CHECK_EQ(ptw_access_interest(g.e, 1, lin_b - 8, L3B - 8, 16, true),
		 PTW_ACC_TABLE);
	fake_fini(&g);
}

static void tlbi_range_and_asid_forms(void)
{
	fake_guest g;
	setup(&g, 2);
	pt_store(&g, 0, L3, 0);
	pt_store(&g, 0, L3 + 8, 0); /* no-op: was invalid */
	mem_w64(&g, L3 + 16, PAGE(PAGE_B));
	/* RVAE1IS: ASID, TG=4K(1), SCALE 0, NUM 0 -> 2 pages at VA */
	ptw_ctx c = fake_ctx(&g, 0);
	uint64_t xt =
		(ASID << 48) | (1ULL << 46) | ((VA >> 12) & ((1ULL << 37) - 1));
	ptw_ev_arm64_tlbi(g.e, &c, 0, 2, 1, xt);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	/* ASIDE1IS clears non-global records of that ASID */
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_store(&g, 0, L3, 0);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 1);
	c = fake_ctx(&g, 1);
	ptw_ev_arm64_tlbi(g.e, &c, 0, 3, 2, ASID << 48);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	/* VMALLE1 (local) only cleans the issuing CPU */
	pt_store(&g, 0, L3, PAGE(PAGE_A));
	pt_store(&g, 0, L3, 0);
	c = fake_ctx(&g, 0);
	ptw_ev_arm64_tlbi(g.e, &c, 0, 7, 0, 0);
	guest_load(&g, 1, VA, PAGE_A); /* deferred window, not a finding */
	CHECK_EQ(ptw_findings_total(g.e), 0);
	CHECK_EQ(ptw_stat(g.e, "stale_deferred_flush_windows"), 1);
	fake_fini(&g);
}

/* A user table descriptor broken, then made a block (a collapse:
 * pmdp_collapse_flush() clears the PMD and, its range being 512 pages,
 * flushes the whole ASID with TLBI ASIDE1IS). nG is a leaf's bit: the walk
 * cache's copy of a lower-half table descriptor is used with its walk's
 * ASID, and a TLBI by that ASID removes it. Another ASID's: a finding
 * that says so. */
static void table_break_flushed_by_asid(void)
{
	for (int other = 0; other < 2; other++) {
		fake_guest g;
		setup(&g, 2);
		guest_load(&g, 1, VA, PAGE_A);
		pt_store(&g, 1, L2, 0);
		dsb_ish(&g, 1);
		ptw_ctx c = fake_ctx(&g, 1);
		ptw_ev_arm64_tlbi(g.e, &c, 0, 3, 2, (ASID + other) << 48);
		dsb_ish(&g, 1);
		/* nG, AF, ISH, a 2 MiB block */
		pt_store(&g, 1, L2,
			 0x40400000ULL | (1ULL << 11) | (1ULL << 10) |
				 (3ULL << 8) | 1ULL);
		CHECK_EQ(ptw_finding_count(g.e,
					   PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE),
			 (unsigned)other);
		const ptw_finding *f = ptw_finding_get(g.e, 0);
		if (other && f)
			CHECK(strstr(f->detail, "named another ASID") != NULL);
		fake_fini(&g);
	}
}

static void looping_and_bad_tables(void)
{
	fake_guest g;
	setup(&g, 1);
	/* L3-level table pointing at L0 (a loop): warned, not followed */
	pt_store(&g, 0, L1 + 5 * 8, TBL(L0));
	CHECK(ptw_stat(g.e, "warnings") >= 1);
	/* a table outside RAM */
	pt_store(&g, 0, L1 + 6 * 8, TBL(0x10000000ULL));
	CHECK(ptw_stat(g.e, "warnings") >= 2);
	/* a root outside RAM */
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, 0x20000000ULL);
	CHECK(ptw_stat(g.e, "warnings") >= 3);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* one L3 table linked from two L2 entries (VA and VA + 2 MiB): a break
 * invalidated at VA only leaves the other VA's translation stale */
static void one_table_two_vas(void)
{
	fake_guest g;
	setup(&g, 1);
	pt_store(&g, 0, L2 + 8, TBL(L3));
	CHECK_EQ(ptw_stat(g.e, "table_aliases"), 1);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 0);
	guest_load(&g, 0, VA + (2 << 20), PAGE_A);
	pt_store(&g, 0, L3, 0);
	dsb_ish(&g, 0);
	tlbi_vae1is(&g, 0, VA, ASID);
	dsb_ish(&g, 0);
	pt_store(&g, 0, L3, PAGE(PAGE_B));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE),
		 0);
	guest_load(&g, 0, VA + (2 << 20), PAGE_A);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f)
		CHECK_EQ(f->va, VA + (2 << 20));
	pt_store(&g, 0, L2 + 8, 0);
	CHECK(ptw_is_table_page(g.e, L3));
	pt_store(&g, 0, L2, 0);
	CHECK(!ptw_is_table_page(g.e, L3));
	fake_fini(&g);
}

static void lpa2_52bit_root(void)
{
	fake_guest g;
	fake_init(&g, PTW_ARCH_ARM64, 1, RAM, 4 << 20);
	/* T0SZ=12 (52-bit), DS=1: root at level -1 with 16 entries, a
	 * sub-page PGD sharing its page with another */
	uint64_t pgd = L0 + 0x80;
	mem_w64(&g, pgd, TBL(L1));
	mem_w64(&g, L1, TBL(L2));
	mem_w64(&g, L2, TBL(L3));
	mem_w64(&g, L3, TBL(L3B)); /* level 2 table */
	mem_w64(&g, L3B, PAGE(PAGE_A));
	sysreg(&g, 0, PTW_REG_ARM_TCR, 12ULL | (1ULL << 23) | (1ULL << 59));
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, pgd);
	sysreg(&g, 0, PTW_REG_ARM_SCTLR, 1);
	CHECK_EQ(ptw_table_count(g.e), 5);
	/* a store to the other half of the PGD's page is not an entry */
	pt_store(&g, 0, L0, 0x1234);
	CHECK_EQ(ptw_stat(g.e, "entry_changes"), 0);
	pt_store(&g, 0, L3B, PAGE(PAGE_B));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_VALID_TO_VALID), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f)
		CHECK_EQ(f->level, 3);
	/* several 16-entry PGDs in one page, registered in an order that
	 * leaves the page's list unsorted; a store to one must visit each
	 * once (this looped forever once) */
	const uint64_t pgds[3] = {L0 + 0xa00, L0 + 0x280, L0 + 0x700};
	for (int i = 0; i < 3; i++) {
		mem_w64(&g, pgds[i], TBL(L1));
		sysreg(&g, 0, PTW_REG_ARM_TTBR0, pgds[i]);
	}
	pt_store(&g, 0, L0 + 0x280, 0); /* emptied, not loaded: dropped */
	pt_store(&g, 0, L0 + 0xa00, 0);
	uint64_t v = 1;
	CHECK(!ptw_shadow_get(g.e, L0 + 0x280, &v));
	CHECK(ptw_shadow_get(g.e, L0 + 0x700, &v)); /* the loaded one */
	CHECK_EQ(v, TBL(L1));
	fake_fini(&g);
}

/* Linux's ID map (idmap_pg_dir: VA = PA) runs kernel code at lower-half
 * addresses while it replaces TTBR1 or brings a CPU up: those are not
 * returns to user, and its root, once cold, is dropped like the boot
 * tables (Linux frees them with the init section), not parked as a
 * process's. A root user code ran on (a lower-half PC it maps elsewhere)
 * is parked. Linux 7.2 on arm64 parked the ID map, and the pages of its
 * tables read as live tables when reused (false PT_PAGE_MAPPED errors). */
static void id_map_root_not_parked(void)
{
	fake_guest g;
	setup(&g, 1); /* the process's root L0, loaded */
	const uint64_t id[4] = {RAM + 0x110000, RAM + 0x111000, RAM + 0x112000,
				RAM + 0x113000};
	for (int l = 0; l < 4; l++)
		mem_w64(&g, id[l] + ((PAGE_A >> (39 - 9 * l)) & 511) * 8,
			l < 3 ? TBL(id[l + 1]) : PAGE(PAGE_A));
	ptw_ev_lower_half_entry_at(g.e, 0, VA + 0x40); /* user code */
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, id[0]);
	ptw_ev_lower_half_entry_at(g.e, 0, PAGE_A + 0x40); /* ID-mapped */
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, L0 | (ASID << 48));
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_arm64_tlbi(g.e, &c, 0, 7, 0, 0); /* tlbi vmalle1 */
	CHECK(!ptw_is_table_page(g.e, id[0]));
	CHECK(!ptw_is_table_page(g.e, id[3]));
	CHECK_EQ(ptw_stat(g.e, "roots_dropped_cold"), 1);
	CHECK_EQ(ptw_stat(g.e, "roots_parked"), 0);
	/* the process's root, left cold after user code ran on it: parked */
	ptw_ev_lower_half_entry_at(g.e, 0, VA + 0x40);
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, id[0]);
	c = fake_ctx(&g, 0);
	ptw_ev_arm64_tlbi(g.e, &c, 0, 7, 0, 0);
	CHECK_EQ(ptw_stat(g.e, "roots_parked"), 1);
	CHECK(ptw_is_table_page(g.e, L3));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

/* Linux's early boot (remap_idmap_for_lpa2): MMU off, new TTBR0/TCR.DS,
 * TLBI VMALLE1, MMU on; the old ID map is rewritten, partly by DC ZVA,
 * while no TLB can hold it. None of that is a finding. */
static void cold_root_rewritten_unseen(void)
{
	fake_guest g;
	setup(&g, 1);
	sysreg(&g, 0, PTW_REG_ARM_SCTLR, 0);
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, L0 + 0x800); /* another root */
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_arm64_tlbi(g.e, &c, 0, 7, 0, 0); /* tlbi vmalle1 */
	/* cold, and no user mode ran on it (a boot table, freed as pages):
	 * dropped, not parked */
	CHECK(!ptw_is_table_page(g.e, L3));
	CHECK_EQ(ptw_stat(g.e, "roots_dropped_cold"), 1);
	CHECK_EQ(ptw_stat(g.e, "roots_parked"), 0);
	memset(g.mem + (L3 - RAM), 0, 4096);		       /* DC ZVA */
	pt_store(&g, 0, L3, PAGE(PAGE_B) & ~(3ULL << 8));      /* not tracked */
	sysreg(&g, 0, PTW_REG_ARM_TCR, TCR_48 | (1ULL << 59)); /* DS */
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, L0 | (ASID << 48));
	sysreg(&g, 0, PTW_REG_ARM_SCTLR, 1);
	uint64_t v;
	CHECK(ptw_shadow_get(g.e, L3, &v));
	CHECK_EQ(v, PAGE(PAGE_B) & ~(3ULL << 8));
	CHECK_EQ(ptw_findings_total(g.e), 0);
	fake_fini(&g);
}

static void client_expectations(void)
{
	fake_guest g;
	setup(&g, 1);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_client(g.e, &c, 0x50570001, PTW_KIND_STALE_TLB_ACCESS, 1, 0, 0);
	ptw_ev_client(g.e, &c, 0x50570001, 99, 1, 0, 0); /* bad: warned */
	ptw_ev_client(g.e, &c, 0x5057ffff, 0, 0, 0, 0);	 /* unknown */
	CHECK_EQ(ptw_stat(g.e, "client_requests"), 3);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 2);
	fake_fini(&g);
}

/* TG1 left at its reserved value 0 with EPD1 clear: no warning while TTBR1
 * is unused, however often TTBR0 switches; once TTBR1 is loaded, one
 * warning, however often it switches again. */
static void reserved_tg1_warns_once(void)
{
	fake_guest g;
	setup(&g, 1);
	uint64_t tcr = 16ULL | (1ULL << 36); /* EPD1 clear, TG1 = 0 */
	sysreg(&g, 0, PTW_REG_ARM_TCR, tcr);
	for (int i = 0; i < 1000; i++)
		sysreg(&g, 0, PTW_REG_ARM_TTBR0,
		       L0 | ((uint64_t)(ASID + (i & 1)) << 48));
	CHECK_EQ(ptw_stat(g.e, "warnings"), 0);
	sysreg(&g, 0, PTW_REG_ARM_TTBR1, L0);
	for (int i = 0; i < 1000; i++)
		sysreg(&g, 0, PTW_REG_ARM_TTBR0,
		       L0 | ((uint64_t)(ASID + (i & 1)) << 48));
	CHECK_EQ(ptw_stat(g.e, "warnings"), 1);
	CHECK_EQ(ptw_table_count(g.e), 4); /* TTBR0's tables still tracked */
	fake_fini(&g);
}

/* The 16K granule (TCR_EL1.TG0 = 2, T0SZ 17: 47-bit VAs, three levels of
 * 2048-entry, 16 KiB tables from level 1): the walk uses 11 index bits a
 * level, a store anywhere in a table's 16 KiB is an entry change, a page
 * is 16 KiB; switching the granule re-reads every table. */
#define T16_1 (RAM + 0x110000)
#define T16_2 (RAM + 0x114000)
#define T16_3 (RAM + 0x118000)
#define P16_A (RAM + 0x200000)
#define P16_B (RAM + 0x204000)
#define VA16  ((5ULL << 36) | (3ULL << 25) | (1500ULL << 14))
static void granule_16k(void)
{
	fake_guest g;
	fake_init(&g, PTW_ARCH_ARM64, 2, RAM, 4 << 20);
	mem_w64(&g, T16_1 + 5 * 8, TBL(T16_2));
	mem_w64(&g, T16_2 + 3 * 8, TBL(T16_3));
	mem_w64(&g, T16_3 + 1500 * 8, PAGE(P16_A)); /* in its 3rd 4 KiB */
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		sysreg(&g, cpu, PTW_REG_ARM_TCR,
		       17ULL | (2ULL << 14) | (1ULL << 23) | (1ULL << 36));
		sysreg(&g, cpu, PTW_REG_ARM_TTBR0, T16_1 | (ASID << 48));
		sysreg(&g, cpu, PTW_REG_ARM_SCTLR, 1);
	}
	CHECK_EQ(ptw_table_count(g.e), 3);
	CHECK_EQ(g.e->page_shift, 14);
	uint64_t pa = 0, pte_pa = 0;
	int level = 0;
	CHECK(ptw_translate(g.e, 0, VA16 + 0x2345, &pa, &pte_pa, &level));
	CHECK_EQ(pa, P16_A + 0x2345);
	CHECK_EQ(pte_pa, T16_3 + 1500 * 8);
	CHECK_EQ(level, 3);
	CHECK(ptw_is_table_page(g.e, T16_3 + 0x3000));
	CHECK(!ptw_is_table_page(g.e, T16_3 + 0x4000));
	/* a store in the table's last 4 KiB: valid -> valid, no break */
	pt_store(&g, 0, T16_3 + 1500 * 8, PAGE(P16_B));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_VALID_TO_VALID), 1);
	/* a correct break: cleared, TLBI of an address inside the 16 KiB
	 * page (its scope is the page), made again */
	guest_load(&g, 1, VA16, P16_B);
	pt_store(&g, 0, T16_3 + 1500 * 8, 0);
	dsb_ish(&g, 0);
	tlbi_vae1is(&g, 0, VA16 + 0x3000, ASID);
	dsb_ish(&g, 0);
	pt_store(&g, 0, T16_3 + 1500 * 8, PAGE(P16_A));
	guest_load(&g, 1, VA16 + 0x3008, P16_A + 0x3008);
	CHECK_EQ(ptw_findings_total(g.e), 1);
	CHECK_EQ(ptw_stat(g.e, "pending_records"), 0);
	/* back to the 4K granule: the 16K tables are dropped and the root
	 * read again as a 4K one (512 entries) */
	for (unsigned cpu = 0; cpu < 2; cpu++)
		sysreg(&g, cpu, PTW_REG_ARM_TCR,
		       17ULL | (1ULL << 23) | (1ULL << 36));
	CHECK_EQ(g.e->page_shift, 12);
	CHECK(!ptw_is_table_page(g.e, T16_3 + 0x3000));
	fake_fini(&g);
	/* a 16K root not aligned to its 16 KiB (TTBR's low bits) would span
	 * five 4 KiB pages: said, not tracked */
	fake_init(&g, PTW_ARCH_ARM64, 1, RAM, 4 << 20);
	sysreg(&g, 0, PTW_REG_ARM_TCR,
	       17ULL | (2ULL << 14) | (1ULL << 23) | (1ULL << 36));
	sysreg(&g, 0, PTW_REG_ARM_TTBR0, (T16_1 + 0x800) | (ASID << 48));
	sysreg(&g, 0, PTW_REG_ARM_SCTLR, 1);
	CHECK_EQ(ptw_stat(g.e, "warnings"), 1);
	CHECK_EQ(ptw_table_count(g.e), 0);
	CHECK(!ptw_is_table_page(g.e, T16_1 + 0x800));
	fake_fini(&g);
}

/* ptw_barrier_due(): a vCPU's DSB matters after its own entry change or
 * TLBI, until a DSB that completes maintenance (a DSB ST does not); the
 * other vCPU's stay as they were */
static void barrier_due_per_cpu(void)
{
	fake_guest g;
	setup(&g, 2);
	CHECK(!ptw_barrier_due(g.e, 0));
	CHECK(!ptw_barrier_due(g.e, 1));
	pt_store(&g, 0, L3, 0); /* the break */
	CHECK(ptw_barrier_due(g.e, 0));
	CHECK(!ptw_barrier_due(g.e, 1));
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_arm64_dsb(g.e, &c, 0xa); /* DSB ISHST: stores only */
	CHECK(ptw_barrier_due(g.e, 0));
	dsb_ish(&g, 0);
	CHECK(!ptw_barrier_due(g.e, 0));
	tlbi_vae1is(&g, 1, VA, ASID);
	CHECK(ptw_barrier_due(g.e, 1));
	CHECK(!ptw_barrier_due(g.e, 0));
	dsb_ish(&g, 1);
	CHECK(!ptw_barrier_due(g.e, 1));
	/* a store of the value already there changes nothing */
	pt_store(&g, 0, L3, 0);
	CHECK(!ptw_barrier_due(g.e, 0));
	fake_fini(&g);
}

/* arm64 call stacks (stack.c) in the kernel half (TTBR1): a function
 * that keeps no frame record of its own (a leaf) is entered by a BL from
 * its caller, whose return address is only in x30: the stack names the
 * caller from the link register, then the frame records (x29); a link
 * register that follows a BL to another function (the caller's own call
 * made earlier) is not taken; a return address signed by PACIASP is
 * stripped */
#define K_VA	 0xffff800000000000ULL
#define K_TEXT	 (K_VA + 0x1000) /* caller, leaf, top */
#define K_STACK	 (K_VA + 0x10000)
#define PA_TEXT	 (RAM + 0x300000)
#define PA_STACK (RAM + 0x301000)
#define PA_OTHER (RAM + 0x302000)
static uint64_t k_regs[32];

static bool k_gpr(void *opaque, unsigned cpu, unsigned n, uint64_t *v)
{
	(void)opaque;
	(void)cpu;
	*v = n < 32 ? k_regs[n] : 0;
	return n < 32;
}

static void leaf_frames(void)
{
	fake_guest g;
	g.base = RAM;
	g.size = 4u << 20;
	g.mem = calloc(1, g.size);
	g.icount = 0;
	ptw_config cfg = {.arch = PTW_ARCH_ARM64,
			  .ncpus = 1,
			  .read_phys = fake_read,
			  .read_gpr = k_gpr,
			  .read_opaque = &g};
	char *err = NULL;
	g.e = ptw_engine_new(&cfg, &err);
	g_free(err);
	char *dir = g_dir_make_tmp("ptw-a64-XXXXXX", NULL);
	char *map = g_build_filename(dir, "System.map", NULL);
	g_file_set_contents(map,
			    "ffff800000001000 T caller\n"
			    "ffff800000001100 T leaf\n"
			    "ffff800000001180 T leaf2\n"
			    "ffff800000001200 T top\n"
			    "ffff800000001300 T other\n",
			    -1, NULL);
	CHECK(ptw_symbols_load(g.e, map, &err));
	g_free(err);
	/* TTBR1 tables: the text page and the stack page */
	const uint64_t t[4] = {L0, L1, L2, L3};
	for (int l = 0; l < 3; l++)
		mem_w64(&g, t[l] + ((K_TEXT >> (39 - 9 * l)) & 511) * 8,
			t[l + 1] | 3ULL);
	mem_w64(&g, L3 + ((K_TEXT >> 12) & 511) * 8, PAGE(PA_TEXT));
	mem_w64(&g, L3 + ((K_STACK >> 12) & 511) * 8, PAGE(PA_STACK));
	mem_w64(&g, L3 + (((K_VA + 0x3000) >> 12) & 511) * 8, PAGE(PA_OTHER));
	/* caller+0x20: BL leaf; caller+0x40: BL other */
	uint32_t bl_leaf = 0x94000000u | ((0x1100 - 0x1020) / 4);
	uint32_t bl_other = 0x94000000u | ((0x1300 - 0x1040) / 4);
	memcpy(g.mem + (PA_TEXT - RAM) + 0x20, &bl_leaf, 4);
	memcpy(g.mem + (PA_TEXT - RAM) + 0x40, &bl_other, 4);
	/* the caller's frame record: {no older frame, top+0x10}, the return
	 * address signed (bits 54:48 a PAC) */
	mem_w64(&g, PA_STACK + 0x100, 0);
	mem_w64(&g, PA_STACK + 0x108, (K_TEXT + 0x210) & ~(0x7fULL << 48));
	ptw_ctx c = fake_ctx(&g, 0);
	sysreg(&g, 0, PTW_REG_ARM_MAIR, 0xff);
	sysreg(&g, 0, PTW_REG_ARM_TCR,
	       (16ULL << 16) | (2ULL << 30) | (1ULL << 7) | (1ULL << 36));
	sysreg(&g, 0, PTW_REG_ARM_TTBR1, L0);
	sysreg(&g, 0, PTW_REG_ARM_SCTLR, 1);
	for (int other = 0; other < 2; other++) {
		/* the leaf changes a live mapping without break-before-make:
		 * a finding at the leaf's PC, its stack taken at the store */
		k_regs[29] = K_STACK + 0x100;
		/* the second: leaf2, the link register after caller's BL to
		 * leaf (not a call to leaf2) */
		k_regs[30] = K_TEXT + 0x24;
		c = fake_ctx(&g, 0);
		c.pc = K_TEXT + (other ? 0x184 : 0x104);
		uint64_t pte = L3 + (((K_VA + 0x3000) >> 12) & 511) * 8;
		uint64_t v = PAGE(PA_OTHER + (other ? 0 : 0x1000));
		mem_w64(&g, pte, v);
		ptw_ev_access(g.e, &c, K_VA + 0x3000, pte, 8, true, v);
		const ptw_finding *f = ptw_finding_get(g.e, (unsigned)other);
		const ptw_stack *s =
			f ? ptw_stack_get(g.e, f->ctx.stack) : NULL;
		char buf[256] = "";
		if (f)
			ptw_stack_format(g.e, &f->ctx, buf, sizeof(buf));
		CHECK(s != NULL);
		CHECK(strcmp(buf, other ? "top+0x10"
					: "caller+0x24 <- top+0x10") == 0);
	}
	ptw_engine_free(g.e);
	free(g.mem);
	g_unlink(map);
	g_rmdir(dir);
	g_free(map);
	g_free(dir);
}

int main(void)
{
	RUN(barrier_due_per_cpu);
	RUN(discovers_tables_from_root);
	RUN(mmu_off_releases_roots);
	RUN(bbm_valid_to_valid_oa_change);
	RUN(bbm_ok_sequence);
	RUN(permission_only_change);
	RUN(block_to_table_without_break);
	RUN(new_table_read_from_memory_dc_zva);
	RUN(failed_cas_is_not_a_change);
	RUN(hardware_access_dirty_updates);
	RUN(stale_own_cpu);
	RUN(old_page_through_another_address);
	RUN(stale_own_cpu_other_mode);
	RUN(stale_own_cpu_other_task);
	RUN(stale_other_cpu_is_deferred_flush);
	RUN(stale_after_tlbi_wrong_asid);
	RUN(stale_after_local_tlbi);
	RUN(stale_old_page_moved_then_reused);
	RUN(pending_va_of_another_space);
	RUN(interest_cache_follows_filters);
	RUN(tlbi_range_and_asid_forms);
	RUN(table_break_flushed_by_asid);
	RUN(looping_and_bad_tables);
	RUN(one_table_two_vas);
	RUN(lpa2_52bit_root);
	RUN(cold_root_rewritten_unseen);
	RUN(id_map_root_not_parked);
	RUN(client_expectations);
	RUN(reserved_tg1_warns_once);
	RUN(leaf_frames);
	RUN(granule_16k);
	TAP_DONE();
}
