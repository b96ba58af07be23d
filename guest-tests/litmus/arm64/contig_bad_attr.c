/* SPDX-License-Identifier: MIT */
/*
 * contig_bad_attr: CPU0 maps the unit as one contiguous group (PTE_CONT,
 * bit 52, on 16 aligned entries mapping 16 contiguous pages), but the group
 * is misprogrammed: entry 5 has AttrIndx 1 (Device-nGnRnE) where the other
 * 15 have AttrIndx 0 (Normal).
 * Expect one CONTIG_MISPROGRAMMED.
 *
 *   CPU0: 16 invalid -> valid stores, entries 0..15 with PTE_CONT except
 *         that entry 5 has AttrIndx 1; dsb ish; isb
 *   CPU1: acknowledges (no access: a misprogrammed group is CONSTRAINED
 *         UNPREDICTABLE on hardware; QEMU ignores the contiguous hint)
 *
 * The group stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

/* Entry 5: AttrIndx 1 (Device-nGnRnE) instead of 0. */
#define BAD_DESC                                                               \
	((unit_page_desc(CONTIG_BAD_INDEX) & ~PTE_ATTRINDX(7)) |               \
	 PTE_ATTRINDX(MT_DEVICE) | PTE_CONT)

LITMUS_CONTIG_BAD_SCENARIO("contig_bad_attr", BAD_DESC);
