/* SPDX-License-Identifier: MIT */
/*
 * x86-64 litmus harness: what a scenario file sees.
 *
 * A scenario file defines litmus_name and scenario_expect() (with
 * LITMUS_SCENARIO), scenario_cpu0() and scenario_cpu1(), mostly from the
 * shared steps below. The harness boots, calls scenario_expect() on CPU0
 * before anything else, brings up CPU1, runs scenario_cpu0() on CPU0 and
 * scenario_cpu1() on CPU1, then reports (ptw_done, serial line, power off).
 *
 * The two CPUs never race: every step is bracketed by step_begin(n) /
 * step_end(n) on a shared sequence counter, so step n runs on exactly one
 * CPU, after step n - 1 has finished on whichever CPU owned it.
 */
#ifndef LITMUS_X86_64_HARNESS_H
#define LITMUS_X86_64_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "ptwatch-client.h"

/* Provided by the scenario. */
extern const char litmus_name[];
void scenario_expect(void);
void scenario_cpu0(void);
void scenario_cpu1(void);

struct litmus_expect {
	enum ptw_kind_id kind;
	uint64_t count;
};

/*
 * litmus_name and scenario_expect() of a scenario: its name, then the
 * expected findings, { kind, count } each; none means "expects no finding".
 *
 *   LITMUS_SCENARIO("stale_ok");
 *   LITMUS_SCENARIO("pte_aba", { PTW_K_PTE_ABA, 1 });
 */
#define LITMUS_SCENARIO(NAME, ...)                                             \
	const char litmus_name[] = NAME;                                       \
	void scenario_expect(void)                                             \
	{                                                                      \
		static const struct litmus_expect expect[] = {__VA_ARGS__};    \
		const struct litmus_expect *end =                              \
			expect + sizeof(expect) / sizeof(expect[0]);           \
                                                                               \
		for (const struct litmus_expect *e = expect; e != end; e++)    \
			ptw_expect(e->kind, e->count);                         \
	}

/* Static page tables (boot.S). */
extern volatile uint64_t pd_test[512]; /* PD of the 1 GiB test area */
extern volatile uint64_t pt_test[512]; /* 4 KiB PTEs for 0x40000000.. */
extern volatile uint64_t pt_size[512]; /* 4 KiB view of the size region */

/* The two values pd_test[1] can hold for the size_change region. */
#define SIZE_PDE_LARGE ((uint64_t)SIZE_REGION_PA | PTE_LARGE)
#define SIZE_PDE_TABLE ((uint64_t)(uintptr_t)pt_size | PTE_TABLE)

/* Ordering. */
void step_begin(unsigned int n);
void step_end(unsigned int n);

/*
 * Phase marker: ptw_phase(label), out of line. The plugin recognises a
 * client request only inside one QEMU translation block, and blocks end at
 * page boundaries, so the request's instructions must not straddle one.
 * Inline copies land wherever their caller does; this one function is
 * smaller than its alignment, so its request never straddles a page.
 */
void litmus_phase(const char *label);

/*
 * ptw_op_begin(), out of line for the same reason: the calling CPU starts
 * one operation, and PTE_ABA pairs two reads of an entry only within one.
 */
void litmus_op_begin(void);

/* Output and result. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void litmus_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned int this_cpu(void);

/* Read va, check that it returns want (a page marker), trace the result. */
void check_read(uint64_t va, uint64_t want);

/*
 * Load a page-table entry the way a lockless walker does (one plain 64-bit
 * load through the identity map, load_pte()), check it, trace it.
 */
void check_pte(const volatile uint64_t *pte, uint64_t want);

/* Unit: map all 16 pages in one pass (16 stores, nothing else). */
void unit_map(void);
/* Read unit pages first..last, check each one's marker. */
void check_unit(unsigned int first, unsigned int last);

/* size_change*: after the split, read page 3 = D, page 4 = SIZE_MARKER(4). */
void check_size_split(void);

/*
 * ---- shared steps ----
 *
 * Each runs the whole of step n on the calling CPU: step_begin(n),
 * litmus_phase(phase) unless phase is NULL, what its comment says,
 * step_end(n). va is a page of the test area (its entry is test_pte(va)).
 */

