/* SPDX-License-Identifier: MIT */
/* Logs, symbols and suppressions, through a real output directory. */
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "engine_internal.h" /* ptw_report_title() */
#include "fake_guest.h"
#include "tap.h"

#define RAM 0x40000000ULL

static char *tmpdir;

static char *write_file(const char *name, const char *text)
{
	char *p = g_build_filename(tmpdir, name, NULL);
	g_file_set_contents(p, text, -1, NULL);
	return p;
}

static char *read_file(const char *dir, const char *name)
{
	char *p = g_build_filename(dir, name, NULL), *s = NULL;
	g_file_get_contents(p, &s, NULL, NULL);
	g_free(p);
	return s ? s : g_strdup("");
}

static ptw_engine *engine_in(const char *dir, fake_guest *g)
{
	g->base = RAM;
	g->size = 1 << 20;
	g->mem = calloc(1, g->size);
	ptw_config cfg = {.arch = PTW_ARCH_ARM64,
			  .ncpus = 2,
			  .read_phys = fake_read,
			  .read_opaque = g,
			  .out_dir = dir};
	char *err = NULL;
	g->e = ptw_engine_new(&cfg, &err);
	g_free(err);
	return g->e;
}

/* an engine (logs in dir, or none) with the symbols of the file syms */
static void engine_with_symbols(const char *dir, fake_guest *g,
				const char *syms)
{
	engine_in(dir, g);
	char *err = NULL;
	CHECK(ptw_symbols_load(g->e, syms, &err));
	g_free(err);
}

/* tables at RAM: L0 -> L1 -> L2 -> L3 (RAM + 0x3000, entries as memory
 * holds them), the MMU on for vcpus 0..ncpus-1 */
static void tables_at_ram(fake_guest *g, unsigned ncpus)
{
	mem_w64(g, RAM, (RAM + 0x1000) | 3);
	mem_w64(g, RAM + 0x1000, (RAM + 0x2000) | 3);
	mem_w64(g, RAM + 0x2000, (RAM + 0x3000) | 3);
	for (unsigned c = 0; c < ncpus; c++) {
		sysreg(g, c, PTW_REG_ARM_TCR, 16 | (1ULL << 23));
		sysreg(g, c, PTW_REG_ARM_TTBR0, RAM);
		sysreg(g, c, PTW_REG_ARM_SCTLR, 1);
	}
}

static void finding_with_symbols(fake_guest *g, uint64_t pc)
{
	/* a stale access is the simplest two-sided finding to provoke:
	 * here a client EXPECT plus a DONE suffice for the verdict, and a
	 * synthetic BBM via real tables would need the whole setup; use the
	 * engine's public path: tables at RAM, valid -> valid remap */
	const uint64_t L3 = RAM + 0x3000;
	mem_w64(g, L3, (RAM + 0x10000) | 0x703);
	tables_at_ram(g, 1);
	mem_w64(g, L3, (RAM + 0x11000) | 0x703);
	ptw_ctx c = {.cpu = 0, .pc = pc, .icount = 100};
	ptw_ev_access(g->e, &c, L3, L3, 8, true, 0);
}

static void logs_and_symbols(void)
{
	char *dir = g_build_filename(tmpdir, "out1", NULL);
	char *syms = write_file("kallsyms", "ffff800080010000 T _text\n"
					    "ffff800080020000 t set_pte_demo\n"
					    "ffff800080030000 D some_data\n"
					    "garbage line\n");
	fake_guest g;
	engine_with_symbols(dir, &g, syms);
	finding_with_symbols(&g, 0xffff800080020010ULL);
	CHECK_EQ(ptw_findings_total(g.e), 1);
	ptw_engine_finish(g.e);
	char *log = read_file(dir, "ptwatch.log");
	char *js = read_file(dir, "findings.jsonl");
	char *sum = read_file(dir, "summary.json");
	CHECK(strstr(log, "[BBM_VALID_TO_VALID error] #1 vcpu 0 pc "
			  "0xffff800080020010 "
			  "set_pte_demo+0x10") != NULL);
	CHECK(strstr(js, "\"pc_sym\":\"set_pte_demo+0x10\"") != NULL);
	CHECK(strstr(js, "\"kind\":\"BBM_VALID_TO_VALID\",\"severity\":"
			 "\"error\"") != NULL);
	CHECK(strstr(sum, "\"by_severity\": {\n    \"error\": 1,\n    "
			  "\"warning\": 0,\n    \"note\": 0") != NULL);
	CHECK(strstr(sum, "\"BBM_VALID_TO_VALID/error\": 1") != NULL);
	CHECK(strstr(sum, "\"complete\": true") != NULL);
	CHECK(strstr(sum, "\"BBM_VALID_TO_VALID\": 1") != NULL);
	CHECK(strstr(sum, "\"verdict\": \"none\"") != NULL);
	g_free(log);
	g_free(js);
	g_free(sum);
	ptw_engine_free(g.e);
	free(g.mem);
	/* a symbol file without text symbols is refused with a reason */
	char *bad = write_file("bad", "nothing here\n");
	char *err = NULL;
	engine_in(NULL, &g);
	CHECK(!ptw_symbols_load(g.e, bad, &err));
	CHECK(err && strstr(err, "no text symbols"));
	g_free(err);
	err = NULL;
	CHECK(!ptw_symbols_load(g.e, "/nonexistent/x", &err));
	CHECK(err && strstr(err, "cannot read symbols"));
	g_free(err);
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(dir);
	g_free(syms);
	g_free(bad);
}

