/* SPDX-License-Identifier: MIT */
/*
 * mem_churn: bench/modes's bare-metal workload (built as
 * bench-arm64-mem_churn.elf, not part of the litmus catalogue): a
 * memory-heavy loop with page-table churn, done right. CPU0 writes a
 * 16 MiB buffer in identity-mapped RAM, then remaps TEST_VA (A <-> B) with
 * break-before-make (invalid; dsb ish; tlbi vae1is; dsb ish; valid) and
 * reads it through; PASSES times. Most accesses touch no page table: what
 * checking costs on ordinary memory traffic. Expect no finding.
 */
#include "harness.h"

#define BUF_PA	  0x48000000ULL /* 16 MiB of free RAM (256 MiB guest) */
#define BUF_WORDS ((16u << 20) / 8)
#define PASSES	  64u

static void cpu0_churn(void)
{
	volatile uint64_t *buf = (volatile uint64_t *)BUF_PA;
	uint64_t sum = 0;

	litmus_phase("churn");
	for (unsigned int p = 0; p < PASSES; p++) {
		for (unsigned int i = 0; i < BUF_WORDS; i++)
			buf[i] = i + p;
		break_va(TEST_VA);
		make_va(TEST_VA,
			test_page_desc(p & 1 ? DATA_PAGE_A : DATA_PAGE_B));
		litmus_read_check("cpu0 churn", TEST_VA,
				  p & 1 ? MARKER_A : MARKER_B);
	}
	for (unsigned int i = 0; i < BUF_WORDS; i++)
		sum += buf[i];
	/* the last pass wrote i + PASSES - 1 */
	litmus_check("buffer sum", sum,
		     (uint64_t)BUF_WORDS * (BUF_WORDS - 1) / 2 +
			     (uint64_t)BUF_WORDS * (PASSES - 1));
}

static const struct litmus_step steps[] = {
	{0, cpu0_churn},
};

LITMUS_SCENARIO("mem_churn", setup_test_va_a, steps);
