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

const char litmus_name[] = "size_change_ok";

void scenario_expect(void)
{
	/* Nothing is expected. */
}

void scenario_cpu0(void)
{
	step_begin(0);
	ptw_phase("fill");
	check_read(SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));
	step_end(0);

	step_begin(2);
	ptw_phase("split");
	write_pte(&pd_test[1], SIZE_PDE_TABLE);
	invlpg(SIZE_CHANGE_VA);
	step_end(2);

	step_begin(4);
	ptw_phase("check");
	check_read(SIZE_CHANGE_VA, MARKER_D);
	check_read(SIZE_REGION_VA + 4 * 0x1000, SIZE_MARKER(4));
	step_end(4);
}

void scenario_cpu1(void)
{
	step_begin(1);
	check_read(SIZE_CHANGE_VA, SIZE_MARKER(SIZE_CHANGE_PAGE));
	step_end(1);

	step_begin(3);
	invlpg(SIZE_CHANGE_VA);
	step_end(3);

	step_begin(5);
	check_read(SIZE_CHANGE_VA, MARKER_D);
	step_end(5);
}
