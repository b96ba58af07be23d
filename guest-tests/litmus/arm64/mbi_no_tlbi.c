/* SPDX-License-Identifier: MIT */
/*
 * mbi_no_tlbi: CPU0 breaks TEST_VA (A -> invalid) and makes it again
 * (-> B) without any TLB invalidation in between: the new translation is
 * live while both TLBs may still hold A. The invalidation only comes after
 * the make (clean-up). Expect one BBM_MAKE_BEFORE_INVALIDATE.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; (no tlbi) valid -> B; dsb ish
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 */
#include "harness.h"

static void cpu0_remap(void)
{
	cpu0_break_no_tlbi();
	/* No TLB invalidation before the make. */
	cpu0_make_b_then_cleanup("make-no-tlbi");
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
};

LITMUS_SCENARIO("mbi_no_tlbi", setup_test_va_a, steps,
		{PTW_K_BBM_MAKE_BEFORE_INVALIDATE, 1});