/* One finding at set_pte_demo+0x10 in an engine writing to dir, with the
 * rules of rules_path loaded as suppressions or as known issues; returns
 * ptwatch.log and summary.json (caller frees) */
static void finding_through_rules(const char *dir, const char *rules_path,
				  bool known, char **log, char **sum)
{
	char *syms = write_file("kallsyms-rules",
				"ffff800080020000 t set_pte_demo\n");
	fake_guest g;
	engine_in(dir, &g);
	char *err = NULL;
	CHECK(ptw_symbols_load(g.e, syms, &err));
	CHECK(known ? ptw_known_load(g.e, rules_path, &err)
		    : ptw_suppressions_load(g.e, rules_path, &err));
	g_free(err);
	finding_with_symbols(&g, 0xffff800080020010ULL);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	ptw_engine_finish(g.e);
	*log = read_file(dir, "ptwatch.log");
	*sum = read_file(dir, "summary.json");
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(syms);
}

static void suppressions(void)
{
	char *dir = g_build_filename(tmpdir, "out2", NULL);
	char *rules = write_file("rules",
				 "# demo\n"
				 "kind: BBM_VALID_TO_VALID\n"
				 "symbol: set_pte_*\n"
				 "why: the demo maps a page that no CPU uses\n"
				 "why: (second line)\n");
	char *log, *sum, *err = NULL;
	fake_guest g;
	finding_through_rules(dir, rules, false, &log, &sum);
	CHECK(strstr(log, "why suppressed: the demo maps a page that no CPU "
			  "uses (second line)") != NULL);
	CHECK(strstr(sum, "\"suppressed\": {\n    \"BBM_VALID_TO_VALID\": 1") !=
	      NULL);
	g_free(log);
	g_free(sum);
	/* a rule without a justification is refused */
	char *nowhy = write_file("nowhy", "kind: PTE_ABA\nsymbol: x\n");
	char *badkind =
		write_file("badkind", "kind: NOPE\nsymbol: x\nwhy: y\n");
	engine_in(NULL, &g);
	err = NULL;
	CHECK(!ptw_suppressions_load(g.e, nowhy, &err));
	CHECK(err && strstr(err, "non-empty 'why:'"));
	g_free(err);
	err = NULL;
	CHECK(!ptw_suppressions_load(g.e, badkind, &err));
	CHECK(err && strstr(err, "unknown kind 'NOPE'"));
	g_free(err);
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(dir);
	g_free(rules);
	g_free(nowhy);
	g_free(badkind);
}

/* known upstream issues: set aside, counted apart from suppressions, the
 * proposed fix in the log; a known issue without a fix is refused */
static void known_issues(void)
{
	char *dir = g_build_filename(tmpdir, "out3", NULL);
	char *known = write_file("known", "kind: BBM_VALID_TO_VALID\n"
					  "symbol: set_pte_demo\n"
					  "upstream: demo\n"
					  "evidence: the unit test makes it\n"
					  "why: nothing uses the page\n"
					  "fix: add the break\n");
	char *log, *sum, *err = NULL;
	fake_guest g;
	finding_through_rules(dir, known, true, &log, &sum);
	CHECK(strstr(log, "[known BBM_VALID_TO_VALID/error]") != NULL);
	CHECK(strstr(log, "proposed fix: add the break") != NULL);
	CHECK(strstr(log, "set aside: 1 known upstream issue(s)") != NULL);
	CHECK(strstr(sum, "\"known\": {\n    \"BBM_VALID_TO_VALID\": 1") !=
	      NULL);
	CHECK(strstr(sum, "\"suppressed\": {\n    \"BBM_VALID_TO_VALID\": 0") !=
	      NULL);
	g_free(log);
	g_free(sum);
	char *nofix = write_file("nofix", "kind: PTE_ABA\nsymbol: x\nwhy: y\n");
	engine_in(NULL, &g);
	err = NULL;
	CHECK(!ptw_known_load(g.e, nofix, &err));
	CHECK(err && strstr(err, "needs 'fix:'"));
	g_free(err);
	/* 'fix:' is no key of a suppression */
	err = NULL;
	CHECK(!ptw_suppressions_load(g.e, known, &err));
	CHECK(err && strstr(err, "unknown key 'upstream'"));
	g_free(err);
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(dir);
	g_free(known);
	g_free(nofix);
}

/* a finding's title from its sides' symbols (sym, other_sym: NULL for no
 * other side) and PCs */
static const char *title_of(ptw_kind k, const char *sym, uint64_t pc,
			    const char *other_sym, uint64_t other_pc)
{
	static char buf[256];
	ptw_finding f = {.kind = k, .ctx = {0, pc, 1}};
	g_strlcpy(f.sym, sym, sizeof(f.sym));
	if (other_sym) {
		f.has_other = true;
		f.other = (ptw_ctx){.cpu = 1, .pc = other_pc, .icount = 2};
		g_strlcpy(f.other_sym, other_sym, sizeof(f.other_sym));
	}
	ptw_report_title(&f, buf, sizeof(buf));
	return buf;
}

