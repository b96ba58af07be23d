/* SPDX-License-Identifier: MIT */
/*
 * partial_unit_unmap: a unit (16 contiguous pages, one 64 KiB-aligned run
 * of entries) is being changed by two CPUs at once. CPU0 has broken
 * entries 0..2 (and will make them again) when CPU1 runs a pass that turns
 * entries 3..15 into swap entries: CPU1 unmaps what it takes for the whole
 * unit while part of it is in CPU0's hands, so the unit ends up partly
 * mapped and partly swapped. Expect one PARTIAL_UNIT_UNMAP.
 *
 *   setup: CPU0 maps the unit (16 stores, dsb ish, isb)
 *   CPU0, CPU1: read all 16 pages -> UNIT_MARKER(i)
 *   CPU0: entries 0..2 invalid (3 stores); dsb ish; tlbi vae1is x3;
 *         dsb ish
 *   CPU1: entries 3..15 -> swap entries (13 stores); dsb ish;
 *         tlbi vae1is x13; dsb ish
 *   CPU0: entries 0..2 -> their original descriptors; dsb ish; isb;
 *         read pages 0..2
 *   CPU1: read pages 0..2
 */
#include "harness.h"

static void cpu0_break_0_2(void)
{
	litmus_phase("break-0-2");
	unit_clear(0, 2);
}

static void cpu1_swap_out(void)
{
	litmus_phase("swap-3-15");
	unit_swap_out(3, UNIT_PAGES - 1);
}

static void cpu0_make_0_2(void)
{
	litmus_phase("make-0-2");
	for (unsigned int i = 0; i <= 2; i++)
		write_desc(unit_pte(i), unit_page_desc(i));
	dsb_ish();
	isb();
	litmus_phase("after");
	unit_read_check("cpu0 unit after", 0, 2);
}

static void cpu1_after(void)
{
	unit_read_check("cpu1 unit after", 0, 2);
}

static const struct litmus_step steps[] = {
	STEPS_UNIT_BEFORE,   /* steps 0, 1 */
	{0, cpu0_break_0_2}, /* step 2 */
	{1, cpu1_swap_out},  /* step 3 */
	{0, cpu0_make_0_2},  /* step 4 */
	{1, cpu1_after},     /* step 5 */
};

LITMUS_SCENARIO("partial_unit_unmap", setup_unit, steps,
		{PTW_K_PARTIAL_UNIT_UNMAP, 1});
