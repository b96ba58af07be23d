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

const char litmus_name[] = "stale_ok";

void scenario_expect(void)
{
	/* Nothing is expected. */
}

void scenario_cpu0(void)
{
	volatile uint64_t *pte = test_pte(TEST_VA);

	step_begin(0);
	ptw_phase("fill");
	write_pte(pte, pte_page(DATA_PAGE_A));
	check_read(TEST_VA, MARKER_A);
	step_end(0);

	step_begin(2);
	ptw_phase("change");
	write_pte(pte, pte_page(DATA_PAGE_B));
	invlpg(TEST_VA);
	step_end(2);

	step_begin(4);
	ptw_phase("check");
	check_read(TEST_VA, MARKER_B);
	step_end(4);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(TEST_VA, MARKER_A);
	step_end(1);

	step_begin(3);
	invlpg(TEST_VA);
	step_end(3);

	step_begin(5);
	check_read(TEST_VA, MARKER_B);
	step_end(5);
}
