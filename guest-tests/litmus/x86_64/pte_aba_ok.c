/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_ok: CPU1 loads V's entry twice within one operation (as in
 * pte_aba, so the two loads are a pair) and nothing changes it in between:
 * the same value twice is the same mapping.
 *
 *   step 0  cpu0  V -> A (V was not present before; X = that entry),
 *                 read V = A
 *   step 1  cpu1  ptw_op_begin(); load V's entry = X
 *   step 2  cpu0  read V = A (no page-table change)
 *   step 3  cpu1  load V's entry = X
 *   step 4  cpu1  read V = A
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("pte_aba_ok");

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_read(2, "no-change", TEST_VA, MARKER_A);
}

void scenario_cpu1(void)
{
	step_op_check_pte(1, "load-1", TEST_VA, pte_page(DATA_PAGE_A));
	step_check_pte(3, "load-2", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(4, NULL, TEST_VA, MARKER_A);
}
