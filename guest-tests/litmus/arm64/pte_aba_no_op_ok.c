/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_no_op_ok: pte_aba without the operation. The same steps, the same
 * entry values (X, then B's, then X again), the same two loads by CPU1; only
 * CPU1 never calls ptw_op_begin(). ptwatch pairs two reads only within one
 * operation, and a guest that is not Linux (no kernel symbols) has no
 * operations of its own: two unrelated reads that happen to see the same
 * value are not a pte_same() check. Expect no finding (pte_aba, with the
 * operation, expects one PTE_ABA).
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: load the descriptor -> X (no operation begun)
 *   CPU0: full BBM -> B; read TEST_VA -> B
 *   CPU0: full BBM back -> X; read TEST_VA -> A
 *   CPU1: load the descriptor -> X
 */
#include "harness.h"

LITMUS_PTE_ABA_SCENARIO("pte_aba_no_op_ok", cpu1_load_desc_1);
