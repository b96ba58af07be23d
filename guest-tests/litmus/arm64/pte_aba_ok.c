/* SPDX-License-Identifier: MIT */
/*
 * pte_aba_ok: the counterpart of pte_aba. CPU1 loads TEST_VA's descriptor
 * twice within one operation (as in pte_aba, so the two loads are a pair)
 * and nothing changes the entry in between (CPU0 only reads through the
 * mapping). Expect no finding.
 *
 *   setup: TEST_VA -> A (descriptor X)
 *   CPU1: ptw_op_begin(); load the descriptor -> X
 *   CPU0: read TEST_VA -> A (no change)
 *   CPU1: load the descriptor -> X
 */
#include "harness.h"

static void cpu0_read(void)
{
	litmus_phase("no-change");
	litmus_read_check("cpu0 read", TEST_VA, MARKER_A);
}

static const struct litmus_step steps[] = {
	{1, cpu1_op_load_desc_1}, /* step 0 */
	{0, cpu0_read},		  /* step 1 */
	{1, cpu1_load_desc_2},	  /* step 2 */
};

LITMUS_SCENARIO("pte_aba_ok", setup_test_va_a, steps);
