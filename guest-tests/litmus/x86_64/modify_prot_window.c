/* SPDX-License-Identifier: MIT */
/*
 * modify_prot_window: a protection change done the Linux x86 way,
 * ptep_modify_prot_start() (clear the entry) then
 * ptep_modify_prot_commit() (write it back read-only), with CPU1 loading
 * the entry in between and seeing the transient not-present value.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  modify_prot_start: V's entry -> not present (0)
 *   step 3  cpu1  load V's entry = 0 (inside the window)  <- finding
 *   step 4  cpu0  modify_prot_commit: V -> A read-only; invlpg V
 *   step 5  cpu1  invlpg V
 *   step 6  cpu0  read V = A
 *   step 7  cpu1  read V = A
 *
 * Expected: exactly one PTW_K_BBM_WINDOW_READ (CPU1's load in step 3).
 */
#include "harness.h"

const char litmus_name[] = "modify_prot_window";

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
	ptw_phase("prot-start");
	write_pte(pte, PTE_NONE);
	step_end(2);

	step_begin(4);
	ptw_phase("prot-commit");
	write_pte(pte, pte_page_ro(DATA_PAGE_A));
	invlpg(TEST_VA);
	step_end(4);

	step_begin(6);
	ptw_phase("check");
	check_read(TEST_VA, MARKER_A);
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
	check_read(TEST_VA, MARKER_A);
	step_end(7);
}
