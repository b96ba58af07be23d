/* SPDX-License-Identifier: MIT */
/*
 * stale_moved_ok: CPU0 moves page A from V to V2 the way mremap() moves a
 * range (move_ptes(): the old entry cleared, the same page mapped at the
 * new address, the old address's flush after the move), and writes through
 * the new address. CPU1 still loads V through its stale entry before the
 * shootdown: it reaches the same page with the same data (it sees the word
 * CPU0 stored through V2), so this is a deferred-flush window, counted as
 * a statistic: a new mapping of the old page at another VA is a move, not
 * a reuse.
 *
 * V = QUIET_VA, V2 = QUIET_VA2: CPU1's stale entry for V must survive in
 * QEMU's softmmu TLB from step 1 to step 3 (layout.h).
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> not present (0), no invalidation; V2 -> A (V2 was
 *                 not present); store MOVED_VALUE at V2 + 8; read V2 = A
 *   step 3  cpu1  read V + 8 = MOVED_VALUE through the stale entry (the
 *                 same page: a deferred-flush window, a statistic only)
 *   step 4  cpu0  invlpg V (the shootdown, first half); read V2 = A,
 *                 V2 + 8 = MOVED_VALUE
 *   step 5  cpu1  invlpg V (second half); read V2 = A, V2 + 8 = MOVED_VALUE
 *
 * V2 stays mapped (valid, nothing to invalidate). Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("stale_moved_ok");

void scenario_cpu0(void)
{
	step_fill(0, QUIET_VA, DATA_PAGE_A, MARKER_A);
	step_move_a(2, QUIET_VA, QUIET_VA2);

	step_begin(4);
	litmus_phase("shootdown");
	invlpg(QUIET_VA);
	check_read(QUIET_VA2, MARKER_A);
	check_read(QUIET_VA2 + 8, MOVED_VALUE);
	step_end(4);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, QUIET_VA, MARKER_A);
	/* the stale translation */
	step_read(3, "stale-read", QUIET_VA + 8, MOVED_VALUE);

	step_begin(5);
	invlpg(QUIET_VA);
	check_read(QUIET_VA2, MARKER_A);
	check_read(QUIET_VA2 + 8, MOVED_VALUE);
	step_end(5);
}
