/* SPDX-License-Identifier: MIT */
/*
 * contig_ok: CPU0 maps the unit as one consistent contiguous group: 16
 * aligned entries, all with PTE_CONT, mapping 16 contiguous pages from a
 * 64 KiB-aligned PA with identical attributes. Expect no finding.
 *
 *   CPU0: 16 invalid -> valid stores (PTE_CONT); dsb ish; isb
 *   CPU0, CPU1: read all 16 pages -> UNIT_MARKER(i)
 *
 * The group stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

static void cpu0_map_group(void)
{
	litmus_phase("contig-map");
	unit_map(PTE_CONT);
	litmus_phase("read");
	unit_read_check("cpu0 contig read", 0, UNIT_PAGES - 1);
}

static void cpu1_read(void)
{
	unit_read_check("cpu1 contig read", 0, UNIT_PAGES - 1);
}

static const struct litmus_step steps[] = {
	{0, cpu0_map_group}, /* step 0 */
	{1, cpu1_read},	     /* step 1 */
};

/* no setup: mapping the group is the step under test */
LITMUS_SCENARIO("contig_ok", NULL, steps);
