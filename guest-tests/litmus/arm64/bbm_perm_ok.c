/* SPDX-License-Identifier: MIT */
/*
 * bbm_perm_ok: TEST_VA -> page A goes from read-write to read-only with a
 * direct valid-to-valid write that changes only AP[2]. A permission-only
 * change needs no break-before-make. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: valid RW -> valid RO (same page); dsb ish; tlbi vae1is; dsb ish;
 *         isb
 *   CPU0, CPU1: read TEST_VA -> A (reads only: a write would fault now)
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
	litmus_read_check("cpu0 before RO", TEST_VA, MARKER_A);
}

static void cpu1_before(void)
{
	litmus_read_check("cpu1 before RO", TEST_VA, MARKER_A);
}

static void cpu0_make_ro(void)
{
	ptw_phase("make-ro");
	write_desc(test_pte(TEST_VA),
		   test_page_desc(DATA_PAGE_A) | PTE_AP_RDONLY);
	dsb_ish();
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	isb();
	ptw_phase("after");
	litmus_read_check("cpu0 after RO", TEST_VA, MARKER_A);
}

static void cpu1_after(void)
{
	litmus_read_check("cpu1 after RO", TEST_VA, MARKER_A);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_make_ro }, /* step 2 */
	{ 1, cpu1_after }, /* step 3 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "bbm_perm_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
