/* SPDX-License-Identifier: MIT */
/*
 * dirty_seen_ok: dirty_lost done as Linux's ptep_modify_prot_start() and
 * commit do it: CPU0 takes TEST_VA's entry with an atomic swap (which
 * returns it with AP[2] clear, as CPU1's MMU left it), completes the
 * break, and writes the read-only entry with the dirty state kept in
 * Linux's software bit (PTE_DIRTY, bit 55). CPU0 saw the dirty entry.
 *
 *   setup   TEST_VA -> A, DBM, AP[2] (writable, clean)
 *   step 0  cpu0  HA, HD on; read TEST_VA = A
 *   step 1  cpu1  HA, HD on; write TEST_VA (its MMU clears AP[2])
 *   step 2  cpu0  swp 0 into TEST_VA's entry (returns it dirty); dsb ish;
 *                 tlbi vae1is; dsb ish; the entry -> read-only with
 *                 PTE_DIRTY; dsb ish; isb
 *   step 3  cpu1  read TEST_VA = A
 *
 * Expected: no findings.
 */
#include "harness.h"

#define PTE_SW_DIRTY (1ULL << 55) /* Linux's PTE_DIRTY */

static void cpu0_read(void)
{
	hafdbs_on();
	litmus_read_check("cpu0 before", TEST_VA, MARKER_A);
}

static void cpu0_modify_prot(void)
{
	litmus_phase("modify-prot");
	uint64_t old = 0;
	__asm__ volatile(".arch_extension lse\n\tswpal %1, %0, [%2]"
			 : "=&r"(old)
			 : "r"(0ULL), "r"(test_pte(TEST_VA))
			 : "memory");
	litmus_check("swapped-out entry is dirty (AP[2] clear)",
		     old & PTE_AP_RDONLY, 0);
	dsb_ish();
	tlbi_sync(TEST_VA);
	make_va(TEST_VA, (old & ~PTE_DBM) | PTE_AP_RDONLY | PTE_SW_DIRTY);
}

static const struct litmus_step steps[] = {
	{0, cpu0_read},		  /* step 0 */
	{1, cpu1_hafdbs_write_a}, /* step 1 */
	{0, cpu0_modify_prot},	  /* step 2 */
	{1, cpu1_after_a},	  /* step 3 */
};

LITMUS_SCENARIO("dirty_seen_ok", setup_test_va_a_writable_clean, steps);
