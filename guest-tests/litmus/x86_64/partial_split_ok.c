/* SPDX-License-Identifier: MIT */
/*
 * partial_split_ok: CPU1 unmaps a unit (U = UNIT_VA) one entry at a time,
 * each entry in its own pass (store, invlpg on CPU1, invlpg on CPU0): every
 * pass is complete before the next begins, so no pass leaves part of a
 * change behind.
 *
 *   step 0         cpu0  map the unit (16 stores, one pass); read U pages
 *                        0..15
 *   step 1         cpu1  read U pages 0..15 (fills CPU1's TLB)
 *   for i = 0..15:
 *   step 2 + 2i    cpu1  entry i -> not present, invlpg page i ...
 *   step 3 + 2i    cpu0  ... invlpg page i on CPU0
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("partial_split_ok");

void scenario_cpu0(void)
{
	step_unit_map(0);
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		step_invlpg(3 + 2 * i, NULL, unit_va(i));
}

void scenario_cpu1(void)
{
	step_check_unit(1, NULL, 0, UNIT_PAGES - 1);
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		step_write_pte_invlpg(2 + 2 * i, i == 0 ? "unmap-1-by-1" : NULL,
				      unit_va(i), PTE_NONE);
}
