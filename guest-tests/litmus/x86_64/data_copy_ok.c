/* SPDX-License-Identifier: MIT */
/*
 * data_copy_ok: data_mismatch, but the new page is a copy of the old one
 * (made through the identity map before the remap), so a load of V after
 * the remap still returns what the address space stored there.
 *
 *   step 0  cpu0  V -> E (V was not present before); ptw_track(V, 4096);
 *                 store DATA_PATTERN(i) to word i of V, i = 0..511
 *   step 1  cpu0  copy page E to page F through the identity map
 *   step 2  cpu0  the break: V's entry -> not present (0), invlpg V
 *   step 3  cpu1  invlpg V (shootdown)
 *   step 4  cpu0  the make: V -> F
 *   step 5  cpu1  load word 0 of V = DATA_PATTERN(0)
 *   step 6  cpu0  ptw_untrack(V, 4096)
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("data_copy_ok");

void scenario_cpu0(void)
{
	step_track_fill(0);

	step_begin(1);
	litmus_phase("copy-to-new-page");
	for (uint64_t i = 0; i < 512; i++)
		write_va(DATA_PAGE_F + 8 * i, read_va(DATA_PAGE_E + 8 * i));
	step_end(1);

	step_write_pte_invlpg(2, "break", TEST_VA, PTE_NONE);
	step_write_pte(4, "make", TEST_VA, pte_page(DATA_PAGE_F));
	step_untrack(6);
}

void scenario_cpu1(void)
{
	step_invlpg(3, NULL, TEST_VA);
	step_read(5, "load", TEST_VA, DATA_PATTERN(0));
}
