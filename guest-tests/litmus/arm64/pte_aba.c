/* SPDX-License-Identifier: MIT */
/*
 * pte_aba: CPU1 begins an operation and loads TEST_VA's descriptor (X),
 * CPU0 changes the entry to another page and back to exactly X (each with a
 * full break-before-make), and CPU1 loads it again, in the same operation:
 * X both times, so a lockless reader comparing the two values (as a cmpxchg
 * on the entry would) misses that the mapping changed in between. Expect
 * one PTE_ABA.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: ptw_op_begin(); load the descriptor -> X
 *   CPU0: full BBM -> B (invalid; dsb ish; tlbi vae1is; dsb ish; valid B;
 *         dsb ish; isb); read TEST_VA -> B
 *   CPU0: full BBM back -> X; read TEST_VA -> A
 *   CPU1: load the descriptor -> X (still the operation it began)
 *
 * pte_aba_no_op_ok is the same scenario without the ptw_op_begin().
 */
#include "harness.h"

LITMUS_PTE_ABA_SCENARIO("pte_aba", cpu1_op_load_desc_1, {PTW_K_PTE_ABA, 1});
