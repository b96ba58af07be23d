/* SPDX-License-Identifier: MIT */
/*
 * hostile_table_reuse: a page table is unlinked correctly (the size
 * region's PDE cleared, both CPUs flush), then its page is reused as
 * data: 512 stores of values that look like present PTEs. ptwatch must
 * stop treating the page as a table once nothing links it, so none of
 * those stores is a page-table change. Expect no finding.
 *
 *   step 0 cpu0  pd_test[1] -> pt_size; invlpg; read a page through it
 *   step 1 cpu1  reads the same page
 *   step 2 cpu0  pd_test[1] -> 0; CR3 reload (flush)
 *   step 3 cpu1  CR3 reload
 *   step 4 cpu0  pt_size[i] = junk(i) for all 512 entries
 *   step 5 cpu1  reads some back
 */
#include "harness.h"

LITMUS_SCENARIO("hostile_table_reuse");

static void flush_all(void)
{
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3"
			 :
			 :
			 : "rax", "memory");
}

static uint64_t junk(unsigned int i)
{
	return pte_page(DATA_PAGE_C) ^ ((uint64_t)i << 12);
}

#define PAGE4 (SIZE_REGION_VA + 4 * 4096) /* pt_size maps it to itself */

void scenario_cpu0(void)
{
	step_begin(0);
	litmus_phase("link");
	write_pte(&pd_test[1], SIZE_PDE_TABLE);
	invlpg(PAGE4);
	check_read(PAGE4, SIZE_MARKER(4));
	step_end(0);

	step_begin(2);
	litmus_phase("unlink");
	write_pte(&pd_test[1], 0);
	flush_all();
	step_end(2);

	step_begin(4);
	litmus_phase("reuse");
	for (unsigned int i = 0; i < 512; i++)
		write_va((uint64_t)(uintptr_t)&pt_size[i], junk(i));
	step_end(4);
}

void scenario_cpu1(void)
{
	step_begin(1);
	invlpg(PAGE4);
	check_read(PAGE4, SIZE_MARKER(4));
	step_end(1);

	step_begin(3);
	flush_all();
	step_end(3);

	step_begin(5);
	for (unsigned int i = 0; i < 512; i += 97)
		check_read((uint64_t)(uintptr_t)&pt_size[i], junk(i));
	step_end(5);
}
