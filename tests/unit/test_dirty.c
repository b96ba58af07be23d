/* SPDX-License-Identifier: MIT */
/* DIRTY_LOST on synthetic streams with a patched QEMU's access/dirty
 * updates: a store that writes a clean entry over one the MMU made dirty,
 * by a vCPU that had not read the dirty entry, is an error; a store by a
 * vCPU that read it (an atomic exchange's load, or a load that reached the
 * engine before the MMU's report), a store that keeps the dirty state
 * (hardware or Linux's software bit) and kernel mappings are not. x86-64
 * (D) and arm64 (DBM: the MMU clears AP[2]). */
#include <string.h>

#include "fake_guest.h"
#include "tap.h"

/* x86-64: VA -> PAGE_A through PT */
#define PML4	 0x101000ULL
#define PDPT	 0x102000ULL
#define PD	 0x103000ULL
#define PT	 0x104000ULL
#define PAGE_A	 0x200000ULL
#define VA	 0x40000000ULL
#define X_CLEAN	 (PAGE_A | 0x27ULL) /* P, RW, U, A */
#define X_DIRTY	 (X_CLEAN | 0x40ULL)
#define X_WRPROT (PAGE_A | 0x25ULL) /* P, U, A: read-only, clean */
#define X_SAVED	 (1ULL << 58)	    /* Linux _PAGE_SAVED_DIRTY */

static void x86_setup(fake_guest *g)
{
	fake_init(g, PTW_ARCH_X86_64, 2, 0, 4 << 20);
	const uint64_t tables[4] = {PML4, PDPT, PD, PT};
	fake_x86_map_long_mode(g, 2, tables, VA, PAGE_A);
	pt_store(g, 0, PT, X_CLEAN);
}

/* cpu loads the entry at pa (as the engine sees a page-table load) */
static void pt_load(fake_guest *g, unsigned cpu, uint64_t pa)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_access(g->e, &c, pa, pa, 8, false, mem_r64(g, pa));
}

/* cpu's MMU writes new into the entry at pa for an access to va */
static void mmu_update(fake_guest *g, unsigned cpu, uint64_t pa, uint64_t va,
		       uint64_t new)
{
	uint64_t old = mem_r64(g, pa);
	mem_w64(g, pa, new);
	ptw_ctx c = {.cpu = cpu, .pc = 0, .icount = ++g->icount};
	ptw_ev_hw_update(g->e, &c, pa, old, new, va);
}

static unsigned lost(fake_guest *g)
{
	return ptw_finding_count(g->e, PTW_KIND_DIRTY_LOST);
}

