/* SPDX-License-Identifier: MIT */
/*
 * arm64 litmus harness: what a scenario file sees.
 *
 * A scenario is a list of steps, each run by one CPU. Both CPUs walk the
 * same list; step i runs when the shared sequence counter equals i + 1 and
 * publishes i + 2 when it is done (value 1 means "CPU1 is up"). So exactly
 * one CPU is active at any time and the order of page-table writes, TLB
 * invalidations and accesses is the same on every run.
 */
#ifndef LITMUS_ARM64_HARNESS_H
#define LITMUS_ARM64_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "ptwatch-client.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- what each scenario file defines ---- */

struct litmus_expect {
	enum ptw_kind_id kind;
	uint64_t count;
};

struct litmus_step {
	unsigned int cpu; /* 0 or 1 */
	void (*fn)(void);
};

struct litmus_scenario {
	const char *name; /* printed as "litmus arm64/<name>: ..." */
	const struct litmus_expect *expect;
	unsigned int nr_expect;
	/* Initial mappings: run by CPU0 with the MMU on, before CPU1 starts. */
	void (*setup)(void);
	const struct litmus_step *steps;
	unsigned int nr_steps;
};

extern const struct litmus_scenario litmus_scenario;

/*
 * The scenario table. The optional trailing arguments are the expected
 * findings, { kind, count } each; none means "expects no finding". SETUP
 * may be NULL (mapping is then one of the steps).
 *
 *   LITMUS_SCENARIO("bbm_ok", setup_test_va_a, steps);
 *   LITMUS_SCENARIO("pte_aba", setup_test_va_a, steps, { PTW_K_PTE_ABA, 1 });
 */
#define LITMUS_SCENARIO(NAME, SETUP, STEPS, ...)                               \
	static const struct litmus_expect litmus_expect_table[] = {            \
		__VA_ARGS__};                                                  \
	const struct litmus_scenario litmus_scenario = {                       \
		.name = NAME,                                                  \
		.expect = litmus_expect_table,                                 \
		.nr_expect = ARRAY_SIZE(litmus_expect_table),                  \
		.setup = SETUP,                                                \
		.steps = STEPS,                                                \
		.nr_steps = ARRAY_SIZE(STEPS),                                 \
	}

/* ---- descriptors (VMSAv8-64, 4 KiB granule; with LITMUS_GRANULE_16K,
 * 16 KiB: the same bits, the output address from bit 14) ---- */

#define PTE_VALID	(1ULL << 0)
#define PTE_TABLE	(1ULL << 1) /* table (levels 0-2) or page (level 3) */
#define PTE_ATTRINDX(i) ((uint64_t)(i) << 2)
#define PTE_AP_USER	(1ULL << 6) /* AP[1]: EL0 access */
#define PTE_AP_RDONLY	(1ULL << 7) /* AP[2] */
#define PTE_SH_INNER	(3ULL << 8)
#define PTE_AF		(1ULL << 10)
#define PTE_NG		(1ULL << 11)
#define PTE_DBM		(1ULL << 51) /* dirty bit modifier (FEAT_HAFDBS) */
#define PTE_CONT	(1ULL << 52) /* contiguous hint (16 entries at level 3) */
#define PTE_PXN		(1ULL << 53)
#define PTE_UXN		(1ULL << 54)

/* MAIR_EL1 attribute indices. */
#define MT_NORMAL 0 /* 0xff: normal, inner/outer write-back */
#define MT_DEVICE 1 /* 0x00: device nGnRnE */

/* Leaf attributes of the test mappings: normal, EL1 RW, not global, XN. */
#define PTE_TEST_LEAF                                                          \
	(PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_NG | PTE_PXN |  \
	 PTE_UXN)

/* Level 3 page descriptor for the test area. */
static inline uint64_t test_page_desc(uint64_t pa)
{
	return pa | PTE_TEST_LEAF | PTE_TABLE | PTE_VALID;
}

/* Level 3 page descriptor that EL0 can reach too: AP[1] set (EL0 and EL1
 * read/write), still PXN and UXN (pt_page_mapped_*). */
