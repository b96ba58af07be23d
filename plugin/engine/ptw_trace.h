/* SPDX-License-Identifier: MIT */
/*
 * Traces: the engine's event stream and every guest-memory read it made,
 * zlib-compressed in blocks (docs/trace-format.md). Written by the engine
 * itself when ptw_config.trace_path is set; read back by ptwatch-replay,
 * which feeds the events to a fresh engine and answers its reads from the
 * trace.
 */
#ifndef PTW_TRACE_H
#define PTW_TRACE_H

#include "ptw.h"

#define PTW_TRACE_MAGIC	  "PTWTRACE"
#define PTW_TRACE_VERSION 1

typedef struct {
	uint32_t version;
	ptw_arch arch;
	unsigned ncpus;
	unsigned max_pending;
	uint64_t widen_ns;
	/* the plugin's arguments, one "key=value" per line (symbols=,
	 * suppress=, known= ... as the live run had them) */
	char *args;
} ptw_trace_meta;

/* ---- writing (the engine calls these under its lock) ---- */
typedef struct ptw_trace_writer ptw_trace_writer;
ptw_trace_writer *ptw_trace_writer_open(const char *path,
					const ptw_trace_meta *m, char **err);
void ptw_trace_write_event(ptw_trace_writer *w, const ptw_event *ev);
/* buf NULL: the read failed (not RAM) */
void ptw_trace_write_read(ptw_trace_writer *w, uint64_t pa, size_t len,
			  const void *buf);
/* a register the engine read (ok false: it could not) */
void ptw_trace_write_gpr(ptw_trace_writer *w, unsigned cpu, unsigned n, bool ok,
			 uint64_t value);
/* flush, wait for the compressor, close; false and *err on a write error
 * seen at any time (a full disk) */
bool ptw_trace_writer_close(ptw_trace_writer *w, char **err);
/* events and raw bytes so far (stats) */
uint64_t ptw_trace_writer_events(ptw_trace_writer *w);

/* ---- reading ---- */
typedef struct ptw_trace_reader ptw_trace_reader;
ptw_trace_reader *ptw_trace_reader_open(const char *path, char **err);
/* records from memory (one raw block's contents, no header): the fuzz
 * harness's input */
ptw_trace_reader *ptw_trace_reader_open_raw(const void *raw, size_t len,
					    const ptw_trace_meta *m);
const ptw_trace_meta *ptw_trace_reader_meta(ptw_trace_reader *r);
/* 1: *ev filled; 0: end of trace; -1: corrupt or truncated (*err names
 * the byte offset) */
int ptw_trace_next_event(ptw_trace_reader *r, ptw_event *ev, char **err);
/* for ptw_config.read_phys while an event is applied: the next record
 * must be that read; false (and the reader remembers why) otherwise */
bool ptw_trace_read_phys(void *reader, uint64_t pa, void *buf, size_t len);
/* for ptw_config.read_gpr while an event is applied: the next record */
bool ptw_trace_read_gpr(void *reader, unsigned cpu, unsigned n,
			uint64_t *value);
/* why the last ptw_trace_read_phys failed on a mismatch, or NULL */
const char *ptw_trace_reader_error(ptw_trace_reader *r);
/* events read, compressed and raw bytes consumed */
uint64_t ptw_trace_reader_events(ptw_trace_reader *r);
uint64_t ptw_trace_reader_raw_bytes(ptw_trace_reader *r);
void ptw_trace_reader_close(ptw_trace_reader *r);

/* Engine with a trace: the plugin's arguments go in the header. */
void ptw_trace_meta_free(ptw_trace_meta *m);

#endif
