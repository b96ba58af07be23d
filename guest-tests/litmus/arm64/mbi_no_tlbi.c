/* SPDX-License-Identifier: MIT */
/*
 * mbi_no_tlbi: CPU0 breaks TEST_VA (A -> invalid) and makes it again
 * (-> B) without any TLB invalidation in between: the new translation is
 * live while both TLBs may still hold A. The invalidation only comes after
 * the make (clean-up). Expect one BBM_MAKE_BEFORE_INVALIDATE.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; (no tlbi) valid -> B; dsb ish
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
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
	/* No TLB invalidation before the make. */
	ptw_phase("make-no-tlbi");
	write_desc(pte, test_page_desc(DATA_PAGE_B));
	dsb_ish();
	ptw_phase("cleanup");
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
	{ PTW_K_BBM_MAKE_BEFORE_INVALIDATE, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "mbi_no_tlbi",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
