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

LITMUS_SCENARIO("partial_unit_unmap", {PTW_K_PARTIAL_UNIT_UNMAP, 1});

void scenario_cpu0(void)
{
	step_unit_map(0);
	step_unit_clear(2, "break-0-2", 0, 2);
	step_unit_invlpg(4, NULL, 3, UNIT_PAGES - 1);

	step_begin(5);
	litmus_phase("make-0-2");
	for (unsigned int i = 0; i <= 2; i++)
		write_pte(unit_pte(i), unit_desc(i));
	step_end(5);

	step_check_unit(7, "check", 0, 2);
}

void scenario_cpu1(void)
{
	step_check_unit(1, NULL, 0, UNIT_PAGES - 1);
	step_unit_swap_out(3, "swap-3-15", 3, UNIT_PAGES - 1);
	step_unit_invlpg(6, "cleanup", 0, 2);
	step_check_unit(8, NULL, 0, 2);
}
