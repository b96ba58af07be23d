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

const char litmus_name[] = "stale_access";

void scenario_expect(void)
{
	ptw_expect(PTW_K_STALE_TLB_ACCESS, 1);
}

void scenario_cpu0(void)
{
	volatile uint64_t *pte = test_pte(TEST_VA);

	step_begin(0);
	ptw_phase("fill");
	write_pte(pte, pte_page(DATA_PAGE_A));
	check_read(TEST_VA, MARKER_A);
	step_end(0);

	step_begin(2);
	ptw_phase("stale");
	write_pte(pte, pte_page(DATA_PAGE_B));
	check_read(TEST_VA, MARKER_A); /* the stale translation */
	step_end(2);

	step_begin(3);
	ptw_phase("invalidate");
	invlpg(TEST_VA);
	check_read(TEST_VA, MARKER_B);
	step_end(3);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(TEST_VA, MARKER_A);
	step_end(1);

	step_begin(4);
	invlpg(TEST_VA);
	check_read(TEST_VA, MARKER_B);
	step_end(4);
}
