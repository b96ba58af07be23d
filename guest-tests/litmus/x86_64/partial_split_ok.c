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

const char litmus_name[] = "partial_split_ok";

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

	for (unsigned int i = 0; i < UNIT_PAGES; i++) {
		step_begin(3 + 2 * i);
		invlpg(unit_va(i));
		step_end(3 + 2 * i);
	}
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_unit(0, UNIT_PAGES - 1);
	step_end(1);

	for (unsigned int i = 0; i < UNIT_PAGES; i++) {
		step_begin(2 + 2 * i);
		if (i == 0)
			ptw_phase("unmap-1-by-1");
		write_pte(unit_pte(i), PTE_NONE);
		invlpg(unit_va(i));
		step_end(2 + 2 * i);
	}
}
