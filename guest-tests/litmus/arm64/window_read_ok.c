/* SPDX-License-Identifier: MIT */
/*
 * window_read_ok: the counterpart of window_read. CPU1 loads TEST_VA's
 * descriptor only after CPU0 has made it again, so it never sees the
 * transient invalid value. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the break)
 *   CPU0: valid -> B; dsb ish; isb (the make)
 *   CPU1: load the descriptor -> B's descriptor
 *   CPU1, CPU0: read TEST_VA -> B
 */
#include "harness.h"

static void cpu1_load_desc(void)
{
	litmus_phase("load-after-make");
	litmus_check("cpu1 descriptor load after the make",
		     load_desc(test_pte(TEST_VA)), test_page_desc(DATA_PAGE_B));
	cpu1_after_b();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	     /* steps 0, 1 */
	{0, cpu0_break},     /* step 2 */
	{0, cpu0_make_b},    /* step 3 */
	{1, cpu1_load_desc}, /* step 4 */
	{0, cpu0_after_b},   /* step 5 */
};

LITMUS_SCENARIO("window_read_ok", setup_test_va_a, steps);
