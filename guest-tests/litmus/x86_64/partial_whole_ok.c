/* SPDX-License-Identifier: MIT */
/*
 * partial_whole_ok: CPU1 swaps out a whole unit (U = UNIT_VA) in one pass,
 * nobody else touching it: all 16 entries become swap entries together.
 *
 *   step 0  cpu0  map the unit (16 stores, one pass); read U pages 0..15
 *   step 1  cpu1  read U pages 0..15 (fills CPU1's TLB)
 *   step 2  cpu1  entries 0..15 -> swap entries (16 stores), then the end
 *                 of its pass: invlpg each of pages 0..15 ...
 *   step 3  cpu0  ... and invlpg each of pages 0..15 on CPU0
 *
 * Expected: no findings.
 */
#include "harness.h"

const char litmus_name[] = "partial_whole_ok";

void scenario_expect(void)
{
	/* Nothing is expected. */
}

void scenario_cpu0(void)
{
	step_begin(0);
	ptw_phase("map-unit");
	unit_map();
	check_unit(0, UNIT_PAGES - 1);
	step_end(0);

	step_begin(3);
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		invlpg(unit_va(i));
	step_end(3);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_unit(0, UNIT_PAGES - 1);
	step_end(1);

	step_begin(2);
	ptw_phase("swap-0-15");
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_pte(unit_pte(i), swap_desc(i));
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		invlpg(unit_va(i));
	step_end(2);
}
