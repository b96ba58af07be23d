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

LITMUS_SCENARIO("modify_prot_window", {PTW_K_BBM_WINDOW_READ, 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte(2, "prot-start", TEST_VA, PTE_NONE);
	step_write_pte_invlpg(4, "prot-commit", TEST_VA,
			      pte_page_ro(DATA_PAGE_A));
	step_read(6, "check", TEST_VA, MARKER_A);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_check_pte(3, "window-load", TEST_VA, PTE_NONE);
	step_invlpg(5, NULL, TEST_VA);
	step_read(7, NULL, TEST_VA, MARKER_A);
}
