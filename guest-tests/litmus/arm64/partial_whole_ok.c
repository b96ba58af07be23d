/* SPDX-License-Identifier: MIT */
/*
 * partial_whole_ok: CPU1 swaps out the whole unit in one pass, with no
 * other CPU touching its entries: a complete unit unmap. Expect no finding.
 *
 *   setup: CPU0 maps the unit (16 stores, dsb ish, isb)
 *   CPU0, CPU1: read all 16 pages -> UNIT_MARKER(i)
 *   CPU1: entries 0..15 -> swap entries (16 stores); dsb ish;
 *         tlbi vae1is x16; dsb ish
 *
 * The unit stays swapped out (nothing valid, nothing left to invalidate).
 */
#include "harness.h"

static void cpu1_swap_out(void)
{
	litmus_phase("swap-0-15");
	unit_swap_out(0, UNIT_PAGES - 1);
}

static const struct litmus_step steps[] = {
	STEPS_UNIT_BEFORE,  /* steps 0, 1 */
	{1, cpu1_swap_out}, /* step 2 */
	{0, cpu0_done}, /* step 3: nothing to access, the unit is swapped out */
};

LITMUS_SCENARIO("partial_whole_ok", setup_unit, steps);
