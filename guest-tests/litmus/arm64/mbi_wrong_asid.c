/* SPDX-License-Identifier: MIT */
/*
 * mbi_wrong_asid: like mbi_no_tlbi, but CPU0 does invalidate between the
 * break and the make, with the wrong ASID: the test mappings are non-global
 * (nG) under ASID 1 and the TLBI VAE1IS names ASID 2, so it does not cover
 * the old translation. Expect one BBM_MAKE_BEFORE_INVALIDATE.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is (ASID 2); dsb ish; valid -> B;
 *         dsb ish
 *   CPU0: clean-up: tlbi vae1is (ASID 1); dsb ish; isb
 *   CPU0, CPU1: read TEST_VA -> B
 *
 * (QEMU ignores the ASID of a TLBI by VA and drops the page anyway; the
 * reads only come after the clean-up, so the result is the same.)
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
	ptw_phase("tlbi-asid2");
	tlbi_vae1is_asid(TEST_VA, LITMUS_OTHER_ASID);
	dsb_ish();
	ptw_phase("make");
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
	.name = "mbi_wrong_asid",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
