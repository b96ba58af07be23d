/* SPDX-License-Identifier: MIT */
/*
 * bbm_valid_to_valid: TEST_VA is switched from page A to page B with one
 * valid-to-valid descriptor write (a new output address without a break).
 * The invalidation follows immediately and nobody accesses TEST_VA in
 * between, so the only finding is the missing break.
 * Expect one BBM_VALID_TO_VALID.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: valid A -> valid B; dsb ish; tlbi vae1is; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 */
#include "harness.h"

static void cpu0_remap(void)
{
	litmus_phase("valid-to-valid");
	write_desc_dsb(test_pte(TEST_VA), test_page_desc(DATA_PAGE_B));
	tlbi_sync(TEST_VA);
	cpu0_after_b();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
};

LITMUS_SCENARIO("bbm_valid_to_valid", setup_test_va_a, steps,
		{PTW_K_BBM_VALID_TO_VALID, 1});
