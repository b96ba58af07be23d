/* SPDX-License-Identifier: MIT */
/*
 * stale_access: CPU0 unmaps TEST_VA but does not invalidate the TLB, then
 * loads from TEST_VA again. QEMU's softmmu TLB still holds the old
 * translation (it does not snoop page-table stores), so the load succeeds
 * and returns page A's marker: the access went through the stale entry.
 * Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; read TEST_VA -> A (stale); then the missing
 *         tlbi vae1is; dsb ish; isb
 *   CPU1: does not touch TEST_VA after the change (only acknowledges)
 */
#include "harness.h"

static void cpu0_stale(void)
{
	cpu0_unmap();
	/* No TLB invalidation: this load uses the stale translation. */
	litmus_phase("stale-read");
	litmus_read_check("cpu0 stale read", TEST_VA, MARKER_A);
	cpu0_cleanup();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	 /* steps 0, 1 */
	{0, cpu0_stale}, /* step 2 */
	{1, cpu1_done},	 /* step 3: nothing to access, TEST_VA is unmapped */
};

LITMUS_SCENARIO("stale_access", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
