/* SPDX-License-Identifier: MIT */
/*
 * partial_unit_unmap: a unit (16 contiguous pages, one 64 KiB-aligned run
 * of 16 entries, U = UNIT_VA) is changed by two CPUs at once. CPU0 has
 * broken entries 0..2 (and will make them again) when CPU1 runs a pass that
 * turns entries 3..15 into swap entries: CPU1 unmaps what it takes for the
 * whole unit while part of it is in CPU0's hands, so the unit ends up
 * partly mapped and partly swapped out.
 *
 *   step 0  cpu0  map the unit (16 stores, one pass); read U pages 0..15
 *   step 1  cpu1  read U pages 0..15 (fills CPU1's TLB)
 *   step 2  cpu0  entries 0..2 -> not present (3 stores), invlpg each
 *   step 3  cpu1  entries 3..15 -> swap entries (13 stores), then the end
 *                 of its pass: invlpg each of pages 3..15 ...
 *   step 4  cpu0  ... and invlpg each of pages 3..15 on CPU0
 *   step 5  cpu0  entries 0..2 -> their original entries again (3 stores)
 *   step 6  cpu1  clean-up: invlpg pages 0..2 (CPU1 still cached them)
 *   step 7  cpu0  read U pages 0..2
 *   step 8  cpu1  read U pages 0..2
 *
 * Expected: exactly one PTW_K_PARTIAL_UNIT_UNMAP.
 */
#include "harness.h"

const char litmus_name[] = "partial_unit_unmap";

void scenario_expect(void)
{
	ptw_expect(PTW_K_PARTIAL_UNIT_UNMAP, 1);
}

void scenario_cpu0(void)
{
	step_begin(0);
	ptw_phase("map-unit");
	unit_map();
	check_unit(0, UNIT_PAGES - 1);
	step_end(0);

	step_begin(2);
	ptw_phase("break-0-2");
	for (unsigned int i = 0; i <= 2; i++)
		write_pte(unit_pte(i), PTE_NONE);
	for (unsigned int i = 0; i <= 2; i++)
		invlpg(unit_va(i));
	step_end(2);

	step_begin(4);
	for (unsigned int i = 3; i < UNIT_PAGES; i++)
		invlpg(unit_va(i));
	step_end(4);

	step_begin(5);
	ptw_phase("make-0-2");
	for (unsigned int i = 0; i <= 2; i++)
		write_pte(unit_pte(i), unit_desc(i));
	step_end(5);

	step_begin(7);
	ptw_phase("check");
	check_unit(0, 2);
	step_end(7);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_unit(0, UNIT_PAGES - 1);
	step_end(1);

	step_begin(3);
	ptw_phase("swap-3-15");
	for (unsigned int i = 3; i < UNIT_PAGES; i++)
		write_pte(unit_pte(i), swap_desc(i));
	for (unsigned int i = 3; i < UNIT_PAGES; i++)
		invlpg(unit_va(i));
	step_end(3);

	step_begin(6);
	ptw_phase("cleanup");
	for (unsigned int i = 0; i <= 2; i++)
		invlpg(unit_va(i));
	step_end(6);

	step_begin(8);
	check_unit(0, 2);
	step_end(8);
}