#define CHECK_TITLE(want, ...)                                                 \
	do {                                                                   \
		const char *got_ = title_of(__VA_ARGS__);                      \
		if (strcmp(got_, want))                                        \
			printf("# title '%s', want '%s'\n", got_, want);       \
		CHECK(!strcmp(got_, want));                                    \
	} while (0)

/* titles: the two sides' functions without offsets, sorted (the same title
 * whichever side saw the other), PCs where there are no symbols */
static void titles(void)
{
	const ptw_kind R = PTW_KIND_BBM_WINDOW_READ;
	/* sorted by strcmp, offsets stripped */
	CHECK_TITLE("BBM_WINDOW_READ in contpte_convert / "
		    "page_vma_mapped_walk",
		    R, "page_vma_mapped_walk+0x458", 0xffff800080118d98ULL,
		    "contpte_convert+0xc0", 0xffff8000800229a4ULL);
	CHECK_TITLE("BBM_WINDOW_READ in contpte_convert / "
		    "page_vma_mapped_walk",
		    R, "contpte_convert+0x10", 0xffff800080022000ULL,
		    "page_vma_mapped_walk+0x5c1", 0xffff800080118f00ULL);
	/* a compiler's clone is its function: the same title whether one
	 * build made contpte_convert.isra.0 or not */
	CHECK_TITLE("BBM_MAKE_BEFORE_INVALIDATE in __set_ptes / "
		    "contpte_convert",
		    PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE,
		    "contpte_convert.isra.0+0xc0", 0xffff8000800229a4ULL,
		    "__set_ptes.constprop.0+0x40", 0xffff800080377200ULL);
	/* arm64's ID map: the function, not where it ran */
	CHECK_TITLE("BBM_MAKE_BEFORE_INVALIDATE in __pi_map_range",
		    PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE,
		    "__pi_map_range+0x1b4 (physical)", 0x41f080a8ULL, NULL, 0);
	/* one side only */
	CHECK_TITLE("BBM_VALID_TO_VALID in set_pte_demo",
		    PTW_KIND_BBM_VALID_TO_VALID, "set_pte_demo+0x10",
		    0xffff800080020010ULL, NULL, 0);
	CHECK_TITLE("BBM_VALID_TO_VALID in 0x402019a0",
		    PTW_KIND_BBM_VALID_TO_VALID, "", 0x402019a0ULL, NULL, 0);
	/* one function on both sides: both named (two sides, not one) */
	CHECK_TITLE("PTE_ABA in do_swap_page / do_swap_page", PTW_KIND_PTE_ABA,
		    "do_swap_page+0x40", 0xffff800080030040ULL,
		    "do_swap_page+0x10", 0xffff800080030010ULL);
	/* a variant of the kind is named after it (a stale access to a page
	 * freed and reused: KASAN's word) */
	{
		static char vbuf[256];
		ptw_finding v = {.kind = PTW_KIND_STALE_TLB_ACCESS,
				 .variant = "use-after-free",
				 .ctx = {1, 0xffff800080040010ULL, 5},
				 .has_other = true,
				 .other = {0, 0xffff800080050020ULL, 4}};
		g_strlcpy(v.sym, "zap_pte_range+0x10", sizeof(v.sym));
		g_strlcpy(v.other_sym, "clear_page+0x20", sizeof(v.other_sym));
		ptw_report_title(&v, vbuf, sizeof(vbuf));
		CHECK(!strcmp(vbuf, "STALE_TLB_ACCESS use-after-free in "
				    "clear_page / zap_pte_range"));
	}
	/* a user program by its name, sorted like a symbol */
	CHECK_TITLE("STALE_TLB_ACCESS in [mprotect_reclaim] / "
		    "change_protection",
		    PTW_KIND_STALE_TLB_ACCESS, "change_protection+0x986",
		    0xffffffff811572d6ULL, "[mprotect_reclaim]", 0x40276bULL);
	/* no symbols (bare metal): PCs, in the finding's own order, so that
	 * the two roles' PCs stay apart as the (PC, other PC) sites did */
	CHECK_TITLE("STALE_TLB_ACCESS in 0x40080100 / 0x40080040",
		    PTW_KIND_STALE_TLB_ACCESS, "", 0x40080100ULL, "",
		    0x40080040ULL);
	CHECK_TITLE("STALE_TLB_ACCESS in 0x40080040 / 0x40080100",
		    PTW_KIND_STALE_TLB_ACCESS, "", 0x40080040ULL, "",
		    0x40080100ULL);
	/* one side without a symbol: its PC, the sides in their order */
	CHECK_TITLE("STALE_TLB_ACCESS in zap_pte_range / 0x400123",
		    PTW_KIND_STALE_TLB_ACCESS, "zap_pte_range+0x20",
		    0xffffffff81160020ULL, "", 0x400123ULL);
}

/* another valid -> valid remap of the entry finding_with_symbols() made
 * (to RAM + 0x1N000), by vcpu 0 at pc, icount 200 + N: a
 * BBM_VALID_TO_VALID there */
