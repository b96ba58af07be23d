/* SPDX-License-Identifier: MIT */
/*
 * stale_reused: CPU0 unmaps TEST_VA but has not invalidated yet (a deferred
 * flush), and meanwhile page A is reused: with no mapping of A left, CPU0
 * writes to it through another address, the identity map (VA == PA, an
 * EL1-only 2 MiB block the boot made), as an allocator that got the page
 * back would. CPU1's load from TEST_VA then goes through its stale
 * translation into a page that now belongs to someone else (a use after
 * free: it reads the new owner's data). Expect one STALE_TLB_ACCESS.
 *
 * (Mapping A at another VA instead is a move, as mremap() does it, not a
 * reuse: stale_moved_ok, stale_moved_reused.)
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: TEST_VA invalid; dsb ish (no tlbi yet): A has no mapping left
 *   CPU0: store REUSE_VALUE at DATA_PAGE_A + 8 through the identity map
 *   CPU1: read TEST_VA + 8 -> REUSE_VALUE (stale)   <- finding
 *   CPU0: clean-up: tlbi vae1is TEST_VA; dsb ish; isb; read DATA_PAGE_A
 *         -> A's marker, DATA_PAGE_A + 8 -> REUSE_VALUE (identity map)
 */
#include "harness.h"

static void cpu0_unmap_reuse(void)
{
	cpu0_unmap();
	/* No TLB invalidation yet: page A is reused right away. */
	cpu0_reuse_a();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,			/* steps 0, 1 */
	{0, cpu0_unmap_reuse},		/* step 2 */
	{1, cpu1_stale_read_reused},	/* step 3 */
	{0, cpu0_cleanup_check_reused}, /* step 4 */
};

LITMUS_SCENARIO("stale_reused", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
