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
 *
 * A file of known upstream issues (ptw_known_load) has the same rules plus
 * 'evidence:' and a mandatory 'fix:' (the proposed kernel change); a
 * finding it matches is logged as known and counted under "known".
 */
#include <errno.h>
#include <string.h>

#include "engine_internal.h"

typedef struct {
	ptw_kind kind;
	char *pattern;
	char *why;
	char *fix; /* known issues: the proposed fix */
	bool known;
	unsigned line;
	uint64_t hits;
} rule;

static void rules_free(GArray *a)
{
	for (guint i = 0; i < a->len; i++) {
		rule *r = &g_array_index(a, rule, i);
		g_free(r->pattern);
		g_free(r->why);
		g_free(r->fix);
	}
	g_array_free(a, TRUE);
}

static bool rule_close(GArray *a, rule *cur, const char *path, char **err)
{
	if (!cur->kind && !cur->pattern && !cur->why && !cur->fix)
		return true;
	if (!cur->kind || !cur->pattern || !cur->why || !*cur->why) {
		*err = g_strdup_printf("%s:%u: a rule needs 'kind:', 'symbol:' "
				       "and a non-empty 'why:'",
				       path, cur->line);
		return false; /* the caller frees cur */
	}
	if (cur->known && (!cur->fix || !*cur->fix)) {
		*err = g_strdup_printf("%s:%u: a known issue needs 'fix:' (the "
				       "proposed kernel change)",
				       path, cur->line);
		return false;
	}
	g_array_append_val(a, *cur);
	memset(cur, 0, sizeof(*cur));
	return true;
}

static char *join(char *old, const char *val)
{
	char *r = old ? g_strconcat(old, " ", val, NULL) : g_strdup(val);
	g_free(old);
	return r;
}

static bool rules_load(ptw_engine *e, const char *path, bool known, char **err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*err = g_strdup_printf("cannot read %s '%s': %s",
				       known ? "known issues" : "suppressions",
				       path, g_strerror(errno));
		return false;
	}
	GArray *a = g_array_new(FALSE, TRUE, sizeof(rule));
	rule cur = {0};
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
		cur.known = known;
		if (!strcmp(key, "kind")) {
			cur.kind = ptw_kind_from_name(val);
			if (!cur.kind) {
				*err = g_strdup_printf(
					"%s:%u: unknown kind '%s'", path, n,
					val);
				ok = false;
			}
		} else if (!strcmp(key, "symbol")) {
			g_free(cur.pattern);
			cur.pattern = g_strdup(val);
		} else if (!strcmp(key, "why")) {
			cur.why = join(cur.why, val);
		} else if (known && !strcmp(key, "fix")) {
			cur.fix = join(cur.fix, val);
		} else if (known && (!strcmp(key, "evidence") ||
				     !strcmp(key, "upstream"))) {
			/* for the reader of the file; not needed to match */
		} else {
			*err = g_strdup_printf(
				"%s:%u: unknown key '%s' (kind, symbol, why%s)",
				path, n, key,
				known ? ", evidence, upstream, fix" : "");
			ok = false;
		}
	}
	fclose(f);
	if (ok)
		ok = rule_close(a, &cur, path, err);
	if (!ok) {
		g_free(cur.pattern);
		g_free(cur.why);
		g_free(cur.fix);
		rules_free(a);
		return false;
	}
	if (!e->rules)
		e->rules = g_array_new(FALSE, TRUE, sizeof(rule));
	g_array_append_vals(e->rules, a->data, a->len);
	ptw_report_line(e, "%s: %u rule(s) from %s",
			known ? "known issues" : "suppressions", a->len, path);
	g_array_free(a, TRUE); /* the rules' strings now belong to e->rules */
	return true;
}

bool ptw_suppressions_load(ptw_engine *e, const char *path, char **err)
{
	return rules_load(e, path, false, err);
}

bool ptw_known_load(ptw_engine *e, const char *path, char **err)
{
	return rules_load(e, path, true, err);
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

/* The justification of the first rule matching f, or NULL; *known tells
 * a known upstream issue from a suppression, *fix its proposed fix. */
const char *ptw_suppressed(ptw_engine *e, const ptw_finding *f, bool *known,
			   const char **fix)
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
			*known = r->known;
			*fix = r->fix;
			return r->why;
		}
	}
	return NULL;
}
