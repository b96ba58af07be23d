/* SPDX-License-Identifier: MIT */
/*
 * bbm_ok: a correct break-before-make remap of TEST_VA from page A to
 * page B. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish; valid -> B; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 */
#include "harness.h"

/* The whole break-before-make in one step. */
static void cpu0_remap(void)
{
	cpu0_break();
	cpu0_make_b();
	cpu0_after_b();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
};

LITMUS_SCENARIO("bbm_ok", setup_test_va_a, steps);
