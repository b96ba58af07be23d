/* SPDX-License-Identifier: MIT */
/*
 * bbm_valid_to_valid: TEST_VA is switched from page A to page B with one
 * valid-to-valid descriptor write (a new output address without a break).
 * The invalidation follows immediately and nobody accesses TEST_VA in
 * between, so the only finding is the missing break.
 * Expect one BBM_VALID_TO_VALID.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: valid A -> valid B; dsb ish; tlbi vae1is; dsb ish; isb
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
	ptw_phase("valid-to-valid");
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_B));
	dsb_ish();
	tlbi_vae1is(TEST_VA);
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

static const struct litmus_expect expect[] = {
	{ PTW_K_BBM_VALID_TO_VALID, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "bbm_valid_to_valid",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
