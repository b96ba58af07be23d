/* SPDX-License-Identifier: MIT */
/*
 * pte_aba: CPU1 loads V's entry (value X), CPU0 changes V to another page
 * and back to X, each change with its shootdown, and CPU1 loads the entry
 * again: it sees X twice and cannot tell that the mapping changed in
 * between (an ABA on the entry).
 *
 *   step 0  cpu0  V -> A (V was not present before; X = that entry),
 *                 read V = A
 *   step 1  cpu1  load V's entry = X
 *   step 2  cpu0  V -> B, invlpg V
 *   step 3  cpu1  invlpg V (shootdown)
 *   step 4  cpu0  V -> X again, invlpg V
 *   step 5  cpu1  invlpg V (shootdown)
 *   step 6  cpu1  load V's entry = X  <- finding
 *   step 7  cpu0  read V = A
 *   step 8  cpu1  read V = A
 *
 * Expected: exactly one PTW_K_PTE_ABA (CPU1's second load, step 6).
 */
#include "harness.h"

LITMUS_SCENARIO("pte_aba", {PTW_K_PTE_ABA, 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(2, "change-to-b", TEST_VA, pte_page(DATA_PAGE_B));
	step_write_pte_invlpg(4, "change-back", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(7, "check", TEST_VA, MARKER_A);
}

void scenario_cpu1(void)
{
	step_check_pte(1, "load-1", TEST_VA, pte_page(DATA_PAGE_A));
	step_invlpg(3, NULL, TEST_VA);
	step_invlpg(5, NULL, TEST_VA);
	step_check_pte(6, "load-2", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(8, NULL, TEST_VA, MARKER_A);
}
