/* SPDX-License-Identifier: MIT */
/*
 * hostile_mmu_toggle: CPU0 turns its MMU off and on again 200 times
 * (SCTLR_EL1.M; the image runs identity-mapped, VA == PA, so execution
 * goes on), storing to a data page each time while off. ptwatch drops and
 * re-finds CPU0's roots each time and must neither lose track of the
 * tables nor report anything for the toggles; then CPU0 takes TEST_VA down
 * without invalidating and reads through it (one STALE_TLB_ACCESS: the
 * checker still works after the toggles).
 */
#include "harness.h"

#ifndef NTOGGLE
#define NTOGGLE 200
#endif

static void cpu0_toggle(void)
{
	uint64_t sctlr;

	litmus_phase("toggle");
	__asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
	for (int i = 0; i < NTOGGLE; i++) {
		__asm__ volatile("dsb sy; msr sctlr_el1, %0; isb"
				 :
				 : "r"(sctlr & ~1ULL)
				 : "memory");
		write_va(DATA_PAGE_Z, (uint64_t)i);
		__asm__ volatile("tlbi vmalle1; dsb nsh; msr sctlr_el1, %0; isb"
				 :
				 : "r"(sctlr)
				 : "memory");
	}
	litmus_check("cpu0 data after toggles", read_va(DATA_PAGE_Z),
		     NTOGGLE - 1);
}

static void cpu0_stale(void)
{
	cpu0_unmap();
	/* no invalidation: this load uses the stale translation */
	litmus_phase("stale-read");
	litmus_read_check("cpu0 stale read", TEST_VA, MARKER_A);
	cpu0_cleanup();
}

static const struct litmus_step steps[] = {
	{0, cpu0_toggle}, /* step 0 */
	STEPS_BEFORE_A,	  /* steps 1, 2 */
	{0, cpu0_stale},  /* step 3 */
	{1, cpu1_done},	  /* step 4 */
};

LITMUS_SCENARIO("hostile_mmu_toggle", setup_test_va_a, steps,
		{PTW_K_STALE_TLB_ACCESS, 1});
