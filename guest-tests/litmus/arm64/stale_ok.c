/* SPDX-License-Identifier: MIT */
/*
 * stale_ok: the counterpart of stale_access. TEST_VA is taken down and
 * remapped to page B with a full break-before-make sequence, so neither CPU
 * can use the old translation. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish; valid -> B; dsb ish; isb
 *   CPU1, CPU0: read TEST_VA -> B (CPU1 first: it relies on the broadcast
 *               invalidation alone)
 */
#include "harness.h"

static void cpu0_remap(void)
{
	litmus_phase("unmap");
	break_va(TEST_VA);
	litmus_phase("remap");
	make_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_phase("after");
}

static void cpu0_after(void)
{
	litmus_read_check("cpu0 after", TEST_VA, MARKER_B);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_remap},   /* step 2 */
	{1, cpu1_after_b}, /* step 3 */
	{0, cpu0_after},   /* step 4 */
};

LITMUS_SCENARIO("stale_ok", setup_test_va_a, steps);
