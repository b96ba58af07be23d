/* SPDX-License-Identifier: MIT */
/*
 * window_read: while V's entry is broken (not present, invalidated on the
 * changing CPU, not yet made again), CPU1 loads the entry itself with a
 * plain 64-bit load through the identity map, as a lockless page-table
 * walker would, and sees the transient not-present value.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  the break: V's entry -> not present (0), invlpg V
 *   step 3  cpu1  load V's entry = 0 (inside the window)  <- finding
 *   step 4  cpu0  the make: V -> A again (the same page: a walk that
 *                 skipped the entry missed a live mapping), invlpg V
 *   step 5  cpu1  invlpg V (the shootdown's second half)
 *   step 6  cpu0  read V = A
 *   step 7  cpu1  read V = A
 *
 * Expected: exactly one PTW_K_BBM_WINDOW_READ (CPU1's load in step 3), an
 * error: CPU1 never loads the entry again, it acted on the transient value.
 */
#include "harness.h"

LITMUS_SCENARIO("window_read",
		{PTW_EXPECT_SEV(PTW_K_BBM_WINDOW_READ, PTW_SEV_ERROR), 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(2, "break", TEST_VA, PTE_NONE);
	step_write_pte_invlpg(4, "make", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(6, "check", TEST_VA, MARKER_A);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_check_pte(3, "window-load", TEST_VA, PTE_NONE);
	step_invlpg(5, NULL, TEST_VA);
	step_read(7, NULL, TEST_VA, MARKER_A);
}