/* Read va, check it returns want. */
void step_read(unsigned int n, const char *phase, uint64_t va, uint64_t want);
/* Write val to va (one 64-bit store). */
void step_write(unsigned int n, const char *phase, uint64_t va, uint64_t val);
/* Load va, which must fault (a page fault, resumed by boot.S's probe). */
void step_load_faults(unsigned int n, const char *phase, uint64_t va);
#define PROBE_FAULTED (~0ULL)
uint64_t probe_load(uint64_t va);
/* Phase "fill"; va -> pa (va was not present before); read va = marker. */
void step_fill(unsigned int n, uint64_t va, uint64_t pa, uint64_t marker);
/* table_alias_*: phase "link-alias"; pd_test[2] -> pt_test; read ALIAS_VA =
 * want. */
void step_link_alias(unsigned int n, uint64_t want);
/* va's entry -> val, no invalidation. */
void step_write_pte(unsigned int n, const char *phase, uint64_t va,
		    uint64_t val);
/* va's entry -> val, then invlpg va. */
void step_write_pte_invlpg(unsigned int n, const char *phase, uint64_t va,
			   uint64_t val);
/* invlpg va (a shootdown's half on this CPU). */
void step_invlpg(unsigned int n, const char *phase, uint64_t va);
/* invlpg va, then read va = want. */
void step_invlpg_read(unsigned int n, const char *phase, uint64_t va,
		      uint64_t want);
/* Load va's entry (check_pte), check it is want. */
void step_check_pte(unsigned int n, const char *phase, uint64_t va,
		    uint64_t want);
/* The same, then invlpg va. */
void step_check_pte_invlpg(unsigned int n, const char *phase, uint64_t va,
			   uint64_t want);
/* litmus_op_begin(), then load va's entry (check_pte), check it is want:
 * the first read of a pair. */
void step_op_check_pte(unsigned int n, const char *phase, uint64_t va,
		       uint64_t want);
/* va's entry -> val (va was not present before), then read va = want. */
void step_map(unsigned int n, const char *phase, uint64_t va, uint64_t val,
	      uint64_t want);

/*
 * pte_aba, pte_aba_no_op_ok: CPU1 loads V's entry (X), CPU0 changes V to B
 * and back to X (each with its shootdown), CPU1 loads the entry again
 * (steps 0-8, pte_aba.c). With begin_op, CPU1 begins an operation before
 * its first load (step_op_check_pte): pte_aba; without: pte_aba_no_op_ok.
 */
void steps_pte_aba_cpu0(void);
void steps_pte_aba_cpu1(int begin_op);

/*
 * data_*: phase "fill"; TEST_VA -> E (not present before);
 * ptw_track(TEST_VA, 4096); store DATA_PATTERN(i) to word i, i = 0..511.
 */
void step_track_fill(unsigned int n);
/* data_*: phase "cleanup"; ptw_untrack(TEST_VA, 4096). */
void step_untrack(unsigned int n);

/* Phase "map-unit"; unit_map(); read unit pages 0..15. */
void step_unit_map(unsigned int n);
/* Read unit pages first..last (check_unit). */
void step_check_unit(unsigned int n, const char *phase, unsigned int first,
		     unsigned int last);
/* invlpg each of unit pages first..last. */
void step_unit_invlpg(unsigned int n, const char *phase, unsigned int first,
		      unsigned int last);
/*
 * One pass over unit entries first..last: each -> not present (clear) or
 * -> swap_desc(i) (swap_out), then invlpg each of their pages.
 */
void step_unit_clear(unsigned int n, const char *phase, unsigned int first,
		     unsigned int last);
void step_unit_swap_out(unsigned int n, const char *phase, unsigned int first,
			unsigned int last);

/*
 * stale_reused, stale_moved_*: what CPU0 stores into page A's word 1 while
 * CPU1 still holds V -> A, through the move's new mapping ("MOVED") or
 * through the identity map after A lost its last mapping ("REUSED").
 */
#define MOVED_VALUE 0x4d4f564544000000 /* "MOVED" */
#define REUSE_VALUE 0x5245555345440000 /* "REUSED" */
/*
 * stale_moved_*: phase "move", the way mremap() moves a page: va -> not
 * present, no invalidation (the move's flush is still to come); va2 ->
 * DATA_PAGE_A (va2 was not present); store MOVED_VALUE at va2 + 8; read
 * va2 = A.
 */
