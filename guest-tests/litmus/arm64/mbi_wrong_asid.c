/* SPDX-License-Identifier: MIT */
/*
 * mbi_wrong_asid: like mbi_no_tlbi, but CPU0 does invalidate between the
 * break and the make, with the wrong ASID: the test mappings are non-global
 * (nG) under ASID 1 and the TLBI VAE1IS names ASID 2, so it does not cover
 * the old translation. Expect one BBM_MAKE_BEFORE_INVALIDATE.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is (ASID 2); dsb ish; valid -> B;
 *         dsb ish
 *   CPU0: clean-up: tlbi vae1is (ASID 1); dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 *
 * (QEMU ignores the ASID of a TLBI by VA and drops the page anyway; the
 * reads only come after the clean-up, so the result is the same.)
 */
#include "harness.h"

static void cpu0_remap(void)
{
	cpu0_break_no_tlbi();
	litmus_phase("tlbi-asid2");
	tlbi_vae1is_asid(TEST_VA, LITMUS_OTHER_ASID);
	dsb_ish();
	cpu0_make_b_then_cleanup("make");
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
};

LITMUS_SCENARIO("mbi_wrong_asid", setup_test_va_a, steps,
		{PTW_K_BBM_MAKE_BEFORE_INVALIDATE, 1});
