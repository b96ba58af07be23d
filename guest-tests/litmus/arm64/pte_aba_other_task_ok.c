/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_other_task_ok: as pte_aba, but CPU1 switches tasks between its
 * two loads, the way Linux does (the current task's address in SP_EL0).
 * The two loads belong to two tasks, so no pte_same() connects them:
 * ptwatch pairs reads by task, and expects nothing. CPU1 begins one
 * operation, as T1, before its first load and none after, so had ptwatch
 * kept the operation per vCPU rather than per task, the two loads would be
 * in one: only the task tells them apart.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: SP_EL0 = task T1; ptw_op_begin(); load the descriptor -> X
 *   CPU1: SP_EL0 = task T2 (a switch; T2 begins no operation)
 *   CPU0: full BBM -> B; full BBM back -> X
 *   CPU1: load the descriptor -> X (T2's first read)
 */
#include "harness.h"

static const struct litmus_step steps[] = {
	{1, cpu1_t1_load_then_t2},  /* step 0 */
	{0, cpu0_remap_b_and_back}, /* step 1 */
	{1, cpu1_load_desc_2},	    /* step 2: task T2 */
};

LITMUS_SCENARIO("pte_aba_other_task_ok", setup_test_va_a, steps);
