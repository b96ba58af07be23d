/* SPDX-License-Identifier: MIT */
/*
 * partial_split_ok: CPU1 unmaps the unit one entry at a time, each entry in
 * a pass of its own (store, dsb ish, tlbi vae1is, dsb ish), with no other
 * CPU touching the unit's entries. Expect no finding.
 *
 *   setup: CPU0 maps the unit (16 stores, dsb ish, isb)
 *   CPU0, CPU1: read all 16 pages -> UNIT_MARKER(i)
 *   CPU1: for i = 0..15: entry i -> 0; dsb ish; tlbi vae1is; dsb ish
 *
 * The unit stays unmapped (nothing valid, nothing left to invalidate).
 */
#include "harness.h"

static void cpu1_unmap_each(void)
{
	litmus_phase("unmap-one-by-one");
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		break_va(unit_va(i));
}

static const struct litmus_step steps[] = {
	STEPS_UNIT_BEFORE,    /* steps 0, 1 */
	{1, cpu1_unmap_each}, /* step 2 */
	{0, cpu0_done}, /* step 3: nothing to access, the unit is unmapped */
};

LITMUS_SCENARIO("partial_split_ok", setup_unit, steps);
