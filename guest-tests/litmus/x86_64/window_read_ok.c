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

LITMUS_SCENARIO("window_read_ok");

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(2, "break", TEST_VA, PTE_NONE);
	step_write_pte_invlpg(3, "make", TEST_VA, pte_page(DATA_PAGE_B));
	step_read(5, "check", TEST_VA, MARKER_B);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_check_pte_invlpg(4, "load-after-make", TEST_VA,
			      pte_page(DATA_PAGE_B));
	step_read(6, NULL, TEST_VA, MARKER_B);
}