static void remap_at(fake_guest *g, uint64_t pc, unsigned n)
{
	const uint64_t L3 = RAM + 0x3000;
	mem_w64(g, L3, (RAM + 0x10000 + n * 0x1000ULL) | 0x703);
	ptw_ctx c = {.cpu = 0, .pc = pc, .icount = 200 + n};
	ptw_ev_access(g->e, &c, L3, L3, 8, true, 0);
}

static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* repeats are counted by title: two PCs in one function are one finding
 * and a repeat; another function is another finding; without symbols the
 * PCs are the titles, two findings */
static void dedup_by_title(void)
{
	char *dir = g_build_filename(tmpdir, "out-titles", NULL);
	char *syms = write_file("kallsyms-titles",
				"ffff800080010000 T _text\n"
				"ffff800080020000 t set_pte_demo\n"
				"ffff800080030000 t set_pte_other\n"
				"ffff800080040000 t zz_end\n");
	fake_guest g;
	engine_with_symbols(dir, &g, syms);
	finding_with_symbols(&g, 0xffff800080020010ULL);
	remap_at(&g, 0xffff800080020040ULL, 2);
	CHECK_EQ(ptw_findings_total(g.e), 1);
	remap_at(&g, 0xffff800080030010ULL, 3);
	CHECK_EQ(ptw_findings_total(g.e), 2);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	CHECK(f && !strcmp(f->title, "BBM_VALID_TO_VALID in set_pte_demo"));
	f = ptw_finding_get(g.e, 1);
	CHECK(f && !strcmp(f->title, "BBM_VALID_TO_VALID in set_pte_other"));
	ptw_engine_finish(g.e);
	char *log = read_file(dir, "ptwatch.log");
	char *js = read_file(dir, "findings.jsonl");
	char *sum = read_file(dir, "summary.json");
	/* the first in full, with its title after its side lines */
	CHECK(strstr(log, "set_pte_demo+0x10 icount 100 (writer)\n"
			  "  title: BBM_VALID_TO_VALID in set_pte_demo\n"
			  "  entry PA 0x40003000 level 3") != NULL);
	CHECK(strstr(log,
		     "[repeat BBM_VALID_TO_VALID error] pc "
		     "0xffff800080020040 again: further findings at "
		     "this site are counted (summary.json "
		     "repeats_by_site), not logged\n"
		     "  title: BBM_VALID_TO_VALID in set_pte_demo\n") != NULL);
	CHECK_EQ(count_of(log, "[BBM_VALID_TO_VALID error] #"), 2);
	CHECK_EQ(count_of(js, "\n"), 2);
	CHECK(strstr(js, "\"severity\":\"error\",\"title\":"
			 "\"BBM_VALID_TO_VALID in set_pte_demo\",") != NULL);
	CHECK(strstr(js, "\"title\":\"BBM_VALID_TO_VALID in set_pte_other\"") !=
	      NULL);
	CHECK(strstr(sum, "\"repeats\": {\n    \"BBM_VALID_TO_VALID\": 1,") !=
	      NULL);
	CHECK(strstr(sum, "\n  },\n  \"repeats_by_site\": [\n    {\"title\": "
			  "\"BBM_VALID_TO_VALID in set_pte_demo\", \"kind\": "
			  "\"BBM_VALID_TO_VALID\", \"severity\": \"error\", "
			  "\"pc\": \"0xffff800080020010\", \"repeats\": 1}\n"
			  "  ],\n") != NULL);
	CHECK(strstr(sum,
		     "\"titles\": [\n    {\"title\": \"BBM_VALID_TO_VALID "
		     "in set_pte_demo\", \"kind\": \"BBM_VALID_TO_VALID\", "
		     "\"severity\": \"error\", \"count\": 2, "
		     "\"first_vcpu\": 0, \"first_icount\": 100},\n    "
		     "{\"title\": \"BBM_VALID_TO_VALID in set_pte_other\", "
		     "\"kind\": \"BBM_VALID_TO_VALID\", \"severity\": "
		     "\"error\", \"count\": 1, \"first_vcpu\": 0, "
		     "\"first_icount\": 203}\n  ],\n  \"log_errors\"") != NULL);
	g_free(log);
	g_free(js);
	g_free(sum);
	ptw_engine_free(g.e);
	free(g.mem);
	/* no symbols: each PC its own title, as before titles */
	engine_in(NULL, &g);
	finding_with_symbols(&g, 0xffff800080020010ULL);
	remap_at(&g, 0xffff800080020040ULL, 2);
	remap_at(&g, 0xffff800080020010ULL, 3);
	CHECK_EQ(ptw_findings_total(g.e), 2);
	f = ptw_finding_get(g.e, 1);
	CHECK(f &&
	      !strcmp(f->title, "BBM_VALID_TO_VALID in 0xffff800080020040"));
	CHECK_EQ(ptw_stat(g.e, "entry_changes") >= 3, 1);
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(dir);
	g_free(syms);
}

