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

const char litmus_name[] = "data_mismatch";

void scenario_expect(void)
{
	ptw_expect(PTW_K_DATA_MISMATCH, 1);
}

void scenario_cpu0(void)
{
	volatile uint64_t *pte = test_pte(TEST_VA);

	step_begin(0);
	ptw_phase("fill");
	write_pte(pte, pte_page(DATA_PAGE_E));
	ptw_track((const volatile void *)(uintptr_t)TEST_VA, 4096);
	for (uint64_t i = 0; i < 512; i++)
		write_va(TEST_VA + 8 * i, DATA_PATTERN(i));
	step_end(0);

	step_begin(1);
	ptw_phase("zero-new-page");
	for (uint64_t i = 0; i < 512; i++)
		write_va(DATA_PAGE_F + 8 * i, 0);
	step_end(1);

	step_begin(2);
	ptw_phase("break");
	write_pte(pte, PTE_NONE);
	invlpg(TEST_VA);
	step_end(2);

	step_begin(4);
	ptw_phase("make");
	write_pte(pte, pte_page(DATA_PAGE_F));
	step_end(4);

	step_begin(6);
	ptw_phase("cleanup");
	ptw_untrack((const volatile void *)(uintptr_t)TEST_VA, 4096);
	step_end(6);
}

void scenario_cpu1(void)
{
	step_begin(3);
	invlpg(TEST_VA);
	step_end(3);

	step_begin(5);
	ptw_phase("load");
	check_read(TEST_VA, 0);
	step_end(5);
}
