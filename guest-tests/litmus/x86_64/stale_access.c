/* SPDX-License-Identifier: MIT */
/*
 * stale_access: CPU0 changes a valid translation without invalidating it
 * and then uses the stale TLB entry.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> B without INVLPG, read V = A through the stale
 *                 entry (QEMU's softmmu TLB still holds V -> A)  <- finding
 *   step 3  cpu0  invlpg V, read V = B
 *   step 4  cpu1  invlpg V, read V = B (CPU1 never used V while stale)
 *
 * Expected: exactly one PTW_K_STALE_TLB_ACCESS (CPU0's read in step 2).
 */
#include "harness.h"

LITMUS_SCENARIO("stale_access", {PTW_K_STALE_TLB_ACCESS, 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);

	step_begin(2);
	litmus_phase("stale");
	write_pte(test_pte(TEST_VA), pte_page(DATA_PAGE_B));
	check_read(TEST_VA, MARKER_A); /* the stale translation */
	step_end(2);

	step_invlpg_read(3, "invalidate", TEST_VA, MARKER_B);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_invlpg_read(4, NULL, TEST_VA, MARKER_B);
}
