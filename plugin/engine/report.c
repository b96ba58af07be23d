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
 *
 * A finding goes through one pipeline (ptw_report_finding): prepared
 * (symbols, severity, title), filtered (set aside by a known upstream issue
 * or a suppression; a repeat of a title already reported), recorded, then
 * written to each output. Its title, "KIND in a / b" (ptw_report_title),
 * names the functions of its two sides; with the severity it is what
 * repeats are counted by: the first finding with a title is logged in full,
 * later ones only counted.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"

/* One title with its severity (e->seen, keyed by key): its first finding
 * is logged in full, later ones only counted (summary.json "repeats",
 * "repeats_by_site", "titles"). */
typedef struct {
	ptw_kind kind;
	ptw_severity sev;
	bool has_other;
	unsigned index;	       /* its finding's number (#N in ptwatch.log) */
	uint64_t pc, other_pc; /* the first finding's sides, */
	unsigned cpu;	       /* its vCPU */
	uint64_t icount;       /* and its instruction count */
	unsigned count;	       /* findings after the first */
	const char *title;     /* in key, after the severity */
	char key[];	       /* "severity title" */
} report_title;

#define SITES_LISTED 20 /* most repeated titles in summary.json */

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

/* s as a JSON string, quoted: '"' and '\\' escaped, control characters
 * as \\u00XX, UTF-8 passed through, a byte that is not valid UTF-8 (a
 * guest's program name, a corrupt symbol) as U+FFFD: always valid JSON,
 * which a byte-per-code-point escape of UTF-8 is not (it would turn "é"
 * into "Ã©"). The one escaper of findings.jsonl, summary.json and the
 * timeline. */
void ptw_json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	const char *p = s, *end = s + strlen(s);
	while (p < end) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)ch);
			p++;
		} else if (ch < 0x20 || ch == 0x7f) {
			g_string_append_printf(out, "\\u%04x", ch);
			p++;
		} else if (ch < 0x80) {
			g_string_append_c(out, (char)ch);
			p++;
		} else {
			gunichar u = g_utf8_get_char_validated(p, end - p);
			if (u == (gunichar)-1 || u == (gunichar)-2) {
				g_string_append(out, "\\ufffd");
				p++;
			} else {
				const char *next = g_utf8_next_char(p);
				g_string_append_len(out, p, next - p);
				p = next;
			}
		}
	}
	g_string_append_c(out, '"');
}

static void json_str(FILE *f, const char *s)
{
	GString *g = g_string_sized_new(strlen(s) + 8);
	ptw_json_string(g, s);
	fwrite(g->str, 1, g->len, f);
	g_string_free(g, TRUE);
}

/* ---- the title ---- */

/* One side of a title: its function, the symbol without its offset
 * ("name" of "name+0x10" and of "name+0x10 (physical)"; a program's
 * "[prog]" as it is), or its PC where it has no symbol. Returns whether it
 * is a symbol. */
static bool title_side(const char *sym, uint64_t pc, char *buf, size_t n)
{
	if (!sym[0]) {
		snprintf(buf, n, "0x%" PRIx64, pc);
		return false;
	}
	g_strlcpy(buf, sym, n);
	char *off = strstr(buf, "+0x");
	if (off)
		*off = 0;
	/* a compiler's copy of a function (.isra.0, .constprop.0, .part.0,
	 * .cold) is that function: one kernel build clones it, another does
	 * not (contpte_convert is contpte_convert.isra.0 in one of ours) */
	char *dot = buf[0] != '[' ? strchr(buf + 1, '.') : NULL;
	if (dot)
		*dot = 0;
	return true;
}

/* "KIND in a / b" ("KIND variant in a / b" for a variant of the kind, as
 * KASAN titles a use-after-free), a and b the functions of f's two sides,
 * sorted by strcmp as KCSAN sorts its titles, so that the title does not depend
 * on which side saw the other; both are named when they are the same function
 * ("KIND in f / f": a two-sided finding, not f alone). "KIND in a" when f
 * has no other side. A side without a symbol is its PC (0x...): its title
 * keeps PC precision, and is not sorted (a PC is one instruction in one
 * role, not a function either side may be in), so the titles of a guest
 * without symbols split findings as the (kind, PC, other PC) sites did. */
