/* SPDX-License-Identifier: MIT */
/*
 * data_copy_ok: the counterpart of data_mismatch. Before remapping the
 * tracked TEST_VA, CPU0 copies the old page to the new one through the
 * identity map (as a page migration does), so CPU1's load returns what the
 * address space last stored there. Expect no finding.
 *
 *   setup: TEST_VA -> E
 *   CPU0: ptw_track(TEST_VA, 4096); read TEST_VA -> E's marker; store
 *         DATA_PATTERN(i) to all 512 words through TEST_VA
 *   CPU0: copy page E to page F (512 loads and stores, identity map);
 *         full BBM -> F (invalid; dsb ish; tlbi vae1is; dsb ish; valid F;
 *         dsb ish; isb)
 *   CPU1: load word 0 of TEST_VA -> DATA_PATTERN(0)
 *   CPU0: clean-up: ptw_untrack(TEST_VA, 4096)
 */
#include "harness.h"

static void cpu0_copy_remap(void)
{
	litmus_phase("copy");
	for (uint64_t i = 0; i < 512; i++)
		write_va(DATA_PAGE_F + i * 8, read_va(DATA_PAGE_E + i * 8));
	litmus_phase("remap-to-copy");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_F));
}

static void cpu1_load(void)
{
	litmus_phase("cpu1-load");
	litmus_read_check("cpu1 load after remap", TEST_VA, DATA_PATTERN(0));
}

static const struct litmus_step steps[] = {
	{0, cpu0_track_fill}, /* step 0 */
	{0, cpu0_copy_remap}, /* step 1 */
	{1, cpu1_load},	      /* step 2 */
	{0, cpu0_untrack},    /* step 3 */
};

LITMUS_SCENARIO("data_copy_ok", setup_test_va_e, steps);
