/* SPDX-License-Identifier: MIT */
/*
 * contig_missing_bit: CPU0 maps the unit as one contiguous group (PTE_CONT,
 * bit 52, on 16 aligned entries mapping 16 contiguous pages), but the group
 * is misprogrammed: entry 5 lacks PTE_CONT while the other 15 have it.
 * Expect one CONTIG_MISPROGRAMMED.
 *
 *   CPU0: 16 invalid -> valid stores, entries 0..15 with PTE_CONT except
 *         that entry 5 lacks PTE_CONT; dsb ish; isb
 *   CPU1: acknowledges (no access: a misprogrammed group is CONSTRAINED
 *         UNPREDICTABLE on hardware; QEMU ignores the contiguous hint)
 *
 * The group stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

/* The misprogrammed entry of the group. */
#define BAD_INDEX 5

static void cpu0_map_group(void)
{
	ptw_phase("contig-map");
	for (unsigned int i = 0; i < UNIT_PAGES; i++) {
		uint64_t d = unit_page_desc(i) | PTE_CONT;

		if (i == BAD_INDEX)
			d = unit_page_desc(i);
		write_desc(unit_pte(i), d);
	}
	dsb_ish();
	isb();
}

static void cpu1_done(void)
{
	ptw_phase("cpu1-done");
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_map_group }, /* step 0 */
	{ 1, cpu1_done }, /* step 1 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_CONTIG_MISPROGRAMMED, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "contig_missing_bit",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	/* no setup: mapping the group is the step under test */
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
