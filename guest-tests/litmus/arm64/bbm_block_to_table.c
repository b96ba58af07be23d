/* SPDX-License-Identifier: MIT */
/*
 * bbm_block_to_table: the 2 MiB block at BLOCK_VA is replaced directly by
 * a table descriptor whose level 3 table maps the same 2 MiB (a size change
 * without a break). The invalidation follows immediately and nobody
 * accesses the region in between. Expect one BBM_VALID_TO_VALID.
 *
 *   CPU0, CPU1: read BLOCK_VA + BLOCK_TEST_OFF (fills both TLBs)
 *   CPU0: fill pt_l3_block (512 pages, same physical range); dsb ish;
 *         block -> table; dsb ish; tlbi vae1is BLOCK_VA; dsb ish; isb
 *   CPU0, CPU1: read again, same marker, now through pt_l3_block
 */
#include "harness.h"

#define READ_VA	    (BLOCK_VA + BLOCK_TEST_OFF)
#define READ_MARKER BLOCK_MARKER(BLOCK_TEST_OFF >> 12)

static void setup(void)
{
	make_desc(block_pmd(), test_block_desc(BLOCK_PA));
}

static void cpu0_before(void)
{
	litmus_phase("before");
	litmus_read_check("cpu0 before split", READ_VA, READ_MARKER);
}

static void cpu1_before(void)
{
	litmus_read_check("cpu1 before split", READ_VA, READ_MARKER);
}

static void cpu0_split(void)
{
	litmus_phase("prepare-l3");
	for (uint64_t i = 0; i < 512; i++)
		write_desc(&pt_l3_block[i],
			   test_page_desc(BLOCK_PA + (i << 12)));
	dsb_ish();

	litmus_phase("block-to-table");
	write_desc_dsb(block_pmd(), table_desc(pt_l3_block));
	tlbi_sync(BLOCK_VA);
	litmus_phase("after");
	litmus_read_check("cpu0 after split", READ_VA, READ_MARKER);
}

static void cpu1_after(void)
{
	litmus_read_check("cpu1 after split", READ_VA, READ_MARKER);
}

static const struct litmus_step steps[] = {
	{0, cpu0_before}, /* step 0 */
	{1, cpu1_before}, /* step 1 */
	{0, cpu0_split},  /* step 2 */
	{1, cpu1_after},  /* step 3 */
};

LITMUS_SCENARIO("bbm_block_to_table", setup, steps,
		{PTW_K_BBM_VALID_TO_VALID, 1});
