/* SPDX-License-Identifier: MIT */
/*
 * window_walk: while V's entry is broken (not present, invalidated on the
 * changing CPU, not yet made again), CPU1, which never cached V, loads V:
 * its MMU walks the tables, reads the not-present entry and the load takes
 * a page fault; then CPU0 makes the entry again with the same page. The
 * access faulted on a hole that was only being changed.
 *
 * CPU0's sequence is a correct break (clear; invlpg V; set; invlpg V): the
 * only CPU that ever cached V invalidates it before the entry is made again
 * (CPU1 has nothing to shoot down, as in remap_ok), and the architecture lets
 * another CPU's walk fault while the entry is not present. Whether that is
 * a bug depends on the faulting context: on Linux ptwatch knows it (a
 * kernel address: an error; a user address: a note, the fault is retried);
 * on a guest that is not Linux, as here, it does not, and reports a note.
 *
 *   step 0  cpu0  V -> A (V was not present before), read V = A
 *   step 1  cpu0  the break: V's entry -> not present (0), invlpg V
 *   step 2  cpu1  load V -> page fault (inside the window)  <- finding
 *   step 3  cpu0  the make: V -> A again, invlpg V
 *   step 4  cpu1  read V = A
 *
 * Only a QEMU that reports its faults with their entries (qemu-patches/)
 * shows it: one BBM_WINDOW_WALK, a note. Stock QEMU: nothing (the
 * expectation is dropped).
 */
#include "harness.h"

LITMUS_SCENARIO("window_walk",
		{PTW_EXPECT_PATCHED(PTW_EXPECT_SEV(PTW_K_BBM_WINDOW_WALK,
						   PTW_SEV_NOTE)),
		 1});

void scenario_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(1, "break", TEST_VA, PTE_NONE);
	step_write_pte_invlpg(3, "make", TEST_VA, pte_page(DATA_PAGE_A));
}

void scenario_cpu1(void)
{
	step_load_faults(2, "window-walk", TEST_VA);
	step_read(4, NULL, TEST_VA, MARKER_A);
}
