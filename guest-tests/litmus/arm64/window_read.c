/* SPDX-License-Identifier: MIT */
/*
 * window_read: while TEST_VA's entry is broken (invalid, invalidated, not
 * yet made again), CPU1 loads the descriptor itself with a plain load
 * through the identity map, as a lockless page-table walker would, and
 * sees the transient invalid value. Expect one BBM_WINDOW_READ.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the break)
 *   CPU1: load the descriptor -> 0 (inside the window)
 *   CPU0: valid -> B; dsb ish; isb (the make)
 *   CPU0, CPU1: read TEST_VA -> B
 */
#include "harness.h"

static void setup(void)
{
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_A));
	dsb_ish();
	isb();
}

static void cpu0_before(void)
{
	ptw_phase("before");
	litmus_read_check("cpu0 before remap", TEST_VA, MARKER_A);
}

static void cpu1_before(void)
{
	litmus_read_check("cpu1 before remap", TEST_VA, MARKER_A);
}

static void cpu0_break(void)
{
	ptw_phase("break");
	write_desc(test_pte(TEST_VA), 0);
	dsb_ish();
	tlbi_vae1is(TEST_VA);
	dsb_ish();
}

static void cpu1_load_desc(void)
{
	ptw_phase("window-load");
	litmus_check("cpu1 descriptor load in the window",
		     load_desc(test_pte(TEST_VA)), 0);
}

static void cpu0_make(void)
{
	ptw_phase("make");
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_B));
	dsb_ish();
	isb();
	ptw_phase("after");
	litmus_read_check("cpu0 after remap", TEST_VA, MARKER_B);
}

static void cpu1_after(void)
{
	litmus_read_check("cpu1 after remap", TEST_VA, MARKER_B);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_break }, /* step 2 */
	{ 1, cpu1_load_desc }, /* step 3 */
	{ 0, cpu0_make }, /* step 4 */
	{ 1, cpu1_after }, /* step 5 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_BBM_WINDOW_READ, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "window_read",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