/* findings set aside are logged once per title too, and all counted */
static void set_aside_by_title(void)
{
	char *dir = g_build_filename(tmpdir, "out-aside", NULL);
	char *syms = write_file("kallsyms-aside",
				"ffff800080020000 t set_pte_demo\n");
	char *rules = write_file("rules-aside", "kind: BBM_VALID_TO_VALID\n"
						"symbol: set_pte_demo\n"
						"why: the demo's page\n");
	fake_guest g;
	engine_with_symbols(dir, &g, syms);
	char *err = NULL;
	CHECK(ptw_suppressions_load(g.e, rules, &err));
	g_free(err);
	finding_with_symbols(&g, 0xffff800080020010ULL);
	remap_at(&g, 0xffff800080020040ULL, 2);
	CHECK_EQ(ptw_findings_total(g.e), 0);
	ptw_engine_finish(g.e);
	char *log = read_file(dir, "ptwatch.log");
	char *sum = read_file(dir, "summary.json");
	CHECK_EQ(count_of(log, "[suppressed BBM_VALID_TO_VALID/error]"), 1);
	CHECK(strstr(log,
		     "set_pte_demo+0x10 va 0x0\n"
		     "  title: BBM_VALID_TO_VALID in set_pte_demo\n") != NULL);
	CHECK(strstr(sum, "\"suppressed\": {\n    \"BBM_VALID_TO_VALID\": 2") !=
	      NULL);
	CHECK(strstr(sum, "\"repeats_by_site\": [\n  ],\n  \"titles\": [\n  "
			  "],") != NULL);
	g_free(log);
	g_free(sum);
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(dir);
	g_free(syms);
	g_free(rules);
}

/* A -> B -> A of one entry between two reads by cpu 1 at pc1 and pc2 */
static unsigned aba_between(fake_guest *g, uint64_t pc1, uint64_t pc2,
			    uint64_t *icount)
{
	const uint64_t L3 = RAM + 0x3000, A = (RAM + 0x10000) | 0x703,
		       B = (RAM + 0x11000) | 0x703;
	ptw_ctx r1 = {.cpu = 1, .pc = pc1, .icount = ++*icount};
	ptw_ev_access(g->e, &r1, L3, L3, 8, false, A);
	mem_w64(g, L3, 0);
	ptw_ctx w = {.cpu = 0, .pc = 0x4000, .icount = ++*icount};
	ptw_ev_access(g->e, &w, L3, L3, 8, true, 0);
	mem_w64(g, L3, B);
	w.icount = ++*icount;
	ptw_ev_access(g->e, &w, L3, L3, 8, true, 0);
	mem_w64(g, L3, 0);
	w.icount = ++*icount;
	ptw_ev_access(g->e, &w, L3, L3, 8, true, 0);
	mem_w64(g, L3, A);
	w.icount = ++*icount;
	ptw_ev_access(g->e, &w, L3, L3, 8, true, 0);
	ptw_ctx r2 = {.cpu = 1, .pc = pc2, .icount = ++*icount};
	ptw_ev_access(g->e, &r2, L3, L3, 8, false, A);
	return ptw_finding_count(g->e, PTW_KIND_PTE_ABA);
}

/* PTE_ABA: two reads by an MGLRU or khugepaged walker belong to two walks
 * (a kernel thread never returns to user mode): not paired; a fault's read
 * and its re-check are */
static void aba_walkers_not_paired(void)
{
	char *syms = write_file("kallsyms4",
				"ffff800080010000 T _text\n"
				"ffff800080020000 t walk_pud_range\n"
				"ffff800080030000 t do_swap_page\n"
				"ffff800080040000 T handle_mm_fault\n"
				"ffff800080050000 t zz_end\n"
				"ffff800080060000 T swapin_readahead\n"
				"ffff800080070000 t zz_end2\n"
				"ffff800080080000 t "
				"contpte_test_and_clear_young_ptes\n"
				"ffff800080090000 t page_vma_mapped_walk\n"
				"ffff8000800a0000 t zz_end3\n"
				"ffff8000800b0000 T pmdp_collapse_flush\n"
				"ffff8000800c0000 t find_pmd_or_thp_or_none\n"
				"ffff8000800d0000 t zz_end4\n");
	fake_guest g;
	engine_with_symbols(NULL, &g, syms);
	finding_with_symbols(&g, 0xffff800080030000ULL); /* tables; one V2V */
	uint64_t ic = 1000;
	/* the entry holds B: make it A first, so that a read of A is
	 * what the shadow holds */
	const uint64_t L3 = RAM + 0x3000;
	mem_w64(&g, L3, (RAM + 0x10000) | 0x703);
	ptw_ctx w = {.cpu = 0, .pc = 0x4000, .icount = ++ic};
	ptw_ev_access(g.e, &w, L3, L3, 8, true, 0);
	CHECK_EQ(aba_between(&g, 0xffff800080040010ULL, 0xffff800080030040ULL,
			     &ic),
		 1);
	CHECK_EQ(aba_between(&g, 0xffff800080020010ULL, 0xffff800080020080ULL,
			     &ic),
		 1); /* no second finding */
	/* swap readahead's hint read, then a fault's read: no pair */
	CHECK_EQ(aba_between(&g, 0xffff800080040010ULL, 0xffff800080060200ULL,
			     &ic),
		 1);
	/* reclaim's young-bit harvest of a contpte block, then the next
	 * rmap walk's read (7.2): no pair */
	CHECK_EQ(aba_between(&g, 0xffff800080080010ULL, 0xffff800080090040ULL,
			     &ic),
		 1);
	/* khugepaged's collapse takes the entry down, then a later scan
	 * reads it (our 7.2 x86-64 build): no pair */
	CHECK_EQ(aba_between(&g, 0xffff8000800b0010ULL, 0xffff8000800c0010ULL,
			     &ic),
		 1);
	CHECK_EQ(ptw_stat(g.e, "page_table_loads") > 0, 1);
	ptw_engine_free(g.e);
	free(g.mem);
	g_free(syms);
}

