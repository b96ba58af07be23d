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

const char litmus_name[] = "pte_aba";

void scenario_expect(void)
{
	ptw_expect(PTW_K_PTE_ABA, 1);
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
	ptw_phase("change-to-b");
	write_pte(pte, pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	step_end(2);

	step_begin(4);
	ptw_phase("change-back");
	write_pte(pte, pte_page(DATA_PAGE_A));
	invlpg(TEST_VA);
	step_end(4);

	step_begin(7);
	ptw_phase("check");
	check_read(TEST_VA, MARKER_A);
	step_end(7);
}

void scenario_cpu1(void)
{
	volatile uint64_t *pte = test_pte(TEST_VA);

	step_begin(1);
	ptw_phase("load-1");
	check_pte(pte, pte_page(DATA_PAGE_A));
	step_end(1);

	step_begin(3);
	invlpg(TEST_VA);
	step_end(3);

	step_begin(5);
	invlpg(TEST_VA);
	step_end(5);

	step_begin(6);
	ptw_phase("load-2");
	check_pte(pte, pte_page(DATA_PAGE_A));
	step_end(6);

	step_begin(8);
	check_read(TEST_VA, MARKER_A);
	step_end(8);
}