static inline uint64_t user_page_desc(uint64_t pa)
{
	return test_page_desc(pa) | PTE_AP_USER;
}

/* Level 2 (2 MiB) block descriptor for the block area. */
static inline uint64_t test_block_desc(uint64_t pa)
{
	return pa | PTE_TEST_LEAF | PTE_VALID;
}

/* Table descriptor pointing at a next-level table. */
static inline uint64_t table_desc(const uint64_t *table)
{
	return (uint64_t)table | PTE_TABLE | PTE_VALID;
}

/* Static, page-aligned tables (harness.c); VA == PA for all of them. */
extern uint64_t pt_l3_test[PT_ENTRIES];
extern uint64_t pt_l2_block[512];
extern uint64_t pt_l3_block[512];

/* The level 3 entry that maps va in the test area. */
static inline uint64_t *test_pte(uint64_t va)
{
	return &pt_l3_test[(va >> LITMUS_PAGE_SHIFT) & (PT_ENTRIES - 1)];
}

/* The unit: page i's VA, its level 3 entry, and its descriptor. */
static inline uint64_t unit_va(unsigned int i)
{
	return UNIT_VA + ((uint64_t)i << 12);
}

static inline uint64_t *unit_pte(unsigned int i)
{
	return test_pte(unit_va(i));
}

static inline uint64_t unit_page_desc(unsigned int i)
{
	return test_page_desc(UNIT_PA + ((uint64_t)i << 12));
}

/* Swap-format (non-valid) entry for unit entry i: offset 0x100 + i, type 1. */
static inline uint64_t swap_desc(unsigned int i)
{
	/* Linux arm64 6.12 layout: type in bits 10:6, offset from bit 12
	 * (bit 11, PTE_PRESENT_INVALID, clear) */
	return ((uint64_t)(SWAP_OFFSET_BASE + i) << 12) |
	       ((uint64_t)SWAP_TYPE << 6);
}

/* The level 2 entry that maps the 2 MiB block area. */
static inline uint64_t *block_pmd(void)
{
	return &pt_l2_block[(BLOCK_VA >> 21) & 511];
}

/* ---- primitives, spelled exactly as the plugin expects them ---- */

/* One descriptor write: a single aligned 64-bit str. */
static inline void write_desc(uint64_t *p, uint64_t val)
{
	__asm__ volatile("str %1, [%0]" : : "r"(p), "r"(val) : "memory");
}

static inline void dsb_ish(void)
{
	__asm__ volatile("dsb ish" : : : "memory");
}

/* Non-shareable DSB: completes only this CPU's own (local) TLBI. */
static inline void dsb_nsh(void)
{
	__asm__ volatile("dsb nsh" : : : "memory");
}

static inline void isb(void)
{
	__asm__ volatile("isb" : : : "memory");
}

/* TLBI VA operand: VA[55:12] in bits 43:0, ASID in bits 63:48. */
static inline uint64_t tlbi_va_arg(uint64_t va, uint64_t asid)
{
	return ((va >> 12) & ((1ULL << 44) - 1)) | (asid << 48);
}

/* TLBI VAE1IS with the test ASID: broadcast to every CPU. */
static inline void tlbi_vae1is(uint64_t va)
{
	uint64_t arg = tlbi_va_arg(va, LITMUS_ASID);

	__asm__ volatile("tlbi vae1is, %0" : : "r"(arg) : "memory");
}

/* TLBI VAE1IS with an explicit ASID (mbi_wrong_asid). */
static inline void tlbi_vae1is_asid(uint64_t va, uint64_t asid)
{
	uint64_t arg = tlbi_va_arg(va, asid);

	__asm__ volatile("tlbi vae1is, %0" : : "r"(arg) : "memory");
}

/* TLBI VAE1 with the test ASID: this CPU only (not broadcast). */
static inline void tlbi_vae1(uint64_t va)
{
	uint64_t arg = tlbi_va_arg(va, LITMUS_ASID);

	__asm__ volatile("tlbi vae1, %0" : : "r"(arg) : "memory");
}

