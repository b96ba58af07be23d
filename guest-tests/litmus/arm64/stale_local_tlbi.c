/* SPDX-License-Identifier: MIT */
/*
 * stale_local_tlbi: CPU0 unmaps TEST_VA and invalidates only its own TLB
 * (TLBI VAE1, dsb nsh). CPU1's TLB keeps the old translation, and CPU1's
 * next load from TEST_VA goes through it and returns page A's marker.
 * Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1 (local); dsb nsh
 *   CPU1: read TEST_VA -> A (stale: QEMU's TLB of CPU1 was not flushed)
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *
 * CPU1 touches nothing between its two reads but the handshake (image
 * pages, its stack), whose QEMU TLB slots differ from TEST_VA's (layout.h).
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
	ptw_phase("tlbi-local");
	tlbi_vae1(TEST_VA);
	dsb_nsh();
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
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_before }, /* step 0 */
	{ 1, cpu1_before }, /* step 1 */
	{ 0, cpu0_unmap }, /* step 2 */
	{ 1, cpu1_stale }, /* step 3 */
	{ 0, cpu0_cleanup }, /* step 4 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_STALE_TLB_ACCESS, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "stale_local_tlbi",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
