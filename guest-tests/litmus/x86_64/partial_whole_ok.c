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

LITMUS_SCENARIO("partial_whole_ok");

void scenario_cpu0(void)
{
	step_unit_map(0);
	step_unit_invlpg(3, NULL, 0, UNIT_PAGES - 1);
}

void scenario_cpu1(void)
{
	step_check_unit(1, NULL, 0, UNIT_PAGES - 1);
	step_unit_swap_out(2, "swap-0-15", 0, UNIT_PAGES - 1);
}
