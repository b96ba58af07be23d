/* SPDX-License-Identifier: MIT */
/*
 * window_walk_unmap_ok: as window_walk, CPU1's load of V faults on the
 * not-present entry, but CPU0 never makes it again: the break was an unmap
 * and the fault a true one. Expect nothing, in either QEMU.
 *
 *   step 0  cpu0  V -> A, read V = A
 *   step 1  cpu0  the unmap: V's entry -> not present (0), invlpg V
 *   step 2  cpu1  load V -> page fault
 */
#include "harness.h"

LITMUS_SCENARIO("window_walk_unmap_ok");

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(1, "unmap", TEST_VA, PTE_NONE);
}

void scenario_cpu1(void)
{
	step_load_faults(2, "unmapped-load", TEST_VA);
}
