/* SPDX-License-Identifier: MIT */
/*
 * partial_range_ok: CPU1 clears entries 4..7 of the unit only (like
 * MADV_DONTNEED of a sub-range) while no other CPU has any of the unit's
 * entries broken. A deliberate partial unmap, not a race. Expect no
 * finding.
 *
 *   setup: CPU0 maps the unit (16 stores, dsb ish, isb)
 *   CPU0, CPU1: read all 16 pages -> UNIT_MARKER(i)
 *   CPU1: entries 4..7 -> 0 (4 stores); dsb ish; tlbi vae1is x4; dsb ish
 *   CPU0, CPU1: read pages 0..3 and 8..15 (still mapped)
 */
#include "harness.h"

static void cpu1_clear_range(void)
{
	litmus_phase("clear-4-7");
	unit_clear(4, 7);
	isb();
	litmus_phase("after");
	unit_read_check("cpu1 unit after", 0, 3);
	unit_read_check("cpu1 unit after", 8, UNIT_PAGES - 1);
}

static void cpu0_after(void)
{
	unit_read_check("cpu0 unit after", 0, 3);
	unit_read_check("cpu0 unit after", 8, UNIT_PAGES - 1);
}

static const struct litmus_step steps[] = {
	STEPS_UNIT_BEFORE,     /* steps 0, 1 */
	{1, cpu1_clear_range}, /* step 2 */
	{0, cpu0_after},       /* step 3 */
};

LITMUS_SCENARIO("partial_range_ok", setup_unit, steps);
