/* SPDX-License-Identifier: MIT */
/*
 * data_mismatch: TEST_VA is tracked (ptw_track), CPU0 fills it with a
 * pattern, then remaps it (correct break-before-make) to a zeroed page
 * without copying: CPU1's next load from TEST_VA returns 0, not what the
 * address space last stored there (as when a page migration or swap-in
 * loses the contents). Expect one DATA_MISMATCH.
 *
 *   setup: TEST_VA -> E
 *   CPU0: ptw_track(TEST_VA, 4096); read TEST_VA -> E's marker; store
 *         DATA_PATTERN(i) to all 512 words through TEST_VA
 *   CPU0: full BBM -> Z (invalid; dsb ish; tlbi vae1is; dsb ish; valid Z;
 *         dsb ish; isb)
 *   CPU1: load word 0 of TEST_VA -> 0
 *   CPU0: clean-up: ptw_untrack(TEST_VA, 4096)
 */
#include "harness.h"

static void cpu0_remap(void)
{
	litmus_phase("remap-to-zero");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_Z));
}

static void cpu1_load(void)
{
	litmus_phase("cpu1-load");
	litmus_read_check("cpu1 load after remap", TEST_VA, 0);
}

static const struct litmus_step steps[] = {
	{0, cpu0_track_fill}, /* step 0 */
	{0, cpu0_remap},      /* step 1 */
	{1, cpu1_load},	      /* step 2 */
	{0, cpu0_untrack},    /* step 3 */
};

LITMUS_SCENARIO("data_mismatch", setup_test_va_e, steps,
		{PTW_K_DATA_MISMATCH, 1});
