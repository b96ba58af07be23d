/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_other_task_ok: as pte_aba, but CPU1 switches tasks between its
 * two loads, the way Linux does (the current task's address in SP_EL0).
 * The two loads belong to two tasks, so no pte_same() connects them:
 * ptwatch pairs reads by task, and expects nothing.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: SP_EL0 = task T1; load the descriptor -> X
 *   CPU1: SP_EL0 = task T2 (a switch)
 *   CPU0: full BBM -> B; full BBM back -> X
 *   CPU1: load the descriptor -> X (T2's first read)
 */
#include "harness.h"

#define TASK_T1 0xffff000012340000ULL
#define TASK_T2 0xffff000056780000ULL

static void set_task(uint64_t task)
{
	__asm__ volatile("msr sp_el0, %0" : : "r"(task) : "memory");
}

static void cpu1_t1_load(void)
{
	set_task(TASK_T1);
	cpu1_load_desc_1();
	litmus_phase("switch-to-t2");
	set_task(TASK_T2);
}

static void cpu0_to_b_and_back(void)
{
	litmus_phase("bbm-to-b-and-back");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read after A->B", TEST_VA, MARKER_B);
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_A));
	litmus_read_check("cpu0 read after B->A", TEST_VA, MARKER_A);
}

static const struct litmus_step steps[] = {
	{ 1, cpu1_t1_load },	   /* step 0 */
	{ 0, cpu0_to_b_and_back }, /* step 1 */
	{ 1, cpu1_load_desc_2 },   /* step 2: task T2 */
};

LITMUS_SCENARIO("pte_aba_other_task_ok", setup_test_va_a, steps);
