/* SPDX-License-Identifier: MIT */
/*
 * stale_moved_ok: CPU0 moves page A from TEST_VA to TEST_VA2 the way
 * mremap() moves a range (move_ptes(): the old entry cleared, the same page
 * mapped at the new address, the old address's flush after the move), and
 * writes through the new address. CPU1 still loads TEST_VA through its
 * stale translation before that flush: it reaches the same page with the
 * same data (it sees the word CPU0 stored through TEST_VA2), so this is a
 * deferred-flush window, counted as a statistic: a new mapping of the old
 * page at another VA is a move, not a reuse. Expect no finding.
 *
 *   CPU0, CPU1: read TEST_VA -> A (fills both TLBs)
 *   CPU0: TEST_VA invalid; dsb ish (no tlbi yet); TEST_VA2 invalid -> A;
 *         dsb ish; isb; store MOVED_VALUE at TEST_VA2 + 8; read TEST_VA2
 *         -> A's marker
 *   CPU1: read TEST_VA + 8 -> MOVED_VALUE (stale: the same page)
 *   CPU0: tlbi vae1is TEST_VA; dsb ish; isb (the move's flush, both
 *         CPUs); read TEST_VA2 -> A's marker, TEST_VA2 + 8 -> MOVED_VALUE
 *   CPU1: read TEST_VA2 -> A's marker, TEST_VA2 + 8 -> MOVED_VALUE
 *
 * TEST_VA2 stays mapped (valid, nothing to invalidate).
 */
#include "harness.h"

static void cpu1_stale_read_moved(void)
{
	litmus_phase("stale-read");
	litmus_read_check("cpu1 stale read", TEST_VA + 8, MOVED_VALUE);
}

static void cpu0_flush_check(void)
{
	cpu0_cleanup();
	litmus_read_check("cpu0 read v2", TEST_VA2, MARKER_A);
	litmus_read_check("cpu0 read v2+8", TEST_VA2 + 8, MOVED_VALUE);
}

static void cpu1_check(void)
{
	litmus_read_check("cpu1 read v2", TEST_VA2, MARKER_A);
	litmus_read_check("cpu1 read v2+8", TEST_VA2 + 8, MOVED_VALUE);
}

static const struct litmus_step steps[] = {
	STEPS_BEFORE_A,		    /* steps 0, 1 */
	{0, cpu0_move_to_va2},	    /* step 2 */
	{1, cpu1_stale_read_moved}, /* step 3 */
	{0, cpu0_flush_check},	    /* step 4 */
	{1, cpu1_check},	    /* step 5 */
};

LITMUS_SCENARIO("stale_moved_ok", setup_test_va_a, steps);
