/* SPDX-License-Identifier: MIT */
/*
 * dirty_lost: CPU0 reads V's entry while it is clean, CPU1 writes V (its
 * MMU sets the entry's D bit), then CPU0 write-protects V with a plain
 * store of a value computed from what it read: the entry it writes is
 * clean, and the only record that CPU1 wrote the page is gone (Linux would
 * write the page back never, or free it as clean).
 *
 *   step 0  cpu0  V -> A writable, clean (D clear); read V = A; load V's
 *                 entry (clean)
 *   step 1  cpu1  write V (its MMU sets D)
 *   step 2  cpu0  V's entry -> A read-only, clean (from the value it
 *                 loaded: a plain store); invlpg V   <- finding
 *
 * Only a QEMU that reports its MMU's access/dirty updates (qemu-patches/)
 * shows it: one DIRTY_LOST, an error. Stock QEMU: nothing (the expectation
 * is dropped).
 */
#include "harness.h"

LITMUS_SCENARIO("dirty_lost",
		{PTW_EXPECT_PATCHED(PTW_EXPECT_SEV(PTW_K_DIRTY_LOST,
						   PTW_SEV_ERROR)),
		 1});

static uint64_t seen; /* the entry as CPU0 loaded it in step 0 */

void scenario_cpu0(void)
{
	step_begin(0);
	write_pte(test_pte(TEST_VA), DATA_PAGE_A | PTE_P | PTE_RW | PTE_A);
	check_read(TEST_VA, MARKER_A);
	seen = load_pte(test_pte(TEST_VA));
	step_end(0);

	step_begin(2);
	litmus_phase("wrprotect");
	write_pte(test_pte(TEST_VA), seen & ~(uint64_t)PTE_RW);
	invlpg(TEST_VA);
	step_end(2);
}

void scenario_cpu1(void)
{
	step_write(1, "write", TEST_VA, MARKER_A);
}
