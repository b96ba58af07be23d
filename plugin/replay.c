/* SPDX-License-Identifier: MIT */
/*
 * ptwatch-replay: run the engine over a recorded trace (trace=FILE) and
 * write the same three logs as the live run (ptwatch.log, findings.jsonl,
 * summary.json). The engine's reads of guest memory are answered from the
 * trace. docs/trace-format.md.
 *
 *   ptwatch-replay TRACE --out DIR [--symbols F] [--suppress F] [--known F]
 *                  [--timeline FILE] [-v]   (-v: events by kind)
 *
 * --timeline FILE: also write the run's timeline, Chrome trace-event JSON
 * for Perfetto (plugin/timeline.c, docs/timeline.md).
 *
 * Symbols, suppressions and known issues default to the files the live run
 * named (its plugin arguments, kept in the trace's header).
 *
 * Exit: 0 replayed to the end; 1 the trace is truncated or corrupt, or the
 * replay diverged (the error names the byte offset; the logs hold the
 * findings up to there); 64 a bad command line or unreadable file.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "engine/ptw.h"
#include "engine/ptw_trace.h"
#include "timeline.h"

#define EX_USAGE 64

/* the value of key= in the header's arguments, or NULL */
static char *header_arg(const char *args, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(args, "\n", -1);
	size_t kl = strlen(key);
	for (char **l = lines; *l; l++)
		if (strncmp(*l, key, kl) == 0 && (*l)[kl] == '=')
			return g_strdup(*l + kl + 1);
	return NULL;
}

