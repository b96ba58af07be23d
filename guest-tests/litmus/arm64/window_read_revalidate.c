/* SPDX-License-Identifier: MIT */
/*
 * window_read_revalidate: as window_read, CPU1 loads the descriptor inside
 * CPU0's break and sees it invalid; after the make it loads the descriptor
 * again before going on, as handle_pte_fault() re-checks the PTE under the
 * PTE lock. Expect one BBM_WINDOW_READ, a note (benign by design).
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the break)
 *   CPU1: load the descriptor -> 0 (inside the window)
 *   CPU0: valid -> A again, read-only; dsb ish; isb (the make, the same
 *         page: a walk that skipped the entry missed a live mapping)
 *   CPU1: load the descriptor again -> valid (the re-check)
 *   CPU0, CPU1: read TEST_VA -> A
 */
#include "harness.h"

static void cpu1_load_desc(void)
{
	litmus_phase("window-load");
	litmus_check("cpu1 descriptor load in the window",
		     load_desc(test_pte(TEST_VA)), 0);
}

static void cpu1_recheck(void)
{
	litmus_phase("recheck");
	litmus_check("cpu1 descriptor valid again after the make",
		     load_desc(test_pte(TEST_VA)) & 1, 1);
	cpu1_after_a();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	       /* steps 0, 1 */
	{0, cpu0_break},       /* step 2 */
	{1, cpu1_load_desc},   /* step 3 */
	{0, cpu0_remake_a_ro}, /* step 4 */
	{1, cpu1_recheck},     /* step 5 */
};

LITMUS_SCENARIO("window_read_revalidate", setup_test_va_a, steps,
		{PTW_EXPECT_SEV(PTW_K_BBM_WINDOW_READ, PTW_SEV_NOTE), 1});
