/* SPDX-License-Identifier: MIT */
/*
 * modify_prot_ok: modify_prot_window with CPU1's load of V's entry moved
 * after the commit: it sees the new read-only entry, never the transient
 * not-present one.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  modify_prot_start: V's entry -> not present (0)
 *   step 3  cpu0  modify_prot_commit: V -> A read-only; invlpg V
 *   step 4  cpu1  load V's entry = A read-only (after the commit), then
 *                 invlpg V
 *   step 5  cpu0  read V = A
 *   step 6  cpu1  read V = A
 *
 * Expected: no findings.
 */
#include "harness.h"

const char litmus_name[] = "modify_prot_ok";

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
	ptw_phase("prot-start");
	write_pte(pte, PTE_NONE);
	step_end(2);

	step_begin(3);
	ptw_phase("prot-commit");
	write_pte(pte, pte_page_ro(DATA_PAGE_A));
	invlpg(TEST_VA);
	step_end(3);

	step_begin(5);
	ptw_phase("check");
	check_read(TEST_VA, MARKER_A);
	step_end(5);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(TEST_VA, MARKER_A);
	step_end(1);

	step_begin(4);
	ptw_phase("load-after-commit");
	check_pte(test_pte(TEST_VA), pte_page_ro(DATA_PAGE_A));
	invlpg(TEST_VA);
	step_end(4);

	step_begin(6);
	check_read(TEST_VA, MARKER_A);
	step_end(6);
}
