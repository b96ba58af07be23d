/* SPDX-License-Identifier: MIT */
/*
 * ptwatch logs: ptwatch.log (human, one block per finding), findings.jsonl
 * (one JSON object per finding) and summary.json (counts, statistics,
 * expectations). Findings are flushed as they happen; summary.json is
 * written at start ("complete": false) and rewritten when the run ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_internal.h"

void ptw_report_open(ptw_engine *e, char **err)
{
	if (!e->cfg.out_dir)
		return;
	e->out_dir = g_strdup(e->cfg.out_dir);
	if (g_mkdir_with_parents(e->out_dir, 0755) != 0) {
		*err = g_strdup_printf(
			"cannot create output directory '%s': %s", e->out_dir,
			g_strerror(errno));
		return;
	}
	char *p = g_build_filename(e->out_dir, "ptwatch.log", NULL);
	e->log = fopen(p, "w");
	if (!e->log) {
		*err = g_strdup_printf("cannot write '%s': %s", p,
				       g_strerror(errno));
		g_free(p);
		return;
	}
	g_free(p);
	p = g_build_filename(e->out_dir, "findings.jsonl", NULL);
	e->jsonl = fopen(p, "w");
	if (!e->jsonl) {
		*err = g_strdup_printf("cannot write '%s': %s", p,
				       g_strerror(errno));
		g_free(p);
		return;
	}
	g_free(p);
	fprintf(e->log, "ptwatch: arch %s, %u vCPUs\n", e->ops->name,
		e->cfg.ncpus);
	fflush(e->log);
	ptw_report_summary(e, false);
}

void ptw_report_line(ptw_engine *e, const char *fmt, ...)
{
	va_list ap;
	if (e->log) {
		va_start(ap, fmt);
		vfprintf(e->log, fmt, ap);
		va_end(ap);
		fputc('\n', e->log);
		fflush(e->log);
	}
	if (e->cfg.echo) {
		fputs("ptwatch: ", e->cfg.echo);
		va_start(ap, fmt);
		vfprintf(e->cfg.echo, fmt, ap);
		va_end(ap);
		fputc('\n', e->cfg.echo);
		fflush(e->cfg.echo);
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void ptw_report_finding(ptw_engine *e, const ptw_finding *fin)
{
	ptw_finding f = *fin;
	f.arch = e->cfg.arch;
	ptw_symbolize(e, f.ctx.cpu, f.ctx.pc, f.sym, sizeof(f.sym));
	if (f.has_other)
		ptw_symbolize(e, f.other.cpu, f.other.pc, f.other_sym,
			      sizeof(f.other_sym));
	if (f.severity <= PTW_SEV_NONE || f.severity >= PTW_SEV_COUNT)
		f.severity = PTW_SEV_ERROR;
	const char *sev = ptw_severity_name(f.severity);
	bool known = false;
	const char *fix = NULL;
	const char *why = ptw_suppressed(e, &f, &known, &fix);
	const char *k = ptw_kind_name(f.kind);
	if (why) {
		if (known)
			e->known[f.kind]++;
		else
			e->suppressed[f.kind]++;
		if (e->log) {
			fprintf(e->log,
				"\n[%s %s/%s] vcpu %u pc 0x%" PRIx64
				" %s va 0x%" PRIx64 "\n  %s\n  %s: %s\n",
				known ? "known" : "suppressed", k, sev,
				f.ctx.cpu, f.ctx.pc, f.sym, f.va, f.detail,
				known ? "known upstream issue"
				      : "why suppressed",
				why);
			if (known && fix)
				fprintf(e->log, "  proposed fix: %s\n", fix);
			fflush(e->log);
		}
		return;
	}
	/* the same code path (kind, PC, other side's PC) again: counted in
	 * summary.json as a repeat, not logged again */
	uint64_t key =
		((uint64_t)f.kind << 2 | f.severity) * 0x9e3779b97f4a7c15ULL ^
		f.ctx.pc ^
		(f.has_other ? f.other.pc * 0xff51afd7ed558ccdULL : 0);
	if (!e->seen)
		e->seen = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						g_free, NULL);
	if (g_hash_table_contains(e->seen, &key)) {
		e->repeats[f.kind]++;
		return;
	}
	g_hash_table_add(e->seen, g_memdup2(&key, sizeof(key)));
	g_array_append_val(e->findings, f);
	e->kind_count[f.kind]++;
	e->kind_sev_count[f.kind][f.severity]++;
	e->sev_count[f.severity]++;
	if (e->log) {
		fprintf(e->log,
			"\n[%s %s] #%u vcpu %u pc 0x%" PRIx64
			"%s%s icount %" PRIu64 "%s%s",
			k, sev, e->findings->len, f.ctx.cpu, f.ctx.pc,
			f.sym[0] ? " " : "", f.sym, f.ctx.icount,
			f.role ? " (" : "", f.role ? f.role : "");
		if (f.role)
			fputc(')', e->log);
		if (f.has_other)
			fprintf(e->log,
				"\n  %s: vcpu %u pc 0x%" PRIx64
				"%s%s icount %" PRIu64,
				f.other_role ? f.other_role : "other",
				f.other.cpu, f.other.pc,
				f.other_sym[0] ? " " : "", f.other_sym,
				f.other.icount);
		fprintf(e->log,
			"\n  entry PA 0x%" PRIx64 " level %d maps VA 0x%" PRIx64
			"\n  old 0x%016" PRIx64 "  new 0x%016" PRIx64
			"\n  %s\n",
			f.pte_pa, f.level, f.va, f.old_desc, f.new_desc,
			f.detail);
		if (f.severity_why)
			fprintf(e->log, "  %s: %s\n", sev, f.severity_why);
		fflush(e->log);
	}
	if (e->jsonl) {
		fprintf(e->jsonl,
			"{\"kind\":\"%s\",\"severity\":\"%s\",\"arch\":\"%s\","
			"\"vcpu\":%u,"
			"\"pc\":\"0x%" PRIx64 "\",\"pte_pa\":\"0x%" PRIx64
			"\",\"va\":\"0x%" PRIx64 "\",\"level\":%d,"
			"\"old\":\"0x%016" PRIx64 "\",\"new\":\"0x%016" PRIx64
			"\",\"icount\":%" PRIu64 ",\"detail\":",
			k, sev, e->ops->name, f.ctx.cpu, f.ctx.pc, f.pte_pa,
			f.va, f.level, f.old_desc, f.new_desc, f.ctx.icount);
		json_str(e->jsonl, f.detail);
		fputs(",\"severity_why\":", e->jsonl);
		json_str(e->jsonl, f.severity_why ? f.severity_why : "");
		fputs(",\"pc_sym\":", e->jsonl);
		json_str(e->jsonl, f.sym);
		fputs(",\"role\":", e->jsonl);
		json_str(e->jsonl, f.role ? f.role : "");
		if (f.has_other) {
			fprintf(e->jsonl,
				",\"other\":{\"role\":\"%s\",\"vcpu\":%u,"
				"\"pc\":\"0x%" PRIx64 "\",\"icount\":%" PRIu64
				",\"pc_sym\":",
				f.other_role ? f.other_role : "other",
				f.other.cpu, f.other.pc, f.other.icount);
			json_str(e->jsonl, f.other_sym);
			fputc('}', e->jsonl);
		}
		fputs("}\n", e->jsonl);
		fflush(e->jsonl);
	}
	if (e->cfg.echo) {
		fprintf(e->cfg.echo,
			"ptwatch: %s %s vcpu %u pc 0x%" PRIx64
			" %s va 0x%" PRIx64 ": %s\n",
			k, sev, f.ctx.cpu, f.ctx.pc, f.sym, f.va, f.detail);
		fflush(e->cfg.echo);
	}
}