void ptw_report_title(const ptw_finding *f, char *buf, size_t n)
{
	char k[64];
	snprintf(k, sizeof(k), "%s%s%s", ptw_kind_name(f->kind),
		 f->variant ? " " : "", f->variant ? f->variant : "");
	char a[sizeof(f->sym)], b[sizeof(f->other_sym)];
	bool sym_a = title_side(f->sym, f->ctx.pc, a, sizeof(a));
	if (!f->has_other) {
		snprintf(buf, n, "%s in %s", k, a);
		return;
	}
	bool sym_b = title_side(f->other_sym, f->other.pc, b, sizeof(b));
	bool swap = sym_a && sym_b && strcmp(a, b) > 0;
	snprintf(buf, n, "%s in %s / %s", k, swap ? b : a, swap ? a : b);
}

/* ---- prepare, filter, record ---- */

/* the finding as reported: the engine's architecture, both sides'
 * symbols, a valid severity, its title */
static void report_prepare(ptw_engine *e, ptw_finding *f)
{
	f->arch = e->cfg.arch;
	ptw_symbolize(e, f->ctx.cpu, f->ctx.pc, f->sym, sizeof(f->sym));
	if (f->has_other)
		ptw_symbolize(e, f->other.cpu, f->other.pc, f->other_sym,
			      sizeof(f->other_sym));
	if (f->severity <= PTW_SEV_NONE || f->severity >= PTW_SEV_COUNT)
		f->severity = PTW_SEV_ERROR;
	ptw_report_title(f, f->title, sizeof(f->title));
}

/* what repeats are counted by: "[prefix ]severity title" */
static void title_key(const ptw_finding *f, const char *prefix, char *buf,
		      size_t n)
{
	snprintf(buf, n, "%s%s%s %s", prefix ? prefix : "", prefix ? " " : "",
		 ptw_severity_name(f->severity), f->title);
}

#define KEY_MAX (sizeof(((ptw_finding *)0)->title) + 32)

/* ptwatch.log: a finding set aside, the first with its title */
static void log_set_aside(ptw_engine *e, const ptw_finding *f, bool known,
			  const char *why, const char *fix)
{
	if (!e->log)
		return;
	fprintf(e->log,
		"\n[%s %s/%s] vcpu %u pc 0x%" PRIx64 " %s va 0x%" PRIx64
		"\n  title: %s\n  %s\n  %s: %s\n",
		known ? "known" : "suppressed", ptw_kind_name(f->kind),
		ptw_severity_name(f->severity), f->ctx.cpu, f->ctx.pc, f->sym,
		f->va, f->title, f->detail,
		known ? "known upstream issue" : "why suppressed", why);
	if (known && fix)
		fprintf(e->log, "  proposed fix: %s\n", fix);
	fprintf(e->log, "  (later ones at this site are counted in "
			"summary.json, not logged)\n");
	fflush(e->log);
	io_check(e, e->log, "ptwatch.log");
}

/* filter, 1: a finding that a known upstream issue or a suppression
 * matches (suppress.c) is set aside: counted ("known", "suppressed"),
 * logged once per title, no finding */
static bool report_set_aside(ptw_engine *e, const ptw_finding *f)
{
	bool known = false;
	const char *fix = NULL;
	const char *why = ptw_suppressed(e, f, &known, &fix);
	if (!why)
		return false;
	if (known)
		e->known[f->kind]++;
	else
		e->suppressed[f->kind]++;
	char key[KEY_MAX];
	title_key(f, known ? "known" : "suppressed", key, sizeof(key));
	if (!e->aside_seen)
		e->aside_seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						      g_free, NULL);
	if (g_hash_table_contains(e->aside_seen, key))
		return true;
	g_hash_table_add(e->aside_seen, g_strdup(key));
	log_set_aside(e, f, known, why, fix);
	return true;
}

/* ptwatch.log: the first repeat of a title says that the next ones are
 * only counted */
