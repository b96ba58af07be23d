/* SPDX-License-Identifier: MIT */
/*
 * mbi_local_tlbi: CPU0 breaks TEST_VA and invalidates only its own TLB
 * (TLBI VAE1, not the Inner Shareable form) before making it again, so
 * CPU1's TLB may still hold A when B becomes live.
 * Expect one BBM_MAKE_BEFORE_INVALIDATE.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1 (local); dsb nsh; valid -> B;
 *         dsb ish
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 */
#include "harness.h"

static void cpu0_remap(void)
{
	cpu0_break_no_tlbi();
	litmus_phase("tlbi-local");
	tlbi_vae1(TEST_VA);
	dsb_nsh();
	cpu0_make_b_then_cleanup("make");
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
};

LITMUS_SCENARIO("mbi_local_tlbi", setup_test_va_a, steps,
		{PTW_K_BBM_MAKE_BEFORE_INVALIDATE, 1});
