/* SPDX-License-Identifier: MIT */
/*
 * window_walk: while TEST_VA's entry is broken (invalid, invalidated, not
 * yet made again), CPU1 loads TEST_VA. The break's TLBI took CPU1's cached
 * translation, so its MMU walks the table, reads the transiently invalid
 * entry and the load takes a translation fault; then CPU0 makes the entry
 * again with the same page. The access faulted on a hole that was only
 * being changed: in a kernel, a fault on a kernel address there is an oops.
 *
 * CPU0's sequence is a correct break-before-make (invalid; dsb ish; tlbi
 * vae1is; dsb ish; then the new entry; dsb ish; isb), and the architecture
 * allows another CPU's walk to fault inside it: whether that is a bug
 * depends on the faulting context. On Linux ptwatch knows it (a kernel
 * address: an error; a user address: a note, the fault is retried); on a
 * guest that is not Linux, as here, it does not, and reports a note.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1is; dsb ish (the break)
 *   CPU1: load TEST_VA -> translation fault (inside the window)
 *   CPU0: valid -> A again, read-only; dsb ish; isb (the make)
 *   CPU1: read TEST_VA -> A
 *
 * Only a QEMU that reports its faults with their entries (qemu-patches/)
 * shows it: one BBM_WINDOW_WALK, a note. Stock QEMU: nothing (the
 * expectation is dropped).
 */
#include "harness.h"

static void cpu1_load_faults(void)
{
	litmus_phase("window-walk");
	litmus_check("cpu1 load of TEST_VA in the window faults",
		     probe_load(TEST_VA), PROBE_FAULTED);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	       /* steps 0, 1 */
	{0, cpu0_break},       /* step 2 */
	{1, cpu1_load_faults}, /* step 3 */
	{0, cpu0_remake_a_ro}, /* step 4 */
	{1, cpu1_after_a},     /* step 5 */
};

LITMUS_SCENARIO("window_walk", setup_test_va_a, steps,
		{PTW_EXPECT_PATCHED(PTW_EXPECT_SEV(PTW_K_BBM_WINDOW_WALK,
						   PTW_SEV_NOTE)),
		 1});
