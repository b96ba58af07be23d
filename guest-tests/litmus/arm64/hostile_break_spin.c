/* SPDX-License-Identifier: MIT */
/*
 * hostile_break_spin: CPU0 opens a break on TEST_VA (invalid; dsb ish)
 * and spins there for 100 million iterations before it invalidates and
 * makes the new entry, while CPU1 waits its turn. A long break is legal
 * and costs nothing to check: expect no finding (and no growth: the run's
 * memory is measured by tests/plugin/hostile.py).
 */
#include "harness.h"

static void cpu0_break_spin(void)
{
	litmus_phase("break");
	unmap_va(TEST_VA);
	litmus_phase("spin");
	for (unsigned long i = 0; i < 100000000ul; i++)
		__asm__ volatile("" : : "r"(i));
	litmus_phase("invalidate");
	tlbi_vae1is(TEST_VA);
	dsb_ish();
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,	      /* steps 0, 1 */
	{0, cpu0_break_spin}, /* step 2 */
	{0, cpu0_make_b},     /* step 3 */
	{1, cpu1_after_b},    /* step 4 */
};

LITMUS_SCENARIO("hostile_break_spin", setup_test_va_a, steps);
