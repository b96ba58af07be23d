/* SPDX-License-Identifier: MIT */
/*
 * size_change: CPU0 replaces a 2 MiB page by a page table that maps the
 * same 2 MiB except page k = 3, which now maps data page D, and does not
 * invalidate: its TLB still holds the 2 MiB translation, so its read of
 * page 3 still returns the old page.
 *
 * S = SIZE_REGION_VA (pd_test[1], statically SIZE_PDE_LARGE), the table is
 * pt_size (SIZE_PDE_TABLE, boot.S), page 3 is SIZE_CHANGE_VA.
 *
 *   step 0  cpu0  read S + 3 * 4096 = SIZE_MARKER(3) (via the 2 MiB page)
 *   step 1  cpu1  read S + 3 * 4096 = SIZE_MARKER(3)
 *   step 2  cpu0  pd_test[1] -> pt_size, no invlpg; read S + 3 * 4096 =
 *                 SIZE_MARKER(3), the old page, through the stale 2 MiB
 *                 entry  <- finding
 *   step 3  cpu0  clean-up: invlpg S + 3 * 4096; read page 3 = D,
 *                 page 4 = SIZE_MARKER(4)
 *   step 4  cpu1  clean-up: invlpg S + 3 * 4096; read page 3 = D
 *
 * Expected: exactly one PTW_K_STALE_TLB_ACCESS (CPU0's read in step 2).
 */
#include "harness.h"

LITMUS_SCENARIO("size_change", {PTW_K_STALE_TLB_ACCESS, 1});

void scenario_cpu0(void)
{
	step_read(0, "fill", SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));

	step_begin(2);
	litmus_phase("split");
	write_pte(&pd_test[1], SIZE_PDE_TABLE);
	/* the stale 2 MiB translation */
	check_read(SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));
	step_end(2);

	step_begin(3);
	litmus_phase("invalidate");
	invlpg(SIZE_CHANGE_VA);
	check_size_split();
	step_end(3);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));
	step_invlpg_read(4, NULL, SIZE_CHANGE_VA, MARKER_D);
}
