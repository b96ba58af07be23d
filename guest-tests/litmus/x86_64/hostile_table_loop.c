/* SPDX-License-Identifier: MIT */
/*
 * hostile_table_loop: a recursive PML4 slot (pml4[510] -> pml4 itself),
 * the classic self-map some kernels use: walked from that slot, the PML4
 * is also a PDPT, a PD and a PT. ptwatch must not follow the loop, must
 * say so ("table-alias" warning) and go on checking: a correct remap of
 * TEST_VA afterwards (shootdown on both CPUs) gives no finding.
 */
#include "harness.h"

extern uint64_t pml4[512];

LITMUS_SCENARIO("hostile_table_loop");

#define SELF 510

void scenario_cpu0(void)
{
	step_begin(0);
	litmus_phase("loop");
	write_pte((volatile uint64_t *)&pml4[SELF],
		  (uint64_t)(uintptr_t)pml4 | PTE_TABLE);
	step_end(0);

	step_fill(1, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(3, "remap", TEST_VA, pte_page(DATA_PAGE_B));

	step_begin(5);
	check_read(TEST_VA, MARKER_B);
	litmus_phase("unloop");
	write_pte((volatile uint64_t *)&pml4[SELF], 0);
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3"
			 :
			 :
			 : "rax", "memory");
	step_end(5);
}

void scenario_cpu1(void)
{
	step_read(2, NULL, TEST_VA, MARKER_A);
	step_invlpg_read(4, NULL, TEST_VA, MARKER_B);
}