static void log_repeat(ptw_engine *e, const ptw_finding *f)
{
	if (!e->log)
		return;
	fprintf(e->log,
		"\n[repeat %s %s] pc 0x%" PRIx64
		" again: further findings at this site are counted "
		"(summary.json repeats_by_site), not logged\n  title: %s\n",
		ptw_kind_name(f->kind), ptw_severity_name(f->severity),
		f->ctx.pc, f->title);
	fflush(e->log);
	io_check(e, e->log, "ptwatch.log");
}

/* filter, 2: a finding whose title (with its severity) was reported
 * before is a repeat: counted ("repeats", "repeats_by_site", "titles"),
 * not logged again */
static bool report_repeat(ptw_engine *e, const ptw_finding *f)
{
	char key[KEY_MAX];
	title_key(f, NULL, key, sizeof(key));
	report_title *t = e->seen ? g_hash_table_lookup(e->seen, key) : NULL;
	if (!t)
		return false;
	e->repeats[f->kind]++;
	if (!t->count++)
		log_repeat(e, f);
	return true;
}

/* record: f is a finding (e->findings, the counts), its title reported */
static void report_record(ptw_engine *e, const ptw_finding *f)
{
	char key[KEY_MAX];
	title_key(f, NULL, key, sizeof(key));
	size_t len = strlen(key) + 1;
	report_title *t = g_malloc0(sizeof(*t) + len);
	memcpy(t->key, key, len);
	t->title = t->key + strlen(ptw_severity_name(f->severity)) + 1;
	t->kind = f->kind;
	t->sev = f->severity;
	t->pc = f->ctx.pc;
	t->has_other = f->has_other;
	t->other_pc = f->has_other ? f->other.pc : 0;
	t->cpu = f->ctx.cpu;
	t->icount = f->ctx.icount;
	if (!e->seen)
		e->seen = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						g_free);
	g_hash_table_insert(e->seen, t->key, t);
	g_array_append_val(e->findings, *f);
	t->index = e->findings->len;
	e->kind_count[f->kind]++;
	e->kind_sev_count[f->kind][f->severity]++;
	e->sev_count[f->severity]++;
}

/* ---- outputs ---- */

/* ptwatch.log: the finding's block */
static void log_finding(ptw_engine *e, const ptw_finding *f)
{
	if (!e->log)
		return;
	const char *sev = ptw_severity_name(f->severity);
	fprintf(e->log,
		"\n[%s %s] #%u vcpu %u pc 0x%" PRIx64 "%s%s icount %" PRIu64
		"%s%s",
		ptw_kind_name(f->kind), sev, e->findings->len, f->ctx.cpu,
		f->ctx.pc, f->sym[0] ? " " : "", f->sym, f->ctx.icount,
		f->role ? " (" : "", f->role ? f->role : "");
	if (f->role)
		fputc(')', e->log);
	char stack[1024];
	ptw_stack_format(e, &f->ctx, stack, sizeof(stack));
	if (stack[0])
		fprintf(e->log, "\n    called from %s", stack);
	if (f->has_other) {
		fprintf(e->log,
			"\n  %s: vcpu %u pc 0x%" PRIx64 "%s%s icount %" PRIu64,
			f->other_role ? f->other_role : "other", f->other.cpu,
			f->other.pc, f->other_sym[0] ? " " : "", f->other_sym,
			f->other.icount);
		ptw_stack_format(e, &f->other, stack, sizeof(stack));
		if (stack[0])
			fprintf(e->log, "\n    called from %s", stack);
	}
	fprintf(e->log,
		"\n  title: %s"
		"\n  entry PA 0x%" PRIx64 " level %d maps VA 0x%" PRIx64
		"\n  old 0x%016" PRIx64 "  new 0x%016" PRIx64 "\n  %s\n",
		f->title, f->pte_pa, f->level, f->va, f->old_desc, f->new_desc,
		f->detail);
	if (f->severity_why)
		fprintf(e->log, "  %s: %s\n", sev, f->severity_why);
	fflush(e->log);
	io_check(e, e->log, "ptwatch.log");
}

/* findings.jsonl: a side's "stack", its callers innermost first (return
 * addresses and their symbols), when it has one */
