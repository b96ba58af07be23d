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
 *   step 4  cpu0  the make: V -> B, invlpg V
 *   step 5  cpu1  invlpg V (the shootdown's second half)
 *   step 6  cpu0  read V = B
 *   step 7  cpu1  read V = B
 *
 * Expected: exactly one PTW_K_BBM_WINDOW_READ (CPU1's load in step 3).
 */
#include "harness.h"

const char litmus_name[] = "window_read";

void scenario_expect(void)
{
	ptw_expect(PTW_K_BBM_WINDOW_READ, 1);
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
	ptw_phase("break");
	write_pte(pte, PTE_NONE);
	invlpg(TEST_VA);
	step_end(2);

	step_begin(4);
	ptw_phase("make");
	write_pte(pte, pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	step_end(4);

	step_begin(6);
	ptw_phase("check");
	check_read(TEST_VA, MARKER_B);
	step_end(6);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(TEST_VA, MARKER_A);
	step_end(1);

	step_begin(3);
	ptw_phase("window-load");
	check_pte(test_pte(TEST_VA), PTE_NONE);
	step_end(3);

	step_begin(5);
	invlpg(TEST_VA);
	step_end(5);

	step_begin(7);
	check_read(TEST_VA, MARKER_B);
	step_end(7);
}
