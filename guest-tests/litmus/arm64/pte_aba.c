/* SPDX-License-Identifier: MIT */
/*
 * pte_aba: CPU1 loads TEST_VA's descriptor (X), CPU0 changes the entry to
 * another page and back to exactly X (each with a full break-before-make),
 * and CPU1 loads it again: X both times, so a lockless reader comparing
 * the two values (as a cmpxchg on the entry would) misses that the mapping
 * changed in between. Expect one PTE_ABA.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: load the descriptor -> X
 *   CPU0: full BBM -> B (invalid; dsb ish; tlbi vae1is; dsb ish; valid B;
 *         dsb ish; isb); read TEST_VA -> B
 *   CPU0: full BBM back -> X; read TEST_VA -> A
 *   CPU1: load the descriptor -> X
 */
#include "harness.h"

static void setup(void)
{
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_A));
	dsb_ish();
	isb();
}

/* Full break-before-make of TEST_VA to desc. */
static void remap(uint64_t desc)
{
	uint64_t *pte = test_pte(TEST_VA);

	write_desc(pte, 0);
	dsb_ish();
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	write_desc(pte, desc);
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

static void cpu0_to_b(void)
{
	ptw_phase("bbm-to-b");
	remap(test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read after A->B", TEST_VA, MARKER_B);
}

static void cpu0_back_to_a(void)
{
	ptw_phase("bbm-back-to-a");
	remap(test_page_desc(DATA_PAGE_A));
	litmus_read_check("cpu0 read after B->A", TEST_VA, MARKER_A);
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
	{ 0, cpu0_to_b }, /* step 1 */
	{ 0, cpu0_back_to_a }, /* step 2 */
	{ 1, cpu1_load_again }, /* step 3 */
};

static const struct litmus_expect expect[] = {
	{ PTW_K_PTE_ABA, 1 },
};

const struct litmus_scenario litmus_scenario = {
	.name = "pte_aba",
	.expect = expect,
	.nr_expect = ARRAY_SIZE(expect),
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
