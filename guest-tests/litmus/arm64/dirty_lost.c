/* SPDX-License-Identifier: MIT */
/*
 * dirty_lost: with FEAT_HAFDBS on (TCR_EL1.HA and HD), TEST_VA maps page A
 * writable-clean (DBM set, AP[2] set). CPU0 loads the entry, CPU1 writes
 * TEST_VA (its MMU clears AP[2]: dirty), then CPU0 write-protects TEST_VA
 * with a plain store of a value computed from what it loaded: DBM clear,
 * AP[2] set, no software dirty bit. The only record that CPU1 wrote page A
 * is gone (Linux's pte_wrprotect() would have moved it to PTE_DIRTY).
 *
 *   setup   TEST_VA -> A, DBM, AP[2] (writable, clean)
 *   step 0  cpu0  HA, HD on; read TEST_VA = A; load TEST_VA's entry (clean)
 *   step 1  cpu1  HA, HD on; write TEST_VA (its MMU clears AP[2])
 *   step 2  cpu0  TEST_VA's entry -> the loaded value without DBM (a plain
 *                 store); dsb ish; tlbi vae1is; dsb ish   <- finding
 *   step 3  cpu1  read TEST_VA = A
 *
 * Only a QEMU that reports its MMU's access/dirty updates (qemu-patches/)
 * shows it: one DIRTY_LOST, an error. Stock QEMU: nothing (the expectation
 * is dropped).
 */
#include "harness.h"

static uint64_t seen; /* TEST_VA's entry as CPU0 loaded it in step 0 */

static void cpu0_load_clean(void)
{
	hafdbs_on();
	litmus_read_check("cpu0 before", TEST_VA, MARKER_A);
	seen = load_desc(test_pte(TEST_VA));
}

static void cpu0_wrprotect_from_old(void)
{
	litmus_phase("wrprotect");
	write_desc(test_pte(TEST_VA), seen & ~PTE_DBM);
	dsb_ish();
	tlbi_sync(TEST_VA);
}

static const struct litmus_step steps[] = {
	{0, cpu0_load_clean},	      /* step 0 */
	{1, cpu1_hafdbs_write_a},     /* step 1 */
	{0, cpu0_wrprotect_from_old}, /* step 2 */
	{1, cpu1_after_a},	      /* step 3 */
};

LITMUS_SCENARIO("dirty_lost", setup_test_va_a_writable_clean, steps,
		{PTW_EXPECT_PATCHED(PTW_EXPECT_SEV(PTW_K_DIRTY_LOST,
						   PTW_SEV_ERROR)),
		 1});
