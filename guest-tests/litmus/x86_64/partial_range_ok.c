/* SPDX-License-Identifier: MIT */
/*
 * partial_range_ok: CPU1 clears entries 4..7 of a unit (U = UNIT_VA) only,
 * like MADV_DONTNEED of a sub-range, with no concurrent break: a partial
 * unmap that is the caller's intent, not a race.
 *
 *   step 0  cpu0  map the unit (16 stores, one pass); read U pages 0..15
 *   step 1  cpu1  read U pages 0..15 (fills CPU1's TLB)
 *   step 2  cpu1  entries 4..7 -> not present (4 stores), then the end of
 *                 its pass: invlpg each of pages 4..7 ...
 *   step 3  cpu0  ... and invlpg each of pages 4..7 on CPU0
 *   step 4  cpu0  read U pages 0..3 and 8..15
 *   step 5  cpu1  read U pages 0..3 and 8..15
 *
 * Expected: no findings.
 */
#include "harness.h"

const char litmus_name[] = "partial_range_ok";

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
	for (unsigned int i = 4; i <= 7; i++)
		invlpg(unit_va(i));
	step_end(3);

	step_begin(4);
	ptw_phase("check");
	check_unit(0, 3);
	check_unit(8, UNIT_PAGES - 1);
	step_end(4);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_unit(0, UNIT_PAGES - 1);
	step_end(1);

	step_begin(2);
	ptw_phase("clear-4-7");
	for (unsigned int i = 4; i <= 7; i++)
		write_pte(unit_pte(i), PTE_NONE);
	for (unsigned int i = 4; i <= 7; i++)
		invlpg(unit_va(i));
	step_end(2);

	step_begin(5);
	check_unit(0, 3);
	check_unit(8, UNIT_PAGES - 1);
	step_end(5);
}
