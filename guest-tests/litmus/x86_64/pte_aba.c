/* SPDX-License-Identifier: MIT */
/*
 * pte_aba: CPU1 begins an operation and loads V's entry (value X), CPU0
 * changes V to another page and back to X, each change with its shootdown,
 * and CPU1 loads the entry again in the same operation: it sees X twice and
 * cannot tell that the mapping changed in between (an ABA on the entry).
 *
 *   step 0  cpu0  V -> A (V was not present before; X = that entry),
 *                 read V = A
 *   step 1  cpu1  ptw_op_begin(); load V's entry = X
 *   step 2  cpu0  V -> B, invlpg V
 *   step 3  cpu1  invlpg V (shootdown)
 *   step 4  cpu0  V -> X again, invlpg V
 *   step 5  cpu1  invlpg V (shootdown)
 *   step 6  cpu1  load V's entry = X (same operation)  <- finding
 *   step 7  cpu0  read V = A
 *   step 8  cpu1  read V = A
 *
 * Expected: exactly one PTW_K_PTE_ABA (CPU1's second load, step 6).
 * pte_aba_no_op_ok is the same scenario without the ptw_op_begin().
 */
#include "harness.h"

LITMUS_SCENARIO("pte_aba", {PTW_K_PTE_ABA, 1});

void scenario_cpu0(void)
{
	steps_pte_aba_cpu0();
}

void scenario_cpu1(void)
{
	steps_pte_aba_cpu1(1);
}
