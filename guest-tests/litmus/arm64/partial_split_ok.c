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

static void cpu1_unmap_each(void)
{
	ptw_phase("unmap-one-by-one");
	for (unsigned int i = 0; i < UNIT_PAGES; i++) {
		write_desc(unit_pte(i), 0);
		dsb_ish();
		tlbi_vae1is(unit_va(i));
		dsb_ish();
	}
}

static void cpu0_done(void)
{
	/* Nothing to access: the whole unit is unmapped now. */
	ptw_phase("cpu0-done");
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 1, cpu1_unmap_each }, /* step 2 */
	{ 0, cpu0_done }, /* step 3 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "partial_split_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
