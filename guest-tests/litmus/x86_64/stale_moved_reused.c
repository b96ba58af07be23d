/* SPDX-License-Identifier: MIT */
/*
 * stale_moved_reused: stale_moved_ok's move, then the page goes away: CPU0
 * also unmaps V2 (INVLPG on CPU0, the only CPU that used V2), so page A
 * has lost its last mapping, and then writes to A through another address,
 * the identity map (VA == PA, a 2 MiB supervisor page boot.S made): the
 * page is reused. CPU1's stale entry for V, whose shootdown is still to
 * come, now reaches a page that belongs to someone else.
 *
 * V = QUIET_VA, V2 = QUIET_VA2: CPU1's stale entry for V must survive in
 * QEMU's softmmu TLB from step 1 to step 5 (layout.h).
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> not present (0), no invalidation; V2 -> A (V2 was
 *                 not present); store MOVED_VALUE at V2 + 8; read V2 = A
 *   step 3  cpu0  V2 -> not present (0), invlpg V2 (V's shootdown still
 *                 to come): A has no mapping left
 *   step 4  cpu0  store REUSE_VALUE at DATA_PAGE_A + 8 through the
 *                 identity map
 *   step 5  cpu1  read V + 8 = REUSE_VALUE through the stale entry
 *                 <- finding
 *   step 6  cpu0  clean-up: invlpg V; read DATA_PAGE_A = A,
 *                 DATA_PAGE_A + 8 = REUSE_VALUE (identity map)
 *   step 7  cpu1  clean-up: invlpg V, invlpg V2
 *
 * Expected: exactly one PTW_K_STALE_TLB_ACCESS (CPU1's read in step 5).
 */
#include "harness.h"

LITMUS_SCENARIO("stale_moved_reused", {PTW_K_STALE_TLB_ACCESS, 1});

void scenario_cpu0(void)
{
	step_fill(0, QUIET_VA, DATA_PAGE_A, MARKER_A);
	step_move_a(2, QUIET_VA, QUIET_VA2);
	step_write_pte_invlpg(3, "unmap-v2", QUIET_VA2, PTE_NONE);
	step_reuse_a(4);

	step_begin(6);
	litmus_phase("cleanup");
	invlpg(QUIET_VA);
	check_read(DATA_PAGE_A, MARKER_A);
	check_read(DATA_PAGE_A + 8, REUSE_VALUE);
	step_end(6);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, QUIET_VA, MARKER_A);
	/* the stale translation */
	step_read(5, "stale-read", QUIET_VA + 8, REUSE_VALUE);

	step_begin(7);
	invlpg(QUIET_VA);
	invlpg(QUIET_VA2);
	step_end(7);
}
