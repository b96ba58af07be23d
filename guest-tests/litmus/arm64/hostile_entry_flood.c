/* SPDX-License-Identifier: MIT */
/*
 * hostile_entry_flood: ten million rewrites of one entry. CPU0 flips
 * TEST_VA2 between read-write and read-only page A (a permission change:
 * no break needed) without invalidating, so every flip leaves CPUs that
 * may hold the old permission: the pending-record history grows until its
 * cap (max_pending), which ptwatch logs. Nobody uses TEST_VA2 meanwhile;
 * at the end one invalidation clears everything. Memory must stay bounded
 * (tests/plugin/hostile.py measures it). Expect no finding.
 */
#include "harness.h"

#define FLIPS 10000000u

static void setup_va2(void)
{
	make_va(TEST_VA2, test_page_desc(DATA_PAGE_A));
}

static void cpu1_read(void)
{
	read_va(TEST_VA2);
}

static void cpu0_flood(void)
{
	uint64_t *pte = test_pte(TEST_VA2);
	uint64_t rw = test_page_desc(DATA_PAGE_A);

	litmus_phase("flood");
	for (unsigned int i = 0; i < FLIPS / 2; i++) {
		write_desc(pte, rw | PTE_AP_RDONLY);
		write_desc(pte, rw);
	}
	dsb_ish();
	litmus_phase("flood-done");
	tlbi_sync(TEST_VA2);
}

static void cpu1_after(void)
{
	litmus_read_check("cpu1 after", TEST_VA2, MARKER_A);
}

static const struct litmus_step steps[] = {
	{1, cpu1_read},	 /* step 0 */
	{0, cpu0_flood}, /* step 1 */
	{1, cpu1_after}, /* step 2 */
};

LITMUS_SCENARIO("hostile_entry_flood", setup_va2, steps);
