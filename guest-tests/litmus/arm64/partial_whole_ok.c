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

static void cpu1_swap_out(void)
{
	ptw_phase("swap-0-15");
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_desc(unit_pte(i), swap_desc(i));
	dsb_ish();
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		tlbi_vae1is(unit_va(i));
	dsb_ish();
}

static void cpu0_done(void)
{
	/* Nothing to access: the whole unit is swapped out now. */
	ptw_phase("cpu0-done");
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 1, cpu1_swap_out }, /* step 2 */
	{ 0, cpu0_done }, /* step 3 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "partial_whole_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
