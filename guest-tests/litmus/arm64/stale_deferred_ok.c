/* SPDX-License-Identifier: MIT */
/*
 * stale_deferred_ok: CPU0 unmaps TEST_VA and defers the invalidation (as
 * Linux batches TLB flushes); CPU1 reads TEST_VA through its stale
 * translation inside that window. The old page is neither reused nor
 * written elsewhere, and the broadcast invalidation follows, so this is a
 * deferred-flush window: counted as a statistic, not a finding.
 * Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish (no tlbi yet)
 *   CPU1: read TEST_VA -> A (stale)
 *   CPU0: tlbi vae1is; dsb ish; isb
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

static void cpu0_unmap(void)
{
	ptw_phase("unmap");
	write_desc(test_pte(TEST_VA), 0);
	dsb_ish();
}

static void cpu1_stale(void)
{
	ptw_phase("deferred-read");
	litmus_read_check("cpu1 stale read", TEST_VA, MARKER_A);
}

static void cpu0_flush(void)
{
	ptw_phase("deferred-flush");
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	isb();
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_unmap }, /* step 2 */
	{ 1, cpu1_stale }, /* step 3 */
	{ 0, cpu0_flush }, /* step 4 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "stale_deferred_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
