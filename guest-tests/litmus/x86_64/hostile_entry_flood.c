/* SPDX-License-Identifier: MIT */
/*
 * hostile_entry_flood: ten million rewrites of one entry. CPU0 points
 * TEST_VA2 at 256 pages in turn without flushing (legal on x86 while
 * nobody uses it), so every rewrite leaves CPUs that may hold an old
 * translation: the pending-record history would grow without bound;
 * ptwatch keeps one record per (translation, changer), at most 64 per VA,
 * and logs the cap ("pending-va-evicted"). Nobody uses TEST_VA2 meanwhile;
 * both CPUs flush at the end. Memory must stay bounded
 * (tests/plugin/hostile.py measures it). Expect no finding.
 */
#include "harness.h"

LITMUS_SCENARIO("hostile_entry_flood");

#define FLIPS	 10000000u
#define FLOOD_PA 0x00500000 /* 256 pages nothing else uses */

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA2, DATA_PAGE_A, MARKER_A);

	step_begin(2);
	litmus_phase("flood");
	volatile uint64_t *pte = test_pte(TEST_VA2);
	for (unsigned int i = 0; i < FLIPS; i++)
		write_pte(pte, pte_page(FLOOD_PA + (i & 255) * 4096ULL));
	write_pte(pte, pte_page(DATA_PAGE_A));
	litmus_phase("flood-done");
	invlpg(TEST_VA2);
	step_end(2);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA2, MARKER_A);
	step_invlpg_read(3, NULL, TEST_VA2, MARKER_A);
}