static void json_stack(ptw_engine *e, FILE *j, const ptw_ctx *c)
{
	const ptw_stack *s = ptw_stack_get(e, c->stack);
	if (!s || s->n < 2)
		return;
	fputs(",\"stack\":[", j);
	for (unsigned i = 1; i < s->n; i++) {
		char sym[96];
		ptw_stack_symbolize(e, c->cpu, s->pc[i], sym, sizeof(sym));
		fprintf(j, "%s{\"pc\":\"0x%" PRIx64 "\",\"sym\":",
			i > 1 ? "," : "", s->pc[i]);
		json_str(j, sym);
		fputc('}', j);
	}
	fputc(']', j);
}

/* findings.jsonl: the finding's line; a line cut short (a full disk) is
 * taken back, so that every line stays valid JSON */
static void jsonl_finding(ptw_engine *e, const ptw_finding *f)
{
	FILE *j = e->jsonl;
	if (!j)
		return;
	long good = ftell(j);
	fprintf(j, "{\"kind\":\"%s\",\"severity\":\"%s\",\"title\":",
		ptw_kind_name(f->kind), ptw_severity_name(f->severity));
	json_str(j, f->title);
	if (f->variant) {
		fputs(",\"variant\":", j);
		json_str(j, f->variant);
	}
	fprintf(j,
		",\"arch\":\"%s\",\"vcpu\":%u,"
		"\"pc\":\"0x%" PRIx64 "\",\"pte_pa\":\"0x%" PRIx64
		"\",\"va\":\"0x%" PRIx64 "\",\"level\":%d,"
		"\"old\":\"0x%016" PRIx64 "\",\"new\":\"0x%016" PRIx64
		"\",\"icount\":%" PRIu64 ",\"detail\":",
		e->ops->name, f->ctx.cpu, f->ctx.pc, f->pte_pa, f->va, f->level,
		f->old_desc, f->new_desc, f->ctx.icount);
	json_str(j, f->detail);
	fputs(",\"severity_why\":", j);
	json_str(j, f->severity_why ? f->severity_why : "");
	fputs(",\"pc_sym\":", j);
	json_str(j, f->sym);
	fputs(",\"role\":", j);
	json_str(j, f->role ? f->role : "");
	json_stack(e, j, &f->ctx);
	if (f->has_other) {
		fprintf(j,
			",\"other\":{\"role\":\"%s\",\"vcpu\":%u,"
			"\"pc\":\"0x%" PRIx64 "\",\"icount\":%" PRIu64
			",\"pc_sym\":",
			f->other_role ? f->other_role : "other", f->other.cpu,
			f->other.pc, f->other.icount);
		json_str(j, f->other_sym);
		json_stack(e, j, &f->other);
		fputc('}', j);
	}
	fputs("}\n", j);
	fflush(j);
	if (ferror(j) && good >= 0) {
		int err = errno;
		if (ftruncate(fileno(j), good) == 0)
			fseek(j, good, SEEK_SET);
		errno = err;
	}
	io_check(e, j, "findings.jsonl");
}

/* echo=: one line per finding */
static void echo_finding(ptw_engine *e, const ptw_finding *f)
{
	if (!e->cfg.echo)
		return;
	fprintf(e->cfg.echo,
		"ptwatch: %s %s vcpu %u pc 0x%" PRIx64 " %s va 0x%" PRIx64
		": %s\n",
		ptw_kind_name(f->kind), ptw_severity_name(f->severity),
		f->ctx.cpu, f->ctx.pc, f->sym, f->va, f->detail);
	fflush(e->cfg.echo);
}

/* summary.json: rewritten at most once a second, so that a run killed now
 * leaves counts that match findings.jsonl (within a second) */
static void summary_refresh(ptw_engine *e)
{
	gint64 now = g_get_monotonic_time();
	if (e->out_dir && now - e->summary_at >= G_USEC_PER_SEC) {
		e->summary_at = now;
		ptw_report_summary(e, false);
	}
}

