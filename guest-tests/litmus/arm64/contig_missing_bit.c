/* SPDX-License-Identifier: MIT */
/*
 * contig_missing_bit: CPU0 maps the unit as one contiguous group (PTE_CONT,
 * bit 52, on 16 aligned entries mapping 16 contiguous pages), but the group
 * is misprogrammed: entry 5 lacks PTE_CONT while the other 15 have it.
 * Expect one CONTIG_MISPROGRAMMED.
 *
 *   CPU0: 16 invalid -> valid stores, entries 0..15 with PTE_CONT except
 *         that entry 5 lacks PTE_CONT; dsb ish; isb
 *   CPU1: acknowledges (no access: a misprogrammed group is CONSTRAINED
 *         UNPREDICTABLE on hardware; QEMU ignores the contiguous hint)
 *
 * The group stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

/* Entry 5: without PTE_CONT. */
LITMUS_CONTIG_BAD_SCENARIO("contig_missing_bit",
			   unit_page_desc(CONTIG_BAD_INDEX));
