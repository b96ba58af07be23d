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
/* engine_internal.h's WATCH_LINGER */
#define WATCH_LINGER_PAGES 256

/* what QEMU would hold: a set of watched 4 KiB pages, and the range; with
 * qemu-patches/0010, pages watched for stores, and counted virtual pages */
typedef struct {
	GHashTable *pages, *store_pages, *vpages;
	uint64_t lo, hi;
	unsigned on_calls, off_calls, store_off_calls;
} fake_watch;

/* a watch call on a set of 4 KiB pages, as QEMU's bitmaps take it */
static void set_pages(GHashTable *set, uint64_t pa, uint64_t len, bool on)
{
	CHECK_EQ(pa & 0xfff, 0);
	CHECK_EQ(len & 0xfff, 0);
	for (uint64_t p = pa; p < pa + len; p += 4096) {
		if (on)
			g_hash_table_add(set, g_memdup2(&p, sizeof(p)));
		else
			g_hash_table_remove(set, &p);
	}
}

static bool in_set(GHashTable *set, uint64_t pa)
{
	uint64_t p = pa & ~0xfffULL;
	return g_hash_table_contains(set, &p);
}

static void w_phys(void *opaque, uint64_t pa, uint64_t len, bool on)
{
	fake_watch *w = opaque;
	set_pages(w->pages, pa, len, on);
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
	return in_set(w->pages, pa);
}

static void w_phys_stores(void *opaque, uint64_t pa, uint64_t len, bool on)
{
	fake_watch *w = opaque;
	set_pages(w->store_pages, pa, len, on);
	if (!on)
		w->store_off_calls++;
}

static bool store_watched(fake_watch *w, uint64_t pa)
{
	return in_set(w->store_pages, pa);
}

/* counted, as QEMU counts them */
static void w_vpages(void *opaque, uint64_t va, uint64_t len, bool on)
{
	fake_watch *w = opaque;
	for (uint64_t p = va & ~0xfffULL; p < va + len; p += 4096) {
		gpointer n = g_hash_table_lookup(w->vpages, &p);
		uintptr_t m = (uintptr_t)n + (on ? 1 : -1);
		CHECK(on || n);
		if (m)
			g_hash_table_insert(w->vpages, g_memdup2(&p, sizeof(p)),
					    (gpointer)m);
		else
			g_hash_table_remove(w->vpages, &p);
	}
}

static unsigned vpage_count(fake_watch *w, uint64_t va)
{
	uint64_t p = va & ~0xfffULL;
	return (unsigned)(uintptr_t)g_hash_table_lookup(w->vpages, &p);
}

/* x86-64, 2 vCPUs, VA -> PAGE_A; the watch set before the first event */
static void setup_with(fake_guest *g, fake_watch *w, bool by_va)
{
	memset(w, 0, sizeof(*w));
	w->pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					 NULL);
	w->store_pages = g_hash_table_new_full(g_int64_hash, g_int64_equal,
					       g_free, NULL);
	w->vpages = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					  NULL);
	fake_init(g, PTW_ARCH_X86_64, 2, 0, 4 << 20);
	ptw_watch_ops ops = {.phys = w_phys, .vrange = w_vrange, .opaque = w};
	if (by_va) {
		ops.phys_stores = w_phys_stores;
		ops.vpages = w_vpages;
	}
	ptw_set_watch(g->e, &ops);
	const uint64_t tables[4] = {PML4, PDPT, PD, PT};
	fake_x86_map_long_mode(g, 2, tables, VA, PAGE_A);
	guest_load(g, 0, VA, PAGE_A);
	guest_load(g, 1, VA, PAGE_A);
}

static void setup(fake_guest *g, fake_watch *w)
{
	setup_with(g, w, false);
}

