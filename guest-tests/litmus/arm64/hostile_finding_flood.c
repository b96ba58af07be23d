/* SPDX-License-Identifier: MIT */
/*
 * hostile_finding_flood: one million identical findings. CPU0 changes
 * TEST_VA2 between pages C and D (valid -> valid, a new output address:
 * break-before-make broken) a million times from the same store. ptwatch
 * must report the site once, count the rest (summary.json repeats and
 * repeats_by_site) and say so in its log, keeping its logs small. Expect
 * one BBM_VALID_TO_VALID (distinct findings), the repeats checked by
 * tests/plugin/hostile.py.
 */
#include "harness.h"

#define CHANGES 1000000u

static void setup_va2(void)
{
	make_va(TEST_VA2, test_page_desc(DATA_PAGE_C));
}

static void cpu0_flood(void)
{
	uint64_t *pte = test_pte(TEST_VA2);

	litmus_phase("flood");
	for (unsigned int i = 1; i <= CHANGES; i++)
		write_desc(pte,
			   test_page_desc(i & 1 ? DATA_PAGE_D : DATA_PAGE_C));
	litmus_phase("clean");
	break_va(TEST_VA2);
	make_va(TEST_VA2, test_page_desc(DATA_PAGE_C));
}

static const struct litmus_step steps[] = {
	{0, cpu0_flood}, /* step 0 */
	{1, cpu1_done},	 /* step 1 */
};

LITMUS_SCENARIO("hostile_finding_flood", setup_va2, steps,
		{PTW_K_BBM_VALID_TO_VALID, 1});
