/* SPDX-License-Identifier: MIT */
/*
 * mbi_same_ok: CPU0 stores TEST_VA's entry invalid and then the very same
 * descriptor again, without invalidating in between. A TLB that still holds
 * the old translation holds the new one too, so this is not a
 * make-before-invalidate. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; (no tlbi) valid -> A (same descriptor); dsb ish
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> A
 */
#include "harness.h"

static void cpu0_same(void)
{
	cpu0_break_no_tlbi();
	litmus_phase("make-same");
	write_desc_dsb(test_pte(TEST_VA), test_page_desc(DATA_PAGE_A));
	cpu0_cleanup();
	cpu0_after_a();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_same},	   /* step 2 */
	{1, cpu1_after_a}, /* step 3 */
};

LITMUS_SCENARIO("mbi_same_ok", setup_test_va_a, steps);
