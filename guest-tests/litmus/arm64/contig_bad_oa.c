/* SPDX-License-Identifier: MIT */
/*
 * contig_bad_oa: CPU0 maps the unit as one contiguous group (PTE_CONT, bit
 * 52, on 16 aligned entries mapping 16 contiguous pages), but the group is
 * misprogrammed: entry 5 points to a page outside the group's physical
 * range (DATA_PAGE_C instead of UNIT_PA + 5 pages).
 * Expect one CONTIG_MISPROGRAMMED.
 *
 *   CPU0: 16 invalid -> valid stores, entries 0..15 with PTE_CONT except
 *         that entry 5 maps DATA_PAGE_C; dsb ish; isb
 *   CPU1: acknowledges (no access: a misprogrammed group is CONSTRAINED
 *         UNPREDICTABLE on hardware; QEMU ignores the contiguous hint)
 *
 * The group stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

/* Entry 5: page C, outside the group's physical range. */
LITMUS_CONTIG_BAD_SCENARIO("contig_bad_oa",
			   test_page_desc(DATA_PAGE_C) | PTE_CONT);
