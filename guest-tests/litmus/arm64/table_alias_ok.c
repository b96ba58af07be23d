/* SPDX-License-Identifier: MIT */
/*
 * table_alias_ok: table_alias_stale done right: the break invalidates
 * both VAs the changed entry maps before the make, and both CPUs read B
 * through either VA afterwards.
 *
 *   CPU0: pt_l2_test[1] -> pt_l3_test (ALIAS_VA = TEST_VA + 2 MiB);
 *         read TEST_VA and ALIAS_VA -> A
 *   CPU1: read ALIAS_VA -> A
 *   CPU0: invalid; dsb; tlbi TEST_VA; tlbi ALIAS_VA; dsb; B; dsb; isb;
 *         read both -> B
 *   CPU1: read ALIAS_VA -> B
 *   CPU0: unlink pt_l2_test[1]; tlbi ALIAS_VA
 *
 * Expect no finding.
 */
#include "harness.h"

static void cpu0_link_alias(void)
{
	link_alias();
	litmus_read_check("cpu0 read", TEST_VA, MARKER_A);
	litmus_read_check("cpu0 alias read", ALIAS_VA, MARKER_A);
}

static void cpu1_read_alias_a(void)
{
	litmus_read_check("cpu1 alias read", ALIAS_VA, MARKER_A);
}

static void cpu0_bbm_both_vas(void)
{
	litmus_phase("break");
	unmap_va(TEST_VA);
	tlbi_vae1is(TEST_VA);
	tlbi_vae1is(ALIAS_VA);
	dsb_ish();
	litmus_phase("make");
	make_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read", TEST_VA, MARKER_B);
	litmus_read_check("cpu0 alias read", ALIAS_VA, MARKER_B);
}

static void cpu1_read_alias_b(void)
{
	litmus_read_check("cpu1 alias read", ALIAS_VA, MARKER_B);
}

static const struct litmus_step steps[] = {
	{0, cpu0_link_alias},	/* step 0 */
	{1, cpu1_read_alias_a}, /* step 1 */
	{0, cpu0_bbm_both_vas}, /* step 2 */
	{1, cpu1_read_alias_b}, /* step 3 */
	{0, unlink_alias},	/* step 4 */
};

LITMUS_SCENARIO("table_alias_ok", setup_test_va_a, steps);