static const char *verdict(ptw_engine *e)
{
	if (!e->expect_declared && !e->guest_done)
		return "none"; /* no expectations: an ordinary run */
	if (!e->guest_done)
		return "incomplete";
	if (e->guest_status)
		return "guest-failed";
	for (int k = 1; k < PTW_KIND_COUNT; k++) {
		if (e->kind_count[k] != e->expected[k])
			return "mismatch";
		for (int s = 1; s < PTW_SEV_COUNT; s++)
			if ((e->expected_sev_set[k] >> s & 1) &&
			    e->kind_sev_count[k][s] != e->expected_sev[k][s])
				return "mismatch";
	}
	return "pass";
}

void ptw_report_summary(ptw_engine *e, bool final)
{
	if (!e->out_dir)
		return;
	char *p = g_build_filename(e->out_dir, "summary.json.tmp", NULL);
	char *q = g_build_filename(e->out_dir, "summary.json", NULL);
	FILE *f = fopen(p, "w");
	if (!f) {
		g_free(p);
		g_free(q);
		return;
	}
	fprintf(f, "{\n  \"tool\": \"ptwatch\",\n  \"arch\": \"%s\",\n",
		e->ops->name);
	fprintf(f, "  \"vcpus\": %u,\n  \"complete\": %s,\n", e->cfg.ncpus,
		final ? "true" : "false");
	if (e->ops->bbm_reason) /* FEAT_BBM: arm64's rule */
		fprintf(f, "  \"feat_bbm_level\": %d,\n", e->bbm_level);
	fprintf(f, "  \"widen_ns\": %" PRIu64 ",\n", e->cfg.widen_ns);
	fprintf(f, "  \"findings_total\": %u,\n  \"findings\": {",
		e->findings->len);
	for (int k = 1; k < PTW_KIND_COUNT; k++)
		fprintf(f, "%s\n    \"%s\": %u", k > 1 ? "," : "",
			ptw_kind_name((ptw_kind)k), e->kind_count[k]);
	fprintf(f, "\n  },\n  \"by_severity\": {");
	for (int s = PTW_SEV_ERROR; s >= PTW_SEV_NOTE; s--)
		fprintf(f, "%s\n    \"%s\": %u", s < PTW_SEV_ERROR ? "," : "",
			ptw_severity_name((ptw_severity)s), e->sev_count[s]);
	fprintf(f, "\n  },\n  \"findings_by_severity\": {");
	for (int k = 1, first = 1; k < PTW_KIND_COUNT; k++)
		for (int s = PTW_SEV_ERROR; s >= PTW_SEV_NOTE; s--)
			if (e->kind_sev_count[k][s]) {
				fprintf(f, "%s\n    \"%s/%s\": %u",
					first ? "" : ",",
					ptw_kind_name((ptw_kind)k),
					ptw_severity_name((ptw_severity)s),
					e->kind_sev_count[k][s]);
				first = 0;
			}
	fprintf(f, "\n  },\n  \"repeats\": {");
	for (int k = 1; k < PTW_KIND_COUNT; k++)
		fprintf(f, "%s\n    \"%s\": %u", k > 1 ? "," : "",
			ptw_kind_name((ptw_kind)k), e->repeats[k]);
	fprintf(f, "\n  },\n  \"suppressed\": {");
	for (int k = 1; k < PTW_KIND_COUNT; k++)
		fprintf(f, "%s\n    \"%s\": %u", k > 1 ? "," : "",
			ptw_kind_name((ptw_kind)k), e->suppressed[k]);
	fprintf(f, "\n  },\n  \"known\": {");
	for (int k = 1; k < PTW_KIND_COUNT; k++)
		fprintf(f, "%s\n    \"%s\": %u", k > 1 ? "," : "",
			ptw_kind_name((ptw_kind)k), e->known[k]);
	fprintf(f, "\n  },\n  \"expected\": ");
	if (e->expect_declared || e->guest_done) {
		fputc('{', f);
		for (int k = 1; k < PTW_KIND_COUNT; k++)
			fprintf(f, "%s\n    \"%s\": %" PRIu64, k > 1 ? "," : "",
				ptw_kind_name((ptw_kind)k), e->expected[k]);
		fprintf(f, "\n  },\n  \"expected_by_severity\": {");
		for (int k = 1, first = 1; k < PTW_KIND_COUNT; k++)
			for (int s = PTW_SEV_ERROR; s >= PTW_SEV_NOTE; s--)
				if (e->expected_sev_set[k] >> s & 1) {
					fprintf(f,
						"%s\n    \"%s/%s\": %" PRIu64,
						first ? "" : ",",
						ptw_kind_name((ptw_kind)k),
						ptw_severity_name(
							(ptw_severity)s),
						e->expected_sev[k][s]);
					first = 0;
				}
		fprintf(f, "\n  },\n");
	} else {
		fprintf(f, "null,\n");
	}
	fprintf(f, "  \"guest\": {\"done\": %s, \"status\": %" PRIu64 "},\n",
		e->guest_done ? "true" : "false", e->guest_status);
	fprintf(f, "  \"verdict\": \"%s\",\n  \"stats\": {",
		final ? verdict(e) : "incomplete");
	for (int i = 0; i < ST_COUNT; i++)
		fprintf(f, "%s\n    \"%s\": %" PRIu64, i ? "," : "",
			ptw_stat_names[i], e->stats[i]);
	fprintf(f, ",\n    \"units_by_entries\": {");
	for (int k = 1, first = 1; k < 10; k++)
		if (e->units.by_size[k]) {
			fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ",
				1 << k, e->units.by_size[k]);
			first = 0;
		}
	fprintf(f, "}");
	fprintf(f,
		",\n    \"pending_records_at_exit\": %d,\n"
		"    \"tables_tracked_at_exit\": %u\n  }\n}\n",
		e->npending, g_hash_table_size(e->tables));
	fclose(f);
	if (rename(p, q) != 0)
		ptw_report_line(e, "warning: cannot write %s", q);
	g_free(p);
	g_free(q);
}

void ptw_report_close(ptw_engine *e)
{
	if (e->log) {
		fprintf(e->log,
			"\nptwatch: %u finding(s): %u error(s), %u "
			"warning(s), %u note(s)",
			e->findings->len, e->sev_count[PTW_SEV_ERROR],
			e->sev_count[PTW_SEV_WARNING],
			e->sev_count[PTW_SEV_NOTE]);
		for (int k = 1; k < PTW_KIND_COUNT; k++)
			if (e->kind_count[k])
				fprintf(e->log, ", %s %u",
					ptw_kind_name((ptw_kind)k),
					e->kind_count[k]);
		unsigned nk = 0, ns = 0;
		for (int k = 1; k < PTW_KIND_COUNT; k++) {
			nk += e->known[k];
			ns += e->suppressed[k];
		}
		if (nk || ns)
			fprintf(e->log,
				"; set aside: %u known upstream issue(s), %u "
				"suppressed",
				nk, ns);
		fprintf(e->log, "; verdict %s\n", verdict(e));
		fclose(e->log);
		e->log = NULL;
	}
	if (e->jsonl) {
		fclose(e->jsonl);
		e->jsonl = NULL;
	}
}
