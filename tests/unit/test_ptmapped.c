/* SPDX-License-Identifier: MIT */
/* PT_PAGE_MAPPED on synthetic arm64 and x86-64 event streams: a live
 * page-table page that user code can reach through a leaf, whichever
 * came first (the mapping or the table), and the mappings that are not:
 * privileged-only leaves, a user leaf under a directory entry that takes
 * user access away, a page that stopped being a table before it was
 * mapped for user code. */
#include <string.h>

#include "fake_guest.h"
#include "tap.h"

#define RAM	0x40000000ULL
#define L0	(RAM + 0x100000)
#define L1	(RAM + 0x101000)
#define L2	(RAM + 0x102000)
#define L3	(RAM + 0x103000)
#define L3B	(RAM + 0x104000) /* a second last-level table */
#define PAGE_A	(RAM + 0x200000)
#define TBL(pa) ((pa) | 3ULL)
/* a normal page: AF, inner shareable, AttrIndx 0, valid; U: EL0 access */
#define PAGE(pa)  ((pa) | (1ULL << 10) | (3ULL << 8) | 3ULL)
#define UPAGE(pa) (PAGE(pa) | (1ULL << 6))

static void setup_arm64(fake_guest *g)
{
	fake_init(g, PTW_ARCH_ARM64, 2, RAM, 4 << 20);
	const uint64_t tables[4] = {L0, L1, L2, L3};
	fake_arm64_map_48(g, 2, tables, 0x100000000ULL, UPAGE(PAGE_A), 1);
}

static unsigned n(fake_guest *g)
{
	return ptw_finding_count(g->e, PTW_KIND_PT_PAGE_MAPPED);
}

/* a user mapping made over a live table page: an error, once */
static void user_mapping_of_live_table(void)
{
	fake_guest g;
	setup_arm64(&g);
	CHECK_EQ(n(&g), 0);
	pt_store(&g, 0, L3 + 8, PAGE(L2)); /* privileged only: fine */
	CHECK_EQ(n(&g), 0);
	pt_store(&g, 0, L3 + 16, UPAGE(L2)); /* EL0 reaches L2 */
	CHECK_EQ(n(&g), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->pte_pa, L3 + 16);
		CHECK(strstr(f->detail, "0x40102000") != NULL);
	}
	/* unmapped and mapped again: the same pair, not reported twice */
	pt_store(&g, 0, L3 + 16, 0);
	pt_store(&g, 0, L3 + 16, UPAGE(L2));
	CHECK_EQ(n(&g), 1);
	fake_fini(&g);
}

/* a page mapped for user code, then linked in as a table */
static void mapped_page_becomes_table(void)
{
	fake_guest g;
	setup_arm64(&g);
	pt_store(&g, 0, L3 + 8, UPAGE(L3B));
	CHECK_EQ(n(&g), 0); /* not a table yet */
	pt_store(&g, 0, L2 + 8, TBL(L3B));
	CHECK(ptw_is_table_page(g.e, L3B));
	CHECK_EQ(n(&g), 1);
	const ptw_finding *f = ptw_finding_get(g.e, 0);
	if (f) {
		CHECK(f->has_other); /* when the user mapping was made */
		CHECK(strstr(f->detail, "linked in") != NULL);
	}
	fake_fini(&g);
}

/* a table unlinked (no longer live), then its page mapped for user code:
 * a page reused, no finding; and a user mapping gone before its page
 * becomes a table */
static void reuse_after_unlink_is_fine(void)
{
	fake_guest g;
	setup_arm64(&g);
	pt_store(&g, 0, L2 + 8, TBL(L3B));
	pt_store(&g, 0, L2 + 8, 0); /* unlinked: L3B dropped */
	CHECK(!ptw_is_table_page(g.e, L3B));
	pt_store(&g, 0, L3 + 8, UPAGE(L3B));
	CHECK_EQ(n(&g), 0);
	pt_store(&g, 0, L3 + 8, 0);	   /* the user mapping goes */
	pt_store(&g, 0, L2 + 8, TBL(L3B)); /* then it is a table */
	CHECK_EQ(n(&g), 0);
	fake_fini(&g);
}

/* arm64 APTable[0] in the table descriptor above takes EL0 access away:
 * the leaf's AP[1] does not make it reachable */
static void aptable_takes_user_access_away(void)
{
	fake_guest g;
	setup_arm64(&g);
	pt_store(&g, 0, L2, TBL(L3) | (1ULL << 61));
	pt_store(&g, 0, L3 + 8, UPAGE(L2));
	CHECK_EQ(n(&g), 0);
	fake_fini(&g);
}

/* x86-64: U/S must be set at every level of the walk */
#define PML4   0x101000ULL
#define PDPT   0x102000ULL
#define PD     0x103000ULL
#define PT     0x104000ULL
#define X_VA   0x40000000ULL
#define X_PAGE 0x200000ULL

static void x86_user_bit_on_every_level(void)
{
	fake_guest g;
	fake_init(&g, PTW_ARCH_X86_64, 2, 0, 4 << 20);
	const uint64_t tables[4] = {PML4, PDPT, PD, PT};
	fake_x86_map_long_mode(&g, 2, tables, X_VA, X_PAGE);
	/* fake_x86_map_long_mode links with U/S clear: a U/S leaf below is
	 * not reachable by user code */
	pt_store(&g, 0, PT + 8, PD | 0x67);
	CHECK_EQ(n(&g), 0);
	pt_store(&g, 0, PT + 8, 0);
	/* U/S set on the whole walk: reachable */
	pt_store(&g, 0, PML4, mem_r64(&g, PML4) | 4);
	pt_store(&g, 0, PDPT + 8 * ((X_VA >> 30) & 511),
		 mem_r64(&g, PDPT + 8 * ((X_VA >> 30) & 511)) | 4);
	pt_store(&g, 0, PD, mem_r64(&g, PD) | 4);
	pt_store(&g, 0, PT + 8, PD | 0x67);
	CHECK_EQ(n(&g), 1);
	fake_fini(&g);
}

int main(void)
{
	RUN(user_mapping_of_live_table);
	RUN(mapped_page_becomes_table);
	RUN(reuse_after_unlink_is_fine);
	RUN(aptable_takes_user_access_away);
	RUN(x86_user_bit_on_every_level);
	TAP_DONE();
}
