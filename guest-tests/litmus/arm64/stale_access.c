/* SPDX-License-Identifier: MIT */
/*
 * stale_access: CPU0 unmaps TEST_VA but does not invalidate the TLB, then
 * loads from TEST_VA again. QEMU's softmmu TLB still holds the old
 * translation (it does not snoop page-table stores), so the load succeeds
 * and returns page A's marker: the access went through the stale entry.
 * Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; read TEST_VA -> A (stale); then the missing
 *         tlbi vae1is; dsb ish; isb
 *   CPU1: does not touch TEST_VA after the change (only acknowledges)
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
	litmus_read_check("cpu0 before unmap", TEST_VA, MARKER_A);
}

static void cpu1_before(void)
{
	litmus_read_check("cpu1 before unmap", TEST_VA, MARKER_A);
}

static void cpu0_stale(void)
{
	ptw_phase("unmap");
	write_desc(test_pte(TEST_VA), 0);
	dsb_ish();
	/* No TLB invalidation: this load uses the stale translation. */
	ptw_phase("stale-read");
	litmus_read_check("cpu0 stale read", TEST_VA, MARKER_A);
	ptw_phase("cleanup");
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	isb();
}

static void cpu1_done(void)
{
	/* Nothing to access: TEST_VA is unmapped now. */
	ptw_phase("cpu1-done");
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_stale }, /* step 2 */
	{ 1, cpu1_done }, /* step 3 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_STALE_TLB_ACCESS, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "stale_access",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
