/* SPDX-License-Identifier: MIT */
/*
 * pt_page_mapped_became_table: a page that CPL 3 code can already reach
 * (mapped at V2 by a leaf with U/S set) is then linked in as a page table,
 * with the user mapping still in place: from then on user code could
 * rewrite the entries that translate LINK_VA. The page is pt_size, which is
 * no table before the link (boot.S builds it but links it nowhere).
 *
 *   step 0  cpu0  V2 (pt_test[1]) -> pt_size's page, U/S set (V2 was not
 *                 present before); read V2 = pt_size[0]
 *   step 1  cpu1  read V2 = pt_size[0]
 *   step 2  cpu0  pd_test[3] (not present) -> pt_size, a table entry
 *                 (LINK_VA)  <- finding; read LINK_VA + 3 * 4096 = D
 *   step 3  cpu1  read LINK_VA + 3 * 4096 = D; read V2 = pt_size[0]
 *   step 4  cpu0  clean-up: V2 -> 0, invlpg V2; pd_test[3] -> 0, invlpg
 *                 LINK_VA + 3 * 4096
 *   step 5  cpu1  invlpg V2, invlpg LINK_VA + 3 * 4096 (shootdown)
 *
 * The reads through V2 are CPL 0 loads (CR4.SMAP is clear).
 *
 * Expected: exactly one PT_PAGE_MAPPED, an error (CPU0's store in step 2).
 */
#include "harness.h"

#define LINK_PAGE3 (LINK_VA + 3 * 4096)

LITMUS_SCENARIO("pt_page_mapped_became_table",
		{PTW_EXPECT_SEV(PTW_K_PT_PAGE_MAPPED, PTW_SEV_ERROR), 1});

void scenario_cpu0(void)
{
	step_map(0, "user-map", TEST_VA2, pte_page_user(PT_SIZE_PA),
		 pt_size_entry(0));

	step_begin(2);
	litmus_phase("link-table");
	write_pte(link_pde(), PT_SIZE_PA | PTE_TABLE);
	check_read(LINK_PAGE3, MARKER_D);
	step_end(2);

	step_begin(4);
	litmus_phase("cleanup");
	write_pte(test_pte(TEST_VA2), PTE_NONE);
	invlpg(TEST_VA2);
	write_pte(link_pde(), PTE_NONE);
	invlpg(LINK_PAGE3);
	step_end(4);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA2, pt_size_entry(0));

	step_begin(3);
	check_read(LINK_PAGE3, MARKER_D);
	check_read(TEST_VA2, pt_size_entry(0));
	step_end(3);

	step_begin(5);
	invlpg(TEST_VA2);
	invlpg(LINK_PAGE3);
	step_end(5);
}
