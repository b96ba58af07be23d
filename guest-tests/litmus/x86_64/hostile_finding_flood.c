/* SPDX-License-Identifier: MIT */
/*
 * hostile_finding_flood: one million identical findings. CPU0 changes
 * TEST_VA2 between pages A and B without INVLPG and reads it through its
 * stale translation, then flushes: a million stale-TLB accesses from the
 * same load and the same store. ptwatch must report the site once, count
 * the rest (summary.json repeats and repeats_by_site) and say so in its
 * log, keeping its logs small. Expect one STALE_TLB_ACCESS (distinct
 * findings); tests/plugin/hostile.py checks the repeats.
 */
#include "harness.h"

LITMUS_SCENARIO("hostile_finding_flood", {PTW_K_STALE_TLB_ACCESS, 1});

#define CHANGES 1000000u

void scenario_cpu0(void)
{
	step_begin(0);
	litmus_phase("flood");
	volatile uint64_t *pte = test_pte(TEST_VA2);
	write_pte(pte, pte_page(DATA_PAGE_A));
	invlpg(TEST_VA2);
	(void)read_va(TEST_VA2);
	for (unsigned int i = 1; i <= CHANGES; i++) {
		write_pte(pte, pte_page(i & 1 ? DATA_PAGE_B : DATA_PAGE_A));
		(void)read_va(TEST_VA2); /* through the stale translation */
		invlpg(TEST_VA2);
		(void)read_va(TEST_VA2);
	}
	litmus_phase("flood-done");
	step_end(0);
}

void scenario_cpu1(void)
{
	step_begin(1);
	step_end(1);
}
