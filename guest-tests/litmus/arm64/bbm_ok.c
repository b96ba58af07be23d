/* SPDX-License-Identifier: MIT */
/*
 * bbm_ok: a correct break-before-make remap of TEST_VA from page A to
 * page B. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish; valid -> B; dsb ish; isb
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

static void cpu0_remap(void)
{
	uint64_t *pte = test_pte(TEST_VA);

	ptw_phase("break");
	write_desc(pte, 0);
	dsb_ish();
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	ptw_phase("make");
	write_desc(pte, test_page_desc(DATA_PAGE_B));
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
	{ 0, cpu0_remap }, /* step 2 */
	{ 1, cpu1_after }, /* step 3 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "bbm_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
