/* SPDX-License-Identifier: MIT */
/*
 * stale_ok: a correct change of a valid translation with a shootdown done
 * by handshake: CPU0 invalidates locally, CPU1 invalidates itself before
 * anyone uses V again.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu1  read V = A (fills CPU1's TLB)
 *   step 2  cpu0  V -> B, invlpg V
 *   step 3  cpu1  invlpg V (the "shootdown", acknowledged by step_end)
 *   step 4  cpu0  read V = B
 *   step 5  cpu1  read V = B
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("stale_ok");

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(2, "change", TEST_VA, pte_page(DATA_PAGE_B));
	step_read(4, "check", TEST_VA, MARKER_B);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA, MARKER_A);
	step_invlpg(3, NULL, TEST_VA);
	step_read(5, NULL, TEST_VA, MARKER_B);
}
