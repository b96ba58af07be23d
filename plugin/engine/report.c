/* SPDX-License-Identifier: MIT */
/*
 * ptwatch logs: ptwatch.log (human, one block per finding), findings.jsonl
 * (one JSON object per finding) and summary.json (counts, statistics,
 * expectations). Findings are flushed as they happen; summary.json is
 * written at start ("complete": false), rewritten (still incomplete) at most
 * once a second while findings come, and when the run ends, each time
 * through a temporary file renamed into place: a run killed at any moment
 * leaves valid JSON. A write that fails (a full disk) is said on stderr at
 * once and in summary.json's "log_errors" when it can be written.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"

/* One (kind, severity, PC, other PC) site: its first finding is logged in
 * full, later ones only counted (summary.json "repeats_by_site"). */
typedef struct {
	uint64_t key;
	ptw_kind kind;
	ptw_severity sev;
	uint64_t pc, other_pc;
	bool has_other;
	unsigned count; /* findings after the first */
} report_site;

#define SITES_LISTED 20 /* most repeated sites in summary.json */

/* a log write failed: say so on stderr once per file, keep it for
 * summary.json */
static void io_check(ptw_engine *e, FILE *f, const char *name)
{
	if (!f || !ferror(f))
		return;
	int err = errno ? errno : EIO;
	clearerr(f);
	char *msg = g_strdup_printf("writing %s/%s failed: %s", e->out_dir,
				    name, g_strerror(err));
	if (!e->io_errors)
		e->io_errors = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < e->io_errors->len; i++)
		if (!strcmp(e->io_errors->pdata[i], msg)) {
			g_free(msg);
			return;
		}
	fprintf(stderr, "ptwatch: error: %s\n", msg);
	g_ptr_array_add(e->io_errors, msg);
}

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
	uint64_t key =
		((uint64_t)f.kind << 2 | f.severity) * 0x9e3779b97f4a7c15ULL ^
		f.ctx.pc ^
		(f.has_other ? f.other.pc * 0xff51afd7ed558ccdULL : 0);
	if (why) {
		if (known)
			e->known[f.kind]++;
		else
			e->suppressed[f.kind]++;
		/* set aside: logged once per site, counted always */
		uint64_t akey = key ^ (known ? 0x5bd1e995ULL : 0x27d4eb2fULL);
		if (!e->aside_seen)
			e->aside_seen = g_hash_table_new_full(
				g_int64_hash, g_int64_equal, g_free, NULL);
		if (g_hash_table_contains(e->aside_seen, &akey))
			return;
		g_hash_table_add(e->aside_seen, g_memdup2(&akey, sizeof(akey)));
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
			fprintf(e->log,
				"  (later ones at this site are counted in "
				"summary.json, not logged)\n");
			fflush(e->log);
			io_check(e, e->log, "ptwatch.log");
		}
		return;
	}
	/* the same code path (kind, PC, other side's PC) again: counted in
	 * summary.json as a repeat, not logged again */
	if (!e->seen)
		e->seen = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						NULL, g_free);
	report_site *site = g_hash_table_lookup(e->seen, &key);
	if (site) {
		e->repeats[f.kind]++;
		if (!site->count++ && e->log) {
			fprintf(e->log,
				"\n[repeat %s %s] pc 0x%" PRIx64
				" again: further findings at this site are "
				"counted (summary.json repeats_by_site), not "
				"logged\n",
				k, sev, f.ctx.pc);
			fflush(e->log);
			io_check(e, e->log, "ptwatch.log");
		}
		return;
	}
	site = g_new0(report_site, 1);
	*site = (report_site){key,	  f.kind,      f.severity, f.ctx.pc,
			      f.other.pc, f.has_other, 0};
	g_hash_table_insert(e->seen, &site->key, site);
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
		io_check(e, e->log, "ptwatch.log");
	}
	if (e->jsonl) {
		/* a line cut short (a full disk) is taken back: every line
		 * of findings.jsonl stays valid JSON */
		long good = ftell(e->jsonl);
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
		if (ferror(e->jsonl) && good >= 0) {
			int err = errno;
			if (ftruncate(fileno(e->jsonl), good) == 0)
				fseek(e->jsonl, good, SEEK_SET);
			errno = err;
		}
		io_check(e, e->jsonl, "findings.jsonl");
	}
	if (e->cfg.echo) {
		fprintf(e->cfg.echo,
			"ptwatch: %s %s vcpu %u pc 0x%" PRIx64
			" %s va 0x%" PRIx64 ": %s\n",
			k, sev, f.ctx.cpu, f.ctx.pc, f.sym, f.va, f.detail);
		fflush(e->cfg.echo);
	}
	/* so that a run killed now leaves counts that match findings.jsonl
	 * (within a second) */
	gint64 now = g_get_monotonic_time();
	if (e->out_dir && now - e->summary_at >= G_USEC_PER_SEC) {
		e->summary_at = now;
		ptw_report_summary(e, false);
	}
}

