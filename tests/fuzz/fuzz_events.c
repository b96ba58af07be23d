/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: arbitrary event streams into the engine.
 *
 * Input: one byte of architecture (bit 0: arm64, else x86-64), one of vCPU
 * count (1 + n % 4), then trace records (docs/trace-format.md, "Records"):
 * events, and the reads that answer the engine's reads of guest memory.
 * Seeded with the records of recorded litmus traces (tests/fuzz/run.py).
 * The engine must neither crash, nor trip ASan/UBSan, nor leak.
 */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "ptw.h"
#include "ptw_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 2)
		return 0;
	ptw_trace_meta m = {
		.version = PTW_TRACE_VERSION,
		.arch = (d[0] & 1) ? PTW_ARCH_ARM64 : PTW_ARCH_X86_64,
		.ncpus = 1 + d[1] % 4,
		.max_pending = 512,
	};
	ptw_trace_reader *r = ptw_trace_reader_open_raw(d + 2, n - 2, &m);
	ptw_config cfg = {
		.arch = m.arch,
		.ncpus = m.ncpus,
		.read_phys = ptw_trace_read_phys,
		.read_opaque = r,
		.max_pending = m.max_pending,
		.widen_ns = 1000,
	};
	char *err = NULL;
	ptw_engine *e = ptw_engine_new(&cfg, &err);
	if (!e)
		__builtin_trap(); /* a valid configuration */
	ptw_event ev;
	while (ptw_trace_next_event(r, &ev, &err) == 1) {
		ptw_engine_event(e, &ev);
		if (ev.kind == PTW_EV_FINISH)
			break;
		ptw_take_stall(e, ev.ctx.cpu % PTW_MAX_CPUS);
	}
	g_free(err);
	ptw_engine_finish(e);
	(void)ptw_findings_total(e);
	ptw_engine_free(e);
	ptw_trace_reader_close(r);
	return 0;
}
