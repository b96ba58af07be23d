/* SPDX-License-Identifier: MIT */
/*
 * hostile_root_outside_ram: TTBR1_EL1 is pointed at a physical address no
 * RAM backs (1 TiB) and upper-half walks are enabled (TCR_EL1.EPD1 = 0),
 * then both are put back. ptwatch must not read there, must say so
 * ("table-not-ram" warning) and go on. Nothing runs in the upper half, so
 * the guest never walks it. Then a correct remap: expect no finding.
 */
#include "harness.h"

#define BAD_ROOT (1ULL << 40)
#define TCR_EPD1 (1ULL << 23)

static void cpu0_bad_root(void)
{
	uint64_t tcr, ttbr1;

	litmus_phase("bad-root");
	__asm__ volatile("mrs %0, tcr_el1" : "=r"(tcr));
	__asm__ volatile("mrs %0, ttbr1_el1" : "=r"(ttbr1));
	__asm__ volatile("msr ttbr1_el1, %0; isb" : : "r"(BAD_ROOT));
	__asm__ volatile("msr tcr_el1, %0; isb" : : "r"(tcr & ~TCR_EPD1));
	read_va(TEST_VA);
	__asm__ volatile("msr tcr_el1, %0; isb" : : "r"(tcr));
	__asm__ volatile("msr ttbr1_el1, %0; isb" : : "r"(ttbr1));
	__asm__ volatile("tlbi vmalle1is; dsb ish; isb" : : : "memory");
}

static const struct litmus_step steps[] = {
	{0, cpu0_bad_root}, /* step 0 */
	STEPS_BEFORE_A,	    /* steps 1, 2 */
	{0, cpu0_break},    /* step 3 */
	{0, cpu0_make_b},   /* step 4 */
	{1, cpu1_after_b},  /* step 5 */
};

LITMUS_SCENARIO("hostile_root_outside_ram", setup_test_va_a, steps);
