/* SPDX-License-Identifier: MIT */
/*
 * mem_churn: bench/modes's bare-metal workload (built as
 * bench-x86_64-mem_churn.elf, not part of the litmus catalogue): a
 * memory-heavy loop with page-table churn, done right. CPU0 writes a
 * 16 MiB buffer in identity-mapped RAM, then remaps V (A <-> B): not
 * present + invlpg, then present + invlpg, and reads it through; PASSES
 * times. Most accesses touch no page table: what checking costs on
 * ordinary memory traffic. Expect no finding.
 */
#include "harness.h"

#define BUF_PA	  0x04000000ULL /* 16 MiB of free RAM (256 MiB guest) */
#define BUF_WORDS ((16u << 20) / 8)
#define PASSES	  64u

LITMUS_SCENARIO("mem_churn");

void scenario_cpu0(void)
{
	volatile uint64_t *buf = (volatile uint64_t *)BUF_PA;
	uint64_t sum = 0;

	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_begin(1);
	litmus_phase("churn");
	for (unsigned int p = 0; p < PASSES; p++) {
		for (unsigned int i = 0; i < BUF_WORDS; i++)
			buf[i] = i + p;
		write_pte(test_pte(TEST_VA), PTE_NONE);
		invlpg(TEST_VA);
		write_pte(test_pte(TEST_VA),
			  pte_page(p & 1 ? DATA_PAGE_A : DATA_PAGE_B));
		invlpg(TEST_VA);
		check_read(TEST_VA, p & 1 ? MARKER_A : MARKER_B);
	}
	for (unsigned int i = 0; i < BUF_WORDS; i++)
		sum += buf[i];
	/* the last pass wrote i + PASSES - 1 */
	if (sum != (uint64_t)BUF_WORDS * (BUF_WORDS - 1) / 2 +
			   (uint64_t)BUF_WORDS * (PASSES - 1))
		litmus_fail("buffer sum %lx", sum);
	step_end(1);
}

void scenario_cpu1(void)
{
}
