/* SPDX-License-Identifier: MIT */
/*
 * window_read_revalidate: as window_read, CPU1 loads V's entry inside
 * CPU0's break and sees it not present; after the make it loads the entry
 * again before going on, as handle_pte_fault() re-checks the PTE under the
 * PTE lock.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  the break: V's entry -> not present (0), invlpg V
 *   step 3  cpu1  load V's entry = 0 (inside the window)
 *   step 4  cpu0  the make: V -> A again (the same page: a walk that
 *                 skipped the entry missed a live mapping), invlpg V
 *   step 5  cpu1  load V's entry again = A (the re-check)
 *   step 6  cpu1  invlpg V (the shootdown's second half)
 *   step 7  cpu0  read V = A
 *   step 8  cpu1  read V = A
 *
 * Expected: exactly one PTW_K_BBM_WINDOW_READ, a note (benign by design).
 */
#include "harness.h"

LITMUS_SCENARIO("window_read_revalidate",
		{PTW_EXPECT_SEV(PTW_K_BBM_WINDOW_READ, PTW_SEV_NOTE), 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(2, "break", TEST_VA, PTE_NONE);
	step_write_pte_invlpg(4, "make", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(7, "check", TEST_VA, MARKER_A);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_check_pte(3, "window-load", TEST_VA, PTE_NONE);
	step_check_pte(5, "recheck", TEST_VA, pte_page(DATA_PAGE_A));
	step_invlpg(6, NULL, TEST_VA);
	step_read(8, NULL, TEST_VA, MARKER_A);
}
