/* SPDX-License-Identifier: MIT */
/*
 * mbi_same_ok: CPU0 stores TEST_VA's entry invalid and then the very same
 * descriptor again, without invalidating in between. A TLB that still holds
 * the old translation holds the new one too, so this is not a
 * make-before-invalidate. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; (no tlbi) valid -> A (same descriptor); dsb ish
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> A
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
	litmus_read_check("cpu0 before", TEST_VA, MARKER_A);
}

static void cpu1_before(void)
{
	litmus_read_check("cpu1 before", TEST_VA, MARKER_A);
}

static void cpu0_same(void)
{
	uint64_t *pte = test_pte(TEST_VA);

	ptw_phase("break");
	write_desc(pte, 0);
	dsb_ish();
	ptw_phase("make-same");
	write_desc(pte, test_page_desc(DATA_PAGE_A));
	dsb_ish();
	ptw_phase("cleanup");
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	isb();
	ptw_phase("after");
	litmus_read_check("cpu0 after", TEST_VA, MARKER_A);
}

static void cpu1_after(void)
{
	litmus_read_check("cpu1 after", TEST_VA, MARKER_A);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_same }, /* step 2 */
	{ 1, cpu1_after }, /* step 3 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "mbi_same_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
