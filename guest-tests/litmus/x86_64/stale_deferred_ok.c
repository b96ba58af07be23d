/* SPDX-License-Identifier: MIT */
/*
 * stale_deferred_ok: CPU0 unmaps V and defers the flush; CPU1 still reads
 * V through its stale entry before the shootdown. Nothing reused the page,
 * so this is a deferred-flush window (Linux's batched unmap): counted as a
 * statistic, not reported.
 *
 * V = QUIET_VA: CPU1's stale entry must survive in QEMU's softmmu TLB from
 * step 1 to step 3 (layout.h).
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> not present (0), no invalidation
 *   step 3  cpu1  read V = A through the stale entry (deferred-flush
 *                 window: a statistic only)
 *   step 4  cpu0  invlpg V (the shootdown, first half)
 *   step 5  cpu1  invlpg V (second half)
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("stale_deferred_ok");

void scenario_cpu0(void)
{
	step_fill(0, QUIET_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte(2, "unmap", QUIET_VA, PTE_NONE);
	step_invlpg(4, "shootdown", QUIET_VA);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, QUIET_VA, MARKER_A);
	/* the stale translation */
	step_read(3, "deferred-read", QUIET_VA, MARKER_A);
	step_invlpg(5, NULL, QUIET_VA);
}
