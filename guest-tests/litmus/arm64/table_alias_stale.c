/* SPDX-License-Identifier: MIT */
/*
 * table_alias_stale: one level 3 table reached from two level 2 entries,
 * so every entry of it maps two VAs (the shape of x86-64 hugetlb PMD
 * sharing, where one table is linked from two processes). A full
 * break-before-make of TEST_VA invalidates only TEST_VA: the other VA's
 * translation is left stale, and CPU0 reads page A through it.
 *
 *   CPU0: pt_l2_test[1] -> pt_l3_test (ALIAS_VA = TEST_VA + 2 MiB);
 *         read ALIAS_VA -> A (fills the TLB)
 *   CPU0: bbm_va(TEST_VA, B) (invalid; dsb; tlbi TEST_VA; dsb; B; dsb)
 *   CPU0: read TEST_VA -> B; read ALIAS_VA -> A (stale)   <- finding
 *   CPU0: tlbi ALIAS_VA; read ALIAS_VA -> B; unlink pt_l2_test[1]
 *
 * Expect one STALE_TLB_ACCESS (ptwatch followed the table's first link
 * only before it tracked both views).
 */
#include "harness.h"

static void cpu0_link_alias(void)
{
	link_alias();
	litmus_read_check("cpu0 alias read", ALIAS_VA, MARKER_A);
}

static void cpu0_bbm_one_va(void)
{
	litmus_phase("bbm");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read", TEST_VA, MARKER_B);
	litmus_phase("stale-read");
	litmus_read_check("cpu0 stale alias read", ALIAS_VA, MARKER_A);
}

static void cpu0_unlink_alias(void)
{
	litmus_phase("cleanup");
	tlbi_sync(ALIAS_VA);
	litmus_read_check("cpu0 alias read", ALIAS_VA, MARKER_B);
	unlink_alias();
}

static const struct litmus_step steps[] = {
	{0, cpu0_link_alias},	/* step 0 */
	{0, cpu0_bbm_one_va},	/* step 1 */
	{0, cpu0_unlink_alias}, /* step 2 */
	{1, cpu1_done},		/* step 3 */
};

LITMUS_SCENARIO("table_alias_stale", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
