/* SPDX-License-Identifier: MIT */
/*
 * pt_page_mapped_ok: the counterparts of pt_page_mapped_user and
 * pt_page_mapped_became_table. Every table page is mapped by the identity
 * map (2 MiB blocks, EL1 read/write, no EL0 access), as in every guest, and
 * here a live last-level table (pt_l3_block) is also mapped at TEST_VA2 by
 * an EL1-only page descriptor: a kernel's view of its own tables. Then the
 * table is taken down correctly (its entry cleared and invalidated, its
 * parent entry cleared and the walk invalidated) and only then is its page
 * mapped at TEST_VA2 with AP[1] set: a page that was a table, given to user
 * space after it stopped being one. Expect no finding.
 *
 *   setup: pt_l3_block[0x30] -> the block region's page 0x30;
 *          pt_l2_block[0] invalid -> table(pt_l3_block); dsb ish; isb;
 *          read BLOCK_VA + 0x30000 through it
 *   CPU0: TEST_VA2 invalid -> pt_l3_block's page, EL1 only (AP[1] clear);
 *         dsb ish; isb; read pt_l3_block[0x30] through it
 *   CPU1: read pt_l3_block[0x30] through TEST_VA2; read BLOCK_VA + 0x30000
 *   CPU0: unlink: pt_l3_block[0x30] invalid; dsb ish; tlbi vae1is
 *         BLOCK_VA + 0x30000; dsb ish; then pt_l2_block[0] invalid; dsb ish;
 *         tlbi vae1is BLOCK_VA + 0x30000 (the walk through pt_l2_block[0]);
 *         dsb ish; isb
 *   CPU0: TEST_VA2 -> pt_l3_block's page with AP[1] set, a full BBM
 *         (invalid; dsb ish; tlbi vae1is; dsb ish; new; dsb ish; isb);
 *         read it (0 where the entry was)
 *   CPU1: read TEST_VA2 (0)
 *   CPU0: clean-up: TEST_VA2 invalid; dsb ish; tlbi vae1is; dsb ish; isb
 */
#include "harness.h"

#define VA2_L3_ENTRY (TEST_VA2 + 8 * L3_BLOCK_IDX)
#define L3_BLOCK_VA  (BLOCK_VA + BLOCK_TEST_OFF)

static void cpu0_kernel_map(void)
{
	litmus_phase("kernel-map");
	make_va(TEST_VA2, test_page_desc((uint64_t)pt_l3_block));
	litmus_read_check("cpu0 reads the table through TEST_VA2", VA2_L3_ENTRY,
			  l3_block_desc());
}

static void cpu1_read_both(void)
{
	litmus_read_check("cpu1 reads the table through TEST_VA2", VA2_L3_ENTRY,
			  l3_block_desc());
	cpu1_read_l3_block();
}

static void cpu0_unlink(void)
{
	litmus_phase("unlink-table");
	write_desc_dsb(&pt_l3_block[L3_BLOCK_IDX], 0);
	tlbi_vae1is(L3_BLOCK_VA);
	dsb_ish();
	write_desc_dsb(block_pmd(), 0);
	tlbi_sync(L3_BLOCK_VA);
}

static void cpu0_user_map(void)
{
	litmus_phase("user-map");
	bbm_va(TEST_VA2, user_page_desc((uint64_t)pt_l3_block));
	litmus_read_check("cpu0 reads the page through TEST_VA2", VA2_L3_ENTRY,
			  0);
}

static void cpu1_read_va2(void)
{
	litmus_read_check("cpu1 reads the page through TEST_VA2", VA2_L3_ENTRY,
			  0);
}

static const struct litmus_step steps[] = {
	{0, cpu0_kernel_map}, /* step 0 */
	{1, cpu1_read_both},  /* step 1 */
	{0, cpu0_unlink},     /* step 2 */
	{0, cpu0_user_map},   /* step 3 */
	{1, cpu1_read_va2},   /* step 4 */
	{0, cpu0_unmap_va2},  /* step 5 */
};

LITMUS_SCENARIO("pt_page_mapped_ok", link_l3_block, steps);
