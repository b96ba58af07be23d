/* SPDX-License-Identifier: MIT */
/*
 * stale_reused: CPU0 unmaps V but has not invalidated yet (a deferred
 * flush) and meanwhile reuses page A: it maps A at V2 and stores through
 * V2. CPU1's load from V then goes through its stale translation into a
 * page that now belongs to someone else.
 *
 * V = QUIET_VA, V2 = QUIET_VA2: CPU1's stale entry for V must survive in
 * QEMU's softmmu TLB from step 1 to step 3 (layout.h).
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> not present (0), no invalidation; V2 -> A (V2 was
 *                 not present); store REUSE_VALUE at V2 + 8 (word 0, the
 *                 marker, stays)
 *   step 3  cpu1  read V = A through the stale entry  <- finding
 *   step 4  cpu0  clean-up: invlpg V, invlpg V2; read V2 = A,
 *                 V2 + 8 = REUSE_VALUE
 *   step 5  cpu1  clean-up: invlpg V, invlpg V2; read V2 = A
 *
 * Expected: exactly one PTW_K_STALE_TLB_ACCESS (CPU1's read in step 3).
 */
#include "harness.h"

#define REUSE_VALUE 0x5245555345440000 /* "REUSED" */

LITMUS_SCENARIO("stale_reused", {PTW_K_STALE_TLB_ACCESS, 1});

void scenario_cpu0(void)
{
	step_fill(0, QUIET_VA, DATA_PAGE_A, MARKER_A);

	step_begin(2);
	litmus_phase("unmap");
	write_pte(test_pte(QUIET_VA), PTE_NONE);
	/* No invalidation yet: page A is reused right away. */
	litmus_phase("reuse-at-v2");
	write_pte(test_pte(QUIET_VA2), pte_page(DATA_PAGE_A));
	write_va(QUIET_VA2 + 8, REUSE_VALUE);
	step_end(2);

	step_begin(4);
	litmus_phase("cleanup");
	invlpg(QUIET_VA);
	invlpg(QUIET_VA2);
	check_read(QUIET_VA2, MARKER_A);
	check_read(QUIET_VA2 + 8, REUSE_VALUE);
	step_end(4);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, QUIET_VA, MARKER_A);
	/* the stale translation */
	step_read(3, "stale-read", QUIET_VA, MARKER_A);

	step_begin(5);
	invlpg(QUIET_VA);
	invlpg(QUIET_VA2);
	check_read(QUIET_VA2, MARKER_A);
	step_end(5);
}
