/* SPDX-License-Identifier: MIT */
/*
 * table_alias_ok: table_alias_stale done right: the change is invalidated
 * at both VAs the entry maps, on both CPUs, before anyone reads again.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu0  pd_test[2] -> pt_test (W = V + 4 MiB), read W = A
 *   step 2  cpu1  read W = A
 *   step 3  cpu0  V -> B, invlpg V, invlpg W
 *   step 4  cpu1  invlpg V, invlpg W (the shootdown)
 *   step 5  cpu0  read V = B, read W = B
 *   step 6  cpu1  read W = B
 *   step 7  cpu0  unlink pd_test[2], invlpg W
 *   step 8  cpu1  invlpg W
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("table_alias_ok");

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);

	step_link_alias(1, MARKER_A);

	step_begin(3);
	litmus_phase("change");
	write_pte(test_pte(TEST_VA), pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	invlpg(ALIAS_VA);
	step_end(3);

	step_begin(5);
	litmus_phase("check");
	check_read(TEST_VA, MARKER_B);
	check_read(ALIAS_VA, MARKER_B);
	step_end(5);

	step_begin(7);
	litmus_phase("cleanup");
	write_pte(alias_pde(), 0);
	invlpg(ALIAS_VA);
	step_end(7);
}

void scenario_cpu1(void)
{
	step_read(2, NULL, ALIAS_VA, MARKER_A);
	step_begin(4);
	invlpg(TEST_VA);
	invlpg(ALIAS_VA);
	step_end(4);
	step_read(6, NULL, ALIAS_VA, MARKER_B);
	step_invlpg(8, NULL, ALIAS_VA);
}
