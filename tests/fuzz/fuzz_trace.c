/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: arbitrary bytes as a trace file, replayed as
 * ptwatch-replay does (header, blocks, inflation, CRC, records, the
 * engine). Seeded with recorded litmus traces (tests/fuzz/run.py). A bad
 * file must give an error, never a crash, a sanitizer report or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib.h>

#include "ptw.h"
#include "ptw_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char path[64];

/* the input file goes when the fuzzer ends (libFuzzer exits with exit()) */
static void drop_input_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!path[0]) {
		snprintf(path, sizeof(path), "/dev/shm/ptw-fuzz-trace.%d",
			 (int)getpid());
		atexit(drop_input_file);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		__builtin_trap();
	fwrite(d, 1, n, f);
	fclose(f);
	char *err = NULL;
	ptw_trace_reader *r = ptw_trace_reader_open(path, &err);
	if (!r) {
		g_free(err);
		return 0;
	}
	const ptw_trace_meta *m = ptw_trace_reader_meta(r);
	ptw_config cfg = {
		.arch = m->arch,
		.ncpus = m->ncpus,
		.read_phys = ptw_trace_read_phys,
		.read_opaque = r,
		.max_pending = m->max_pending > 4096 ? 4096 : m->max_pending,
		.widen_ns = m->widen_ns,
	};
	ptw_engine *e = ptw_engine_new(&cfg, &err);
	if (!e)
		__builtin_trap(); /* the reader checked arch and ncpus */
	ptw_event ev;
	int k;
	while ((k = ptw_trace_next_event(r, &ev, &err)) == 1) {
		ptw_engine_event(e, &ev);
		if (ev.kind == PTW_EV_FINISH || ptw_trace_reader_error(r))
			break;
	}
	if (k < 0) {
		ptw_engine_abandon(e, err);
		g_free(err);
	} else
		ptw_engine_finish(e);
	ptw_engine_free(e);
	ptw_trace_reader_close(r);
	return 0;
}
