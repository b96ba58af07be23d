/* SPDX-License-Identifier: MIT */
/*
 * window_read_ok: window_read with CPU1's load of V's entry moved after
 * the make: it sees the new, present value, never the transient one.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  the break: V's entry -> not present (0), invlpg V
 *   step 3  cpu0  the make: V -> B, invlpg V
 *   step 4  cpu1  load V's entry = V -> B (after the make), then invlpg V
 *                 (the shootdown's second half)
 *   step 5  cpu0  read V = B
 *   step 6  cpu1  read V = B
 *
 * Expected: no findings.
 */
#include "harness.h"

const char litmus_name[] = "window_read_ok";

void scenario_expect(void)
{
	/* Nothing is expected. */
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

	step_begin(3);
	ptw_phase("make");
	write_pte(pte, pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	step_end(3);

	step_begin(5);
	ptw_phase("check");
	check_read(TEST_VA, MARKER_B);
	step_end(5);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(TEST_VA, MARKER_A);
	step_end(1);

	step_begin(4);
	ptw_phase("load-after-make");
	check_pte(test_pte(TEST_VA), pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	step_end(4);

	step_begin(6);
	check_read(TEST_VA, MARKER_B);
	step_end(6);
}
