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

static void cpu0_to_b(void)
{
	litmus_phase("bbm-to-b");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read after A->B", TEST_VA, MARKER_B);
}

static void cpu0_back_to_a(void)
{
	litmus_phase("bbm-back-to-a");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_A));
	litmus_read_check("cpu0 read after B->A", TEST_VA, MARKER_A);
}

static const struct litmus_step steps[] = {
	{1, cpu1_load_desc_1}, /* step 0 */
	{0, cpu0_to_b},	       /* step 1 */
	{0, cpu0_back_to_a},   /* step 2 */
	{1, cpu1_load_desc_2}, /* step 3 */
};

LITMUS_SCENARIO("pte_aba", setup_test_va_a, steps, {PTW_K_PTE_ABA, 1});
