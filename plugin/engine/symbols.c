/* SPDX-License-Identifier: MIT */
/*
 * Guest symbols for findings: kernel text symbols from a /proc/kallsyms dump
 * or a System.map ("ADDR TYPE NAME [MODULE]" per line), and user program
 * names announced by guest tests (phase labels "prog:NAME").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

typedef struct {
	uint64_t addr;
	char *name;
} sym;

static int sym_cmp(const void *a, const void *b)
{
	const sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

bool ptw_symbols_load(ptw_engine *e, const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*err = g_strdup_printf("cannot read symbols '%s': %s", path,
				       g_strerror(errno));
		return false;
	}
	GArray *a = g_array_new(FALSE, FALSE, sizeof(sym));
	char line[512];
	unsigned lineno = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *end;
		uint64_t addr = strtoull(line, &end, 16);
		if (end == line || *end != ' ' || !end[1] || end[2] != ' ') {
			bad++;
			continue;
		}
		char type = end[1];
		char *name = end + 3;
		name[strcspn(name, " \t\r\n")] = 0;
		ptw_linux_note_symbol(e, name, addr);
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (!addr || !*name)
			continue;
		sym s = {addr, g_strdup(name)};
		g_array_append_val(a, s);
	}
	fclose(f);
	if (a->len == 0) {
		*err = g_strdup_printf("no text symbols in '%s' (%u lines, %u "
				       "malformed): expected kallsyms or "
				       "System.map format",
				       path, lineno, bad);
		g_array_free(a, TRUE);
		return false;
	}
	qsort(a->data, a->len, sizeof(sym), sym_cmp);
	e->syms = a;
	for (guint i = 0; i < a->len; i++)
		if (!strcmp(g_array_index(a, sym, i).name, "_text"))
			e->text_va = g_array_index(a, sym, i).addr;
	ptw_report_line(e, "symbols: %u text symbols from %s", a->len, path);
	return true;
}

void ptw_symbols_free(ptw_engine *e)
{
	if (e->syms) {
		for (guint i = 0; i < e->syms->len; i++)
			g_free(g_array_index(e->syms, sym, i).name);
		g_array_free(e->syms, TRUE);
	}
	if (e->progs)
		g_hash_table_destroy(e->progs);
	/* the kernel's types came with its symbols */
	ptw_linux_mm_free(e);
	ptw_linux_orc_free(e);
}

/* A program announced itself (phase "prog:NAME") in this address space. */
void ptw_symbols_program(ptw_engine *e, uint64_t space, const char *name)
{
	if (!e->progs)
		e->progs = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						 g_free, g_free);
	g_hash_table_replace(e->progs, g_memdup2(&space, sizeof(space)),
			     g_strdup(name));
}

/* "symbol+0xoff", "[prog]" or "" for pc as seen from cpu. */
void ptw_symbolize(ptw_engine *e, unsigned cpu, uint64_t pc, char *buf,
		   size_t n)
{
	buf[0] = 0;
	bool kernel = e->ops->upper_half(pc);
	if (kernel) {
		if (!e->syms || !e->syms->len)
			return;
		sym *s = (sym *)e->syms->data;
		guint lo = 0, hi = e->syms->len;
		if (pc < s[0].addr)
			return;
		while (hi - lo > 1) {
			guint mid = (lo + hi) / 2;
			if (s[mid].addr <= pc)
				lo = mid;
			else
				hi = mid;
		}
		if (pc - s[lo].addr > (1u << 20))
			return; /* past the end of text */
		snprintf(buf, n, "%s+0x%" PRIx64, s[lo].name, pc - s[lo].addr);
		return;
	}
	/* arm64 early boot runs kernel code at its physical address (the ID
	 * map): symbolize through the kernel image's load address, found by
	 * translating _text through the live kernel tables once. (An
	 * architecture branch that stays: it is about how arm64 Linux boots,
	 * and x86 never runs kernel code at a lower-half address.) */
	if (e->cfg.arch == PTW_ARCH_ARM64 && e->syms && e->syms->len &&
	    cpu < e->cfg.ncpus) {
		if (!e->text_pa && e->text_va) {
			for (unsigned i = 0; i < e->cfg.ncpus && !e->text_pa;
			     i++) {
				uint64_t pa;
				if (ptw_translate(e, i, e->text_va, &pa, NULL,
						  NULL))
					e->text_pa = pa;
			}
		}
		if (e->text_pa && pc >= e->text_pa &&
		    pc - e->text_pa < (256ULL << 20)) {
			char tmp[96];
			ptw_symbolize(e, cpu, pc - e->text_pa + e->text_va, tmp,
				      sizeof(tmp));
			if (tmp[0]) {
				snprintf(buf, n, "%s (physical)", tmp);
				return;
			}
		}
	}
	if (!e->progs || cpu >= e->cfg.ncpus)
		return;
	uint64_t space = ptw_access_space(e, cpu, pc);
	const char *name = g_hash_table_lookup(e->progs, &space);
	if (name)
		snprintf(buf, n, "[%s]", name);
}
