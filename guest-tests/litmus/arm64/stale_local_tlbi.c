/* SPDX-License-Identifier: MIT */
/*
 * stale_local_tlbi: CPU0 unmaps TEST_VA and invalidates only its own TLB
 * (TLBI VAE1, dsb nsh). CPU1's TLB keeps the old translation, and CPU1's
 * next load from TEST_VA goes through it and returns page A's marker.
 * Expect one STALE_TLB_ACCESS.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: invalid; dsb ish; tlbi vae1 (local); dsb nsh
 *   CPU1: read TEST_VA -> A (stale: QEMU's TLB of CPU1 was not flushed)
 *   CPU0: clean-up: tlbi vae1is; dsb ish; isb
 *
 * CPU1 touches nothing between its two reads but the handshake (image
 * pages, its stack), whose QEMU TLB slots differ from TEST_VA's (layout.h).
 */
#include "harness.h"

static void cpu0_unmap_local(void)
{
	cpu0_unmap();
	litmus_phase("tlbi-local");
	tlbi_vae1(TEST_VA);
	dsb_nsh();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,		/* steps 0, 1 */
	{0, cpu0_unmap_local},	/* step 2 */
	{1, cpu1_stale_read_a}, /* step 3 */
	{0, cpu0_cleanup},	/* step 4 */
};

LITMUS_SCENARIO("stale_local_tlbi", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
