/* SPDX-License-Identifier: MIT */
/*
 * data_copy_ok: the counterpart of data_mismatch. Before remapping the
 * tracked TEST_VA, CPU0 copies the old page to the new one through the
 * identity map (as a page migration does), so CPU1's load returns what the
 * address space last stored there. Expect no finding.
 *
 *   setup: TEST_VA -> E
 *   CPU0: ptw_track(TEST_VA, 4096); read TEST_VA -> E's marker; store
 *         PATTERN(i) to all 512 words through TEST_VA
 *   CPU0: copy page E to page F (512 loads and stores, identity map);
 *         full BBM -> F (invalid; dsb ish; tlbi vae1is; dsb ish; valid F;
 *         dsb ish; isb)
 *   CPU1: load word 0 of TEST_VA -> PATTERN(0)
 *   CPU0: clean-up: ptw_untrack(TEST_VA, 4096)
 */
#include "harness.h"

#define PATTERN(i) (0x5041545400000000ULL | (i)) /* "PATT" | word index */

static void setup(void)
{
	write_desc(test_pte(TEST_VA), test_page_desc(DATA_PAGE_E));
	dsb_ish();
	isb();
}

static void cpu0_fill(void)
{
	ptw_phase("track-fill");
	ptw_track((const volatile void *)TEST_VA, 4096);
	litmus_read_check("cpu0 read before fill", TEST_VA, MARKER_E);
	for (uint64_t i = 0; i < 512; i++)
		write_va(TEST_VA + i * 8, PATTERN(i));
}

static void cpu0_copy_remap(void)
{
	uint64_t *pte = test_pte(TEST_VA);

	ptw_phase("copy");
	for (uint64_t i = 0; i < 512; i++)
		write_va(DATA_PAGE_F + i * 8, read_va(DATA_PAGE_E + i * 8));
	ptw_phase("remap-to-copy");
	write_desc(pte, 0);
	dsb_ish();
	tlbi_vae1is(TEST_VA);
	dsb_ish();
	write_desc(pte, test_page_desc(DATA_PAGE_F));
	dsb_ish();
	isb();
}

static void cpu1_load(void)
{
	ptw_phase("cpu1-load");
	litmus_read_check("cpu1 load after remap", TEST_VA, PATTERN(0));
}

static void cpu0_cleanup(void)
{
	ptw_phase("cleanup");
	ptw_untrack((const volatile void *)TEST_VA, 4096);
}

static const struct litmus_step steps[] = {
	{ 0, cpu0_fill }, /* step 0 */
	{ 0, cpu0_copy_remap }, /* step 1 */
	{ 1, cpu1_load }, /* step 2 */
	{ 0, cpu0_cleanup }, /* step 3 */
};

const struct litmus_scenario litmus_scenario = {
	.name = "data_copy_ok",
	/* expects no finding: no .expect */
	.setup = setup,
	.steps = steps,
	.nr_steps = ARRAY_SIZE(steps),
};
