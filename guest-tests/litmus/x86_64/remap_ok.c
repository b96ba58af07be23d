/* SPDX-License-Identifier: MIT */
/*
 * remap_ok: a valid-to-valid change followed at once by INVLPG on the only
 * CPU that ever used the translation. x86 has no break-before-make rule, so
 * this is correct.
 *
 *   step 0  cpu0  V -> A, V2 -> C (neither was present), read V = A
 *   step 1  cpu1  read V2 = C (CPU1 never touches V)
 *   step 2  cpu0  V -> B, invlpg V, read V = B
 *   step 3  cpu1  read V2 = C
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("remap_ok");

void scenario_cpu0(void)
{
	volatile uint64_t *pte = test_pte(TEST_VA);

	step_begin(0);
	litmus_phase("fill");
	write_pte(pte, pte_page(DATA_PAGE_A));
	write_pte(test_pte(TEST_VA2), pte_page(DATA_PAGE_C));
	check_read(TEST_VA, MARKER_A);
	step_end(0);

	step_begin(2);
	litmus_phase("remap");
	write_pte(pte, pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	check_read(TEST_VA, MARKER_B);
	step_end(2);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA2, MARKER_C);
	step_read(3, NULL, TEST_VA2, MARKER_C);
}
