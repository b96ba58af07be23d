/* SPDX-License-Identifier: MIT */
/*
 * stale_reused: CPU0 unmaps TEST_VA but has not invalidated yet (a deferred
 * flush), and meanwhile reuses page A: it maps A at TEST_VA2 and stores
 * through TEST_VA2. CPU1's load from TEST_VA then goes through its stale
 * translation into a page that now belongs to someone else.
 * Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: TEST_VA invalid; dsb ish (no tlbi yet)
 *   CPU0: TEST_VA2 invalid -> A; dsb ish; isb; store REUSE_VALUE at
 *         TEST_VA2 + 8 (word 0, the marker, stays)
 *   CPU1: read TEST_VA -> A's marker (stale)
 *   CPU0: clean-up: tlbi vae1is TEST_VA; dsb ish; isb; read TEST_VA2 ->
 *         A's marker, TEST_VA2 + 8 -> REUSE_VALUE
 *
 * TEST_VA2 stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

#define REUSE_VALUE 0x5245555345440000ULL /* "REUSED" */

static void cpu0_unmap_reuse(void)
{
	cpu0_unmap();
	/* No TLB invalidation yet: page A is reused right away. */
	litmus_phase("reuse-at-v2");
	make_va(TEST_VA2, test_page_desc(DATA_PAGE_A));
	write_va(TEST_VA2 + 8, REUSE_VALUE);
}

static void cpu0_cleanup_read_v2(void)
{
	cpu0_cleanup();
	litmus_read_check("cpu0 read v2", TEST_VA2, MARKER_A);
	litmus_read_check("cpu0 read v2+8", TEST_VA2 + 8, REUSE_VALUE);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,		   /* steps 0, 1 */
	{0, cpu0_unmap_reuse},	   /* step 2 */
	{1, cpu1_stale_read_a},	   /* step 3 */
	{0, cpu0_cleanup_read_v2}, /* step 4 */
};

LITMUS_SCENARIO("stale_reused", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
