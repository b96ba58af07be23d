/* SPDX-License-Identifier: MIT */
/*
 * hostile_table_loop: a level 2 table with an entry that points back at
 * itself (a loop a walker following table descriptors would never leave).
 * ptwatch must not follow it, must say so ("table-alias" warning), and
 * must go on checking: a correct remap of TEST_VA afterwards gives no
 * finding. Expect no finding.
 *
 *   CPU0: pt_l2_block[LOOP] = table -> pt_l2_block; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> A; CPU0: full BBM of TEST_VA -> B
 *   CPU1: read TEST_VA -> B; CPU0: the loop removed (break)
 */
#include "harness.h"

#define LOOP 17 /* an unused slot of the block area's level 2 table */

static void cpu0_loop(void)
{
	litmus_phase("loop");
	make_desc(&pt_l2_block[LOOP], table_desc(pt_l2_block));
}

static void cpu0_unloop(void)
{
	litmus_phase("unloop");
	write_desc_dsb(&pt_l2_block[LOOP], 0);
	__asm__ volatile("tlbi vmalle1is" : : : "memory");
	dsb_ish();
	isb();
}

static const struct litmus_step steps[] = {
	{0, cpu0_loop},	   /* step 0 */
	STEPS_BEFORE_A,	   /* steps 1, 2 */
	{0, cpu0_break},   /* step 3 */
	{0, cpu0_make_b},  /* step 4 */
	{1, cpu1_after_b}, /* step 5 */
	{0, cpu0_unloop},  /* step 6 */
};

LITMUS_SCENARIO("hostile_table_loop", setup_test_va_a, steps);
