/* SPDX-License-Identifier: MIT */
/*
 * contig_fold_ok: the unit, mapped without PTE_CONT, is folded into a
 * contiguous group and later unfolded again, each time with a full
 * break-before-make of all 16 entries (as Linux's contpte code does).
 * Expect no finding.
 *
 *   setup: CPU0 maps the unit without PTE_CONT (16 stores, dsb ish, isb)
 *   CPU0, CPU1: read all 16 pages (fills both TLBs)
 *   CPU0: fold: 16 invalid; dsb ish; tlbi vae1is x16; dsb ish;
 *         16 valid with PTE_CONT; dsb ish; isb
 *   CPU0, CPU1: read all 16 pages
 *   CPU0: unfold: 16 invalid; dsb ish; tlbi vae1is x16; dsb ish;
 *         16 valid without PTE_CONT; dsb ish; isb
 *   CPU0, CPU1: read all 16 pages
 */
#include "harness.h"

/* Full BBM of the whole unit, to descriptors with extra bits 'extra'. */
static void unit_rewrite(uint64_t extra)
{
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_desc(unit_pte(i), 0);
	dsb_ish();
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		tlbi_vae1is(unit_va(i));
	dsb_ish();
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_desc(unit_pte(i), unit_page_desc(i) | extra);
	dsb_ish();
	isb();
}

static void cpu0_fold(void)
{
	litmus_phase("fold");
	unit_rewrite(PTE_CONT);
	litmus_phase("folded");
	unit_read_check("cpu0 unit folded", 0, UNIT_PAGES - 1);
}

static void cpu1_folded(void)
{
	unit_read_check("cpu1 unit folded", 0, UNIT_PAGES - 1);
}

static void cpu0_unfold(void)
{
	litmus_phase("unfold");
	unit_rewrite(0);
	litmus_phase("unfolded");
	unit_read_check("cpu0 unit unfolded", 0, UNIT_PAGES - 1);
}

static void cpu1_unfolded(void)
{
	unit_read_check("cpu1 unit unfolded", 0, UNIT_PAGES - 1);
}

static const struct litmus_step steps[] = {
	STEPS_UNIT_BEFORE,  /* steps 0, 1 */
	{0, cpu0_fold},	    /* step 2 */
	{1, cpu1_folded},   /* step 3 */
	{0, cpu0_unfold},   /* step 4 */
	{1, cpu1_unfolded}, /* step 5 */
};

LITMUS_SCENARIO("contig_fold_ok", setup_unit, steps);
