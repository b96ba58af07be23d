/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_task_moved: a task reads the entry on CPU1, sleeps (CPU1 runs
 * another task), and reads it again on CPU0 after the entry changed to
 * another page and back: the same task's pte_same() would pass on a
 * changed entry. Tasks are named the Linux way (SP_EL0). T1 begins one
 * operation before its first read and none after: the operation is the
 * task's, so it goes with T1 to CPU0. ptwatch pairs the two reads across
 * vCPUs: expect one PTE_ABA.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: SP_EL0 = task T1; ptw_op_begin(); load the descriptor -> X
 *   CPU1: SP_EL0 = task T2 (T1 sleeps)
 *   CPU0: full BBM -> B; full BBM back -> X
 *   CPU0: SP_EL0 = task T1 (T1 wakes on CPU0); load the descriptor -> X
 *         (T1's operation, begun on CPU1)
 */
#include "harness.h"

static void cpu0_t1_load(void)
{
	litmus_phase("t1-on-cpu0");
	set_task(TASK_T1);
	litmus_check("t1's second descriptor load, on cpu0",
		     load_desc(test_pte(TEST_VA)), test_page_desc(DATA_PAGE_A));
}

static const struct litmus_step steps[] = {
	{1, cpu1_t1_load_then_t2},  /* step 0 */
	{0, cpu0_remap_b_and_back}, /* step 1 */
	{0, cpu0_t1_load},	    /* step 2 */
	{1, cpu1_done},		    /* step 3 */
};

LITMUS_SCENARIO("pte_aba_task_moved", setup_test_va_a, steps,
		{PTW_K_PTE_ABA, 1});
