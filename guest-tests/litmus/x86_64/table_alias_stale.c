/* SPDX-License-Identifier: MIT */
/*
 * table_alias_stale: one page table reached from two page-directory
 * entries, so every entry of it maps two VAs: the shape of hugetlb PMD
 * sharing (CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING), where one table is
 * linked from two processes. A change invalidated at V only leaves the
 * other VA's translation stale, and CPU0 reads page A through it.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu0  pd_test[2] -> pt_test (W = V + 4 MiB), read W = A
 *   step 2  cpu1  read W = A
 *   step 3  cpu0  V -> B, invlpg V, read V = B, read W = A (stale)
 *                                                          <- finding
 *   step 4  cpu1  invlpg W (its half of the shootdown)
 *   step 5  cpu0  invlpg W, read W = B, unlink pd_test[2], invlpg W
 *
 * Expected: exactly one PTW_K_STALE_TLB_ACCESS (CPU0's read of W in
 * step 3). ptwatch followed the table's first link only before it
 * tracked both views.
 */
#include "harness.h"

LITMUS_SCENARIO("table_alias_stale", {PTW_K_STALE_TLB_ACCESS, 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);

	step_link_alias(1, MARKER_A);

	step_begin(3);
	litmus_phase("change");
	write_pte(test_pte(TEST_VA), pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	check_read(TEST_VA, MARKER_B);
	litmus_phase("stale-read");
	check_read(ALIAS_VA, MARKER_A); /* W was not invalidated */
	step_end(3);

	step_begin(5);
	litmus_phase("cleanup");
	invlpg(ALIAS_VA);
	check_read(ALIAS_VA, MARKER_B);
	write_pte(alias_pde(), 0);
	invlpg(ALIAS_VA);
	step_end(5);
}

void scenario_cpu1(void)
{
	step_read(2, NULL, ALIAS_VA, MARKER_A);
	step_invlpg(4, NULL, ALIAS_VA);
}
