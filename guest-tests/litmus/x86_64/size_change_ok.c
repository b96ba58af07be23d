/* SPDX-License-Identifier: MIT */
/*
 * size_change_ok: size_change done right: after replacing the 2 MiB page
 * by the page table, both CPUs invalidate page 3 (INVLPG of any address in
 * a large page drops the whole large-page translation) before reading it.
 *
 * S = SIZE_REGION_VA (pd_test[1], statically SIZE_PDE_LARGE), the table is
 * pt_size (SIZE_PDE_TABLE, boot.S), page 3 is SIZE_CHANGE_VA.
 *
 *   step 0  cpu0  read S + 3 * 4096 = SIZE_MARKER(3) (via the 2 MiB page)
 *   step 1  cpu1  read S + 3 * 4096 = SIZE_MARKER(3)
 *   step 2  cpu0  pd_test[1] -> pt_size, invlpg S + 3 * 4096
 *   step 3  cpu1  invlpg S + 3 * 4096
 *   step 4  cpu0  read page 3 = D, page 4 = SIZE_MARKER(4)
 *   step 5  cpu1  read page 3 = D
 *
 * Expected: no findings.
 */
#include "harness.h"

LITMUS_SCENARIO("size_change_ok");

void scenario_cpu0(void)
{
	step_read(0, "fill", SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));

	step_begin(2);
	litmus_phase("split");
	write_pte(&pd_test[1], SIZE_PDE_TABLE);
	invlpg(SIZE_CHANGE_VA);
	step_end(2);

	step_begin(4);
	litmus_phase("check");
	check_size_split();
	step_end(4);
}

void scenario_cpu1(void)
{
	step_read(1, NULL, SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));
	step_invlpg(3, NULL, SIZE_CHANGE_VA);
	step_read(5, NULL, SIZE_CHANGE_VA, MARKER_D);
}
