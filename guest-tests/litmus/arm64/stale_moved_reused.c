/* SPDX-License-Identifier: MIT */
/*
 * stale_moved_reused: stale_moved_ok's move, then the page goes away: CPU0
 * also unmaps TEST_VA2 (with its invalidation), so page A has lost its last
 * mapping, and then writes to A through another address, the identity map
 * (VA == PA, an EL1-only 2 MiB block the boot made): the page is reused.
 * CPU1's stale translation of TEST_VA, whose flush is still to come, now
 * reaches a page that belongs to someone else. Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: TEST_VA invalid; dsb ish (no tlbi yet); TEST_VA2 invalid -> A;
 *         dsb ish; isb; store MOVED_VALUE at TEST_VA2 + 8; read TEST_VA2
 *         -> A's marker
 *   CPU0: TEST_VA2 invalid; dsb ish; tlbi vae1is TEST_VA2; dsb ish; isb
 *         (TEST_VA's flush still to come): A has no mapping left
 *   CPU0: store REUSE_VALUE at DATA_PAGE_A + 8 through the identity map
 *   CPU1: read TEST_VA + 8 -> REUSE_VALUE (stale)   <- finding
 *   CPU0: clean-up: tlbi vae1is TEST_VA; dsb ish; isb; read DATA_PAGE_A
 *         -> A's marker, DATA_PAGE_A + 8 -> REUSE_VALUE (identity map)
 */
#include "harness.h"

static void cpu0_unmap_v2(void)
{
	litmus_phase("unmap-v2");
	break_va(TEST_VA2);
	isb();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,			/* steps 0, 1 */
	{0, cpu0_move_to_va2},		/* step 2 */
	{0, cpu0_unmap_v2},		/* step 3 */
	{0, cpu0_reuse_a},		/* step 4 */
	{1, cpu1_stale_read_reused},	/* step 5 */
	{0, cpu0_cleanup_check_reused}, /* step 6 */
};

LITMUS_SCENARIO("stale_moved_reused", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
