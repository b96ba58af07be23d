/* SPDX-License-Identifier: MIT */
/*
 * pt_page_mapped_ok: the counterparts of pt_page_mapped_user and
 * pt_page_mapped_became_table. Every table page is mapped by the identity
 * map (2 MiB pages, U/S clear), as in every guest, and here a live
 * last-level table (pt_apic) is also mapped at V2 by a supervisor-only leaf:
 * a kernel's view of its own tables. Then pt_size is linked in as a table
 * under a supervisor-only entry (pd_test[3], U/S clear), one of its leaves
 * mapping pt_apic with U/S set: no user code reaches that leaf, as U/S is
 * clear higher up the walk. Then pt_size is unlinked and the link
 * invalidated on both CPUs, and only then is its page mapped at V with U/S
 * set: a page that was a table, given to user space after it stopped
 * being one.
 *
 *   step 0  cpu0  V2 (pt_test[1]) -> pt_apic's page, U/S clear; read V2 =
 *                 pt_apic[0]
 *   step 1  cpu1  read V2 = pt_apic[0]
 *   step 2  cpu0  pt_size[5] -> pt_apic's page, U/S set (pt_size is no
 *                 table yet); pd_test[3] (not present) -> pt_size, U/S
 *                 clear (LINK_VA); read LINK_VA + 3 * 4096 = D, LINK_VA +
 *                 5 * 4096 = pt_apic[0]
 *   step 3  cpu1  read LINK_VA + 3 * 4096 = D, LINK_VA + 5 * 4096
 *   step 4  cpu0  unlink: pd_test[3] -> 0; invlpg LINK_VA + 3 * 4096 and
 *                 + 5 * 4096 (INVLPG drops the paging-structure caches too)
 *   step 5  cpu1  the same two invlpg (shootdown)
 *   step 6  cpu0  pt_size[5] back to its boot value (a store to a page that
 *                 is no table now); V (pt_test[0]) -> pt_size's page, U/S
 *                 set; read V = pt_size[0]
 *   step 7  cpu1  read V = pt_size[0]
 *   step 8  cpu0  clean-up: V, V2 -> 0, invlpg both
 *   step 9  cpu1  invlpg V, V2 (shootdown)
 *
 * Expected: no findings.
 */
#include "harness.h"

#define LINK_PAGE3 (LINK_VA + 3 * 4096)
#define LINK_PAGE5 (LINK_VA + 5 * 4096)

LITMUS_SCENARIO("pt_page_mapped_ok");

void scenario_cpu0(void)
{
	step_map(0, "kernel-map", TEST_VA2, pte_page(PT_APIC_PA),
		 PT_APIC_ENTRY0);

	step_begin(2);
	litmus_phase("link-table");
	write_pte(&pt_size[5], pte_page_user(PT_APIC_PA));
	write_pte(link_pde(), PT_SIZE_PA | PTE_TABLE);
	check_read(LINK_PAGE3, MARKER_D);
	check_read(LINK_PAGE5, PT_APIC_ENTRY0);
	step_end(2);

	step_begin(4);
	litmus_phase("unlink-table");
	write_pte(link_pde(), PTE_NONE);
	invlpg(LINK_PAGE3);
	invlpg(LINK_PAGE5);
	step_end(4);

	step_begin(6);
	litmus_phase("user-map");
	write_pte(&pt_size[5], pt_size_entry(5));
	write_pte(test_pte(TEST_VA), pte_page_user(PT_SIZE_PA));
	check_read(TEST_VA, pt_size_entry(0));
	step_end(6);

	step_begin(8);
	litmus_phase("cleanup");
	write_pte(test_pte(TEST_VA), PTE_NONE);
	invlpg(TEST_VA);
	write_pte(test_pte(TEST_VA2), PTE_NONE);
	invlpg(TEST_VA2);
	step_end(8);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA2, PT_APIC_ENTRY0);

	step_begin(3);
	check_read(LINK_PAGE3, MARKER_D);
	check_read(LINK_PAGE5, PT_APIC_ENTRY0);
	step_end(3);

	step_begin(5);
	invlpg(LINK_PAGE3);
	invlpg(LINK_PAGE5);
	step_end(5);

	step_read(7, NULL, TEST_VA, pt_size_entry(0));

	step_begin(9);
	invlpg(TEST_VA);
	invlpg(TEST_VA2);
	step_end(9);
}