void ptw_report_finding(ptw_engine *e, const ptw_finding *fin)
{
	ptw_finding f = *fin;
	report_prepare(e, &f);
	if (report_set_aside(e, &f))
		return;
	if (report_repeat(e, &f)) {
		PTW_TL(e, .kind = PTW_TL_FINDING, .cpu = f.ctx.cpu,
		       .at = &f.ctx, .finding = &f);
		return;
	}
	/* the sides that are the event being applied get their stacks now
	 * (the others got theirs when they happened, or have none) */
	ptw_stack_capture(e, &f.ctx);
	if (f.has_other)
		ptw_stack_capture(e, &f.other);
	report_record(e, &f);
	PTW_TL(e, .kind = PTW_TL_FINDING, .cpu = f.ctx.cpu, .at = &f.ctx,
	       .finding = &f, .number = e->findings->len);
	log_finding(e, &f);
	jsonl_finding(e, &f);
	echo_finding(e, &f);
	summary_refresh(e);
}

/* ---- summary.json's titles ---- */

/* in the order of their findings */
static gint title_order(gconstpointer a, gconstpointer b)
{
	const report_title *x = *(report_title *const *)a;
	const report_title *y = *(report_title *const *)b;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* the most repeated first, then in the order of their findings */
static gint repeat_order(gconstpointer a, gconstpointer b)
{
	const report_title *x = *(report_title *const *)a;
	const report_title *y = *(report_title *const *)b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return title_order(a, b);
}

/* the reported titles, in the order of their findings */
static GPtrArray *titles_reported(ptw_engine *e)
{
	GPtrArray *a = g_ptr_array_new();
	if (!e->seen)
		return a;
	GHashTableIter it;
	gpointer hk, hv;
	g_hash_table_iter_init(&it, e->seen);
	while (g_hash_table_iter_next(&it, &hk, &hv))
		g_ptr_array_add(a, hv);
	g_ptr_array_sort(a, title_order);
	return a;
}

/* "repeats_by_site": the SITES_LISTED most repeated titles, each with its
 * first finding's PCs; "titles": every title, with its count (repeats
 * included) and first finding */
static void summary_titles(ptw_engine *e, FILE *f)
{
	GPtrArray *a = titles_reported(e);
	g_ptr_array_sort(a, repeat_order);
	fputs(",\n  \"repeats_by_site\": [", f);
	for (guint i = 0; i < a->len && i < SITES_LISTED; i++) {
		const report_title *t = a->pdata[i];
		if (!t->count)
			break;
		fprintf(f, "%s\n    {\"title\": ", i ? "," : "");
		json_str(f, t->title);
		fprintf(f,
			", \"kind\": \"%s\", \"severity\": \"%s\", "
			"\"pc\": \"0x%" PRIx64 "\", ",
			ptw_kind_name(t->kind), ptw_severity_name(t->sev),
			t->pc);
		if (t->has_other)
			fprintf(f, "\"other_pc\": \"0x%" PRIx64 "\", ",
				t->other_pc);
		fprintf(f, "\"repeats\": %u}", t->count);
	}
	g_ptr_array_sort(a, title_order);
	fputs("\n  ],\n  \"titles\": [", f);
	for (guint i = 0; i < a->len; i++) {
		const report_title *t = a->pdata[i];
		fprintf(f, "%s\n    {\"title\": ", i ? "," : "");
		json_str(f, t->title);
		fprintf(f,
			", \"kind\": \"%s\", \"severity\": \"%s\", "
			"\"count\": %u, \"first_vcpu\": %u, "
			"\"first_icount\": %" PRIu64 "}",
			ptw_kind_name(t->kind), ptw_severity_name(t->sev),
			t->count + 1, t->cpu, t->icount);
	}
	g_ptr_array_unref(a);
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
	fputs("\n  }", f);
	summary_titles(e, f);
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
	ptw_interest_cache_stats(e);
	for (int i = 0; i < ST_COUNT; i++)
		fprintf(f, "%s\n    \"%s\": %" PRIu64, i ? "," : "",
			ptw_stat_names[i], e->stats[i]);
	ptw_det_summary_stats(e, f);
	ptw_stacks_summary(e, f);
	fprintf(f,
		",\n    \"pending_records_at_exit\": %d,\n"
		"    \"tables_tracked_at_exit\": %u\n  }\n}\n",
		ptw_det_pending(e), ptw_table_count(e));
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