/* page_vma_mapped_walk() reads an entry in another CPU's transient break
 * (cleared, made again) and its task returns to user without reading it
 * again: an error when the entry is part of a multi-page unit (a large
 * folio unmapped in part, seed 001), a note for a single page (the
 * reclaim of that page fails, nothing else) */
static void pt_load_any(fake_guest *g, unsigned cpu, uint64_t pa)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_access(g->e, &c, pa, pa, 8, false, mem_r64(g, pa));
}

/* the end of a window-read case: cpu 0 makes the entry at pte_pa again
 * (v), cpu 1's task returns to user and loads another entry (at next);
 * the severity of the BBM_WINDOW_READ found (0: none); the engine freed */
static unsigned window_read_end(fake_guest *g, uint64_t pte_pa, uint64_t v,
				uint64_t next)
{
	pt_store(g, 0, pte_pa, v);
	ptw_ev_lower_half_entry(g->e, 1);
	pt_load_any(g, 1, next);
	unsigned sev = 0;
	for (unsigned i = 0; i < ptw_findings_total(g->e); i++) {
		const ptw_finding *f = ptw_finding_get(g->e, i);
		if (f && f->kind == PTW_KIND_BBM_WINDOW_READ)
			sev = f->severity;
	}
	ptw_engine_free(g->e);
	free(g->mem);
	return sev;
}

static unsigned pvmw_window_read(uint64_t pte_pa, bool unit, uint64_t call_site)
{
	char *syms = write_file("kallsyms5",
				"ffff800080010000 T _text\n"
				"ffff800080020000 T page_vma_mapped_walk\n"
				"ffff800080030000 t zz_end\n"
				"ffff800080050000 t try_to_unmap_one\n"
				"ffff800080060000 t folio_referenced_one\n"
				"ffff800080070000 t zz_end2\n");
	fake_guest g;
	engine_with_symbols(NULL, &g, syms);
	const uint64_t L2 = RAM + 0x2000, L3 = RAM + 0x3000,
		       UNIT = RAM + 0x10000;
	tables_at_ram(&g, 2);
	/* a unit (16 entries in one pass) at L3[0..15], single pages at
	 * L3[16] and L3[17], each in a pass of its own */
	ptw_ctx d = fake_ctx(&g, 0);
	if (unit) {
		for (unsigned i = 0; i < 16; i++)
			pt_store(&g, 0, L3 + i * 8,
				 (UNIT + i * 4096ULL) | 0x703);
		ptw_ev_arm64_dsb(g.e, &d, 0xb);
	}
	for (unsigned i = 16; i < 18; i++) { /* pages apart: no unit */
		pt_store(&g, 0, L3 + i * 8, (UNIT + i * 0x3000ULL) | 0x703);
		d = fake_ctx(&g, 0);
		ptw_ev_arm64_dsb(g.e, &d, 0xb);
	}
	uint64_t v = mem_r64(&g, pte_pa);
	pt_store(&g, 0, pte_pa, 0);
	d = fake_ctx(&g, 0);
	ptw_ev_arm64_dsb(g.e, &d, 0xb);
	CHECK(ptw_linux_watched_callee(g.e, 0xffff800080020000ULL) ==
	      PTW_CALLEE_RMAP_WALK);
	if (call_site) {
		ptw_ctx call = {
			.cpu = 1, .pc = call_site, .icount = ++g.icount};
		ptw_ev_call(g.e, &call);
	}
	ptw_ctx r = {
		.cpu = 1, .pc = 0xffff800080020040ULL, .icount = ++g.icount};
	ptw_ev_access(g.e, &r, pte_pa, pte_pa, 8, false, 0);
	unsigned sev = window_read_end(&g, pte_pa, v, L2);
	g_free(syms);
	return sev;
}

static void window_read_single_page(void)
{
	const uint64_t e3 = RAM + 0x3000 + 3 * 8, e17 = RAM + 0x3000 + 17 * 8;
	const uint64_t unmap = 0xffff800080050100ULL,
		       referenced = 0xffff800080060100ULL;
	/* caller unknown (no call seen) */
	CHECK_EQ(pvmw_window_read(e3, true, 0), PTW_SEV_ERROR);
	CHECK_EQ(pvmw_window_read(e17, true, 0), PTW_SEV_NOTE);
	CHECK_EQ(pvmw_window_read(RAM + 0x3000 + 16 * 8, false, 0),
		 PTW_SEV_NOTE);
	/* reclaim's unmap of a large folio: seed 001 */
	CHECK_EQ(pvmw_window_read(e3, true, unmap), PTW_SEV_ERROR);
	CHECK_EQ(pvmw_window_read(e17, true, unmap), PTW_SEV_NOTE);
	/* a reference scan only tests young bits */
	CHECK_EQ(pvmw_window_read(e3, true, referenced), PTW_SEV_NOTE);
}

