/* SPDX-License-Identifier: MIT */
/*
 * data_mismatch: V is tracked; CPU0 stores a pattern through V, then
 * remaps V (break, shootdown, make) to a zeroed page, so a later load of V
 * no longer returns what the address space stored there: the contents
 * were lost in the remap.
 *
 *   step 0  cpu0  V -> E (V was not present before); ptw_track(V, 4096);
 *                 store DATA_PATTERN(i) to word i of V, i = 0..511
 *   step 1  cpu0  zero page F through the identity map
 *   step 2  cpu0  the break: V's entry -> not present (0), invlpg V
 *   step 3  cpu1  invlpg V (shootdown)
 *   step 4  cpu0  the make: V -> F
 *   step 5  cpu1  load word 0 of V = 0 (not DATA_PATTERN(0))  <- finding
 *   step 6  cpu0  ptw_untrack(V, 4096)
 *
 * Expected: exactly one PTW_K_DATA_MISMATCH (CPU1's load, step 5).
 */
#include "harness.h"

LITMUS_SCENARIO("data_mismatch", {PTW_K_DATA_MISMATCH, 1});

void scenario_cpu0(void)
{
	step_track_fill(0);

	step_begin(1);
	litmus_phase("zero-new-page");
	for (uint64_t i = 0; i < 512; i++)
		write_va(DATA_PAGE_F + 8 * i, 0);
	step_end(1);

	step_write_pte_invlpg(2, "break", TEST_VA, PTE_NONE);
	step_write_pte(4, "make", TEST_VA, pte_page(DATA_PAGE_F));
	step_untrack(6);
}

void scenario_cpu1(void)
{
	step_invlpg(3, NULL, TEST_VA);
	step_read(5, "load", TEST_VA, 0);
}
