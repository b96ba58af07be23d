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

static void setup(void)
{
	unit_map(0);
}

static void cpu0_before(void)
{
	ptw_phase("before");
	unit_read_check("cpu0 unit before", 0, UNIT_PAGES - 1);
}

static void cpu1_before(void)
{
	unit_read_check("cpu1 unit before", 0, UNIT_PAGES - 1);
}

static void cpu0_break(void)
{
	ptw_phase("break-0-2");
	for (unsigned int i = 0; i <= 2; i++)
		write_desc(unit_pte(i), 0);
	dsb_ish();
	for (unsigned int i = 0; i <= 2; i++)
		tlbi_vae1is(unit_va(i));
	dsb_ish();
}

static void cpu1_swap_out(void)
{
	ptw_phase("swap-3-15");
	for (unsigned int i = 3; i < UNIT_PAGES; i++)
		write_desc(unit_pte(i), swap_desc(i));
	dsb_ish();
	for (unsigned int i = 3; i < UNIT_PAGES; i++)
		tlbi_vae1is(unit_va(i));
	dsb_ish();
}

static void cpu0_make(void)
{
	ptw_phase("make-0-2");
	for (unsigned int i = 0; i <= 2; i++)
		write_desc(unit_pte(i), unit_page_desc(i));
	dsb_ish();
	isb();
	ptw_phase("after");
	unit_read_check("cpu0 unit after", 0, 2);
}

static void cpu1_after(void)
{
	unit_read_check("cpu1 unit after", 0, 2);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_break }, /* step 2 */
	{ 1, cpu1_swap_out }, /* step 3 */
	{ 0, cpu0_make }, /* step 4 */
	{ 1, cpu1_after }, /* step 5 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_PARTIAL_UNIT_UNMAP, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "partial_unit_unmap",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
