/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_ok: CPU1 loads V's entry twice and nothing changes it in
 * between: the same value twice is the same mapping.
 *
 *   step 0  cpu0  V -> A (V was not present before; X = that entry),
 *                 read V = A
 *   step 1  cpu1  load V's entry = X
 *   step 2  cpu0  read V = A (no page-table change)
 *   step 3  cpu1  load V's entry = X
 *   step 4  cpu1  read V = A
 *
 * Expected: no findings.
 */
#include "harness.h"

const char litmus_name[] = "pte_aba_ok";

void scenario_expect(void)
{
	/* Nothing is expected. */
}

void scenario_cpu0(void)
{
	step_begin(0);
	ptw_phase("fill");
	write_pte(test_pte(TEST_VA), pte_page(DATA_PAGE_A));
	check_read(TEST_VA, MARKER_A);
	step_end(0);

	step_begin(2);
	ptw_phase("no-change");
	check_read(TEST_VA, MARKER_A);
	step_end(2);
}

void scenario_cpu1(void)
{
	volatile uint64_t *pte = test_pte(TEST_VA);

	step_begin(1);
	ptw_phase("load-1");
	check_pte(pte, pte_page(DATA_PAGE_A));
	step_end(1);

	step_begin(3);
	ptw_phase("load-2");
	check_pte(pte, pte_page(DATA_PAGE_A));
	step_end(3);

	step_begin(4);
	check_read(TEST_VA, MARKER_A);
	step_end(4);
}
