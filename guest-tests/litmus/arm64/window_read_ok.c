/* SPDX-License-Identifier: MIT */
/*
 * window_read_ok: the counterpart of window_read. CPU1 loads TEST_VA's
 * descriptor only after CPU0 has made it again, so it never sees the
 * transient invalid value. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the break)
 *   CPU0: valid -> B; dsb ish; isb (the make)
 *   CPU1: load the descriptor -> B's descriptor
 *   CPU1, CPU0: read TEST_VA -> B
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

static void cpu0_make(void)
{
	ptw_phase("make");
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_B));
	dsb_ish();
	isb();
}

static void cpu1_load_desc(void)
{
	ptw_phase("load-after-make");
	litmus_check("cpu1 descriptor load after the make",
		     load_desc(test_pte(TEST_VA)),
		     test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu1 after remap", TEST_VA, MARKER_B);
}

static void cpu0_after(void)
{
	ptw_phase("after");
	litmus_read_check("cpu0 after remap", TEST_VA, MARKER_B);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_break }, /* step 2 */
	{ 0, cpu0_make }, /* step 3 */
	{ 1, cpu1_load_desc }, /* step 4 */
	{ 0, cpu0_after }, /* step 5 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "window_read_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