/* One 64-bit load from va (an ldr the compiler cannot drop or merge). */
static inline uint64_t read_va(uint64_t va)
{
	uint64_t val;

	__asm__ volatile("ldr %0, [%1]" : "=r"(val) : "r"(va) : "memory");
	return val;
}

/* One 64-bit store to va (a single str). */
static inline void write_va(uint64_t va, uint64_t val)
{
	__asm__ volatile("str %1, [%0]" : : "r"(va), "r"(val) : "memory");
}

/*
 * "Loads the descriptor": one normal 64-bit ldr of a page-table entry
 * through the identity map (the tables are in the image, VA == PA).
 */
static inline uint64_t load_desc(const uint64_t *p)
{
	return read_va((uint64_t)p);
}

/*
 * ---- page-table sequences ----
 *
 * Inline, so a step runs exactly the stores, barriers and TLBIs it lists,
 * with nothing in between. The *_va forms act on the level 3 entry of a
 * page of the test area (test_pte(va)): TEST_VA, TEST_VA2 or a unit page.
 */

/* One descriptor store; dsb ish. */
static inline void write_desc_dsb(uint64_t *p, uint64_t val)
{
	write_desc(p, val);
	dsb_ish();
}

/* A make: one descriptor store; dsb ish; isb. */
static inline void make_desc(uint64_t *p, uint64_t val)
{
	write_desc_dsb(p, val);
	isb();
}

/* Broadcast invalidation of va, completed: tlbi vae1is; dsb ish; isb. */
static inline void tlbi_sync(uint64_t va)
{
	tlbi_vae1is(va);
	dsb_ish();
	isb();
}

/* Unmap without invalidation: invalid; dsb ish. */
static inline void unmap_va(uint64_t va)
{
	write_desc_dsb(test_pte(va), 0);
}

/* The break: invalid; dsb ish; tlbi vae1is; dsb ish. */
static inline void break_va(uint64_t va)
{
	unmap_va(va);
	tlbi_vae1is(va);
	dsb_ish();
}

/* The make: desc; dsb ish; isb. */
static inline void make_va(uint64_t va, uint64_t desc)
{
	make_desc(test_pte(va), desc);
}

/* Full break-before-make of va to desc (break_va, then make_va). */
static inline void bbm_va(uint64_t va, uint64_t desc)
{
	break_va(va);
	make_va(va, desc);
}

/* FEAT_HAFDBS on this CPU: TCR_EL1.HA (the MMU sets AF) and HD (a write
 * through an entry with DBM clears AP[2]); then its TLB is invalidated */
static inline void hafdbs_on(void)
{
	uint64_t tcr;

	__asm__ volatile("mrs %0, tcr_el1" : "=r"(tcr));
	tcr |= (1ULL << 39) | (1ULL << 40);
	__asm__ volatile("msr tcr_el1, %0\n\tisb\n\ttlbi vmalle1\n\t"
			 "dsb nsh\n\tisb"
			 :
			 : "r"(tcr)
			 : "memory");
}

/* ---- a load that may fault ---- */

#define PROBE_FAULTED (~0ULL)
/* The value at va, or PROBE_FAULTED when the load faults (start.S: the
 * exception vectors resume it). */
uint64_t probe_load(uint64_t va);

/* ---- checks ---- */
/*
 * Phase marker: ptw_phase(label), out of line. The plugin recognises a
 * client request only inside one QEMU translation block, and blocks end at
 * page boundaries, so the request's instructions must not straddle one.
 * Inline copies land wherever their caller does; this one function is
 * smaller than its alignment, so its request never straddles a page.
 */
void litmus_phase(const char *label);

/*
 * ptw_op_begin(), out of line for the same reason: the calling CPU (its
 * task, where SP_EL0 names one) starts one operation, and PTE_ABA pairs two
 * reads of an entry only within one.
 */
void litmus_op_begin(void);

