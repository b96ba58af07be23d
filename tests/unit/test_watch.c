/* SPDX-License-Identifier: MIT */
/* The page watch the engine names to a patched QEMU (ptw_set_watch): every
 * page the hot-path filters can pass is watched while it can pass, and
 * stops being watched when it cannot: page-table pages, a pending stale
 * record's old page, the tracked-data bounds. */
#include <glib.h>
#include <string.h>

#include "fake_guest.h"
#include "tap.h"

#define PML4   0x101000ULL
#define PDPT   0x102000ULL
#define PD     0x103000ULL
#define PT     0x104000ULL
#define PAGE_A 0x200000ULL
#define PAGE_B 0x300000ULL
#define VA     0x40000000ULL

/* what QEMU would hold: a set of watched 4 KiB pages, and the range */
typedef struct {
	GHashTable *pages;
	uint64_t lo, hi;
	unsigned on_calls, off_calls;
} fake_watch;

static void w_phys(void *opaque, uint64_t pa, uint64_t len, bool on)
{
	fake_watch *w = opaque;
	CHECK_EQ(pa & 0xfff, 0);
	CHECK_EQ(len & 0xfff, 0);
	for (uint64_t p = pa; p < pa + len; p += 4096) {
		if (on)
			g_hash_table_add(w->pages, g_memdup2(&p, sizeof(p)));
		else
			g_hash_table_remove(w->pages, &p);
	}
	if (on)
		w->on_calls++;
	else
		w->off_calls++;
}

static void w_vrange(void *opaque, uint64_t lo, uint64_t hi)
{
	fake_watch *w = opaque;
	w->lo = lo;
	w->hi = hi;
}

static bool watched(fake_watch *w, uint64_t pa)
{
	uint64_t p = pa & ~0xfffULL;
	return g_hash_table_contains(w->pages, &p);
}

/* x86-64, 2 vCPUs, VA -> PAGE_A; the watch set before the first event */
static void setup(fake_guest *g, fake_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					 NULL);
	fake_init(g, PTW_ARCH_X86_64, 2, 0, 4 << 20);
	ptw_watch_ops ops = {w_phys, w_vrange, w};
	ptw_set_watch(g->e, &ops);
	const uint64_t tables[4] = {PML4, PDPT, PD, PT};
	fake_x86_map_long_mode(g, 2, tables, VA, PAGE_A);
	guest_load(g, 0, VA, PAGE_A);
	guest_load(g, 1, VA, PAGE_A);
}

static void teardown(fake_guest *g, fake_watch *w)
{
	fake_fini(g);
	g_hash_table_destroy(w->pages);
}

static void table_pages_are_watched(void)
{
	fake_guest g;
	fake_watch w;
	setup(&g, &w);
	const uint64_t t[4] = {PML4, PDPT, PD, PT};
	for (int i = 0; i < 4; i++) {
		CHECK(ptw_is_table_page(g.e, t[i]));
		CHECK(watched(&w, t[i]));
	}
	CHECK(!watched(&w, PAGE_A)); /* data, nothing pending */
	CHECK_EQ(g_hash_table_size(w.pages), 4);
	teardown(&g, &w);
}

static void pending_old_page_is_watched_until_invalidated(void)
{
	fake_guest g;
	fake_watch w;
	setup(&g, &w);
	/* remap VA to PAGE_B with no invalidation: both vCPUs may hold the
	 * old translation, and a stale access would reach PAGE_A */
	pt_store(&g, 0, PT + ((VA >> 12) & 511) * 8, PAGE_B | 0x63);
	CHECK(ptw_pending_may_hit(g.e, PAGE_A));
	CHECK(watched(&w, PAGE_A));
	CHECK(watched(&w, PAGE_A + 0xff8));
	CHECK(!watched(&w, PAGE_B));
	unsigned off = w.off_calls;
	/* each vCPU invalidates VA: nothing pending, PAGE_A unwatched */
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		ptw_ctx c = fake_ctx(&g, cpu);
		ptw_ev_x86_invlpg(g.e, &c, VA);
	}
	CHECK(!ptw_has_pending(g.e));
	/* PAGE_A lingers (watched while 256 other pages come and go), so a
	 * page that comes back at once costs QEMU no rescan */
	CHECK(watched(&w, PAGE_A));
	CHECK_EQ(w.off_calls, off);
	/* 300 more remaps, each invalidated: PAGE_A is let go */
	uint64_t cur = PAGE_B;
	for (unsigned i = 1; i <= 300; i++) {
		uint64_t next = PAGE_B + i * 4096;
		for (unsigned cpu = 0; cpu < 2; cpu++)
			guest_load(&g, cpu, VA, cur);
		pt_store(&g, 0, PT + ((VA >> 12) & 511) * 8, next | 0x63);
		CHECK(watched(&w, cur));
		for (unsigned cpu = 0; cpu < 2; cpu++) {
			ptw_ctx c = fake_ctx(&g, cpu);
			ptw_ev_x86_invlpg(g.e, &c, VA);
		}
		cur = next;
	}
	CHECK(!ptw_has_pending(g.e));
	CHECK(!watched(&w, PAGE_A));
	CHECK(watched(&w, cur - 4096)); /* lingering */
	CHECK_EQ(w.off_calls, off + 300 + 1 - 256);
	/* the tables stay watched */
	CHECK(watched(&w, PT));
	teardown(&g, &w);
}

static void tracked_bounds_are_the_virtual_range(void)
{
	fake_guest g;
	fake_watch w;
	setup(&g, &w);
	ptw_ctx c = fake_ctx(&g, 0);
	ptw_ev_client(g.e, &c, 0x50570004, VA, 4096, 0, 0); /* TRACK */
	CHECK_EQ(w.lo, VA);
	CHECK_EQ(w.hi, VA + 4096);
	ptw_ev_client(g.e, &c, 0x50570005, VA, 4096, 0, 0); /* UNTRACK */
	CHECK_EQ(w.lo, w.hi);
	teardown(&g, &w);
}

int main(void)
{
	RUN(table_pages_are_watched);
	RUN(pending_old_page_is_watched_until_invalidated);
	RUN(tracked_bounds_are_the_virtual_range);
	TAP_DONE();
}
