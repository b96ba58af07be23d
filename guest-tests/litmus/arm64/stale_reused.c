/* SPDX-License-Identifier: MIT */
/*
 * stale_reused: CPU0 unmaps TEST_VA but has not invalidated yet (a deferred
 * flush), and meanwhile reuses page A: it maps A at TEST_VA2 and stores
 * through TEST_VA2. CPU1's load from TEST_VA then goes through its stale
 * translation into a page that now belongs to someone else.
 * Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: TEST_VA invalid; dsb ish (no tlbi yet)
 *   CPU0: TEST_VA2 invalid -> A; dsb ish; isb; store REUSE_VALUE at
 *         TEST_VA2 + 8 (word 0, the marker, stays)
 *   CPU1: read TEST_VA -> A's marker (stale)
 *   CPU0: clean-up: tlbi vae1is TEST_VA; dsb ish; isb; read TEST_VA2 ->
 *         A's marker, TEST_VA2 + 8 -> REUSE_VALUE
 *
 * TEST_VA2 stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

#define REUSE_VALUE 0x5245555345440000ULL /* "REUSED" */

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

static void cpu0_unmap_reuse(void)
{
	ptw_phase("unmap");
	write_desc(test_pte(TEST_VA), 0);
	dsb_ish();
	/* No TLB invalidation yet: page A is reused right away. */
	ptw_phase("reuse-at-v2");
	write_desc(test_pte(TEST_VA2), test_page_desc(DATA_PAGE_A));
	dsb_ish();
	isb();
	write_va(TEST_VA2 + 8, REUSE_VALUE);
}

static void cpu1_stale(void)
{
	ptw_phase("stale-read");
	litmus_read_check("cpu1 stale read", TEST_VA, MARKER_A);
}

static void cpu0_cleanup(void)
{
	ptw_phase("cleanup");
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	isb();
	litmus_read_check("cpu0 read v2", TEST_VA2, MARKER_A);
	litmus_read_check("cpu0 read v2+8", TEST_VA2 + 8, REUSE_VALUE);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_unmap_reuse }, /* step 2 */
	{ 1, cpu1_stale }, /* step 3 */
	{ 0, cpu0_cleanup }, /* step 4 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_STALE_TLB_ACCESS, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "stale_reused",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
