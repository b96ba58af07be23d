/* SPDX-License-Identifier: MIT */
/*
 * window_walk_unmap_ok: as window_walk, CPU1's load of TEST_VA faults on
 * the invalid entry, but CPU0 never makes it again: the break was an unmap
 * and the fault a true one. Expect nothing, in either QEMU.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the unmap)
 *   CPU1: load TEST_VA -> translation fault
 */
#include "harness.h"

static void cpu1_load_faults(void)
{
	litmus_phase("unmapped-load");
	litmus_check("cpu1 load of unmapped TEST_VA faults",
		     probe_load(TEST_VA), PROBE_FAULTED);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	       /* steps 0, 1 */
	{0, cpu0_break},       /* step 2 */
	{1, cpu1_load_faults}, /* step 3 */
};

LITMUS_SCENARIO("window_walk_unmap_ok", setup_test_va_a, steps);