static void teardown(fake_guest *g, fake_watch *w)
{
	fake_fini(g);
	g_hash_table_destroy(w->pages);
	g_hash_table_destroy(w->store_pages);
	g_hash_table_destroy(w->vpages);
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

/* A lingering page the guest uses for other data (a freed page cleared
 * byte by byte): the first report the filters drop on it ends its linger;
 * a page still counted (a table) stays watched. */
static void lingering_page_let_go_when_unwanted(void)
{
	fake_guest g;
	fake_watch w;
	setup(&g, &w);
	pt_store(&g, 0, PT + ((VA >> 12) & 511) * 8, PAGE_B | 0x63);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		ptw_ctx c = fake_ctx(&g, cpu);
		ptw_ev_x86_invlpg(g.e, &c, VA);
	}
	CHECK(!ptw_has_pending(g.e));
	CHECK(watched(&w, PAGE_A)); /* lingering */
	unsigned off = w.off_calls;
	CHECK_EQ(ptw_access_interest(g.e, 1, 0xffff888000000000ULL | PAGE_A,
				     PAGE_A + 8, 1, true),
		 0);
	ptw_watch_unwanted(g.e, PAGE_A + 8);
	CHECK(!watched(&w, PAGE_A));
	CHECK_EQ(w.off_calls, off + 1);
	CHECK_EQ(ptw_stat(g.e, "watch_pages_unlingered"), 1);
	ptw_watch_unwanted(g.e, PAGE_A + 16); /* once */
	CHECK_EQ(w.off_calls, off + 1);
	ptw_watch_unwanted(g.e, PT); /* counted: not lingering */
	CHECK(watched(&w, PT));
	CHECK_EQ(ptw_stat(g.e, "watch_pages_unlingered"), 1);
	/* watched again later: one more rescan, counted as before */
	pt_store(&g, 0, PT + ((VA >> 12) & 511) * 8, PAGE_A | 0x63);
	pt_store(&g, 0, PT + ((VA >> 12) & 511) * 8, PAGE_B | 0x63);
	CHECK(watched(&w, PAGE_A));
	teardown(&g, &w);
}

/* qemu-patches/0010: a record is watched through its virtual page (a
 * stale access can only come through a vCPU's cached translation of it)
 * and through its old page for stores until one reuses the page; loads
 * of the old page elsewhere (the kernel's linear map) are not watched */
static void pending_record_watched_by_virtual_page(void)
{
	fake_guest g;
	fake_watch w;
	setup_with(&g, &w, true);
	const uint64_t pte = PT + ((VA >> 12) & 511) * 8;
	pt_store(&g, 0, pte, PAGE_B | 0x63);
	CHECK(ptw_has_pending(g.e));
	CHECK_EQ(vpage_count(&w, VA), 1);
	CHECK_EQ(vpage_count(&w, VA + 4096), 0);
	CHECK(store_watched(&w, PAGE_A));
	CHECK(!watched(&w, PAGE_A));
	CHECK(!store_watched(&w, PAGE_B));
	CHECK(watched(&w, PT)); /* tables: every access, as before */
	/* a second change of the same entry: a second record, counted */
	pt_store(&g, 0, pte, PAGE_A | 0x63);
	CHECK_EQ(vpage_count(&w, VA), 2);
	CHECK(store_watched(&w, PAGE_B));
	/* a store to PAGE_B elsewhere reuses it for the record of PAGE_B:
	 * no record needs its stores any more (it lingers, watched) */
	guest_store(&g, 1, 0xffff888000000000ULL | PAGE_B, PAGE_B, 1);
	unsigned off = w.store_off_calls;
	/* both vCPUs invalidate: no record, no virtual page watched */
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		ptw_ctx c = fake_ctx(&g, cpu);
		ptw_ev_x86_invlpg(g.e, &c, VA);
	}
	CHECK(!ptw_has_pending(g.e));
	CHECK_EQ(vpage_count(&w, VA), 0);
	CHECK_EQ(g_hash_table_size(w.vpages), 0);
	CHECK_EQ(w.store_off_calls, off); /* lingering */
	CHECK(!watched(&w, PAGE_A));
	/* 300 more remaps, each invalidated: PAGE_A's and PAGE_B's store
	 * watches are let go, as the full watch is */
	uint64_t cur = PAGE_A;
	for (unsigned i = 1; i <= 300; i++) {
		uint64_t next = PAGE_B + i * 4096;
		for (unsigned cpu = 0; cpu < 2; cpu++)
			guest_load(&g, cpu, VA, cur);
		pt_store(&g, 0, pte, next | 0x63);
		CHECK(store_watched(&w, cur));
		CHECK_EQ(vpage_count(&w, VA), 1);
		for (unsigned cpu = 0; cpu < 2; cpu++) {
			ptw_ctx c = fake_ctx(&g, cpu);
			ptw_ev_x86_invlpg(g.e, &c, VA);
		}
		cur = next;
	}
	CHECK(!store_watched(&w, PAGE_A));
	CHECK(!store_watched(&w, PAGE_B));
	CHECK_EQ(g_hash_table_size(w.vpages), 0);
	CHECK_EQ(g_hash_table_size(w.store_pages), WATCH_LINGER_PAGES);
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
	RUN(lingering_page_let_go_when_unwanted);
	RUN(pending_record_watched_by_virtual_page);
	RUN(tracked_bounds_are_the_virtual_range);
	TAP_DONE();
}
