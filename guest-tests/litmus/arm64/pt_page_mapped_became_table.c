/* SPDX-License-Identifier: MIT */
/*
 * pt_page_mapped_became_table: a page that EL0 can already reach (mapped at
 * TEST_VA2 with AP[1] set) is then linked in as a last-level table, with the
 * user mapping still in place: from then on EL0 code could rewrite the
 * entries that translate BLOCK_VA. The page is pt_l3_block, no table
 * before the link. Expect one PT_PAGE_MAPPED, an error.
 *
 *   CPU0: TEST_VA2 (pt_l3_test[0x38]) invalid -> pt_l3_block's page, AP[1]
 *         set (EL0 read/write), PXN, UXN; dsb ish; isb; read it (0)
 *   CPU1: read TEST_VA2 (0)
 *   CPU0: pt_l3_block[0x30] -> the block region's page 0x30 (a store to a
 *         page that is no table yet); pt_l2_block[0] invalid ->
 *         table(pt_l3_block); dsb ish; isb  <- the finding; read
 *         BLOCK_VA + 0x30000 through it
 *   CPU1: read BLOCK_VA + 0x30000; read pt_l3_block[0x30] through TEST_VA2
 *   CPU0: clean-up: TEST_VA2 invalid; dsb ish; tlbi vae1is; dsb ish; isb
 *
 * The reads through TEST_VA2 are EL1 loads (PSTATE.PAN is clear).
 */
#include "harness.h"

#define VA2_L3_ENTRY (TEST_VA2 + 8 * L3_BLOCK_IDX)

static void cpu0_user_map(void)
{
	litmus_phase("user-map");
	make_va(TEST_VA2, user_page_desc((uint64_t)pt_l3_block));
	litmus_read_check("cpu0 reads the page through TEST_VA2", VA2_L3_ENTRY,
			  0);
}

static void cpu1_read_va2(void)
{
	litmus_read_check("cpu1 reads the page through TEST_VA2", VA2_L3_ENTRY,
			  0);
}

static void cpu1_read_both(void)
{
	cpu1_read_l3_block();
	litmus_read_check("cpu1 reads the table through TEST_VA2", VA2_L3_ENTRY,
			  l3_block_desc());
}

static const struct litmus_step steps[] = {
	{0, cpu0_user_map},  /* step 0 */
	{1, cpu1_read_va2},  /* step 1 */
	{0, link_l3_block},  /* step 2 */
	{1, cpu1_read_both}, /* step 3 */
	{0, cpu0_unmap_va2}, /* step 4 */
};

LITMUS_SCENARIO("pt_page_mapped_became_table", NULL, steps,
		{PTW_EXPECT_SEV(PTW_K_PT_PAGE_MAPPED, PTW_SEV_ERROR), 1});
