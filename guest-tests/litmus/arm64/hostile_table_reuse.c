/* SPDX-License-Identifier: MIT */
/*
 * hostile_table_reuse: a level 3 table is unlinked correctly (its level 2
 * entry broken and invalidated), then its page is reused as data: 512
 * stores of values that look like valid page descriptors. ptwatch must
 * stop treating the page as a table once nothing links it, so none of
 * those stores is a page-table change. Expect no finding.
 *
 *   setup: the block area's level 2 entry -> pt_l3_block, 16 pages mapped
 *   CPU0, CPU1: read BLOCK_VA + BLOCK_TEST_OFF
 *   CPU0: level 2 entry -> 0; dsb ish; tlbi vmalle1is; dsb ish; isb
 *   CPU0: pt_l3_block[i] = (PA | page bits) ^ i for all 512 entries
 *   CPU1: reads the data back
 */
#include "harness.h"

static void setup_table(void)
{
	for (unsigned int i = 0; i < 16; i++)
		write_desc(&pt_l3_block[(BLOCK_TEST_OFF >> 12) + i],
			   test_page_desc(BLOCK_PA + BLOCK_TEST_OFF +
					  ((uint64_t)i << 12)));
	make_desc(block_pmd(), table_desc(pt_l3_block));
}

static void cpu0_read(void)
{
	litmus_read_check("cpu0 block page", BLOCK_VA + BLOCK_TEST_OFF,
			  BLOCK_MARKER(BLOCK_TEST_OFF >> 12));
}

static void cpu1_read(void)
{
	litmus_read_check("cpu1 block page", BLOCK_VA + BLOCK_TEST_OFF,
			  BLOCK_MARKER(BLOCK_TEST_OFF >> 12));
}

static void cpu0_unlink(void)
{
	litmus_phase("unlink");
	write_desc_dsb(block_pmd(), 0);
	__asm__ volatile("tlbi vmalle1is" : : : "memory");
	dsb_ish();
	isb();
}

static uint64_t junk(unsigned int i)
{
	return test_page_desc(DATA_PAGE_C) ^ ((uint64_t)i << 12);
}

static void cpu0_reuse(void)
{
	litmus_phase("reuse");
	for (unsigned int i = 0; i < 512; i++)
		write_va((uint64_t)&pt_l3_block[i], junk(i));
	dsb_ish();
}

static void cpu1_check(void)
{
	for (unsigned int i = 0; i < 512; i += 97)
		litmus_check("cpu1 reused page",
			     read_va((uint64_t)&pt_l3_block[i]), junk(i));
}

static const struct litmus_step steps[] = {
	{0, cpu0_read},	  /* step 0 */
	{1, cpu1_read},	  /* step 1 */
	{0, cpu0_unlink}, /* step 2 */
	{0, cpu0_reuse},  /* step 3 */
	{1, cpu1_check},  /* step 4 */
};

LITMUS_SCENARIO("hostile_table_reuse", setup_table, steps);
