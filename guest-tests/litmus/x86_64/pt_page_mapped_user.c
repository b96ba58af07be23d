/* SPDX-License-Identifier: MIT */
/*
 * pt_page_mapped_user: a live last-level page table is also mapped at V2 by
 * a user-accessible leaf (U/S set, and set on the whole walk to pt_test), so
 * CPL 3 code could read and rewrite the entries through it. The table is
 * pt_apic, which maps the local APIC (pml4[0] -> pdpt[3] -> pd_apic[0x1f7]
 * -> pt_apic) and which both CPUs walk whenever they touch the APIC.
 *
 *   step 0  cpu0  V2 (pt_test[1]) -> pt_apic's page, U/S set (V2 was not
 *                 present before)  <- finding; read V2 = pt_apic[0]
 *   step 1  cpu1  read V2 = pt_apic[0]
 *   step 2  cpu0  clean-up: V2 -> not present (0), invlpg V2
 *   step 3  cpu1  invlpg V2 (shootdown)
 *
 * The reads through V2 are CPL 0 loads (CR4.SMAP is clear): they show the
 * mapping is live; no CPL 3 code runs.
 *
 * Expected: exactly one PT_PAGE_MAPPED, an error (CPU0's store in step 0).
 */
#include "harness.h"

LITMUS_SCENARIO("pt_page_mapped_user",
		{PTW_EXPECT_SEV(PTW_K_PT_PAGE_MAPPED, PTW_SEV_ERROR), 1});

void scenario_cpu0(void)
{
	step_map(0, "user-map", TEST_VA2, pte_page_user(PT_APIC_PA),
		 PT_APIC_ENTRY0);
	step_write_pte_invlpg(2, "cleanup", TEST_VA2, PTE_NONE);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, TEST_VA2, PT_APIC_ENTRY0);
	step_invlpg(3, NULL, TEST_VA2);
}