static gint site_order(gconstpointer a, gconstpointer b)
{
	const report_site *x = *(report_site *const *)a;
	const report_site *y = *(report_site *const *)b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
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
		int err = errno;
		if (final)
			fprintf(stderr, "ptwatch: error: cannot write %s: %s\n",
				p, g_strerror(err));
		g_free(p);
		g_free(q);
		return;
	}
	fprintf(f, "{\n  \"tool\": \"ptwatch\",\n  \"arch\": \"%s\",\n",
		e->ops->name);
	fprintf(f, "  \"vcpus\": %u,\n  \"complete\": %s,\n", e->cfg.ncpus,
		final ? "true" : "false");
	if (e->ops->bbm_reason) /* FEAT_BBM: arm64's rule */
		fprintf(f, "  \"feat_bbm_level\": %d,\n",
			e->ops->bbm_level ? e->ops->bbm_level(e) : -1);
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
	fprintf(f, "\n  },\n  \"repeats_by_site\": [");
	if (e->seen) {
		GPtrArray *sites = g_ptr_array_new();
		GHashTableIter it;
		gpointer hk, hv;
		g_hash_table_iter_init(&it, e->seen);
		while (g_hash_table_iter_next(&it, &hk, &hv))
			g_ptr_array_add(sites, hv);
		g_ptr_array_sort(sites, site_order);
		for (guint i = 0, n = 0; i < sites->len && n < SITES_LISTED;
		     i++) {
			const report_site *st = sites->pdata[i];
			if (!st->count)
				break;
			fprintf(f,
				"%s\n    {\"kind\": \"%s\", \"severity\": "
				"\"%s\", \"pc\": \"0x%" PRIx64 "\", ",
				n++ ? "," : "", ptw_kind_name(st->kind),
				ptw_severity_name(st->sev), st->pc);
			if (st->has_other)
				fprintf(f, "\"other_pc\": \"0x%" PRIx64 "\", ",
					st->other_pc);
			fprintf(f, "\"repeats\": %u}", st->count);
		}
		g_ptr_array_unref(sites);
	}
	fprintf(f, "\n  ],\n  \"log_errors\": [");
	for (guint i = 0; e->io_errors && i < e->io_errors->len; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, e->io_errors->pdata[i]);
	}
	fprintf(f, "],\n  \"suppressed\": {");
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
	/* a summary that did not reach the disk whole is not put in place:
	 * the last good one (or none) stays */
	bool bad = fflush(f) != 0 || ferror(f);
	int err = errno ? errno : EIO;
	if (fclose(f) != 0 && !bad) {
		bad = true;
		err = errno ? errno : EIO;
	}
	if (bad) {
		unlink(p);
		if (final)
			fprintf(stderr,
				"ptwatch: error: cannot write %s: %s; it "
				"stays as last written\n",
				q, g_strerror(err));
	} else if (rename(p, q) != 0)
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

const char *ptw_qemu_mode_text(ptw_qemu_mode mode)
{
	switch (mode) {
	case PTW_QEMU_PATCHED_VPAGES:
		return "qemu: patched (the fault callback, the page watch, "
		       "the TLB maintenance callback and the virtual-page "
		       "watch found: qemu-patches/): walks that fault in "
		       "break windows are seen (BBM_WINDOW_WALK), and the "
		       "MMU's access/dirty updates (DIRTY_LOST); only accesses "
		       "to page-table pages and tracked data reach the plugin "
		       "(the page watch), no memory callbacks, and for a "
		       "pending stale-TLB record, the uses of the vCPUs' "
		       "cached translations of its virtual pages and stores "
		       "to its old page until reused; TLB maintenance (arm64 "
		       "TLBI, x86 INVLPG) as QEMU reports it, not from "
		       "instruction callbacks";
	case PTW_QEMU_PATCHED_TLBI:
		return "qemu: patched (the fault callback, the page watch and "
		       "the TLB maintenance callback found: qemu-patches/): "
		       "walks that fault in break windows are seen "
		       "(BBM_WINDOW_WALK), and the MMU's access/dirty updates "
		       "(DIRTY_LOST); only accesses to page-table pages, "
		       "old pages of pending stale-TLB records and tracked "
		       "data reach the plugin (the page watch), no memory "
		       "callbacks; TLB maintenance (arm64 TLBI, x86 INVLPG) "
		       "as QEMU reports it, not from instruction callbacks";
	case PTW_QEMU_PATCHED_WATCH:
		return "qemu: patched (the fault callback and the page watch "
		       "found: qemu-patches/): walks that fault in break "
		       "windows are seen (BBM_WINDOW_WALK), and the MMU's "
		       "access/dirty updates (DIRTY_LOST); only accesses to "
		       "page-table pages, old pages of pending stale-TLB "
		       "records and tracked data reach the plugin (the page "
		       "watch), no memory callbacks";
	case PTW_QEMU_PATCHED:
		return "qemu: patched (the fault callback found: "
		       "qemu-patches/): walks that fault in break windows "
		       "are seen (BBM_WINDOW_WALK), and the MMU's access/dirty "
		       "updates (DIRTY_LOST); every access still "
		       "through a memory callback (page_watch=off, or no "
		       "page watch in this QEMU)";
	default:
		return "qemu: stock (no walk or fault callbacks): every "
		       "access through a memory callback; the walker's "
		       "reads, faults and access/dirty updates are not seen "
		       "(no BBM_WINDOW_WALK, no DIRTY_LOST)";
	}
}

static const char *const qemu_mode_names[] = {
	[PTW_QEMU_STOCK] = "stock",
	[PTW_QEMU_PATCHED] = "patched",
	[PTW_QEMU_PATCHED_WATCH] = "patched-watch",
	[PTW_QEMU_PATCHED_TLBI] = "patched-tlbi",
	[PTW_QEMU_PATCHED_VPAGES] = "patched-vpages",
};

const char *ptw_qemu_mode_name(ptw_qemu_mode mode)
{
	return qemu_mode_names[mode];
}

ptw_qemu_mode ptw_qemu_mode_parse(const char *name)
{
	for (unsigned m = 0; name && m < G_N_ELEMENTS(qemu_mode_names); m++)
		if (!strcmp(name, qemu_mode_names[m]))
			return (ptw_qemu_mode)m;
	return PTW_QEMU_STOCK;
}

void ptw_log(ptw_engine *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&e->lock);
	ptw_report_line(e, "%s", line);
	pthread_mutex_unlock(&e->lock);
	g_free(line);
}
