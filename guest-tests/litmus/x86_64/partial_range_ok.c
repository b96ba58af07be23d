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

LITMUS_SCENARIO("partial_range_ok");

/* Unit pages 0..3 and 8..15: what is still mapped. */
static void check_rest(void)
{
	check_unit(0, 3);
	check_unit(8, UNIT_PAGES - 1);
}

void scenario_cpu0(void)
{
	step_unit_map(0);
	step_unit_invlpg(3, NULL, 4, 7);

	step_begin(4);
	litmus_phase("check");
	check_rest();
	step_end(4);
}

void scenario_cpu1(void)
{
	step_check_unit(1, NULL, 0, UNIT_PAGES - 1);
	step_unit_clear(2, "clear-4-7", 4, 7);

	step_begin(5);
	check_rest();
	step_end(5);
}