/*
 * Record a data-check failure if got != want (the first one is reported at
 * the end; the scenario still runs to completion).
 */
void litmus_check(const char *what, uint64_t got, uint64_t want);

/* Read va and check that it holds want. */
static inline void litmus_read_check(const char *what, uint64_t va,
				     uint64_t want)
{
	litmus_check(what, read_va(va), want);
}

/*
 * Read the first word of unit pages first..last (in order) and check each
 * against UNIT_MARKER(i); a failure reports the marker it wanted, so the
 * page index is in the FAIL line.
 */
void unit_read_check(const char *what, unsigned int first, unsigned int last);

/*
 * Map the whole unit in one pass: 16 invalid -> valid stores of
 * unit_page_desc(i) | extra, then dsb ish; isb.
 */
void unit_map(uint64_t extra);

/*
 * unit_map(PTE_CONT), except that entry odd gets odd_desc instead: one
 * misprogrammed entry of a contiguous group (contig_bad_*).
 */
void unit_map_cont_except(unsigned int odd, uint64_t odd_desc);

/*
 * A contig_bad_* scenario: CPU0 maps the unit as one contiguous group in one
 * pass (phase "contig-map"; unit_map_cont_except(CONTIG_BAD_INDEX, BAD_DESC))
 * and CPU1 only acknowledges (cpu1_done). No setup: mapping the group is
 * the step under test. Expects one CONTIG_MISPROGRAMMED.
 */
#define CONTIG_BAD_INDEX 5
#define LITMUS_CONTIG_BAD_SCENARIO(NAME, BAD_DESC)                             \
	static void cpu0_map_group(void)                                       \
	{                                                                      \
		litmus_phase("contig-map");                                    \
		unit_map_cont_except(CONTIG_BAD_INDEX, BAD_DESC);              \
	}                                                                      \
                                                                               \
	static const struct litmus_step steps[] = {                            \
		{0, cpu0_map_group}, /* step 0 */                              \
		{1, cpu1_done},	     /* step 1 */                              \
	};                                                                     \
                                                                               \
	LITMUS_SCENARIO(NAME, NULL, steps, {PTW_K_CONTIG_MISPROGRAMMED, 1})

/*
 * One pass over unit entries first..last: each entry -> 0 (unit_clear) or
 * -> swap_desc(i) (unit_swap_out), dsb ish, tlbi vae1is of each page,
 * dsb ish.
 */
void unit_clear(unsigned int first, unsigned int last);
void unit_swap_out(unsigned int first, unsigned int last);

/*
 * ---- shared setups and steps (harness.c) ----
 *
 * Setups and steps that several scenarios have in common. Each does exactly
 * what its comment says, on the CPU its name gives; data checks name only
 * the CPU and the moment ("cpu1 after").
 */

/* Setups: TEST_VA -> page A / page E (make_va); the unit (unit_map(0)). */
void setup_test_va_a(void);
void setup_test_va_e(void);
void setup_unit(void);
/* TEST_VA -> page A writable and clean for FEAT_HAFDBS: DBM and AP[2] set
 * (dirty_lost, dirty_seen_ok). */
void setup_test_va_a_writable_clean(void);

/* Phase "before"; CPU0 reads TEST_VA -> A. */
void cpu0_before_a(void);
/* CPU1 reads TEST_VA -> A. */
void cpu1_before_a(void);
/* CPU1 turns FEAT_HAFDBS on (hafdbs_on()), then phase "write": writes
 * MARKER_A to TEST_VA (its MMU clears AP[2] of a DBM entry: dirty). */
void cpu1_hafdbs_write_a(void);
/* Steps 0 and 1 of most TEST_VA scenarios: both CPUs fill their TLBs. */
#define STEPS_BEFORE_A                                                         \
	{0, cpu0_before_a},                                                    \
	{                                                                      \
		1, cpu1_before_a                                               \
	}

