/* SPDX-License-Identifier: MIT */
/*
 * dirty_seen_ok: dirty_lost done as Linux's ptep_modify_prot_start() and
 * ptep_modify_prot_commit() do it: CPU0 takes V's entry with an atomic
 * exchange (which returns it with the D bit CPU1's MMU set), then writes
 * the read-only entry into the empty slot. CPU0 saw the dirty state before
 * it replaced it.
 *
 *   step 0  cpu0  V -> A writable, clean (D clear); read V = A
 *   step 1  cpu1  write V (its MMU sets D)
 *   step 2  cpu0  xchg V's entry with 0 (returns it dirty); V's entry ->
 *                 A read-only, dirty; invlpg V
 *   step 3  cpu1  invlpg V; read V = A
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("dirty_seen_ok");

void scenario_cpu0(void)
{
	step_begin(0);
	write_pte(test_pte(TEST_VA), DATA_PAGE_A | PTE_P | PTE_RW | PTE_A);
	check_read(TEST_VA, MARKER_A);
	step_end(0);

	step_begin(2);
	litmus_phase("modify-prot");
	uint64_t old = 0;
	__asm__ volatile("xchgq %0, %1"
			 : "+r"(old), "+m"(*test_pte(TEST_VA))
			 :
			 : "memory");
	if (!(old & PTE_D))
		litmus_fail("xchg returned V's entry without D: 0x%llx",
			    (unsigned long long)old);
	write_pte(test_pte(TEST_VA), old & ~(uint64_t)PTE_RW);
	invlpg(TEST_VA);
	step_end(2);
}

void scenario_cpu1(void)
{
	step_write(1, "write", TEST_VA, MARKER_A);

	step_begin(3);
	invlpg(TEST_VA);
	check_read(TEST_VA, MARKER_A);
	step_end(3);
}
