/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_ok: the counterpart of pte_aba. CPU1 loads TEST_VA's descriptor
 * twice and nothing changes the entry in between (CPU0 only reads through
 * the mapping). Expect no finding.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: load the descriptor -> X
 *   CPU0: read TEST_VA -> A (no change)
 *   CPU1: load the descriptor -> X
 */
#include "harness.h"

static void setup(void)
{
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_A));
	dsb_ish();
	isb();
}

static void cpu1_load_first(void)
{
	ptw_phase("load-1");
	litmus_check("cpu1 first descriptor load",
		     load_desc(test_pte(TEST_VA)),
		     test_page_desc(DATA_PAGE_A));
}

static void cpu0_read(void)
{
	ptw_phase("no-change");
	litmus_read_check("cpu0 read", TEST_VA, MARKER_A);
}

static void cpu1_load_again(void)
{
	ptw_phase("load-2");
	litmus_check("cpu1 second descriptor load",
		     load_desc(test_pte(TEST_VA)),
		     test_page_desc(DATA_PAGE_A));
}

static const struct litmus_step steps[] = {
	{ 1, cpu1_load_first }, /* step 0 */
	{ 0, cpu0_read }, /* step 1 */
	{ 1, cpu1_load_again }, /* step 2 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "pte_aba_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
