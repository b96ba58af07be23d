/* SPDX-License-Identifier: MIT */
/*
 * The timeline of a replay (ptwatch-replay --timeline FILE): the engine's
 * timeline sink (ptw_config.timeline) collected, then written as Chrome
 * trace-event JSON that Perfetto loads. docs/timeline.md.
 */
#ifndef PTW_TIMELINE_H
#define PTW_TIMELINE_H

#include "engine/ptw.h"

typedef struct ptw_tl_writer ptw_tl_writer;

/* source: the trace's path, for the file's metadata */
ptw_tl_writer *ptw_tl_writer_new(ptw_arch arch, unsigned ncpus,
				 const char *source);
/* the sink to put in ptw_config.timeline (lives as long as w) */
const ptw_timeline_sink *ptw_tl_writer_sink(ptw_tl_writer *w);
/* before each event goes to the engine: its vCPU's clock (icount), and
 * the event's place in the trace */
void ptw_tl_writer_clock(ptw_tl_writer *w, unsigned cpu, uint64_t icount);
/* write FILE (complete: the replay reached the trace's end); false and
 * *err (g_free) when it cannot be written */
bool ptw_tl_writer_write(ptw_tl_writer *w, const char *path, bool complete,
			 char **err);
void ptw_tl_writer_free(ptw_tl_writer *w);

#endif
