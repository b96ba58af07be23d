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

const char litmus_name[] = "stale_deferred_ok";

void scenario_expect(void)
{
	/* Nothing is expected. */
}

void scenario_cpu0(void)
{
	step_begin(0);
	ptw_phase("fill");
	write_pte(test_pte(QUIET_VA), pte_page(DATA_PAGE_A));
	check_read(QUIET_VA, MARKER_A);
	step_end(0);

	step_begin(2);
	ptw_phase("unmap");
	write_pte(test_pte(QUIET_VA), PTE_NONE);
	step_end(2);

	step_begin(4);
	ptw_phase("shootdown");
	invlpg(QUIET_VA);
	step_end(4);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(QUIET_VA, MARKER_A);
	step_end(1);

	step_begin(3);
	ptw_phase("deferred-read");
	check_read(QUIET_VA, MARKER_A); /* the stale translation */
	step_end(3);

	step_begin(5);
	invlpg(QUIET_VA);
	step_end(5);
}
