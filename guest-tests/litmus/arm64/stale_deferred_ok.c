/* SPDX-License-Identifier: MIT */
/*
 * stale_deferred_ok: CPU0 unmaps TEST_VA and defers the invalidation (as
 * Linux batches TLB flushes); CPU1 reads TEST_VA through its stale
 * translation inside that window. The old page is neither reused nor
 * written elsewhere, and the broadcast invalidation follows, so this is a
 * deferred-flush window: counted as a statistic, not a finding.
 * Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish (no tlbi yet)
 *   CPU1: read TEST_VA -> A (stale)
 *   CPU0: tlbi vae1is; dsb ish; isb
 */
#include "harness.h"

static void cpu1_stale(void)
{
	litmus_phase("deferred-read");
	litmus_read_check("cpu1 stale read", TEST_VA, MARKER_A);
}

static void cpu0_flush(void)
{
	litmus_phase("deferred-flush");
	tlbi_sync(TEST_VA);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	 /* steps 0, 1 */
	{0, cpu0_unmap}, /* step 2 */
	{1, cpu1_stale}, /* step 3 */
	{0, cpu0_flush}, /* step 4 */
};

LITMUS_SCENARIO("stale_deferred_ok", setup_test_va_a, steps);
