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

LITMUS_SCENARIO("modify_prot_ok");

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte(2, "prot-start", TEST_VA, PTE_NONE);
	step_write_pte_invlpg(3, "prot-commit", TEST_VA,
			      pte_page_ro(DATA_PAGE_A));
	step_read(5, "check", TEST_VA, MARKER_A);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_check_pte_invlpg(4, "load-after-commit", TEST_VA,
			      pte_page_ro(DATA_PAGE_A));
	step_read(6, NULL, TEST_VA, MARKER_A);
}
