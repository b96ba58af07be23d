/* SPDX-License-Identifier: MIT */
/* Traces: an engine recording (trace_path) and a second engine fed from the
 * trace (read_phys answered by the reader) find the same; a damaged trace
 * is an error with its byte offset, never a crash. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "fake_guest.h"
#include "ptw_trace.h"
#include "tap.h"

#define PML4	0x101000ULL
#define PDPT	0x102000ULL
#define PD	0x103000ULL
#define PT	0x104000ULL
#define PAGE_A	0x200000ULL
#define PAGE_B	0x201000ULL
#define VA	0x40000000ULL
#define TBL(pa) ((pa) | 0x63ULL)

static char path[64];

/* x86-64, 2 vCPUs: a remap without INVLPG read through by its changer
 * (one STALE_TLB_ACCESS), recorded to path */
static void record(fake_guest *g)
{
	snprintf(path, sizeof(path), "/tmp/ptw-test-trace.%d", (int)getpid());
	g->base = 0;
	g->size = 4 << 20;
	g->mem = calloc(1, g->size);
	g->icount = 0;
	ptw_config cfg = {.arch = PTW_ARCH_X86_64,
			  .ncpus = 2,
			  .read_phys = fake_read,
			  .read_opaque = g,
			  .trace_path = path,
			  .trace_args = "symbols=\n"};
	char *err = NULL;
	g->e = ptw_engine_new(&cfg, &err);
	CHECK(g->e != NULL);
	const uint64_t tables[4] = {PML4, PDPT, PD, PT};
	fake_x86_map_long_mode(g, 2, tables, VA, PAGE_A);
	for (unsigned c = 0; c < 2; c++)
		guest_load(g, c, VA, PAGE_A);
	pt_store(g, 0, PT, TBL(PAGE_B));
	guest_load(g, 0, VA, PAGE_A); /* stale */
	ptw_engine_finish(g->e);
}

/* replay path into a fresh engine: the number of events, or -1 */
static long replay(ptw_engine **out, char **err)
{
	ptw_trace_reader *r = ptw_trace_reader_open(path, err);
	if (!r)
		return -1;
	const ptw_trace_meta *m = ptw_trace_reader_meta(r);
	ptw_config cfg = {.arch = m->arch,
			  .ncpus = m->ncpus,
			  .read_phys = ptw_trace_read_phys,
			  .read_opaque = r,
			  .single_threaded = true};
	ptw_engine *e = ptw_engine_new(&cfg, err);
	ptw_event ev;
	int k;
	long n = 0;
	while ((k = ptw_trace_next_event(r, &ev, err)) == 1) {
		ptw_engine_event(e, &ev);
		n++;
		if (ptw_trace_reader_error(r)) {
			k = -1;
			*err = g_strdup(ptw_trace_reader_error(r));
			break;
		}
	}
	ptw_trace_reader_close(r);
	*out = e;
	return k < 0 ? -1 : n;
}

static void replay_finds_the_same(void)
{
	fake_guest g;
	record(&g);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_STALE_TLB_ACCESS), 1);
	ptw_engine *e = NULL;
	char *err = NULL;
	long n = replay(&e, &err);
	CHECK(n > 10);
	CHECK(err == NULL);
	CHECK_EQ(ptw_findings_total(e), ptw_findings_total(g.e));
	for (unsigned i = 0; i < ptw_findings_total(e); i++) {
		const ptw_finding *a = ptw_finding_get(g.e, i);
		const ptw_finding *b = ptw_finding_get(e, i);
		CHECK_EQ(a->kind, b->kind);
		CHECK_EQ(a->ctx.pc, b->ctx.pc);
		CHECK_EQ(a->ctx.icount, b->ctx.icount);
		CHECK_EQ(a->pte_pa, b->pte_pa);
		CHECK_EQ(a->old_desc, b->old_desc);
		CHECK(strcmp(a->detail, b->detail) == 0);
	}
	CHECK_EQ(ptw_table_count(e), ptw_table_count(g.e));
	g_free(err);
	ptw_engine_free(e);
	fake_fini(&g);
	unlink(path);
}

/* the trace cut inside its first block: an error naming its offset */
static void cut_trace_is_an_error(void)
{
	fake_guest g;
	record(&g);
	fake_fini(&g);
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	CHECK(truncate(path, size - 5) == 0);
	ptw_engine *e = NULL;
	char *err = NULL;
	CHECK_EQ(replay(&e, &err), -1);
	CHECK(err && strstr(err, "byte offset"));
	g_free(err);
	ptw_engine_free(e);
	unlink(path);
}

/* a run killed after an event was written but before its reads were: the
 * trace ends inside the event, which replay calls a cut, not a divergence */
static void ends_inside_an_event(void)
{
	snprintf(path, sizeof(path), "/tmp/ptw-test-trace.%d", (int)getpid());
	ptw_trace_meta m = {.version = PTW_TRACE_VERSION,
			    .arch = PTW_ARCH_X86_64,
			    .ncpus = 1,
			    .max_pending = 64,
			    .args = (char *)""};
	char *err = NULL;
	ptw_trace_writer *w = ptw_trace_writer_open(path, &m, &err);
	CHECK(w != NULL);
	ptw_event ev = {.kind = PTW_EV_SYSREG,
			.sysreg = {.reg = PTW_REG_X86_CR3, .value = PML4}};
	ptw_trace_write_event(w, &ev);
	CHECK(ptw_trace_writer_close(w, &err));
	ptw_trace_reader *r = ptw_trace_reader_open(path, &err);
	CHECK(r != NULL);
	ptw_event got;
	CHECK_EQ(ptw_trace_next_event(r, &got, &err), 1);
	CHECK_EQ(got.kind, PTW_EV_SYSREG);
	uint64_t v = 0;
	CHECK(!ptw_trace_read_phys(r, PML4, &v, sizeof(v)));
	const char *why = ptw_trace_reader_error(r);
	CHECK(why && strstr(why, "ends before the run did"));
	ptw_trace_reader_close(r);
	/* the same with a register read (a call stack's frame pointer):
	 * CI's SIGKILL case ended there once and was called a divergence */
	r = ptw_trace_reader_open(path, &err);
	CHECK(r != NULL);
	CHECK_EQ(ptw_trace_next_event(r, &got, &err), 1);
	CHECK(!ptw_trace_read_gpr(r, 0, 5, &v));
	why = ptw_trace_reader_error(r);
	CHECK(why && strstr(why, "ends before the run did"));
	CHECK(why && !strstr(why, "diverged"));
	ptw_trace_reader_close(r);
	unlink(path);
}

/* not a trace at all: refused at open */
static void not_a_trace(void)
{
	snprintf(path, sizeof(path), "/tmp/ptw-test-trace.%d", (int)getpid());
	FILE *f = fopen(path, "wb");
	fputs("hello, this is not a trace at all, not even close", f);
	fclose(f);
	char *err = NULL;
	CHECK(ptw_trace_reader_open(path, &err) == NULL);
	CHECK(err && strstr(err, "not a ptwatch trace"));
	g_free(err);
	unlink(path);
}

int main(void)
{
	RUN(replay_finds_the_same);
	RUN(cut_trace_is_an_error);
	RUN(ends_inside_an_event);
	RUN(not_a_trace);
	TAP_DONE();
}
