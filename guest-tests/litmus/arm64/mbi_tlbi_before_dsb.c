/* SPDX-License-Identifier: MIT */
/*
 * mbi_tlbi_before_dsb: CPU0 breaks the entry and invalidates it, but issues
 * the TLBI before any DSB completed the store of the invalid descriptor:
 * store-invalid; TLBI; DSB; DSB; store-new. The walker may still see the
 * old valid entry after the TLBI and refill the TLB, so the TLBI does not
 * count as the invalidation of this break (the Arm sequence, and Linux's
 * dsb(ishst) before every TLBI, is store-invalid; DSB; TLBI; DSB).
 * Expect one BBM_MAKE_BEFORE_INVALIDATE, an error.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid (no DSB); tlbi vae1is; dsb ish; dsb ish; valid -> B;
 *         dsb ish
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 */
#include "harness.h"

static void cpu0_remap(void)
{
	litmus_phase("break");
	write_desc(test_pte(TEST_VA), 0);
	litmus_phase("tlbi-early");
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	dsb_ish();
	cpu0_make_b_then_cleanup("make");
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
};

LITMUS_SCENARIO(
	"mbi_tlbi_before_dsb", setup_test_va_a, steps,
	{PTW_EXPECT_SEV(PTW_K_BBM_MAKE_BEFORE_INVALIDATE, PTW_SEV_ERROR), 1});