static int usage(const char *msg)
{
	fprintf(stderr,
		"ptwatch-replay: %s\n"
		"usage: ptwatch-replay TRACE --out DIR [--symbols FILE] "
		"[--suppress FILE] [--known FILE] [--timeline FILE] [-v]\n",
		msg);
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	const char *trace = NULL, *out = NULL;
	const char *opt_sym = NULL, *opt_sup = NULL, *opt_known = NULL;
	const char *timeline = NULL;
	bool verbose = false;
	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;
		if (!strcmp(argv[i], "-v")) {
			verbose = true;
			continue;
		}
		if (!strcmp(argv[i], "--out"))
			slot = &out;
		else if (!strcmp(argv[i], "--symbols"))
			slot = &opt_sym;
		else if (!strcmp(argv[i], "--suppress"))
			slot = &opt_sup;
		else if (!strcmp(argv[i], "--known"))
			slot = &opt_known;
		else if (!strcmp(argv[i], "--timeline"))
			slot = &timeline;
		else if (argv[i][0] == '-')
			return usage("unknown option");
		else if (!trace) {
			trace = argv[i];
			continue;
		} else
			return usage("one trace only");
		if (i + 1 >= argc)
			return usage("option needs a value");
		*slot = argv[++i];
	}
	if (!trace || !out)
		return usage("needs TRACE and --out DIR");

	char *err = NULL;
	ptw_trace_reader *r = ptw_trace_reader_open(trace, &err);
	if (!r) {
		fprintf(stderr, "ptwatch-replay: %s\n", err);
		g_free(err);
		return EX_USAGE;
	}
	const ptw_trace_meta *m = ptw_trace_reader_meta(r);
	g_autofree char *h_sym = header_arg(m->args, "symbols");
	g_autofree char *h_sup = header_arg(m->args, "suppress");
	g_autofree char *h_known = header_arg(m->args, "known");
	const char *sym = opt_sym ? opt_sym : h_sym;
	const char *sup = opt_sup ? opt_sup : h_sup;
	const char *known = opt_known ? opt_known : h_known;

	/* the QEMU the live run had (qemu=, which the plugin adds) */
	g_autofree char *h_qemu = header_arg(m->args, "qemu");
	/* linux_mm=off as the live run had it */
	g_autofree char *h_mm = header_arg(m->args, "linux_mm");
	bool mm_off = h_mm && (!strcmp(h_mm, "off") || !strcmp(h_mm, "false") ||
			       !strcmp(h_mm, "no"));
	/* call stacks when the live run recorded their registers */
	g_autofree char *h_stacks = header_arg(m->args, "trace_stacks");
	bool stacks = h_stacks && !strcmp(h_stacks, "on");
	ptw_config cfg = {
		.arch = m->arch,
		.ncpus = m->ncpus,
		.read_phys = ptw_trace_read_phys,
		.read_gpr = stacks ? ptw_trace_read_gpr : NULL,
		.read_opaque = r,
		.out_dir = out,
		.max_pending = m->max_pending,
		.widen_ns = m->widen_ns,
		.single_threaded = true,
		.sees_walks = ptw_qemu_mode_parse(h_qemu) != PTW_QEMU_STOCK,
		.no_linux_mm = mm_off,
	};
	ptw_tl_writer *tl =
		timeline ? ptw_tl_writer_new(m->arch, m->ncpus, trace) : NULL;
	if (tl)
		cfg.timeline = ptw_tl_writer_sink(tl);
	ptw_engine *e = ptw_engine_new(&cfg, &err);
	/* the line the live plugin logged about its QEMU, where it did:
	 * before the symbols */
	if (e && h_qemu)
		ptw_log(e, "%s",
			ptw_qemu_mode_text(ptw_qemu_mode_parse(h_qemu)));
	if (!e || (sym && !ptw_symbols_load(e, sym, &err)) ||
	    (sup && !ptw_suppressions_load(e, sup, &err)) ||
	    (known && !ptw_known_load(e, known, &err))) {
		fprintf(stderr, "ptwatch-replay: %s\n", err);
		g_free(err);
		ptw_engine_free(e);
		ptw_trace_reader_close(r);
		ptw_tl_writer_free(tl);
		return EX_USAGE;
	}

	gint64 t0 = g_get_monotonic_time();
	static const char *const kind_names[PTW_EV_COUNT] = {
		[PTW_EV_SYSREG] = "sysreg",
		[PTW_EV_ACCESS] = "access",
		[PTW_EV_DATA] = "data",
		[PTW_EV_INVAL] = "inval",
		[PTW_EV_BARRIER] = "barrier",
		[PTW_EV_CLIENT] = "client",
		[PTW_EV_LOWER_ENTRY] = "lower_entry",
		[PTW_EV_TASK] = "task",
		[PTW_EV_CALL] = "call",
		[PTW_EV_OP_START] = "op_start",
		[PTW_EV_DEFERRED_FLUSH] = "deferred_flush",
		[PTW_EV_FINISH] = "finish",
		[PTW_EV_FAULT] = "fault",
		[PTW_EV_HW_UPDATE] = "hw_update",
		[PTW_EV_ZAP] = "zap",
	};
	uint64_t by_kind[PTW_EV_COUNT] = {0};
	ptw_event ev;
	int k, rc = 0;
	bool finished = false;
	while ((k = ptw_trace_next_event(r, &ev, &err)) == 1) {
		if (ev.kind == PTW_EV_FINISH)
			finished = true;
		by_kind[ev.kind]++;
		if (tl)
			ptw_tl_writer_clock(tl, ev.ctx.cpu, ev.ctx.icount);
		ptw_engine_event(e, &ev);
		if (ptw_trace_reader_error(r)) {
			err = g_strdup(ptw_trace_reader_error(r));
			k = -1;
			break;
		}
		if (finished)
			break;
	}
	double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
	if (k < 0 || !finished) {
		char *why = k < 0 ? err
				  : g_strdup("the trace ends before the run "
					     "did (the live run was killed, "
					     "or the file was cut short)");
		fprintf(stderr, "ptwatch-replay: %s: %s\n", trace, why);
		ptw_engine_abandon(e, why);
		g_free(why);
		rc = 1;
	}
	uint64_t n = ptw_trace_reader_events(r);
	fprintf(stderr,
		"ptwatch-replay: %" PRIu64 " events, %.1f MB of records, "
		"%.2f s: %.1f M events/s; %u findings\n",
		n, (double)ptw_trace_reader_raw_bytes(r) / 1e6, secs,
		secs > 0 ? (double)n / secs / 1e6 : 0.0, ptw_findings_total(e));
	if (verbose)
		for (int i = 1; i < PTW_EV_COUNT; i++)
			fprintf(stderr, "ptwatch-replay:   %-15s %" PRIu64 "\n",
				kind_names[i], by_kind[i]);
	ptw_engine_free(e);
	ptw_trace_reader_close(r);
	/* after the engine is gone: whatever it told last is in */
	if (tl && !ptw_tl_writer_write(tl, timeline, rc == 0, &err)) {
		fprintf(stderr, "ptwatch-replay: %s\n", err);
		g_free(err);
		rc = 1;
	}
	ptw_tl_writer_free(tl);
	return rc;
}
