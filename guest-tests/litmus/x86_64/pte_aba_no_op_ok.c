/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_no_op_ok: pte_aba without the operation. The same steps, the same
 * entry values (X, then B's, then X again), the same two loads by CPU1;
 * only CPU1 never calls ptw_op_begin(). ptwatch pairs two reads only within
 * one operation, and a guest that is not Linux (no kernel symbols) has no
 * operations of its own: two unrelated reads that happen to see the same
 * value are not a pte_same() check.
 *
 *   step 0  cpu0  V -> A (X = that entry), read V = A
 *   step 1  cpu1  load V's entry = X (no operation begun)
 *   step 2  cpu0  V -> B, invlpg V
 *   step 3  cpu1  invlpg V (shootdown)
 *   step 4  cpu0  V -> X again, invlpg V
 *   step 5  cpu1  invlpg V (shootdown)
 *   step 6  cpu1  load V's entry = X
 *   step 7  cpu0  read V = A
 *   step 8  cpu1  read V = A
 *
 * Expected: no findings (pte_aba, with the operation, expects one PTE_ABA).
 */
#include "harness.h"

LITMUS_SCENARIO("pte_aba_no_op_ok");

void scenario_cpu0(void)
{
	steps_pte_aba_cpu0();
}

void scenario_cpu1(void)
{
	steps_pte_aba_cpu1(0);
}