/* arm64's contpte_ptep_get() reads an entry for its caller: a read in a
 * break window by it is judged as its caller's, taken from the call stack
 * (its link register: a leaf function). page_vma_mapped_walk() called by
 * folio_referenced_one() (a reference scan, seen on 6.12 arm64 in the
 * widened smoke): a note; called by try_to_unmap_one() on a unit (seed
 * 001): still an error */
static uint64_t g_regs[2][32];
static bool g_gpr(void *opaque, unsigned cpu, unsigned n, uint64_t *v)
{
	(void)opaque;
	*v = cpu < 2 && n < 32 ? g_regs[cpu][n] : 0;
	return true;
}

static unsigned getter_window_read(uint64_t call_site)
{
	const uint64_t KVA = 0xffff800000000000ULL, KTEXT = KVA + 0x1000,
		       KSTACK = KVA + 0x10000, PTEXT = RAM + 0x8000,
		       PSTACK = RAM + 0x9000, L3 = RAM + 0x3000,
		       UNIT = RAM + 0x10000;
	char *syms = write_file("kallsyms-getter",
				"ffff800000001000 T page_vma_mapped_walk\n"
				"ffff800000001100 T contpte_ptep_get\n"
				"ffff800000001200 t folio_referenced_one\n"
				"ffff800000001300 t try_to_unmap_one\n"
				"ffff800000001400 t zz_end\n");
	fake_guest g;
	g.base = RAM;
	g.size = 1 << 20;
	g.mem = calloc(1, g.size);
	g.icount = 0;
	ptw_config cfg = {.arch = PTW_ARCH_ARM64,
			  .ncpus = 2,
			  .read_phys = fake_read,
			  .read_gpr = g_gpr,
			  .read_opaque = &g};
	char *err = NULL;
	g.e = ptw_engine_new(&cfg, &err);
	g_free(err);
	err = NULL;
	CHECK(ptw_symbols_load(g.e, syms, &err));
	g_free(err);
	/* user tables at RAM (TTBR0), the kernel's at RAM + 0x4000 (TTBR1):
	 * its text and stack pages */
	mem_w64(&g, RAM, (RAM + 0x1000) | 3);
	mem_w64(&g, RAM + 0x1000, (RAM + 0x2000) | 3);
	mem_w64(&g, RAM + 0x2000, (RAM + 0x3000) | 3);
	const uint64_t kt[4] = {RAM + 0x4000, RAM + 0x5000, RAM + 0x6000,
				RAM + 0x7000};
	for (int l = 0; l < 3; l++)
		mem_w64(&g, kt[l] + ((KTEXT >> (39 - 9 * l)) & 511) * 8,
			kt[l + 1] | 3ULL);
	mem_w64(&g, kt[3] + ((KTEXT >> 12) & 511) * 8, PTEXT | 0x703);
	mem_w64(&g, kt[3] + ((KSTACK >> 12) & 511) * 8, PSTACK | 0x703);
	/* page_vma_mapped_walk+0x20: BL contpte_ptep_get */
	uint32_t bl = 0x94000000u | ((0x1100 - 0x1020) / 4);
	memcpy(g.mem + (PTEXT - RAM) + 0x20, &bl, 4);
	/* page_vma_mapped_walk's frame record: {none older, its caller} */
	mem_w64(&g, PSTACK + 0x100, 0);
	mem_w64(&g, PSTACK + 0x108, call_site ? call_site + 4 : 0);
	for (unsigned c = 0; c < 2; c++) {
		sysreg(&g, c, PTW_REG_ARM_MAIR, 0xff);
		sysreg(&g, c, PTW_REG_ARM_TCR,
		       16 | (16ULL << 16) | (2ULL << 30) | (1ULL << 36));
		sysreg(&g, c, PTW_REG_ARM_TTBR0, RAM);
		sysreg(&g, c, PTW_REG_ARM_TTBR1, kt[0]);
		sysreg(&g, c, PTW_REG_ARM_SCTLR, 1);
	}
	/* a unit: 16 entries in one pass at L3[0..15] */
	for (unsigned i = 0; i < 16; i++)
		pt_store(&g, 0, L3 + i * 8, (UNIT + i * 4096ULL) | 0x703);
	ptw_ctx d = fake_ctx(&g, 0);
	ptw_ev_arm64_dsb(g.e, &d, 0xb);
	const uint64_t pte = L3 + 3 * 8;
	uint64_t v = mem_r64(&g, pte);
	pt_store(&g, 0, pte, 0);
	d = fake_ctx(&g, 0);
	ptw_ev_arm64_dsb(g.e, &d, 0xb);
	if (call_site) {
		ptw_ctx call = {
			.cpu = 1, .pc = call_site, .icount = ++g.icount};
		ptw_ev_call(g.e, &call);
	}
	/* the read: contpte_ptep_get+0x40, called from
	 * page_vma_mapped_walk+0x20 */
	g_regs[1][29] = KSTACK + 0x100;
	g_regs[1][30] = KTEXT + 0x24;
	ptw_ctx r = {.cpu = 1, .pc = KTEXT + 0x140, .icount = ++g.icount};
	ptw_ev_access(g.e, &r, pte, pte, 8, false, 0);
	unsigned sev = window_read_end(&g, pte, v, RAM + 0x2000);
	g_free(syms);
	return sev;
}