void step_move_a(unsigned int n, uint64_t va, uint64_t va2);
/*
 * stale_reused, stale_moved_reused: phase "reuse"; store REUSE_VALUE at
 * DATA_PAGE_A + 8 through the identity map (VA == PA: a 2 MiB supervisor
 * page boot.S made, no leaf made since the change), as an allocator that
 * got page A back writes to it.
 */
void step_reuse_a(unsigned int n);

/* 64-bit word pattern the data_* scenarios store through V (word i). */
#define DATA_PATTERN(i) (0x5041545400000000 | (uint64_t)(i)) /* "PATT" */

/* A 4 KiB leaf entry mapping physical page pa. */
static inline uint64_t pte_page(uint64_t pa)
{
	return pa | PTE_PAGE;
}

/* A read-only 4 KiB leaf (RW clear, A and D still preset). */
static inline uint64_t pte_page_ro(uint64_t pa)
{
	return pa | PTE_PAGE_RO;
}

/* Unit page i: its VA, its physical page, its (original) entry value. */
static inline uint64_t unit_va(unsigned int i)
{
	return UNIT_VA + ((uint64_t)i << 12);
}

static inline uint64_t unit_pa(unsigned int i)
{
	return UNIT_PA + ((uint64_t)i << 12);
}

static inline uint64_t unit_desc(unsigned int i)
{
	return pte_page(unit_pa(i));
}

/* The swap-format (not present) entry for unit entry i. */
static inline uint64_t swap_desc(unsigned int i)
{
	/* Linux x86-64 layout: type in bits 63:59, offset stored inverted
	 * from bit 9 (__swp_entry in arch/x86/include/asm/pgtable_64.h) */
	uint64_t off = 0x100 + (uint64_t)i;
	return ((~off << 14) >> 5) | (1ULL << 59);
}

/* The pd_test entry that links pt_test at ALIAS_VA (table_alias_*). */
static inline volatile uint64_t *alias_pde(void)
{
	return &pd_test[(ALIAS_VA - TEST_AREA_VA) >> 21];
}

/* The pd_test entry that links pt_size at LINK_VA (pt_page_mapped_*). */
static inline volatile uint64_t *link_pde(void)
{
	return &pd_test[(LINK_VA - TEST_AREA_VA) >> 21];
}

/* pt_page_mapped_*: the first entry of pt_apic (maps the local APIC) and
 * entry i of pt_size as boot.S builds them. */
#define PT_APIC_ENTRY0 ((uint64_t)APIC_BASE | PTE_PAGE | PTE_PCD | PTE_PWT)
static inline uint64_t pt_size_entry(unsigned int i)
{
	return i == SIZE_CHANGE_PAGE
		       ? (uint64_t)SIZE_CHANGE_PA | PTE_PAGE
		       : ((uint64_t)SIZE_REGION_PA + ((uint64_t)i << 12)) |
				 PTE_PAGE;
}

/* A user-accessible 4 KiB leaf (U/S set) mapping physical page pa. */
static inline uint64_t pte_page_user(uint64_t pa)
{
	return pa | PTE_PAGE_USER;
}

/* The pt_test entry that maps va (va inside 0x40000000..0x401fffff). */
static inline volatile uint64_t *test_pte(uint64_t va)
{
	return &pt_test[(va - TEST_AREA_VA) >> 12];
}

static inline volatile uint64_t *unit_pte(unsigned int i)
{
	return test_pte(unit_va(i));
}

/* Page-table update: one aligned 64-bit store, nothing else. */
static inline void write_pte(volatile uint64_t *pte, uint64_t val)
{
	__asm__ volatile("movq %1, %0" : "=m"(*pte) : "r"(val) : "memory");
}

/* Single-page invalidation on this CPU only, register-indirect like Linux. */
static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/*
 * Descriptor load: one aligned 64-bit load of the entry through the
 * identity map (page tables are identity mapped), nothing else.
 */
static inline uint64_t load_pte(const volatile uint64_t *pte)
{
	uint64_t v;

	__asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*pte) : "memory");
	return v;
}

static inline uint64_t read_va(uint64_t va)
{
	return *(volatile uint64_t *)(uintptr_t)va;
}

static inline void write_va(uint64_t va, uint64_t val)
{
	*(volatile uint64_t *)(uintptr_t)va = val;
}

#endif