/* Phase "break"; break_va(TEST_VA). */
void cpu0_break(void);
/* Phase "make"; make_va(TEST_VA) -> B. */
void cpu0_make_b(void);
/* Phase "after"; CPU0 reads TEST_VA -> B. */
void cpu0_after_b(void);
/* CPU1 reads TEST_VA -> B. */
void cpu1_after_b(void);
/* CPU0: TEST_VA made again with page A, read-only (the same page: a walk
 * that skipped the entry meanwhile missed a live mapping), then read A */
void cpu0_remake_a_ro(void);
/* The same two with TEST_VA still (or again) mapping A. */
void cpu0_after_a(void);
void cpu1_after_a(void);

/* Phase "break"; unmap_va(TEST_VA): a break with no invalidation (yet). */
void cpu0_break_no_tlbi(void);
/*
 * The make of the mbi_* scenarios, after a break whose invalidation is
 * missing or does not reach every CPU: phase make_phase; TEST_VA -> B;
 * dsb ish (no isb); then cpu0_cleanup() and cpu0_after_b().
 */
void cpu0_make_b_then_cleanup(const char *make_phase);

/* Phase "unmap"; unmap_va(TEST_VA) (no invalidation). */
void cpu0_unmap(void);
/* Phase "stale-read"; CPU1 reads TEST_VA -> A (through a stale entry). */
void cpu1_stale_read_a(void);
/* Phase "cleanup"; tlbi_sync(TEST_VA): the missing invalidation. */
void cpu0_cleanup(void);

/*
 * stale_reused, stale_moved_*: what CPU0 stores into page A's word 1 while
 * CPU1 still holds TEST_VA -> A, through the move's new mapping ("MOVED")
 * or through the identity map after A lost its last mapping ("REUSED").
 */
#define MOVED_VALUE 0x4d4f564544000000ULL /* "MOVED" */
#define REUSE_VALUE 0x5245555345440000ULL /* "REUSED" */
/*
 * Phase "move", the way mremap() moves a page: TEST_VA invalid; dsb ish
 * (no tlbi: the move's flush is still to come); TEST_VA2 invalid -> A;
 * dsb ish; isb; store MOVED_VALUE at TEST_VA2 + 8; read TEST_VA2 -> A.
 */
void cpu0_move_to_va2(void);
/*
 * Phase "reuse": store REUSE_VALUE at DATA_PAGE_A + 8 through the identity
 * map (VA == PA: an EL1-only 2 MiB block the boot made, no leaf made since
 * the change), as an allocator that got page A back writes to it.
 */
void cpu0_reuse_a(void);
/* Phase "cleanup" (cpu0_cleanup), then read A and A+8 through the identity
 * map -> MARKER_A, REUSE_VALUE. */
void cpu0_cleanup_check_reused(void);
/* Phase "stale-read"; CPU1 reads TEST_VA + 8 -> REUSE_VALUE (through its
 * stale entry: the page's new owner's data). */
void cpu1_stale_read_reused(void);

/* Phase "load-1" / "load-2"; CPU1 loads TEST_VA's descriptor -> A's. */
void cpu1_load_desc_1(void);
void cpu1_load_desc_2(void);
/* Phase "load-1"; CPU1 begins an operation (litmus_op_begin()), then loads
 * TEST_VA's descriptor -> A's: the first read of a pair. */
void cpu1_op_load_desc_1(void);

/*
 * A pte_aba scenario: CPU1 loads TEST_VA's descriptor (X) with FIRST_LOAD,
 * CPU0 remaps TEST_VA to B (phase "bbm-to-b") and back to X (phase
 * "bbm-back-to-a"), each with a full BBM and a read, and CPU1 loads the
 * descriptor again (cpu1_load_desc_2). pte_aba: FIRST_LOAD begins an
 * operation (cpu1_op_load_desc_1); pte_aba_no_op_ok: it does not
 * (cpu1_load_desc_1). The optional trailing arguments are the expected
 * findings, as for LITMUS_SCENARIO.
 */
