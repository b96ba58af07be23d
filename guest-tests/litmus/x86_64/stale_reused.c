/* SPDX-License-Identifier: MIT */
/*
 * stale_reused: CPU0 unmaps V but has not invalidated yet (a deferred
 * flush), and meanwhile page A is reused: with no mapping of A left, CPU0
 * writes to it through another address, the identity map (VA == PA, a
 * 2 MiB supervisor page boot.S made), as an allocator that got the page
 * back would. CPU1's load from V then goes through its stale translation
 * into a page that now belongs to someone else (a use after free: it reads
 * the new owner's data).
 *
 * (Mapping A at another VA instead is a move, as mremap() does it, not a
 * reuse: stale_moved_ok, stale_moved_reused.)
 *
 * V = QUIET_VA: CPU1's stale entry for V must survive in QEMU's softmmu
 * TLB from step 1 to step 4 (layout.h).
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> not present (0), no invalidation: A has no mapping
 *                 left
 *   step 3  cpu0  store REUSE_VALUE at DATA_PAGE_A + 8 through the
 *                 identity map
 *   step 4  cpu1  read V + 8 = REUSE_VALUE through the stale entry
 *                 <- finding
 *   step 5  cpu0  clean-up: invlpg V; read DATA_PAGE_A = A,
 *                 DATA_PAGE_A + 8 = REUSE_VALUE (identity map)
 *   step 6  cpu1  clean-up: invlpg V
 *
 * Expected: exactly one PTW_K_STALE_TLB_ACCESS (CPU1's read in step 4).
 */
#include "harness.h"

LITMUS_SCENARIO("stale_reused", {PTW_K_STALE_TLB_ACCESS, 1});

void scenario_cpu0(void)
{
	step_fill(0, QUIET_VA, DATA_PAGE_A, MARKER_A);

	/* No invalidation yet: page A is reused right away. */
	step_write_pte(2, "unmap", QUIET_VA, PTE_NONE);
	step_reuse_a(3);

	step_begin(5);
	litmus_phase("cleanup");
	invlpg(QUIET_VA);
	check_read(DATA_PAGE_A, MARKER_A);
	check_read(DATA_PAGE_A + 8, REUSE_VALUE);
	step_end(5);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, QUIET_VA, MARKER_A);
	/* the stale translation */
	step_read(4, "stale-read", QUIET_VA + 8, REUSE_VALUE);
	step_invlpg(6, NULL, QUIET_VA);
}
