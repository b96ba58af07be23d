/* SPDX-License-Identifier: MIT */
/*
 * pt_page_mapped_user: a live last-level table is also mapped at TEST_VA2
 * by a page descriptor with AP[1] set, so EL0 code could read and write
 * the page-table entries through it. The table is pt_l3_block, linked under
 * pt_l2_block[0] (BLOCK_VA) by the setup and used to translate by both CPUs
 * before and after. Expect one PT_PAGE_MAPPED, an error.
 *
 *   setup: pt_l3_block[0x30] -> the block region's page 0x30; then
 *          pt_l2_block[0] -> pt_l3_block (invalid -> table; dsb ish; isb);
 *          read BLOCK_VA + 0x30000 through it
 *   CPU1: read BLOCK_VA + 0x30000 (pt_l3_block is live on CPU1 too)
 *   CPU0: TEST_VA2 (pt_l3_test[0x38]) invalid -> pt_l3_block's page, AP[1]
 *         set (EL0 read/write), PXN, UXN; dsb ish; isb  <- the finding;
 *         read pt_l3_block[0x30] through TEST_VA2
 *   CPU1: read pt_l3_block[0x30] through TEST_VA2; read BLOCK_VA + 0x30000
 *   CPU0: clean-up: TEST_VA2 invalid; dsb ish; tlbi vae1is; dsb ish; isb
 *
 * The reads through TEST_VA2 are EL1 loads (PSTATE.PAN is clear): they show
 * the mapping is live; no EL0 code runs.
 */
#include "harness.h"

/* TEST_VA2 + 8 * i reads pt_l3_block[i] once TEST_VA2 maps the table. */
#define VA2_L3_ENTRY (TEST_VA2 + 8 * L3_BLOCK_IDX)

static void cpu0_user_map(void)
{
	litmus_phase("user-map");
	make_va(TEST_VA2, user_page_desc((uint64_t)pt_l3_block));
	litmus_read_check("cpu0 reads the table through TEST_VA2", VA2_L3_ENTRY,
			  l3_block_desc());
}

static void cpu1_read_both(void)
{
	litmus_read_check("cpu1 reads the table through TEST_VA2", VA2_L3_ENTRY,
			  l3_block_desc());
	cpu1_read_l3_block();
}

static const struct litmus_step steps[] = {
	{1, cpu1_read_l3_block}, /* step 0 */
	{0, cpu0_user_map},	 /* step 1 */
	{1, cpu1_read_both},	 /* step 2 */
	{0, cpu0_unmap_va2},	 /* step 3 */
};

LITMUS_SCENARIO("pt_page_mapped_user", link_l3_block, steps,
		{PTW_EXPECT_SEV(PTW_K_PT_PAGE_MAPPED, PTW_SEV_ERROR), 1});