void cpu0_bbm_to_b(void);
void cpu0_bbm_back_to_a(void);
#define LITMUS_PTE_ABA_SCENARIO(NAME, FIRST_LOAD, ...)                         \
	static const struct litmus_step steps[] = {                            \
		{1, FIRST_LOAD},	 /* step 0 */                          \
		{0, cpu0_bbm_to_b},	 /* step 1 */                          \
		{0, cpu0_bbm_back_to_a}, /* step 2 */                          \
		{1, cpu1_load_desc_2},	 /* step 3 */                          \
	};                                                                     \
                                                                               \
	LITMUS_SCENARIO(NAME, setup_test_va_a, steps, ##__VA_ARGS__)

/* The pattern the data_* scenarios store through TEST_VA (word i). */
#define DATA_PATTERN(i) (0x5041545400000000ULL | (i)) /* "PATT" | index */

/*
 * Phase "track-fill"; ptw_track(TEST_VA, 4096); read TEST_VA -> E; store
 * DATA_PATTERN(i) to all 512 words through TEST_VA.
 */
void cpu0_track_fill(void);
/* Phase "cleanup"; ptw_untrack(TEST_VA, 4096). */
void cpu0_untrack(void);

/* Phase "before"; CPU0 reads all 16 unit pages. */
void cpu0_unit_before(void);
/* CPU1 reads all 16 unit pages. */
void cpu1_unit_before(void);
/* Steps 0 and 1 of the unit scenarios: both CPUs fill their TLBs. */
#define STEPS_UNIT_BEFORE                                                      \
	{0, cpu0_unit_before},                                                 \
	{                                                                      \
		1, cpu1_unit_before                                            \
	}

/* Phase "cpu0-done" / "cpu1-done" only: the CPU acknowledges. */
void cpu0_done(void);
void cpu1_done(void);

/* table_alias_*: phase "link-alias": pt_l2_test[1] -> pt_l3_test (a make:
 * the entry was invalid), so ALIAS_VA maps what TEST_VA maps. */
void link_alias(void);
/* Phase "unlink-alias": pt_l2_test[1] -> invalid, tlbi ALIAS_VA, completed. */
void unlink_alias(void);

/*
 * pte_aba_*task*: tasks named the way Linux names them (the current task's
 * address in SP_EL0 while in the kernel), never dereferenced.
 */
#define TASK_T1 0xffff000012340000ULL
#define TASK_T2 0xffff000056780000ULL

static inline void set_task(uint64_t task)
{
	__asm__ volatile("msr sp_el0, %0" : : "r"(task) : "memory");
}

/* CPU1 as task T1 begins an operation and loads TEST_VA's descriptor
 * (cpu1_op_load_desc_1), then switches to task T2 (phase "switch-to-t2"),
 * which begins none. */
void cpu1_t1_load_then_t2(void);
/* Phase "bbm-to-b-and-back": full BBM of TEST_VA to B, read B; full BBM
 * back to A (the same descriptor as before), read A. */
void cpu0_remap_b_and_back(void);

/*
 * pt_page_mapped_*: pt_l3_block as a live last-level table. Phase
 * "link-table": pt_l3_block[BLOCK_TEST_OFF >> 12] -> the block region's
 * page there (a store to a page that is no table yet), then
 * pt_l2_block[0] -> pt_l3_block (make_desc: invalid -> table, dsb ish,
 * isb); read BLOCK_VA + BLOCK_TEST_OFF through it.
 */
void link_l3_block(void);
/* The descriptor link_l3_block() puts in pt_l3_block, and where. */
#define L3_BLOCK_IDX (BLOCK_TEST_OFF >> 12)
static inline uint64_t l3_block_desc(void)
{
	return test_page_desc(BLOCK_PA + BLOCK_TEST_OFF);
}
/* CPU1 reads BLOCK_VA + BLOCK_TEST_OFF through pt_l3_block. */
void cpu1_read_l3_block(void);
/* Phase "cleanup"; break_va(TEST_VA2) (invalid, dsb, tlbi, dsb; isb): the
 * mapping of pt_l3_block there goes away. */
void cpu0_unmap_va2(void);

#endif
