/* SPDX-License-Identifier: MIT */
/*
 * bbm_perm_ok: TEST_VA -> page A goes from read-write to read-only with a
 * direct valid-to-valid write that changes only AP[2]. A permission-only
 * change needs no break-before-make. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: valid RW -> valid RO (same page); dsb ish; tlbi vae1is; dsb ish;
 *         isb
 *   CPU0, CPU1: read TEST_VA -> A (reads only: a write would fault now)
 */
#include "harness.h"

static void cpu0_make_ro(void)
{
	litmus_phase("make-ro");
	write_desc_dsb(test_pte(TEST_VA),
		       test_page_desc(DATA_PAGE_A) | PTE_AP_RDONLY);
	tlbi_sync(TEST_VA);
	cpu0_after_a();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	   /* steps 0, 1 */
	{0, cpu0_make_ro}, /* step 2 */
	{1, cpu1_after_a}, /* step 3 */
};

LITMUS_SCENARIO("bbm_perm_ok", setup_test_va_a, steps);