static void window_read_by_entry_getter(void)
{
	/* folio_referenced_one+0x10 and try_to_unmap_one+0x10 call the walk */
	CHECK_EQ(getter_window_read(0xffff800000001210ULL), PTW_SEV_NOTE);
	CHECK_EQ(getter_window_read(0xffff800000001310ULL), PTW_SEV_ERROR);
}

static void unwritable_output(void)
{
	char *f = write_file("plainfile", "x");
	char *dir = g_build_filename(f, "sub", NULL);
	ptw_config cfg = {.arch = PTW_ARCH_X86_64, .ncpus = 1, .out_dir = dir};
	char *err = NULL;
	ptw_engine *e = ptw_engine_new(&cfg, &err);
	CHECK(e == NULL);
	CHECK(err && strstr(err, "cannot create output directory"));
	g_free(err);
	g_free(f);
	g_free(dir);
}

/* Linux: the overtaking rule takes only the operations obliged to complete
 * a pending batched flush (mprotect's change_protection(), ...) as readers,
 * and only reclaim's and migration's batched unmaps as changers */
static unsigned batched_flush_overtaken(uint64_t changer_pc, uint64_t reader_pc)
{
	char *syms =
		write_file("kallsyms6", "ffff800080010000 T _text\n"
					"ffff800080020000 T change_protection\n"
					"ffff800080030000 t pagemap_pmd_range\n"
					"ffff800080050000 t try_to_unmap_one\n"
					"ffff800080060000 t zap_pte_range\n"
					"ffff800080070000 t zz_end\n");
	fake_guest g;
	engine_with_symbols(NULL, &g, syms);
	const uint64_t L3 = RAM + 0x3000, PAGE = RAM + 0x10000;
	mem_w64(&g, L3, PAGE | 0x703);
	tables_at_ram(&g, 2);
	ptw_ctx a = fake_ctx(&g, 1);
	ptw_ev_access(g.e, &a, 0, PAGE, 8, false, 0); /* cpu1 holds VA 0 */
	mem_w64(&g, L3, 0);
	ptw_ctx c = {.cpu = 0, .pc = changer_pc, .icount = ++g.icount};
	ptw_ev_access(g.e, &c, L3, L3, 8, true, 0); /* no TLBI: deferred */
	ptw_ctx r = {.cpu = 1, .pc = reader_pc, .icount = ++g.icount};
	ptw_ev_access(g.e, &r, L3, L3, 8, false, 0);
	ptw_ev_lower_half_entry(g.e, 1);
	ptw_ctx w = {.cpu = 1, .pc = 0x400000, .icount = ++g.icount};
	ptw_ev_access(g.e, &w, 0, PAGE, 8, true, 1);
	unsigned n = ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (n && f)
		CHECK_EQ(f->other.pc, reader_pc);
	fake_fini(&g);
	return n;
}

static void batched_flush_overtaking_linux(void)
{
	const uint64_t mprot = 0xffff800080020040ULL,
		       pagemap = 0xffff800080030040ULL,
		       reclaim = 0xffff800080050040ULL,
		       zap = 0xffff800080060040ULL;
	CHECK_EQ(batched_flush_overtaken(reclaim, mprot), 1);
	/* a reader that only reports what it finds */
	CHECK_EQ(batched_flush_overtaken(reclaim, pagemap), 0);
	/* a zap's mmu_gather deferral: the mmap lock orders mprotect after */
	CHECK_EQ(batched_flush_overtaken(zap, mprot), 0);
}

/* ptw_json_string(): quotes, backslashes and control characters escaped,
 * UTF-8 kept as it is, a byte that is not UTF-8 as U+FFFD (valid JSON for
 * any program name or symbol) */
static void json_strings(void)
{
	GString *g = g_string_new(NULL);
	ptw_json_string(g, "a\"b\\c\n\x01 caf\xc3\xa9 \xff!");
	CHECK(strcmp(g->str,
		     "\"a\\\"b\\\\c\\u000a\\u0001 caf\xc3\xa9 \\ufffd!\"") ==
	      0);
	g_string_truncate(g, 0);
	ptw_json_string(g, "\xe2\x82"); /* a cut sequence */
	CHECK(strcmp(g->str, "\"\\ufffd\\ufffd\"") == 0);
	g_string_free(g, TRUE);
}

int main(void)
{
	tmpdir = g_dir_make_tmp("ptwatch-test-XXXXXX", NULL);
	RUN(json_strings);
	RUN(logs_and_symbols);
	RUN(suppressions);
	RUN(known_issues);
	RUN(titles);
	RUN(dedup_by_title);
	RUN(set_aside_by_title);
	RUN(aba_walkers_not_paired);
	RUN(window_read_single_page);
	RUN(window_read_by_entry_getter);
	RUN(batched_flush_overtaking_linux);
	RUN(unwritable_output);
	char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	g_free(cmd);
	TAP_DONE();
}
