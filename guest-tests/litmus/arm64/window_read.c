/* SPDX-License-Identifier: MIT */
/*
 * window_read: while TEST_VA's entry is broken (invalid, invalidated, not
 * yet made again), CPU1 loads the descriptor itself with a plain load
 * through the identity map, as a lockless page-table walker would, and
 * sees the transient invalid value, and never loads it again: it acted on
 * the transient value. Expect one BBM_WINDOW_READ, an error.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the break)
 *   CPU1: load the descriptor -> 0 (inside the window)
 *   CPU0: valid -> A again, read-only; dsb ish; isb (the make, the same
 *         page: a walk that skipped the entry missed a live mapping)
 *   CPU0, CPU1: read TEST_VA -> A
 */
#include "harness.h"

static void cpu1_load_desc(void)
{
	litmus_phase("window-load");
	litmus_check("cpu1 descriptor load in the window",
		     load_desc(test_pte(TEST_VA)), 0);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	       /* steps 0, 1 */
	{0, cpu0_break},       /* step 2 */
	{1, cpu1_load_desc},   /* step 3 */
	{0, cpu0_remake_a_ro}, /* step 4 */
	{1, cpu1_after_a},     /* step 5 */
};

LITMUS_SCENARIO("window_read", setup_test_va_a, steps,
		{PTW_EXPECT_SEV(PTW_K_BBM_WINDOW_READ, PTW_SEV_ERROR), 1});
