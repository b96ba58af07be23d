/* SPDX-License-Identifier: MIT */
/* BBM_WINDOW_WALK on synthetic walk and fault events (a patched QEMU's):
 * a fault on an entry in another CPU's break is reported once the break is
 * made again, and not when the break ends as an unmap, when the walk read
 * a valid entry, or when the faulting CPU is the breaker. */
#include <glib/gstdio.h>
#include <string.h>

#include "fake_guest.h"
#include "tap.h"

#define PML4	0x101000ULL
#define PDPT	0x102000ULL
#define PD	0x103000ULL
#define PT	0x104000ULL
#define PAGE_A	0x200000ULL
#define VA	0x40000000ULL
#define TBL(pa) ((pa) | 0x63ULL)

/* x86-64, 2 vCPUs, VA -> PAGE_A through PT */
static void setup(fake_guest *g)
{
	fake_init(g, PTW_ARCH_X86_64, 2, 0, 4 << 20);
	const uint64_t tables[4] = {PML4, PDPT, PD, PT};
	fake_x86_map_long_mode(g, 2, tables, VA, PAGE_A);
	guest_load(g, 0, VA, PAGE_A);
}

/* cpu's MMU walks VA, reads PT's entry as it is now, and faults on it */
static void walk_faults(fake_guest *g, unsigned cpu)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_fault(g->e, &c, VA + 0x10, 1, PTW_FAULT_TRANSLATION, false,
		     false, true, PT, mem_r64(g, PT));
}

static void fault_in_window_is_reported(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, PT, 0); /* the break */
	walk_faults(&g, 1);
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_WINDOW_WALK), 0);
	pt_store(&g, 0, PT, TBL(PAGE_A)); /* the make: a window */
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_WINDOW_WALK), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	/* a guest that is not Linux: the architecture allows the fault,
	 * and how the guest handles it is not seen (a note) */
	CHECK_EQ(f->severity, PTW_SEV_NOTE);
	CHECK_EQ(f->ctx.cpu, 1);
	CHECK_EQ(f->pte_pa, PT);
	CHECK_EQ(f->other.cpu, 0);
	CHECK(strstr(f->detail, "faulted") != NULL);
	fake_fini(&g);
}

/* a Linux guest (kernel symbols loaded) retries a user access's fault
 * (a note) whatever its PC symbolizes to: a user program's PC names no
 * kernel symbol (before: an error whenever the PC did not symbolize) */
static void linux_user_fault_is_a_note(void)
{
	fake_guest g;
	setup(&g);
	char *dir = g_dir_make_tmp("ptw-walk-XXXXXX", NULL);
	char *path = g_build_filename(dir, "System.map", NULL);
	CHECK(g_file_set_contents(path,
				  "ffffffff81000000 T _text\n"
				  "ffffffff81000100 T handle_mm_fault\n"
				  "ffffffff81200000 T _etext\n",
				  -1, NULL));
	char *err = NULL;
	CHECK(ptw_symbols_load(g.e, path, &err));
	g_free(err);
	pt_store(&g, 0, PT, 0);
	walk_faults(&g, 1); /* VA is a user address; the PC is 0x1000+ */
	pt_store(&g, 0, PT, TBL(PAGE_A));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_WINDOW_WALK), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	CHECK_EQ(f->severity, PTW_SEV_NOTE);
	CHECK(strstr(f->detail, "user address") != NULL);
	fake_fini(&g);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

static void unmap_is_not_a_window(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, PT, 0);
	walk_faults(&g, 1);
	/* the breaker returns to user mode: the break was an unmap, and a
	 * later make is a new mapping */
	ptw_ev_lower_half_entry(g.e, 0);
	pt_store(&g, 0, PT, TBL(PAGE_A));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_WINDOW_WALK), 0);
	fake_fini(&g);
}

static void other_faults_are_quiet(void)
{
	fake_guest g;
	setup(&g);
	pt_store(&g, 0, PT, 0);
	walk_faults(&g, 0); /* the breaker itself */
	/* a permission fault: not a walk into a hole */
	ptw_ctx c = fake_ctx(&g, 1);
	ptw_ev_fault(g.e, &c, VA, 1, PTW_FAULT_PERMISSION, true, false, true,
		     PT, 0);
	/* a fault on a valid entry (QEMU read it valid: not this break) */
	c = fake_ctx(&g, 1);
	ptw_ev_fault(g.e, &c, VA, 1, PTW_FAULT_TRANSLATION, false, false, true,
		     PT, TBL(PAGE_A));
	/* a fault that names no entry */
	c = fake_ctx(&g, 1);
	ptw_ev_fault(g.e, &c, VA, -2, PTW_FAULT_TRANSLATION, false, false,
		     false, 0, 0);
	pt_store(&g, 0, PT, TBL(PAGE_A));
	CHECK_EQ(ptw_finding_count(g.e, PTW_KIND_BBM_WINDOW_WALK), 0);
	fake_fini(&g);
}

int main(void)
{
	RUN(fault_in_window_is_reported);
	RUN(linux_user_fault_is_a_note);
	RUN(unmap_is_not_a_window);
	RUN(other_faults_are_quiet);
	TAP_DONE();
}
