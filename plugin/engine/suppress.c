/* SPDX-License-Identifier: MIT */
/*
 * Suppressions: a documented file of rules, each a finding kind, a symbol
 * pattern and a mandatory justification. A matching finding is still logged
 * (marked suppressed, with the rule's justification) and counted in
 * summary.json under "suppressed"; it does not count as a finding.
 *
 *   # comment
 *   kind: BBM_WINDOW_READ
 *   symbol: gup_fast_pte_range*
 *   why: GUP-fast reads PTEs without the PTE lock and re-checks ...
 *
 * Rules are separated by blank lines. The pattern is a glob (* and ?) over
 * the symbol name (without +offset) of either side of the finding.
 */
#include <errno.h>
#include <string.h>

#include "engine_internal.h"

typedef struct {
	ptw_kind kind;
	char *pattern;
	char *why;
	unsigned line;
	uint64_t hits;
} rule;

static void rules_free(GArray *a)
{
	for (guint i = 0; i < a->len; i++) {
		rule *r = &g_array_index(a, rule, i);
		g_free(r->pattern);
		g_free(r->why);
	}
	g_array_free(a, TRUE);
}

static bool rule_close(GArray *a, rule *cur, const char *path, char **err)
{
	if (!cur->kind && !cur->pattern && !cur->why)
		return true;
	if (!cur->kind || !cur->pattern || !cur->why || !*cur->why) {
		*err = g_strdup_printf("%s:%u: a rule needs 'kind:', 'symbol:' "
				       "and a non-empty 'why:'",
				       path, cur->line);
		return false; /* the caller frees cur */
	}
	g_array_append_val(a, *cur);
	memset(cur, 0, sizeof(*cur));
	return true;
}

bool ptw_suppressions_load(ptw_engine *e, const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*err = g_strdup_printf("cannot read suppressions '%s': %s", path,
				       g_strerror(errno));
		return false;
	}
	GArray *a = g_array_new(FALSE, TRUE, sizeof(rule));
	rule cur = { 0 };
	char line[1024];
	unsigned n = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof(line), f)) {
		n++;
		g_strstrip(line);
		if (line[0] == '#')
			continue;
		if (!line[0]) {
			ok = rule_close(a, &cur, path, err);
			continue;
		}
		char *colon = strchr(line, ':');
		if (!colon) {
			*err = g_strdup_printf("%s:%u: expected 'key: value'",
					       path, n);
			ok = false;
			break;
		}
		*colon = 0;
		char *key = g_strstrip(line), *val = g_strstrip(colon + 1);
		if (!cur.line)
			cur.line = n;
		if (!strcmp(key, "kind")) {
			cur.kind = ptw_kind_from_name(val);
			if (!cur.kind) {
				*err = g_strdup_printf("%s:%u: unknown kind '%s'",
						       path, n, val);
				ok = false;
			}
		} else if (!strcmp(key, "symbol")) {
			g_free(cur.pattern);
			cur.pattern = g_strdup(val);
		} else if (!strcmp(key, "why")) {
			char *old = cur.why;
			cur.why = old ? g_strconcat(old, " ", val, NULL)
				      : g_strdup(val);
			g_free(old);
		} else {
			*err = g_strdup_printf("%s:%u: unknown key '%s' (kind, "
					       "symbol, why)",
					       path, n, key);
			ok = false;
		}
	}
	fclose(f);
	if (ok)
		ok = rule_close(a, &cur, path, err);
	if (!ok) {
		g_free(cur.pattern);
		g_free(cur.why);
		rules_free(a);
		return false;
	}
	e->rules = a;
	ptw_report_line(e, "suppressions: %u rule(s) from %s", a->len, path);
	return true;
}

void ptw_suppressions_free(ptw_engine *e)
{
	if (e->rules)
		rules_free(e->rules);
}

static bool sym_matches(const char *pattern, const char *sym)
{
	if (!sym || !*sym)
		return false;
	char name[96];
	g_strlcpy(name, sym[0] == '[' ? sym + 1 : sym, sizeof(name));
	name[strcspn(name, "+]")] = 0;
	return g_pattern_match_simple(pattern, name);
}

/* The justification of the first rule matching f, or NULL. */
const char *ptw_suppressed(ptw_engine *e, const ptw_finding *f)
{
	if (!e->rules)
		return NULL;
	for (guint i = 0; i < e->rules->len; i++) {
		rule *r = &g_array_index(e->rules, rule, i);
		if (r->kind != f->kind)
			continue;
		if (sym_matches(r->pattern, f->sym) ||
		    (f->has_other && sym_matches(r->pattern, f->other_sym))) {
			r->hits++;
			return r->why;
		}
	}
	return NULL;
}