static void x86_store_over_unseen_dirty(void)
{
	fake_guest g;
	x86_setup(&g);
	pt_load(&g, 0, PT);			/* reads it clean */
	mmu_update(&g, 1, PT, VA + 8, X_DIRTY); /* vcpu 1 writes the page */
	pt_store(&g, 0, PT, X_WRPROT);		/* from its old value */
	CHECK_EQ(lost(&g), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	CHECK_EQ(f->severity, PTW_SEV_ERROR);
	CHECK_EQ(f->ctx.cpu, 0);
	CHECK(f->has_other);
	CHECK_EQ(f->other.cpu, 1);
	CHECK_EQ(f->pte_pa, PT);
	CHECK_EQ(f->old_desc, X_DIRTY);
	CHECK_EQ(f->new_desc, X_WRPROT);
	uint64_t sh = 0;
	CHECK(ptw_shadow_get(g.e, PT, &sh));
	CHECK_EQ(sh, X_WRPROT);
	CHECK_EQ(ptw_stat(g.e, "hw_dirtied_entries"), 1);
	/* the record ended with that store: a second one is not reported */
	pt_store(&g, 0, PT, X_CLEAN);
	CHECK_EQ(lost(&g), 1);
	fake_fini(&g);
}

static void x86_store_after_reading_dirty(void)
{
	fake_guest g;
	x86_setup(&g);
	mmu_update(&g, 1, PT, VA, X_DIRTY);
	pt_load(&g, 0, PT); /* sees D (as an xchg's load half would) */
	pt_store(&g, 0, PT, 0);
	/* not an access/dirty change of the shadow's 0: ignored */
	mmu_update(&g, 1, PT, VA, X_DIRTY);
	CHECK_EQ(lost(&g), 0);
	fake_fini(&g);
}

/* vcpu 0's load of the dirty entry reaches the engine before the MMU's
 * report of the update (two threads, one lock) */
static void x86_load_before_the_report(void)
{
	fake_guest g;
	x86_setup(&g);
	mem_w64(&g, PT, X_DIRTY);
	pt_load(&g, 0, PT);
	ptw_ctx c = {.cpu = 1, .pc = 0, .icount = ++g.icount};
	ptw_ev_hw_update(g.e, &c, PT, X_CLEAN, X_DIRTY, VA);
	pt_store(&g, 0, PT, X_WRPROT);
	CHECK_EQ(lost(&g), 0);
	fake_fini(&g);
}

static void x86_dirty_kept(void)
{
	fake_guest g;
	x86_setup(&g);
	mmu_update(&g, 1, PT, VA, X_DIRTY);
	pt_store(&g, 0, PT, X_WRPROT | X_SAVED);       /* Linux's saved dirty */
	mmu_update(&g, 1, PT, VA, X_WRPROT | X_SAVED); /* no change */
	pt_store(&g, 0, PT, X_DIRTY);
	mmu_update(&g, 1, PT, VA, X_DIRTY | 0x20); /* already dirty */
	CHECK_EQ(lost(&g), 0);
	CHECK_EQ(ptw_stat(g.e, "hw_dirtied_entries"), 1);
	fake_fini(&g);
}

/* the MMU's update of a value the shadow does not hold yet (a store the
 * engine has not seen) leaves the shadow to that store */
static void x86_update_of_unseen_value(void)
{
	fake_guest g;
	x86_setup(&g);
	ptw_ctx c = {.cpu = 1, .pc = 0, .icount = ++g.icount};
	ptw_ev_hw_update(g.e, &c, PT, X_WRPROT, X_WRPROT | 0x40, VA);
	uint64_t sh = 0;
	CHECK(ptw_shadow_get(g.e, PT, &sh));
	CHECK_EQ(sh, X_CLEAN);
	CHECK_EQ(ptw_stat(g.e, "hw_access_dirty_updates"), 1);
	CHECK_EQ(ptw_stat(g.e, "hw_dirtied_entries"), 0);
	fake_fini(&g);
}

/* arm64: VA -> PAGE_A through L3, DBM set, AP[2] set (writable, clean) */
#define RAM	 0x40000000ULL
#define L0	 (RAM + 0x100000)
#define L1	 (RAM + 0x101000)
#define L2	 (RAM + 0x102000)
#define L3	 (RAM + 0x103000)
#define A_PAGE	 (RAM + 0x200000)
#define A_VA	 0x100000000ULL
#define A_ATTR	 ((1ULL << 10) | (3ULL << 8) | (1ULL << 6) | 3ULL) /* AF SH U */
#define A_DBM	 (1ULL << 51)
#define A_RDONLY (1ULL << 7)
#define A_CLEAN	 (A_PAGE | A_ATTR | A_DBM | A_RDONLY | (1ULL << 11))
#define A_DIRTY	 (A_CLEAN & ~A_RDONLY)
#define A_WRPROT (A_CLEAN & ~A_DBM) /* pte_wrprotect() without PTE_DIRTY */
#define A_SWDIRT (1ULL << 55)	    /* Linux PTE_DIRTY */

static void a64_setup(fake_guest *g)
{
	fake_init(g, PTW_ARCH_ARM64, 2, RAM, 4 << 20);
	mem_w64(g, L0, L1 | 3);
	mem_w64(g, L1 + 4 * 8, L2 | 3);
	mem_w64(g, L2, L3 | 3);
	mem_w64(g, L3, A_CLEAN);
	for (unsigned c = 0; c < 2; c++) {
		sysreg(g, c, PTW_REG_ARM_MAIR, 0xff);
		sysreg(g, c, PTW_REG_ARM_TCR,
		       16ULL | (1ULL << 23) | (1ULL << 36));
		sysreg(g, c, PTW_REG_ARM_TTBR0, L0 | (1ULL << 48));
		sysreg(g, c, PTW_REG_ARM_SCTLR, 1);
	}
}

static void arm64_dbm(void)
{
	fake_guest g;
	a64_setup(&g);
	pt_load(&g, 0, L3);
	mmu_update(&g, 1, L3, A_VA, A_DIRTY);
	pt_store(&g, 0, L3, A_WRPROT); /* wrprotect that drops the dirty */
	CHECK_EQ(lost(&g), 1);
	/* the same with Linux's software dirty bit: kept */
	pt_store(&g, 0, L3, A_CLEAN);
	mmu_update(&g, 1, L3, A_VA, A_DIRTY);
	pt_store(&g, 0, L3, A_WRPROT | A_SWDIRT);
	CHECK_EQ(lost(&g), 1);
	/* the access flag alone is no dirty state */
	pt_store(&g, 0, L3, A_CLEAN & ~(1ULL << 10));
	mmu_update(&g, 1, L3, A_VA, A_CLEAN);
	pt_store(&g, 0, L3, A_WRPROT);
	CHECK_EQ(lost(&g), 1);
	CHECK_EQ(ptw_stat(g.e, "hw_dirtied_entries"), 2);
	fake_fini(&g);
}

/* a kernel mapping (the upper half) keeps no dirty state Linux reads */
static void arm64_kernel_half_is_quiet(void)
{
	fake_guest g;
	fake_init(&g, PTW_ARCH_ARM64, 2, RAM, 4 << 20);
	mem_w64(&g, L0, L1 | 3);
	mem_w64(&g, L1, L2 | 3);
	mem_w64(&g, L2, L3 | 3);
	mem_w64(&g, L3, A_CLEAN);
	for (unsigned c = 0; c < 2; c++) {
		sysreg(&g, c, PTW_REG_ARM_MAIR, 0xff);
		sysreg(&g, c, PTW_REG_ARM_TCR,
		       16ULL | (1ULL << 7) | (16ULL << 16) | (2ULL << 30) |
			       (1ULL << 36));
		sysreg(&g, c, PTW_REG_ARM_TTBR1, L0);
		sysreg(&g, c, PTW_REG_ARM_SCTLR, 1);
	}
	CHECK_EQ(ptw_table_count(g.e), 4);
	mmu_update(&g, 1, L3, 0xffff000000000000ULL, A_DIRTY);
	pt_store(&g, 0, L3, A_WRPROT);
	CHECK_EQ(ptw_stat(g.e, "hw_dirtied_entries"), 1);
	CHECK_EQ(lost(&g), 0);
	fake_fini(&g);
}

int main(void)
{
	RUN(x86_store_over_unseen_dirty);
	RUN(x86_store_after_reading_dirty);
	RUN(x86_load_before_the_report);
	RUN(x86_dirty_kept);
	RUN(x86_update_of_unseen_value);
	RUN(arm64_dbm);
	RUN(arm64_kernel_half_is_quiet);
	TAP_DONE();
}
