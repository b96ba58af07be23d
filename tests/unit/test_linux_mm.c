/* SPDX-License-Identifier: MIT */
/* Linux's mm objects typed by the guest kernel's BTF (guest_linux_mm.c),
 * on an x86-64 fake guest: a BTF blob written here with libbpf's writer
 * (a layout deliberately unlike Linux's, so an offset taken from anywhere
 * but the BTF fails), placed at __start_BTF in kernel memory the guest's
 * page tables map, fake struct pages at vmemmap_base's value, a swap
 * device; each fact checked, the per-event cache, and the ways it is off
 * (one log line, every answer unknown). */
#include <bpf/btf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"
#include "fake_guest.h"
#include "tap.h"

#define RAM_SIZE   (16u << 20)
#define TABLES	   0x100000ULL		 /* page tables, allocated upward */
#define BTF_VA	   0xffffffff82000f00ULL /* crosses a page boundary */
#define BTF_PA	   0x200f00ULL
#define BTF_MAPPED 8 /* pages mapped from BTF_VA's page */
#define VARS_VA	   0xffffffff82100000ULL
#define VARS_PA	   0x210000ULL
#define VMEMMAP	   0xffffea0000000000ULL
#define VMEMMAP_PA 0x400000ULL
#define PAGE_OFF   0xffff888000000000ULL
#define SI_VA	   (PAGE_OFF + 0x500000) /* swap_info_struct, linear map */
#define MAP_VA	   0xffffc90000000000ULL /* swap_map, vmalloc */
#define MAP_PA	   0x600000ULL

/* the test's struct page: 80 bytes, _refcount before _mapcount */
#define PAGE_SZ	    80
#define OFF_FLAGS   0
#define OFF_CHEAD   8
#define OFF_MAPPING 24
#define OFF_INDEX   32
#define OFF_REF	    48
#define OFF_MAPC    52
/* struct folio: its second struct page's union */
#define OFF_FLAGS1 (PAGE_SZ + 0)
#define OFF_LMAPC  (PAGE_SZ + 16)
#define OFF_EMAPC  (PAGE_SZ + 20)
#define OFF_PINC   (PAGE_SZ + 28)
#define OFF_NRP	   (PAGE_SZ + 32)
/* struct zap_details: even_cows at 16 (6.12: 8) */
#define OFF_EVEN_COWS 16
/* enum pageflags: PG_swapbacked moved to 19 */
#define PG_LOCKED     0
#define PG_HEAD	      6
#define PG_OWNER1     10 /* PG_swapcache */
#define PG_OWNER2     11 /* PG_anon_exclusive */
#define PG_SWAPBACKED 19

typedef struct {
	fake_guest g;
	uint64_t next_table;
	unsigned reads;
	char *log;
	size_t log_len;
	FILE *echo;
	char *dir;
	uint64_t fp[2], sp[2]; /* each vCPU's rbp, rsp */
} env;

static bool env_read_gpr(void *opaque, unsigned cpu, unsigned n,
			 uint64_t *value)
{
	env *v = opaque;
	if ((n != 5 && n != 4) || cpu >= 2) /* rbp, rsp */
		return false;
	*value = n == 5 ? v->fp[cpu] : v->sp[cpu];
	return true;
}

static bool counting_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
	env *v = opaque;
	v->reads++;
	return fake_read(&v->g, pa, buf, len);
}

/* 4 KiB page va -> pa through a 4-level x86-64 tree at TABLES, with leaf
 * flags 'flags' (user: U/S set on the way down too) */
static void map_with(env *v, uint64_t va, uint64_t pa, uint64_t flags,
		     bool user)
{
	uint64_t t = TABLES;
	for (int l = 0; l < 3; l++) {
		uint64_t slot = t + ((va >> (39 - 9 * l)) & 511) * 8;
		uint64_t d = mem_r64(&v->g, slot);
		if (!d) {
			v->next_table += 0x1000;
			d = v->next_table | 0x63;
		}
		mem_w64(&v->g, slot, d | (user ? 4 : 0));
		t = d & ~0xfffULL;
	}
	mem_w64(&v->g, t + ((va >> 12) & 511) * 8, pa | flags);
}

static void map(env *v, uint64_t va, uint64_t pa)
{
	map_with(v, va, pa, 0x63, false);
}

static void mmu_on(env *v)
{
	sysreg(&v->g, 0, PTW_REG_X86_CR4, 1ULL << 5);
	sysreg(&v->g, 0, PTW_REG_X86_EFER, 1ULL << 8);
	sysreg(&v->g, 0, PTW_REG_X86_CR3, TABLES);
	sysreg(&v->g, 0, PTW_REG_X86_CR0, (1ULL << 31) | 1);
}

/* struct zap_details's flag in the next make_btf(): 6.12's even_cows, or
 * 7.x's skip_cows */
static const char *btf_zap_flag = "even_cows";
/* the next make_btf() names struct page's and folio's members as 7.x
 * does (__folio_index, compound_info, _nr_pages, flags a
 * memdesc_flags_t) */
static bool btf_7x;

/* the test kernel's BTF; its raw bytes (caller frees) */
static void *make_btf(uint32_t *size)
{
	struct btf *b = btf__new_empty();
	int ul = btf__add_int(b, "long unsigned int", 8, 0);
	int ui = btf__add_int(b, "unsigned int", 4, 0);
	int in = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int sc = btf__add_int(b, "signed char", 1, BTF_INT_SIGNED);
	int ptr = btf__add_ptr(b, 0); /* void * */
	int at = btf__add_struct(b, NULL, 4);
	btf__add_field(b, "counter", in, 0, 0);
	int atomic = btf__add_typedef(b, "atomic_t", at);
	int lh = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", ptr, 0, 0);
	btf__add_field(b, "prev", ptr, 64, 0);
	/* struct page's members, anonymous unions and structs as Linux
	 * nests them (mm_types.h), other offsets */
	int idx_u = btf__add_union(b, NULL, 8);
	btf__add_field(b, btf_7x ? "__folio_index" : "index", ul, 0, 0);
	btf__add_field(b, "share", ul, 0, 0);
	int s1 = btf__add_struct(b, NULL, 40);
	btf__add_field(b, "lru", lh, 0, 0);
	btf__add_field(b, "mapping", ptr, 128, 0);
	btf__add_field(b, NULL, idx_u, 192, 0);
	btf__add_field(b, "private", ul, 256, 0);
	int s2 = btf__add_struct(b, NULL, 8);
	btf__add_field(b, btf_7x ? "compound_info" : "compound_head", ul, 0, 0);
	int u1 = btf__add_union(b, NULL, 40);
	btf__add_field(b, NULL, s1, 0, 0);
	btf__add_field(b, NULL, s2, 0, 0);
	int u2 = btf__add_union(b, NULL, 4);
	btf__add_field(b, "page_type", ui, 0, 0);
	btf__add_field(b, "_mapcount", atomic, 0, 0);
	int mdf = btf__add_struct(b, NULL, 8);
	btf__add_field(b, "f", ul, 0, 0);
	int flags_t = btf_7x ? btf__add_typedef(b, "memdesc_flags_t", mdf) : ul;
	int page = btf__add_struct(b, "page", PAGE_SZ);
	btf__add_field(b, "flags", flags_t, 0, 0);
	btf__add_field(b, NULL, u1, 64, 0);
	btf__add_field(b, "_refcount", atomic, OFF_REF * 8, 0);
	btf__add_field(b, NULL, u2, OFF_MAPC * 8, 0);
	btf__add_field(b, "memcg_data", ul, 56 * 8, 0);
	btf__add_field(b, "_last_cpupid", in, 64 * 8, 0);
	btf__add_field(b, "kmsan_shadow", ptr, 72 * 8, 0);
	int f1 = btf__add_struct(b, NULL, 40);
	btf__add_field(b, "_flags_1", ul, 0, 0);
	btf__add_field(b, "_head_1", ul, 64, 0);
	btf__add_field(b, "_large_mapcount", atomic, 128, 0);
	btf__add_field(b, "_entire_mapcount", atomic, 160, 0);
	btf__add_field(b, "_nr_pages_mapped", atomic, 192, 0);
	btf__add_field(b, "_pincount", atomic, 224, 0);
	btf__add_field(b, btf_7x ? "_nr_pages" : "_folio_nr_pages", ui, 256, 0);
	int fu1 = btf__add_union(b, NULL, PAGE_SZ);
	btf__add_field(b, NULL, f1, 0, 0);
	btf__add_field(b, "__page_1", page, 0, 0);
	btf__add_struct(b, "folio", 4 * PAGE_SZ);
	btf__add_field(b, "page", page, 0, 0);
	btf__add_field(b, NULL, fu1, PAGE_SZ * 8, 0);
	btf__add_field(b, "__page_2", page, 2 * PAGE_SZ * 8, 0);
	btf__add_field(b, "__page_3", page, 3 * PAGE_SZ * 8, 0);
	btf__add_enum(b, "pageflags", 4);
	btf__add_enum_value(b, "PG_locked", PG_LOCKED);
	btf__add_enum_value(b, "PG_writeback", 1);
	btf__add_enum_value(b, "PG_head", PG_HEAD);
	btf__add_enum_value(b, "PG_owner_priv_1", PG_OWNER1);
	btf__add_enum_value(b, "PG_owner_2", PG_OWNER2);
	btf__add_enum_value(b, "PG_swapbacked", PG_SWAPBACKED);
	btf__add_enum_value(b, "__NR_PAGEFLAGS", 24);
	btf__add_enum_value(b, "PG_swapcache", PG_OWNER1);
	btf__add_enum_value(b, "PG_anon_exclusive", PG_OWNER2);
	btf__add_enum_value(b, "PG_mappedtodisk", PG_OWNER2);
	btf__add_struct(b, "swap_info_struct", 40);
	btf__add_field(b, "flags", ul, 0, 0);
	btf__add_field(b, "type", sc, 80, 0);
	btf__add_field(b, "max", ui, 96, 0);
	/* 7.x: no swap_map; the clusters' swap tables */
	btf__add_field(b, btf_7x ? "cluster_info" : "swap_map", ptr, 128, 0);
	btf__add_field(b, "lowest_bit", ui, 192, 0);
	if (btf_7x) {
		int arr = btf__add_array(b, ui, ul, 512);
		btf__add_struct(b, "swap_table", 4096);
		btf__add_field(b, "entries", arr, 0, 0);
		btf__add_struct(b, "swap_cluster_info", 48);
		btf__add_field(b, "lock", ui, 0, 0);
		btf__add_field(b, "table", ptr, 64, 0);
		btf__add_field(b, "extend_table", ptr, 128, 0);
	}
	/* struct zap_details, even_cows moved past a padding word */
	int bo = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
	btf__add_struct(b, "zap_details", 24);
	btf__add_field(b, "single_folio", ptr, 0, 0);
	btf__add_field(b, "zap_flags", ui, 64, 0);
	btf__add_field(b, btf_zap_flag, bo, OFF_EVEN_COWS * 8, 0);
	const void *raw = btf__raw_data(b, size);
	void *copy = g_memdup2(raw, *size);
	btf__free(b);
	return copy;
}

/* the next setup() turns the facts off (the plugin's linux_mm=off) */
static bool next_no_linux_mm;

static const char *const SYMS_HEAD =
	"ffffffff81000000 T _text\n"
	"ffffffff81000100 T handle_mm_fault\n"
	"ffffffff81000200 T zap_pte_range\n"
	"ffffffff81000300 T unmap_mapping_range\n"
	"ffffffff81000400 T zap_page_range_single\n"
	"ffffffff81000500 T do_swap_page\n"
	"ffffffff81000600 T madvise_dontneed_single_vma\n"
	"ffffffff81000700 T shmem_fallocate\n"
	"ffffffff81000800 T shmem_next\n"
	"ffffffff81000900 T copy_pte_range\n"
	"ffffffff81000a00 T wp_page_copy\n";

/* an engine on a fake x86-64 guest, its log lines captured, with the
 * symbols syms (NULL: none); btf: the blob to place at BTF_PA (NULL:
 * none), mmu: the MMU on */
static void setup(env *v, const char *syms, const void *btf, uint32_t nbtf,
		  bool mmu)
{
	memset(v, 0, sizeof(*v));
	v->g.base = 0;
	v->g.size = RAM_SIZE;
	v->g.mem = calloc(1, RAM_SIZE);
	v->next_table = TABLES;
	v->echo = open_memstream(&v->log, &v->log_len);
	ptw_config cfg = {.arch = PTW_ARCH_X86_64,
			  .ncpus = 2,
			  .read_phys = counting_read,
			  .read_gpr = env_read_gpr,
			  .read_opaque = v,
			  .echo = v->echo,
			  .no_linux_mm = next_no_linux_mm};
	next_no_linux_mm = false;
	char *err = NULL;
	v->g.e = ptw_engine_new(&cfg, &err);
	g_free(err);
	for (unsigned i = 0; i < BTF_MAPPED; i++)
		map(v, (BTF_VA & ~0xfffULL) + i * 0x1000ULL,
		    (BTF_PA & ~0xfffULL) + i * 0x1000ULL);
	map(v, VARS_VA, VARS_PA);
	for (unsigned i = 0; i < 32; i++)
		map(v, VMEMMAP + i * 0x1000ULL, VMEMMAP_PA + i * 0x1000ULL);
	map(v, SI_VA, 0x500000);
	map(v, MAP_VA, MAP_PA);
	if (btf)
		memcpy(v->g.mem + BTF_PA, btf, nbtf);
	mem_w64(&v->g, VARS_PA, VMEMMAP);      /* vmemmap_base */
	mem_w64(&v->g, VARS_PA + 8, PAGE_OFF); /* page_offset_base */
	if (syms) {
		v->dir = g_dir_make_tmp("ptw-mm-XXXXXX", NULL);
		char *path = g_build_filename(v->dir, "System.map", NULL);
		CHECK(g_file_set_contents(path, syms, -1, NULL));
		CHECK(ptw_symbols_load(v->g.e, path, &err));
		g_free(err);
		g_unlink(path);
		g_free(path);
	}
	if (mmu)
		mmu_on(v);
}

static char *symbols_with_btf(uint32_t nbtf)
{
	return g_strdup_printf("%s"
			       "%016llx R __start_BTF\n"
			       "%016llx R __stop_BTF\n"
			       "ffffffff82100000 D vmemmap_base\n"
			       "ffffffff82100008 D page_offset_base\n"
			       "ffffffff82100100 b swap_info\n",
			       SYMS_HEAD, (unsigned long long)BTF_VA,
			       (unsigned long long)(BTF_VA + nbtf));
}

/* a guest with the test's BTF and symbols, the MMU still off (the test
 * maps its pages first) */
static void setup_btf_mmu_off(env *v)
{
	uint32_t n;
	void *btf = make_btf(&n);
	char *syms = symbols_with_btf(n);
	setup(v, syms, btf, n, false);
	g_free(syms);
	g_free(btf);
}

/* a guest with the test's BTF, its symbols, the MMU on */
static void setup_on(env *v)
{
	setup_btf_mmu_off(v);
	mmu_on(v);
}

static void teardown(env *v)
{
	ptw_engine_free(v->g.e);
	fclose(v->echo);
	free(v->log);
	free(v->g.mem);
	if (v->dir)
		g_rmdir(v->dir);
	g_free(v->dir);
}

/* log lines that begin with prefix (after the echo's "ptwatch: ") */
static unsigned log_lines(env *v, const char *prefix)
{
	fflush(v->echo);
	unsigned n = 0;
	char **lines = g_strsplit(v->log ? v->log : "", "\n", -1);
	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, "ptwatch: ") &&
		    g_str_has_prefix(*l + 9, prefix))
			n++;
	g_strfreev(lines);
	return n;
}

static bool log_has(env *v, const char *s)
{
	fflush(v->echo);
	return v->log && strstr(v->log, s);
}

static uint64_t page_pa(uint64_t pfn)
{
	return VMEMMAP_PA + pfn * PAGE_SZ;
}

static void w32(env *v, uint64_t pa, uint32_t x)
{
	memcpy(v->g.mem + pa, &x, 4);
}

/* a struct page: flags, compound_head, mapping, index, refcount,
 * _mapcount */
static void put_page(env *v, uint64_t pfn, uint64_t flags, uint64_t chead,
		     uint64_t mapping, uint64_t index, int32_t ref,
		     int32_t mapc)
{
	uint64_t pa = page_pa(pfn);
	mem_w64(&v->g, pa + OFF_FLAGS, flags);
	if (chead)
		mem_w64(&v->g, pa + OFF_CHEAD, chead);
	else
		mem_w64(&v->g, pa + OFF_MAPPING, mapping);
	if (!chead)
		mem_w64(&v->g, pa + OFF_INDEX, index);
	w32(v, pa + OFF_REF, (uint32_t)ref);
	w32(v, pa + OFF_MAPC, (uint32_t)mapc);
}

/* ------------------------------------------------------------------ */

static void facts_from_btf(void)
{
	env v;
	uint32_t n;
	void *btf = make_btf(&n);
	char *syms = symbols_with_btf(n);
	setup(&v, syms, btf, n, true);
	CHECK(n > 0x100); /* spans BTF_VA's page boundary */
	const ptw_linux_mm_layout *l = ptw_linux_mm_layout_get(v.g.e);
	CHECK(l != NULL);
	if (!l) {
		teardown(&v);
		return;
	}
	CHECK_EQ(l->btf_va, BTF_VA);
	CHECK_EQ(l->btf_bytes, n);
	CHECK_EQ(l->page_size, PAGE_SZ);
	CHECK_EQ(l->folio_size, 4 * PAGE_SZ);
	CHECK_EQ(l->page_flags.off, OFF_FLAGS);
	CHECK_EQ(l->page_flags.size, 8);
	CHECK_EQ(l->page_compound_head.off, OFF_CHEAD);
	CHECK_EQ(l->page_mapping.off, OFF_MAPPING);
	CHECK_EQ(l->page_mapping.size, 8);
	CHECK_EQ(l->page_index.off, OFF_INDEX);
	CHECK_EQ(l->page_refcount.off, OFF_REF);
	CHECK_EQ(l->page_refcount.size, 4);
	CHECK_EQ(l->page_mapcount.off, OFF_MAPC);
	CHECK_EQ(l->folio_flags_1.off, OFF_FLAGS1);
	CHECK_EQ(l->folio_large_mapcount.off, OFF_LMAPC);
	CHECK_EQ(l->folio_entire_mapcount.off, OFF_EMAPC);
	CHECK_EQ(l->folio_nr_pages_mapped.off, PAGE_SZ + 24);
	CHECK_EQ(l->folio_pincount.off, OFF_PINC);
	CHECK_EQ(l->folio_nr_pages.off, OFF_NRP);
	CHECK_EQ(l->folio_nr_pages.size, 4);
	CHECK_EQ(l->swap_max.off, 12);
	CHECK_EQ(l->swap_max.size, 4);
	CHECK_EQ(l->swap_map.off, 16);
	CHECK_EQ(l->pg_locked, PG_LOCKED);
	CHECK_EQ(l->pg_head, PG_HEAD);
	CHECK_EQ(l->pg_swapbacked, PG_SWAPBACKED);
	CHECK_EQ(l->pg_swapcache, PG_OWNER1);
	CHECK_EQ(l->pg_anon_exclusive, PG_OWNER2);
	ptw_linux_kmap k;
	CHECK(ptw_linux_kmap_get(v.g.e, &k));
	CHECK_EQ(k.vmemmap, VMEMMAP);
	CHECK_EQ(k.page_offset, PAGE_OFF);
	CHECK_EQ(k.phys_offset, 0);
	/* said once, with its size and place */
	ptw_linux_page_info pi;
	ptw_linux_page(v.g.e, 0x300, &pi);
	ptw_linux_page(v.g.e, 0x301, &pi);
	CHECK_EQ(log_lines(&v, "linux mm:"), 1);
	char *want = g_strdup_printf("linux mm: the guest kernel's BTF, %u "
				     "bytes at __start_BTF 0x%llx (PA 0x%llx)",
				     n, (unsigned long long)BTF_VA,
				     (unsigned long long)BTF_PA);
	CHECK(log_has(&v, want));
	g_free(want);
	CHECK(log_has(&v, "struct page 80 bytes, struct folio 320 bytes"));
	teardown(&v);
	g_free(syms);
	g_free(btf);
}

static void small_pages(void)
{
	env v;
	setup_on(&v);
	ptw_linux_page_info p;
	/* locked, anon, exclusive, in the swap cache */
	put_page(&v, 0x301,
		 1ULL << PG_LOCKED | 1ULL << PG_SWAPBACKED | 1ULL << PG_OWNER1 |
			 1ULL << PG_OWNER2,
		 0, PAGE_OFF + 0x700001, 0x1234, 3, 0);
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK(p.valid);
	CHECK_EQ(p.pfn, 0x301);
	CHECK_EQ(p.page_va, VMEMMAP + 0x301 * PAGE_SZ);
	CHECK(p.anon && !p.ksm && p.swapcache && p.locked && p.anon_exclusive);
	CHECK(!p.large && !p.tail);
	CHECK_EQ(p.head_pfn, 0x301);
	CHECK_EQ(p.order, 0);
	CHECK_EQ(p.nr_pages, 1);
	CHECK_EQ(p.refcount, 3);
	CHECK_EQ(p.mapcount, 1);
	CHECK_EQ(p.page_mapcount, 1);
	CHECK_EQ(p.pincount, -1);
	CHECK(!p.maybe_pinned);
	CHECK_EQ(p.mapping, PAGE_OFF + 0x700001);
	CHECK_EQ(p.index, 0x1234);
	/* KSM; PG_swapcache without PG_swapbacked is not the swap cache
	 * (it is PG_owner_priv_1, a file system's); pinned: refcount at
	 * the bias */
	put_page(&v, 0x302, 1ULL << PG_OWNER1, 0, PAGE_OFF + 0x700003, 0, 1025,
		 -1);
	CHECK(ptw_linux_page(v.g.e, 0x302, &p));
	CHECK(p.anon && p.ksm && !p.swapcache && !p.locked);
	CHECK_EQ(p.mapcount, 0);
	CHECK(p.maybe_pinned);
	/* a file page mapped twice, refcount below the bias */
	put_page(&v, 0x303, 0, 0, PAGE_OFF + 0x800000, 7, 1023, 1);
	CHECK(ptw_linux_page(v.g.e, 0x303, &p));
	CHECK(!p.anon && !p.ksm && !p.maybe_pinned);
	CHECK_EQ(p.mapcount, 2);
	/* a page with a type (a page table: PGTY_table << 24) maps nothing */
	put_page(&v, 0x304, 0, 0, 0, 0, 1, (int32_t)0xf2000000);
	CHECK(ptw_linux_page(v.g.e, 0x304, &p));
	CHECK_EQ(p.mapcount, 0);
	CHECK_EQ(p.page_mapcount, 0);
	/* a struct page outside the mapped vmemmap: unknown */
	CHECK(!ptw_linux_page(v.g.e, 0x100000, &p));
	CHECK(!p.valid);
	teardown(&v);
}

static void large_folio(void)
{
	env v;
	setup_on(&v);
	uint64_t head_va = VMEMMAP + 0x310 * PAGE_SZ, h = page_pa(0x310);
	put_page(&v, 0x310,
		 1ULL << PG_HEAD | 1ULL << PG_SWAPBACKED | 1ULL << PG_LOCKED, 0,
		 PAGE_OFF + 0x700001, 0x40, 5, 0);
	/* the folio's fields over the struct pages after the head's */
	mem_w64(&v.g, h + OFF_FLAGS1, 2); /* order 2 */
	mem_w64(&v.g, h + PAGE_SZ + 8, head_va | 1);
	w32(&v, h + OFF_LMAPC, 1);	      /* mapped twice */
	w32(&v, h + OFF_EMAPC, (uint32_t)-1); /* no PMD mapping */
	w32(&v, h + OFF_PINC, 1);
	w32(&v, h + OFF_NRP, 4);
	for (uint64_t t = 0x312; t < 0x314; t++)
		put_page(&v, t, t == 0x312 ? 1ULL << PG_OWNER2 : 0, head_va | 1,
			 0, 0, 0, 0);
	ptw_linux_page_info p;
	CHECK(ptw_linux_page(v.g.e, 0x312, &p));
	CHECK(p.valid && p.large && p.tail);
	CHECK_EQ(p.head_pfn, 0x310);
	CHECK_EQ(p.order, 2);
	CHECK_EQ(p.nr_pages, 4);
	CHECK_EQ(p.refcount, 5);
	CHECK_EQ(p.mapcount, 2);
	CHECK_EQ(p.entire_mapcount, 0);
	CHECK_EQ(p.page_mapcount, 1); /* its own _mapcount */
	CHECK_EQ(p.pincount, 1);
	CHECK(p.maybe_pinned);
	CHECK(p.anon && p.locked && !p.swapcache);
	CHECK(p.anon_exclusive); /* the tail's own flag */
	CHECK_EQ(p.mapping, PAGE_OFF + 0x700001);
	CHECK_EQ(p.index, 0x40);
	CHECK(ptw_linux_page(v.g.e, 0x313, &p));
	CHECK(p.tail && !p.anon_exclusive);
	CHECK(ptw_linux_page(v.g.e, 0x310, &p));
	CHECK(p.large && !p.tail);
	CHECK_EQ(p.head_pfn, 0x310);
	CHECK_EQ(p.pincount, 1);
	/* a tail whose head is no head: unknown */
	put_page(&v, 0x301, 0, 0, 0, 0, 1, -1);
	put_page(&v, 0x314, 0, (VMEMMAP + 0x301 * PAGE_SZ) | 1, 0, 0, 0, 0);
	CHECK(!ptw_linux_page(v.g.e, 0x314, &p));
	/* ... or not a struct page's address */
	put_page(&v, 0x315, 0, (head_va + 8) | 1, 0, 0, 0, 0);
	CHECK(!ptw_linux_page(v.g.e, 0x315, &p));
	teardown(&v);
}

/* Within one event a page is read once; the next event reads again, and
 * so does a question outside any event. */
static void cached_per_event(void)
{
	env v;
	setup_on(&v);
	ptw_linux_page_info p;
	put_page(&v, 0x301, 0, 0, 0, 0, 3, 0);
	CHECK(ptw_linux_page(v.g.e, 0x301, &p)); /* loads the BTF */
	ptw_ctx c1 = {.cpu = 0, .pc = 0x1000, .icount = 100},
		c2 = {.cpu = 0, .pc = 0x1004, .icount = 101};
	v.g.e->event_ctx = &c1;
	unsigned r0 = v.reads;
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	unsigned r1 = v.reads;
	CHECK(r1 > r0);
	w32(&v, page_pa(0x301) + OFF_REF, 4);
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK_EQ(v.reads, r1); /* kept */
	CHECK_EQ(p.refcount, 3);
	ptw_linux_mm_forget(v.g.e); /* dropped on request */
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK(v.reads > r1);
	CHECK_EQ(p.refcount, 4);
	w32(&v, page_pa(0x301) + OFF_REF, 5);
	v.g.e->event_ctx = &c2; /* the next event */
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK_EQ(p.refcount, 5);
	v.g.e->event_ctx = NULL; /* no event: always read */
	w32(&v, page_pa(0x301) + OFF_REF, 6);
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK_EQ(p.refcount, 6);
	teardown(&v);
}

/* swap_info[1]: 100 slots, swap_map at MAP_VA */
static void swap_device(env *v)
{
	mem_w64(&v->g, VARS_PA + 0x100 + 1 * 8, SI_VA); /* swap_info[1] */
	v->g.mem[0x500000 + 10] = 1;			/* type */
	w32(v, 0x500000 + 12, 100);			/* max */
	mem_w64(&v->g, 0x500000 + 16, MAP_VA);		/* swap_map */
}

static void swap_counts(void)
{
	env v;
	setup_on(&v);
	swap_device(&v);
	v.g.mem[MAP_PA + 5] = 0x41;
	v.g.mem[MAP_PA + 6] = 0x82;
	v.g.mem[MAP_PA + 7] = 0xbf;
	ptw_linux_swap_slot s;
	CHECK(ptw_linux_swap_count(v.g.e, 1, 5, &s));
	CHECK_EQ(s.raw, 0x41);
	CHECK_EQ(s.count, 1);
	CHECK(s.has_cache && !s.continued && !s.bad && !s.shmem);
	CHECK(ptw_linux_swap_count(v.g.e, 1, 6, &s));
	CHECK_EQ(s.count, 2);
	CHECK(s.continued && !s.has_cache);
	CHECK(ptw_linux_swap_count(v.g.e, 1, 7, &s));
	CHECK(s.shmem && !s.continued);
	CHECK(!ptw_linux_swap_count(v.g.e, 1, 100, &s)); /* past max */
	CHECK(!ptw_linux_swap_count(v.g.e, 2, 5, &s));	 /* no device */
	CHECK(!ptw_linux_swap_count(v.g.e, 40, 5, &s));
	/* a device whose own type is not its index: not trusted */
	v.g.mem[0x500000 + 10] = 3;
	CHECK(!ptw_linux_swap_count(v.g.e, 1, 5, &s));
	v.g.mem[0x500000 + 10] = 1;
	CHECK(ptw_linux_swap_count(v.g.e, 1, 5, &s));
	/* a swap PTE's type and offset (x86-64: type in bits 63:59, the
	 * offset inverted from bit 9) */
	uint64_t pte =
		(1ULL << 59) | ((~5ULL << 9) & ((1ULL << 59) - 1) & ~0x1ffULL);
	unsigned type;
	uint64_t off;
	ptw_linux_swap_entry(PTW_ARCH_X86_64, pte, &type, &off);
	CHECK_EQ(type, 1);
	CHECK_EQ(off, 5);
	teardown(&v);
}

/* off: one line says why, every answer is unknown */
static void off_case(const char *syms, const void *btf, uint32_t n,
		     const char *why)
{
	env v;
	setup(&v, syms, btf, n, true);
	ptw_linux_page_info p;
	ptw_linux_swap_slot s;
	ptw_linux_kmap k;
	CHECK(!ptw_linux_page(v.g.e, 0x301, &p));
	CHECK(!p.valid);
	CHECK(!ptw_linux_page(v.g.e, 0x302, &p));
	CHECK(!ptw_linux_swap_count(v.g.e, 1, 5, &s));
	CHECK(!ptw_linux_kmap_get(v.g.e, &k));
	CHECK(ptw_linux_mm_layout_get(v.g.e) == NULL);
	CHECK_EQ(log_lines(&v, "linux mm: off, facts about pages unknown: "),
		 1);
	CHECK_EQ(log_lines(&v, "linux mm:"), 1);
	if (!log_has(&v, why))
		printf("# expected '%s' in:\n# %s\n", why, v.log);
	CHECK(log_has(&v, why));
	teardown(&v);
}

static void off_paths(void)
{
	uint32_t n;
	void *btf = make_btf(&n);
	/* a guest without symbols */
	off_case(NULL, btf, n, "no kernel symbols");
	/* symbols without the BTF's bounds */
	off_case(SYMS_HEAD, btf, n, "no __start_BTF / __stop_BTF");
	/* without vmemmap_base */
	char *syms = g_strdup_printf(
		"%s%016llx R __start_BTF\n%016llx R __stop_BTF\n", SYMS_HEAD,
		(unsigned long long)BTF_VA, (unsigned long long)(BTF_VA + n));
	off_case(syms, btf, n, "no vmemmap_base");
	g_free(syms);
	/* a blob running past the mapped pages */
	syms = symbols_with_btf(BTF_MAPPED * 0x1000);
	off_case(syms, btf, n, "unreadable at __start_BTF+0x7100");
	g_free(syms);
	/* not BTF */
	syms = symbols_with_btf(n);
	uint8_t junk[512];
	memset(junk, 0x5a, sizeof(junk));
	off_case(syms, junk, sizeof(junk), "are not BTF");
	g_free(syms);
	/* BTF without struct page */
	struct btf *b = btf__new_empty();
	btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	uint32_t n2;
	const void *raw = btf__raw_data(b, &n2);
	syms = symbols_with_btf(n2);
	off_case(syms, raw, n2, "no struct page");
	g_free(syms);
	btf__free(b);
	/* a guest with everything, its facts turned off */
	syms = symbols_with_btf(n);
	next_no_linux_mm = true;
	off_case(syms, btf, n, "turned off (linux_mm=off)");
	g_free(syms);
	g_free(btf);
}

/* asked before any vCPU maps the kernel: nothing is decided (early
 * boot); asked again with the MMU on, the BTF loads */
static void mmu_off_decides_nothing(void)
{
	uint32_t n;
	void *btf = make_btf(&n);
	char *syms = symbols_with_btf(n);
	env v;
	setup(&v, syms, btf, n, false);
	ptw_linux_page_info p;
	put_page(&v, 0x301, 0, 0, 0, 0, 9, 0);
	CHECK(!ptw_linux_page(v.g.e, 0x301, &p));
	CHECK_EQ(log_lines(&v, "linux mm:"), 0);
	mmu_on(&v);
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK_EQ(p.refcount, 9);
	CHECK_EQ(log_lines(&v, "linux mm: the guest kernel's BTF"), 1);
	teardown(&v);
	g_free(syms);
	g_free(btf);
}

/* arm64 6.12's vmemmap (memory.h, pgtable.h), values worked by hand */
static void arm64_vmemmap(void)
{
	/* VA_BITS 48: VMEMMAP_START = -1G - (2^47 >> 12) * 64 */
	CHECK_EQ(ptw_linux_arm64_vmemmap(48, 12, 64, 0), 0xfffffdffc0000000ULL);
	/* RAM at 1 GiB (QEMU virt): pfn 0x40000's page at VMEMMAP_START */
	CHECK_EQ(ptw_linux_arm64_vmemmap(48, 12, 64, 0x40000000) + 0x40000 * 64,
		 0xfffffdffc0000000ULL);
	/* VA_BITS 52 (Debian's): the range is PAGE_END(48) - PAGE_OFFSET(52)
	 * = 0x000f800000000000, VMEMMAP_START 0xffffc1ffc0000000 */
	CHECK_EQ(ptw_linux_arm64_vmemmap(52, 12, 64, 0), 0xffffc1ffc0000000ULL);
	/* a 52-bit kernel on 48-bit hardware: memstart_addr moved down by
	 * _PAGE_OFFSET(48) - _PAGE_OFFSET(52); RAM's pages land at the
	 * vmemmap's top end, where a 48-bit kernel's would be */
	int64_t ms = 0x40000000 - ((1LL << 52) - (1LL << 48));
	CHECK_EQ(ptw_linux_arm64_vmemmap(52, 12, 64, ms) + 0x40000 * 64,
		 0xfffffdffc0000000ULL);
}

/* a user mapping of page pa at va (x86-64 U/S on every level), read-only
 * (0x65) or writable (0x67), before the MMU is on */
static void map_user(env *v, uint64_t va, uint64_t pa, bool rw)
{
	map_with(v, va, pa, rw ? 0x67 : 0x65, true);
}

/* the entry of va at level 'level' (0: the root's, 3: the leaf) in the
 * tree at TABLES */
static uint64_t entry_of(env *v, uint64_t va, int level)
{
	uint64_t t = TABLES;
	for (int l = 0; l < level; l++)
		t = mem_r64(&v->g, t + ((va >> (39 - 9 * l)) & 511) * 8) &
		    ~0xfffULL;
	return t + ((va >> (39 - 9 * level)) & 511) * 8;
}

/* the leaf entry of va */
static uint64_t leaf_of(env *v, uint64_t va)
{
	return entry_of(v, va, 3);
}

/* COW_SHARED_WRITABLE (det_usermap.c): an anonymous page mapped by two
 * user entries is made writable through one of them (seed 002's reuse
 * of a shared KSM page): an error, with the page's facts from BTF; a file
 * page, or an anonymous page mapped once, made writable: nothing */
static void cow_shared_writable(void)
{
	env v;
	setup_btf_mmu_off(&v);
	const uint64_t A = 0x10000000ULL, B = 0x10001000ULL, C = 0x10002000ULL,
		       D = 0x10003000ULL, E = 0x10004000ULL;
	/* pfn 0x301: KSM (anon), two read-only mappings; 0x303: a file
	 * page, two mappings; 0x305: anonymous, one mapping */
	put_page(&v, 0x301, 0, 0, PAGE_OFF + 0x700003, 0, 2, 1);
	put_page(&v, 0x303, 0, 0, PAGE_OFF + 0x800000, 7, 2, 1);
	put_page(&v, 0x305, 0, 0, PAGE_OFF + 0x700001, 0, 1, 0);
	map_user(&v, A, 0x301000, false);
	map_user(&v, B, 0x301000, false);
	map_user(&v, C, 0x303000, false);
	map_user(&v, D, 0x303000, false);
	map_user(&v, E, 0x305000, false);
	mmu_on(&v);
	unsigned k = PTW_KIND_COW_SHARED_WRITABLE;
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	pt_store(&v.g, 0, leaf_of(&v, C), 0x303067); /* a file page: fine */
	pt_store(&v.g, 0, leaf_of(&v, E), 0x305067); /* exclusive: fine */
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	pt_store(&v.g, 0, leaf_of(&v, B), 0x301067); /* shared KSM page */
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	const ptw_finding *f = ptw_finding_get(v.g.e, 0);
	if (f) {
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->va, B);
		CHECK(strstr(f->detail, "KSM page at PA 0x301000") != NULL);
	}
	/* the other mapping goes: writable and alone, fine; mapped again
	 * read-only beside the writable one: the same rule */
	pt_store(&v.g, 0, leaf_of(&v, A), 0);
	pt_store(&v.g, 0, leaf_of(&v, A), 0x301065);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 2);
	teardown(&v);
}

/* PINNED_PAGE_DIVERGED (det_pin.c): a write fault copies a pinned
 * anonymous page away (COW: the entry cleared, then made with a new
 * page): an error, the clear as its other side; the same for a page that
 * is not pinned, or a pinned page unmapped: nothing */
static void pinned_page_diverged(void)
{
	env v;
	setup_btf_mmu_off(&v);
	const uint64_t A = 0x10005000ULL, B = 0x10006000ULL, C = 0x10007000ULL;
	/* 0x306: anonymous, mapped once, pinned (refcount 1 + 1024 + 1);
	 * 0x307: anonymous, not pinned; 0x308: pinned, unmapped later */
	put_page(&v, 0x306, 0, 0, PAGE_OFF + 0x700001, 0, 1026, 0);
	put_page(&v, 0x307, 0, 0, PAGE_OFF + 0x700001, 1, 2, 0);
	put_page(&v, 0x308, 0, 0, PAGE_OFF + 0x700001, 2, 1025, 0);
	map_user(&v, A, 0x306000, true);
	map_user(&v, B, 0x307000, true);
	map_user(&v, C, 0x308000, true);
	mmu_on(&v);
	unsigned k = PTW_KIND_PINNED_PAGE_DIVERGED;
	/* B's page copied away (ptep_clear_flush(), then set_pte_at()) */
	pt_store(&v.g, 0, leaf_of(&v, B), 0);
	pt_store(&v.g, 0, leaf_of(&v, B), 0x309067);
	/* C unmapped */
	pt_store(&v.g, 0, leaf_of(&v, C), 0);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	/* A's pinned page copied away */
	pt_store(&v.g, 0, leaf_of(&v, A), 0);
	pt_store(&v.g, 0, leaf_of(&v, A), 0x30a067);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	const ptw_finding *f = ptw_finding_get(v.g.e, 0);
	if (f) {
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->va, A);
		CHECK(f->has_other); /* the clear */
		CHECK(strstr(f->detail, "pinned anonymous page at PA "
					"0x306000") != NULL);
	}
	teardown(&v);
}

/* a large anonymous folio of 4 pages at pfn head: its pins in _pincount,
 * the pages in excl (a bit each) PageAnonExclusive */
static void put_large_anon(env *v, uint64_t head, int32_t ref, int32_t pins,
			   unsigned excl)
{
	uint64_t head_va = VMEMMAP + head * PAGE_SZ, h = page_pa(head);
	put_page(v, head,
		 1ULL << PG_HEAD | 1ULL << PG_SWAPBACKED |
			 (excl & 1 ? 1ULL << PG_OWNER2 : 0),
		 0, PAGE_OFF + 0x700001, 0x40, ref, 0);
	mem_w64(&v->g, h + OFF_FLAGS1, 2); /* order 2 */
	mem_w64(&v->g, h + PAGE_SZ + 8, head_va | 1);
	w32(v, h + OFF_LMAPC, 3);	     /* mapped 4 times */
	w32(v, h + OFF_EMAPC, (uint32_t)-1); /* no PMD mapping */
	w32(v, h + OFF_PINC, (uint32_t)pins);
	w32(v, h + OFF_NRP, 4);
	for (unsigned i = 2; i < 4; i++)
		put_page(v, head + i, excl & 1u << i ? 1ULL << PG_OWNER2 : 0,
			 head_va | 1, 0, 0, 0, 0);
}

static void store_at(env *v, unsigned cpu, uint64_t pa, uint64_t val,
		     uint64_t pc);

#define PC_COPY_PTE 0xffffffff81000910ULL /* copy_pte_range+0x10 */
#define PC_WP_COPY  0xffffffff81000a10ULL /* wp_page_copy+0x10 */

/* PINNED_PAGE_DIVERGED for large folios: a folio's _pincount counts the
 * pins of all its pages, and a pin is taken only on an exclusive page.
 * 7.x's R/O pin of a previously shared large folio reuses one page and
 * copies the next (do_wp_page() unsharing for GUP, the folio's pin now
 * blocking reuse): that copy is of a page no pin holds, nothing; the same
 * copy of a page that is still exclusive: an error. Fork write-protecting
 * the parent's writable entry of a pinned folio (seed 003's step, for a
 * small and a large folio): an error at the fork, by copy_pte_range() as
 * the writer; the same write-protection by mprotect(), or of a folio
 * nobody pinned: nothing */
static void pinned_large_folio_and_fork(void)
{
	env v;
	setup_btf_mmu_off(&v);
	const uint64_t A = 0x10010000ULL; /* 4 pages: the folio at 0x320 */
	const uint64_t S = 0x10020000ULL, T = 0x10021000ULL, U = 0x10022000ULL;
	/* 0x320-0x323: one pin (of page 0x320, exclusive); page 0x322
	 * exclusive too (a bug would copy it), 0x321 and 0x323 not */
	put_large_anon(&v, 0x320, 4 + 1 + 1, 1, 1u << 0 | 1u << 2);
	for (unsigned i = 0; i < 4; i++)
		map_user(&v, A + i * 0x1000ULL, (0x320ULL + i) << 12, i == 0);
	/* small folios: 0x330 pinned, 0x331 and 0x332 not */
	put_page(&v, 0x330, 1ULL << PG_OWNER2, 0, PAGE_OFF + 0x700001, 0,
		 1 + 1024 + 1, 0);
	put_page(&v, 0x331, 1ULL << PG_OWNER2, 0, PAGE_OFF + 0x700001, 1, 2, 0);
	put_page(&v, 0x332, 1ULL << PG_OWNER2, 0, PAGE_OFF + 0x700001, 2,
		 1 + 1024 + 1, 0);
	map_user(&v, S, 0x330000, true);
	map_user(&v, T, 0x331000, true);
	map_user(&v, U, 0x332000, true);
	mmu_on(&v);
	unsigned k = PTW_KIND_PINNED_PAGE_DIVERGED;
	/* the unshare of page 0x321: cleared, made again read-only with a
	 * new page, both by wp_page_copy() */
	store_at(&v, 0, leaf_of(&v, A + 0x1000), 0, PC_WP_COPY);
	store_at(&v, 0, leaf_of(&v, A + 0x1000), 0x340065, PC_WP_COPY);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	/* page 0x322 is exclusive: a pin may be its own */
	store_at(&v, 0, leaf_of(&v, A + 0x2000), 0, PC_WP_COPY);
	store_at(&v, 0, leaf_of(&v, A + 0x2000), 0x341065, PC_WP_COPY);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	/* mprotect(PROT_READ) of a pinned page: nothing (it stays
	 * exclusive; the next write fault reuses it) */
	store_at(&v, 0, leaf_of(&v, U), 0x332065, PC_WP_COPY);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	/* fork: an unpinned small folio write-protected, nothing; the
	 * pinned small one and the large folio's writable page: errors */
	store_at(&v, 1, leaf_of(&v, T), 0x331065, PC_COPY_PTE);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	store_at(&v, 1, leaf_of(&v, S), 0x330065, PC_COPY_PTE);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 2);
	CHECK_EQ(v.g.e->repeats[k], 0);
	/* the same title again: counted as its repeat */
	store_at(&v, 1, leaf_of(&v, A), 0x320065, PC_COPY_PTE);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 2);
	CHECK_EQ(v.g.e->repeats[k], 1);
	const ptw_finding *f = ptw_finding_get(v.g.e, 1);
	if (f) {
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->va, S);
		CHECK(strstr(f->detail, "fork write-protected") != NULL);
		CHECK(strstr(f->detail, "PA 0x330000") != NULL);
	}
	f = ptw_finding_get(v.g.e, 0);
	if (f)
		CHECK_EQ(f->va, A + 0x2000);
	teardown(&v);
}

/* an x86-64 swap PTE of device 1, slot off */
static uint64_t swap_pte(uint64_t off)
{
	return (1ULL << 59) | ((~off << 9) & ((1ULL << 59) - 1) & ~0x1ffULL);
}

static void load(env *v, unsigned cpu, uint64_t pa)
{
	ptw_ctx c = fake_ctx(&v->g, cpu);
	ptw_ev_access(v->g.e, &c, pa, pa, 8, false, mem_r64(&v->g, pa));
}

static void fault(env *v, unsigned cpu)
{
	ptw_ctx c = fake_ctx(&v->g, cpu);
	ptw_ev_op_start(v->g.e, &c);
}

/* SWAP_SLOT_UNCLAIMED (det_swap.c): do_swap_page() as 6.12 runs it (the
 * lockless read, swapcache_prepare(), the pte_same() read, swap_free_nr()
 * and folio_free_swap() freeing the slot, set_ptes()): nothing; the same
 * without the claim while another fault holds a read of the entry (seed
 * 000): an error naming that fault; a store by a fault that never read
 * the entry: not judged */
static void swap_slot_unclaimed(void)
{
	env v;
	setup_btf_mmu_off(&v);
	swap_device(&v);
	const uint64_t A = 0x10008000ULL, B = 0x10009000ULL, C = 0x1000a000ULL;
	map_user(&v, A, 0x30b000, true);
	map_user(&v, B, 0x30c000, true);
	map_user(&v, C, 0x30d000, true);
	mem_w64(&v.g, leaf_of(&v, A), swap_pte(5));
	mem_w64(&v.g, leaf_of(&v, B), swap_pte(6));
	mem_w64(&v.g, leaf_of(&v, C), swap_pte(7));
	v.g.mem[MAP_PA + 5] = 1;
	v.g.mem[MAP_PA + 6] = 1;
	v.g.mem[MAP_PA + 7] = 1;
	mmu_on(&v);
	unsigned k = PTW_KIND_SWAP_SLOT_UNCLAIMED;
	/* A: the correct skip of the swap cache */
	fault(&v, 0);
	load(&v, 0, leaf_of(&v, A)); /* lockless: not claimed yet */
	v.g.mem[MAP_PA + 5] = 0x41;  /* swapcache_prepare() */
	load(&v, 0, leaf_of(&v, A)); /* pte_same() under the lock */
	v.g.mem[MAP_PA + 5] = 0x40;  /* swap_free_nr() */
	v.g.mem[MAP_PA + 5] = 0;     /* folio_free_swap() */
	load(&v, 0, leaf_of(&v, A)); /* set_ptes()' own read (arm64) */
	pt_store(&v.g, 0, leaf_of(&v, A), 0x30e067);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	/* B: seed 000, vcpu 1 faults on the same entry meanwhile */
	fault(&v, 0);
	load(&v, 0, leaf_of(&v, B));
	fault(&v, 1);
	load(&v, 1, leaf_of(&v, B));
	load(&v, 0, leaf_of(&v, B));
	v.g.mem[MAP_PA + 6] = 0; /* swap_free_nr(): freed */
	pt_store(&v.g, 0, leaf_of(&v, B), 0x30f067);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	const ptw_finding *f = ptw_finding_get(v.g.e, 0);
	if (f) {
		CHECK_EQ(f->kind, k);
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->va, B);
		CHECK(f->has_other);
		CHECK_EQ(f->other.cpu, 1);
		CHECK(strstr(f->detail, "swap slot 1:0x6") != NULL);
		CHECK(strstr(f->detail, "(free)") != NULL);
		CHECK(strstr(f->detail, "freed under it") != NULL);
	}
	/* C: read in an earlier fault, stored in a new one: not judged */
	fault(&v, 0);
	load(&v, 0, leaf_of(&v, C));
	fault(&v, 0);
	pt_store(&v.g, 0, leaf_of(&v, C), 0x310067);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	teardown(&v);
}

/* the PMD entry of va */
static uint64_t pmd_of(env *v, uint64_t va)
{
	return entry_of(v, va, 2);
}

/* SWAP_ENTRY_LEAKED (det_leak.c), on symbols alone (no BTF): a PTE table
 * unlinked by exit with a swap entry its unmap read and left (seed 004):
 * an error at the end, naming that read; the same table moved whole
 * (mremap's move_normal_pmd()): nothing; unlinked after the unmap cleared
 * its swap entry: nothing; unlinked with one, then its page zeroed and
 * linked elsewhere (freed and reused): an error at that link; unlinked
 * with a present entry left (khugepaged's collapse, which clears them
 * after): nothing */
static void swap_entry_leaked(void)
{
	env v;
	setup(&v, SYMS_HEAD, NULL, 0, false);
	const uint64_t A = 0x40000000ULL, B = 0x40200000ULL, C = 0x40400000ULL,
		       D = 0x40600000ULL;
	const uint64_t EMPTY1 = 0x40800000ULL, EMPTY2 = 0x40a00000ULL,
		       E = 0x40c00000ULL;
	map_user(&v, A, 0x30b000, true);
	map_user(&v, A + 0x1000, 0x30c000, true);
	map_user(&v, B, 0x30d000, true);
	map_user(&v, C, 0x30e000, true);
	map_user(&v, D, 0x30f000, true);
	map_user(&v, E, 0x311000, true);
	map_user(&v, EMPTY1, 0x310000, true); /* a PMD table holds them all */
	mem_w64(&v.g, leaf_of(&v, EMPTY1), 0);
	const uint64_t pmd_a = pmd_of(&v, A), pmd_b = pmd_of(&v, B),
		       pmd_c = pmd_of(&v, C), pmd_d = pmd_of(&v, D);
	const uint64_t pte_b = mem_r64(&v.g, pmd_b),
		       pte_d = mem_r64(&v.g, pmd_d);
	mem_w64(&v.g, leaf_of(&v, A + 0x1000), swap_pte(9));
	mem_w64(&v.g, leaf_of(&v, B), swap_pte(10));
	mem_w64(&v.g, leaf_of(&v, C), swap_pte(11));
	mem_w64(&v.g, leaf_of(&v, D), swap_pte(12));
	mmu_on(&v);
	unsigned k = PTW_KIND_SWAP_ENTRY_LEAKED;
	/* A: exit's zap reads the swap entry and goes on (seed 004) */
	load(&v, 1, leaf_of(&v, A + 0x1000));
	pt_store(&v.g, 1, leaf_of(&v, A), 0); /* the present one: zapped */
	pt_store(&v.g, 1, pmd_a, 0);	      /* free_pgtables() */
	/* B: moved whole to an empty PMD entry */
	pt_store(&v.g, 0, pmd_b, 0);
	pt_store(&v.g, 0, pmd_of(&v, EMPTY1), pte_b);
	/* C: the correct unmap clears the swap entry first */
	load(&v, 0, leaf_of(&v, C));
	pt_store(&v.g, 0, leaf_of(&v, C), 0);
	pt_store(&v.g, 0, pmd_c, 0);
	/* E: a present entry left in an unlinked table */
	pt_store(&v.g, 0, pmd_of(&v, E), 0);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	/* D: unlinked holding its swap entry, the page reused zeroed */
	pt_store(&v.g, 0, pmd_d, 0);
	memset(v.g.mem + (pte_d & ~0xfffULL), 0, 4096);
	pt_store(&v.g, 0, pmd_of(&v, EMPTY2), pte_d);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	const ptw_finding *f = ptw_finding_get(v.g.e, 0);
	if (f) {
		CHECK_EQ(f->kind, k);
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->va, D);
		CHECK(!f->has_other);
		CHECK(strstr(f->detail, "1 swap entry ") != NULL);
	}
	ptw_engine_finish(v.g.e);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 2);
	f = ptw_finding_get(v.g.e, 1);
	if (f) {
		CHECK_EQ(f->va, A + 0x1000);
		CHECK_EQ(f->ctx.cpu, 1);
		CHECK(f->has_other);
		CHECK_EQ(f->other.cpu, 1);
		CHECK(strstr(f->detail, "swap type 1 offset 0x9") != NULL);
	}
	teardown(&v);
}

/* the kernel PCs of the zap test */
#define PC_ZAP_PTE  0xffffffff81000210ULL /* zap_pte_range+0x10 */
#define PC_TRUNCATE 0xffffffff81000320ULL /* unmap_mapping_range+0x20 */
#define PC_SWAPIN   0xffffffff81000510ULL /* do_swap_page+0x10 */
#define PC_DONTNEED 0xffffffff81000620ULL
#define PC_PUNCH    0xffffffff81000720ULL /* shmem_fallocate+0x20 */
#define DETAILS_VA  (VARS_VA + 0x200)	  /* a struct zap_details */
#define DETAILS_PA  (VARS_PA + 0x200)

static ptw_ctx ctx_at(env *v, unsigned cpu, uint64_t pc)
{
	ptw_ctx c = fake_ctx(&v->g, cpu);
	c.pc = pc;
	return c;
}

static void load_at(env *v, unsigned cpu, uint64_t pa, uint64_t pc)
{
	ptw_ctx c = ctx_at(v, cpu, pc);
	ptw_ev_access(v->g.e, &c, pa, pa, 8, false, mem_r64(&v->g, pa));
}

static void store_at(env *v, unsigned cpu, uint64_t pa, uint64_t val,
		     uint64_t pc)
{
	mem_w64(&v->g, pa, val);
	ptw_ctx c = ctx_at(v, cpu, pc);
	ptw_ev_access(v->g.e, &c, pa, pa, 8, true, val);
}

/* cpu's task calls zap_page_range_single(vma, start, size, details) from
 * pc; details: 0, or a struct zap_details at DETAILS_VA with even_cows */
static void zap(env *v, unsigned cpu, uint64_t pc, uint64_t start,
		uint64_t size, int even_cows)
{
	if (even_cows >= 0)
		v->g.mem[DETAILS_PA + OFF_EVEN_COWS] = (uint8_t)even_cows;
	ptw_ctx c = ctx_at(v, cpu, pc);
	ptw_ev_zap(v->g.e, &c, start, size, even_cows >= 0 ? DETAILS_VA : 0);
}

/* an x86-64 migration entry (type 27) of pfn */
static uint64_t migration_pte(uint64_t pfn)
{
	return (27ULL << 59) | ((~pfn << 9) & ((1ULL << 59) - 1) & ~0x1ffULL);
}

/* ZAP_LEFT_ENTRY (det_zap.c): a truncation's zap (even_cows, read from
 * the test's BTF at its own offset) reads a swap entry and leaves it
 * (seed 004): an error once the task returns to user mode, before its
 * fault on the entry, the read and the call as its sides; the correct
 * zap clears what it reads: nothing; a hole punch (no even_cows) leaves a
 * swap entry (a private COW page: kept by design) and a migration entry
 * of an anonymous page: nothing, but a migration entry of a page-cache
 * page: an error; a zap with no details leaves a swap entry: an error at
 * the task's next zap; reads by another function or another task, or
 * outside the range: not the zap's; a zap that stops after a read to
 * reschedule (need_resched()), while another task swaps the page in: not
 * left; without BTF a zap with details is counted unknown and judged
 * not */
static void zap_left_entry(void)
{
	env v;
	setup_btf_mmu_off(&v);
	const uint64_t R = 0x20000000ULL; /* the truncated range */
	for (unsigned i = 0; i < 8; i++)
		map_user(&v, R + i * 0x1000ULL, 0x320000 + i * 0x1000ULL, true);
	map_user(&v, R + 0x10000, 0x330000, true); /* outside */
	/* pfn 0x334: a page-cache page; 0x335: anonymous */
	put_page(&v, 0x334, 0, 0, PAGE_OFF + 0x800000, 3, 2, 0);
	put_page(&v, 0x335, 0, 0, PAGE_OFF + 0x700001, 0, 2, 0);
	for (unsigned i = 0; i < 8; i++)
		mem_w64(&v.g, leaf_of(&v, R + i * 0x1000ULL), swap_pte(20 + i));
	mem_w64(&v.g, leaf_of(&v, R + 0x10000), swap_pte(40));
	mmu_on(&v);
	unsigned k = PTW_KIND_ZAP_LEFT_ENTRY;
	const uint64_t e0 = leaf_of(&v, R), e1 = leaf_of(&v, R + 0x1000),
		       e2 = leaf_of(&v, R + 0x2000),
		       e3 = leaf_of(&v, R + 0x3000),
		       e4 = leaf_of(&v, R + 0x4000),
		       out = leaf_of(&v, R + 0x10000);

	/* the correct truncation: read, cleared */
	zap(&v, 0, PC_TRUNCATE, R, 0x2000, 1);
	load_at(&v, 0, e0, PC_ZAP_PTE);
	store_at(&v, 0, e0, 0, PC_ZAP_PTE);
	/* reads that are not the zap's: a fault's, another task's, one
	 * outside the range */
	load_at(&v, 0, e1, PC_SWAPIN);
	load_at(&v, 1, e1, PC_ZAP_PTE);
	load_at(&v, 0, out, PC_ZAP_PTE);
	ptw_ev_lower_half_entry(v.g.e, 0);
	load_at(&v, 1, e2, PC_SWAPIN);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);

	/* a hole punch leaves a private COW page's swap entry (by design)
	 * and an anonymous page's migration entry: nothing */
	store_at(&v, 1, e3, migration_pte(0x335), PC_SWAPIN);
	zap(&v, 0, PC_TRUNCATE, R, 0x8000, 0);
	load_at(&v, 0, e2, PC_ZAP_PTE);
	load_at(&v, 0, e3, PC_ZAP_PTE);
	ptw_ev_lower_half_entry(v.g.e, 0);
	load_at(&v, 1, e2, PC_SWAPIN);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);

	/* a zap that stops after its read to reschedule: a fault on the
	 * other vCPU swaps the page in meanwhile; the zap's second pass
	 * finds the entry present and clears it */
	zap(&v, 0, PC_TRUNCATE, R, 0x8000, 1);
	load_at(&v, 0, e1, PC_ZAP_PTE);
	store_at(&v, 1, e1, 0x321867, PC_SWAPIN);
	ptw_ev_lower_half_entry(v.g.e, 0);
	load_at(&v, 1, e2, PC_SWAPIN);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	store_at(&v, 1, e1, swap_pte(21), PC_SWAPIN); /* swapped out again */

	/* seed 004's truncation: the swap entry read and left; found when
	 * the task is back in user mode, at the next load (its own fault
	 * on the entry) */
	zap(&v, 0, PC_TRUNCATE, R, 0x8000, 1);
	load_at(&v, 0, e1, PC_ZAP_PTE);
	load_at(&v, 0, e2, PC_ZAP_PTE);
	store_at(&v, 0, e2, 0, PC_ZAP_PTE);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	ptw_ev_lower_half_entry(v.g.e, 0);
	load_at(&v, 0, e1, PC_SWAPIN);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 1);
	const ptw_finding *f = ptw_finding_get(v.g.e, 0);
	if (f) {
		CHECK_EQ(f->kind, k);
		CHECK_EQ(f->severity, PTW_SEV_ERROR);
		CHECK_EQ(f->va, R + 0x1000);
		CHECK_EQ(f->ctx.pc, PC_ZAP_PTE);
		CHECK(f->has_other);
		CHECK_EQ(f->other.pc, PC_TRUNCATE);
		CHECK(strstr(f->detail, "left 1 entry") != NULL);
		CHECK(strstr(f->detail, "past EOF") != NULL);
	}

	/* a hole punch leaves a page-cache page's migration entry: an
	 * error (found at the task's next zap) */
	store_at(&v, 1, e4, migration_pte(0x334), PC_SWAPIN);
	zap(&v, 0, PC_PUNCH, R, 0x8000, 0);
	load_at(&v, 0, e4, PC_ZAP_PTE);
	zap(&v, 0, PC_PUNCH, R + 0x10000, 0x1000, 0);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 2);
	f = ptw_finding_get(v.g.e, 1);
	if (f) {
		CHECK_EQ(f->va, R + 0x4000);
		CHECK(strstr(f->detail, "every page of the file") != NULL);
		CHECK(strstr(f->detail, "remove_migration_ptes") != NULL);
	}

	/* MADV_DONTNEED (no details) leaves a swap entry: an error at the
	 * end of the run */
	zap(&v, 1, PC_DONTNEED, R, 0x8000, -1);
	load_at(&v, 1, e1, PC_ZAP_PTE);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 2);
	ptw_engine_finish(v.g.e);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 3);
	teardown(&v);

	/* no BTF: a zap with details is not judged */
	setup(&v, SYMS_HEAD, NULL, 0, false);
	map_user(&v, R, 0x320000, true);
	mem_w64(&v.g, leaf_of(&v, R), swap_pte(20));
	mmu_on(&v);
	zap(&v, 0, PC_TRUNCATE, R, 0x1000, 1);
	load_at(&v, 0, leaf_of(&v, R), PC_ZAP_PTE);
	ptw_engine_finish(v.g.e);
	CHECK_EQ(ptw_finding_count(v.g.e, k), 0);
	teardown(&v);
}

/* the stack and 7.x zap tests' guest: the test's BTF with zap_details's
 * flag named zap_flag, its symbols and more_syms, one user page at ZAP_R
 * holding a swap entry; the MMU still off */
#define ZAP_R 0x20000000ULL
static void setup_swapped_page(env *v, const char *zap_flag,
			       const char *more_syms)
{
	uint32_t n;
	btf_zap_flag = zap_flag;
	void *btf = make_btf(&n);
	btf_zap_flag = "even_cows";
	char *syms = symbols_with_btf(n);
	char *all = g_strdup_printf("%s%s", syms, more_syms);
	setup(v, all, btf, n, false);
	g_free(all);
	g_free(syms);
	g_free(btf);
	map_user(v, ZAP_R, 0x320000, true);
	mem_w64(&v->g, leaf_of(v, ZAP_R), swap_pte(20));
}

/* 7.x's zap: zap_vma_range_batched(tlb, vma, address, size, details),
 * called with its arguments in the registers (x86-64: rdi, rsi, rdx, rcx,
 * r8), and struct zap_details's skip_cows (the opposite of 6.12's
 * even_cows): a truncation (skip_cows clear) that leaves a swap entry is
 * found; a hole punch (skip_cows set) that leaves one is not */
static uint64_t call_regs[16];

static uint64_t regs_gpr(void *opaque, unsigned n)
{
	(void)opaque;
	return n < 16 ? call_regs[n] : 0;
}

static void zap_7x_arguments(void)
{
	env v;
	setup_swapped_page(&v, "skip_cows",
			   "ffffffff81000a00 T zap_vma_range_batched\n");
	const uint64_t R = ZAP_R;
	mmu_on(&v);
	CHECK(ptw_linux_watched_callee(v.g.e, 0xffffffff81000a00ULL) ==
	      PTW_CALLEE_ZAP);
	CHECK(ptw_linux_callee_args(PTW_CALLEE_ZAP));
	ptw_vcpu_regs r = {.gpr = regs_gpr};
	for (int skip = 1; skip >= 0; skip--) {
		v.g.mem[DETAILS_PA + OFF_EVEN_COWS] = (uint8_t)skip;
		memset(call_regs, 0, sizeof(call_regs));
		call_regs[7] = 0xffff888000123000ULL; /* rdi: the tlb */
		call_regs[6] = 0xffff888000456000ULL; /* rsi: the vma */
		call_regs[2] = R;		      /* rdx: address */
		call_regs[1] = 0x1000;		      /* rcx: size */
		call_regs[8] = DETAILS_VA;	      /* r8: details */
		ptw_ctx c = ctx_at(&v, 0, skip ? PC_PUNCH : PC_TRUNCATE);
		ptw_ev_watched_call(v.g.e, &c, PTW_CALLEE_ZAP, &r);
		load_at(&v, 0, leaf_of(&v, R), PC_ZAP_PTE);
		ptw_ev_lower_half_entry(v.g.e, 0);
		load_at(&v, 1, leaf_of(&v, R), PC_SWAPIN);
		CHECK_EQ(ptw_finding_count(v.g.e, PTW_KIND_ZAP_LEFT_ENTRY),
			 skip ? 0u : 1u);
	}
	const ptw_finding *f = ptw_finding_get(v.g.e, 0);
	if (f)
		CHECK(strstr(f->detail, "of [0x20000000, 0x20001000)") != NULL);
	teardown(&v);
}

/* a kernel stack page: frame records at STACK_VA + 0x100 * k */
#define STACK_VA 0xffffc90000010000ULL
#define STACK_PA 0x610000ULL

static void frame(env *v, unsigned k, uint64_t next_fp, uint64_t ret)
{
	mem_w64(&v->g, STACK_PA + 0x100 * k, next_fp);
	mem_w64(&v->g, STACK_PA + 0x100 * k + 8, ret);
}

/* Linux x86-64's ORC tables (guest_linux_orc.c) at ORC_IP_VA and ORC_VA:
 * three ranges, each one struct orc_entry {sp_offset, bp_offset, sp_reg |
 * bp_reg << 4, type} */
#define ORC_IP_VA 0xffffffff82300000ULL
#define ORC_IP_PA 0x620000ULL
#define ORC_VA	  0xffffffff82301000ULL
#define ORC_PA	  0x621000ULL

static void orc_range(env *v, unsigned i, uint64_t start, int16_t sp_off,
		      int16_t bp_off, unsigned sp_reg, unsigned bp_reg,
		      unsigned type)
{
	int32_t rel = (int32_t)(start - (ORC_IP_VA + 4 * i));
	memcpy(v->g.mem + ORC_IP_PA + 4 * i, &rel, 4);
	uint8_t *en = v->g.mem + ORC_PA + 6 * i;
	memcpy(en, &sp_off, 2);
	memcpy(en + 2, &bp_off, 2);
	en[4] = (uint8_t)(sp_reg | bp_reg << 4);
	en[5] = (uint8_t)type;
}

/* Call stacks (stack.c) of the zap test's finding (ZAP_LEFT_ENTRY), on an
 * x86-64 kernel with frame pointers: the chain of frame records rbp heads
 * at each side, each return address named inside its call (a call at a
 * function's end names that function, not the next); a chain that goes
 * back is cut there. On a kernel with ORC tables: the zap's read unwinds
 * through them (CFA from rsp, then from rbp with rbp restored from the
 * stack) and stops at the end of the stack; the call, whose range is that
 * end, has no callers and so no stack. The same tables with 7.x's register
 * numbers (SP 3, PREV_SP 8 instead of 5 and 1) unwind the same. */
static void call_stacks(void)
{
	for (int orc = 0; orc < 3; orc++) {
		env v;
		setup_swapped_page(
			&v, "even_cows",
			orc ? "ffffffff82300000 R __start_orc_unwind_ip\n"
			      "ffffffff82300010 R __stop_orc_unwind_ip\n"
			      "ffffffff82301000 R __start_orc_unwind\n"
			    : "");
		const uint64_t R = ZAP_R;
		map(&v, STACK_VA, STACK_PA);
		map(&v, ORC_IP_VA, ORC_IP_PA);
		map(&v, ORC_VA, ORC_PA);
		mmu_on(&v);
		if (orc) {
			/* zap_pte_range: CFA rsp + 0x18; unmap_mapping_range:
			 * the end of the stack; zap_page_range_single: CFA
			 * rbp + 16, rbp from CFA - 16 */
			/* 6.12's register numbers (SP 5, PREV_SP 1), or
			 * 7.x's (SP 3, PREV_SP 8) */
			unsigned sp = orc == 1 ? 5 : 3, prev = orc == 1 ? 1 : 8;
			orc_range(&v, 0, 0xffffffff81000200ULL, 0x18, 0, sp, 0,
				  2);
			orc_range(&v, 1, 0xffffffff81000300ULL, 0, 0, 0, 0, 1);
			orc_range(&v, 2, 0xffffffff81000400ULL, 16, -16, 4,
				  prev, 2);
			orc_range(&v, 3, 0xffffffff81000500ULL, 0, 0, 0, 0, 0);
			mem_w64(&v.g, STACK_PA + 0x810, 0xffffffff81000420ULL);
			mem_w64(&v.g, STACK_PA + 0x838, 0xffffffff81000340ULL);
			mem_w64(&v.g, STACK_PA + 0x830, STACK_VA + 0x900);
		} else {
			/* zap_pte_range <- zap_page_range_single+0x20 <-
			 * unmap_mapping_range+0x40 <- shmem_fallocate+0x100
			 * (the first byte past its end: a call that does not
			 * return) */
			frame(&v, 0, STACK_VA + 0x100, 0xffffffff81000420ULL);
			frame(&v, 1, STACK_VA + 0x200, 0xffffffff81000340ULL);
			frame(&v, 2, STACK_VA + 0x100, 0xffffffff81000800ULL);
		}
		v.fp[0] = STACK_VA + 0x100; /* at the call: from frame 1 */
		v.sp[0] = STACK_VA + 0x700;
		zap(&v, 0, PC_TRUNCATE, R, 0x1000, 1);
		v.fp[0] = orc ? STACK_VA + 0x830 : STACK_VA; /* zap_pte_range */
		v.sp[0] = STACK_VA + 0x800;
		load_at(&v, 0, leaf_of(&v, R), PC_ZAP_PTE);
		ptw_engine_finish(v.g.e);
		CHECK_EQ(ptw_finding_count(v.g.e, PTW_KIND_ZAP_LEFT_ENTRY), 1);
		const ptw_finding *f = ptw_finding_get(v.g.e, 0);
		const ptw_stack *s =
			f ? ptw_stack_get(v.g.e, f->ctx.stack) : NULL;
		char buf[512];
		CHECK(s != NULL);
		if (s) {
			CHECK_EQ(s->n, orc ? 3 : 4);
			CHECK_EQ(s->pc[0], PC_ZAP_PTE);
			CHECK_EQ(s->pc[1], 0xffffffff81000420ULL);
			CHECK_EQ(s->pc[2], 0xffffffff81000340ULL);
		}
		if (f) {
			ptw_stack_format(v.g.e, &f->ctx, buf, sizeof(buf));
			CHECK(strcmp(buf, orc ? "zap_page_range_single+0x20 <- "
						"unmap_mapping_range+0x40"
					      : "zap_page_range_single+0x20 <- "
						"unmap_mapping_range+0x40 <- "
						"shmem_fallocate+0x100") == 0);
			CHECK(f->has_other);
			ptw_stack_format(v.g.e, &f->other, buf, sizeof(buf));
			CHECK(strcmp(buf, orc ? ""
					      : "unmap_mapping_range+0x40 <- "
						"shmem_fallocate+0x100") == 0);
		}
		CHECK_EQ(log_lines(&v,
				   orc == 2 ? "stacks: from the kernel's ORC "
					      "tables, 4 entries at "
					      "0xffffffff82300000 (register "
					      "numbers as in 7.x)"
					    : "stacks: from the kernel's ORC "
					      "tables, 4 entries at "
					      "0xffffffff82300000 (register "
					      "numbers as in 6.12)"),
			 orc ? 1u : 0u);
		teardown(&v);
	}
}

/* 7.x's names (struct page's __folio_index and compound_info, struct
 * folio's _nr_pages, flags a memdesc_flags_t): the same facts */
static void layout_7x(void)
{
	env v;
	btf_7x = true;
	setup_on(&v);
	btf_7x = false;
	const ptw_linux_mm_layout *l = ptw_linux_mm_layout_get(v.g.e);
	CHECK(l != NULL);
	if (!l) {
		teardown(&v);
		return;
	}
	CHECK(l->compound_info);
	CHECK_EQ(l->page_compound_head.off, OFF_CHEAD);
	CHECK_EQ(l->page_index.off, OFF_INDEX);
	CHECK_EQ(l->page_flags.off, OFF_FLAGS);
	CHECK_EQ(l->page_flags.size, 8);
	CHECK_EQ(l->folio_nr_pages.off, OFF_NRP);
	uint64_t head_va = VMEMMAP + 0x310 * PAGE_SZ, h = page_pa(0x310);
	put_page(&v, 0x310, 1ULL << PG_HEAD | 1ULL << PG_SWAPBACKED, 0,
		 PAGE_OFF + 0x700001, 0x40, 5, 0);
	mem_w64(&v.g, h + OFF_FLAGS1, 2);
	w32(&v, h + OFF_LMAPC, 0);
	w32(&v, h + OFF_PINC, 0);
	w32(&v, h + OFF_NRP, 4);
	put_page(&v, 0x312, 0, head_va | 1, 0, 0, 0, 0);
	ptw_linux_page_info p;
	CHECK(ptw_linux_page(v.g.e, 0x312, &p));
	CHECK(p.valid && p.large && p.tail && p.anon);
	CHECK_EQ(p.head_pfn, 0x310);
	CHECK_EQ(p.nr_pages, 4);
	CHECK_EQ(p.index, 0x40);
	CHECK_EQ(p.mapcount, 1);
	put_page(&v, 0x301, 0, 0, 0x7000, 9, 1, -1); /* a page-cache page */
	CHECK(ptw_linux_page(v.g.e, 0x301, &p));
	CHECK(!p.anon && p.mapping == 0x7000 && p.index == 9 && !p.large);
	CHECK(log_has(&v, "linux mm: the guest kernel's BTF"));
	teardown(&v);
}

/* 7.x's swap tables: a slot's state is its entry in its cluster's table
 * (mm/swap_table.h): free, a shadow or a cached folio's PFN with the count
 * in the top 4 bits, or bad; a cluster without a table is all free */
static void swap_tables_7x(void)
{
	env v;
	btf_7x = true;
	setup_btf_mmu_off(&v);
	btf_7x = false;
	const uint64_t tbl_va = MAP_VA + 0x1000, tbl_pa = MAP_PA + 0x1000;
	map(&v, tbl_va, tbl_pa); /* before the MMU is on: the engine reads it */
	mmu_on(&v);
	mem_w64(&v.g, VARS_PA + 0x100 + 1 * 8, SI_VA); /* swap_info[1] */
	v.g.mem[0x500000 + 10] = 1;		       /* type */
	w32(&v, 0x500000 + 12, 2000);		       /* max */
	mem_w64(&v.g, 0x500000 + 16, MAP_VA);	       /* cluster_info */
	mem_w64(&v.g, MAP_PA + 48 + 8, tbl_va);	       /* cluster 1's table */
	mem_w64(&v.g, tbl_pa + 5 * 8, 1ULL << 60 | 0xabc0 | 1);
	mem_w64(&v.g, tbl_pa + 6 * 8, 2ULL << 60 | 0x1234ULL << 2 | 2);
	mem_w64(&v.g, tbl_pa + 8 * 8, ~0ULL << 3);
	mem_w64(&v.g, tbl_pa + 9 * 8, 15ULL << 60 | 1);
	mem_w64(&v.g, tbl_pa + 10 * 8, 0x4);
	const ptw_linux_mm_layout *l = ptw_linux_mm_layout_get(v.g.e);
	CHECK(l && ptw_linux_swap_tables(l));
	ptw_linux_swap_slot s;
	CHECK(ptw_linux_swap_count(v.g.e, 1, 512 + 5, &s)); /* swapped out */
	CHECK(s.count == 1 && !s.has_cache && !s.continued && !s.bad);
	CHECK(ptw_linux_swap_count(v.g.e, 1, 512 + 6, &s)); /* cached */
	CHECK(s.count == 2 && s.has_cache);
	CHECK_EQ(s.raw, 0x42);
	CHECK(ptw_linux_swap_count(v.g.e, 1, 512 + 7, &s)); /* free */
	CHECK(s.count == 0 && !s.has_cache && s.raw == 0);
	CHECK(ptw_linux_swap_count(v.g.e, 1, 512 + 8, &s));
	CHECK(s.bad);
	CHECK(ptw_linux_swap_count(v.g.e, 1, 512 + 9, &s));
	CHECK(s.continued && s.count == 15);
	CHECK(!ptw_linux_swap_count(v.g.e, 1, 512 + 10, &s)); /* pointer */
	CHECK(ptw_linux_swap_count(v.g.e, 1, 5, &s)); /* no table: free */
	CHECK(s.count == 0 && !s.has_cache);
	CHECK(!ptw_linux_swap_count(v.g.e, 1, 2000, &s)); /* past max */
	teardown(&v);
}

/* 7.x's compound_info: a head pointer | 1, or, with HugeTLB's vmemmap
 * optimization and a power-of-two struct page, a mask | 1 */
static void compound_info_mask(void)
{
	/* arm64 6.12/7.2 Debian: vmemmap near 0xfffffdffc0000000, struct
	 * page 64 bytes; an order-9 folio's struct pages span 32 KiB */
	uint64_t head = 0xfffffdffc0010000ULL, tail = head + 5 * 64;
	uint64_t mask = ~(uint64_t)(512 * 64 - 1);
	CHECK_EQ(ptw_linux_compound_head(tail, mask | 1, 64, true), head);
	CHECK_EQ(ptw_linux_compound_head(tail, head | 1, 64, true), head);
	CHECK_EQ(ptw_linux_compound_head(tail, head | 1, 64, false), head);
	/* x86-64's vmemmap_base (0xffffea0000000000): also a pointer */
	uint64_t xh = 0xffffea0000408000ULL;
	CHECK_EQ(ptw_linux_compound_head(xh + 64, xh | 1, 64, true), xh);
	/* a mask only where the kernel could have one: a struct page of a
	 * size not a power of two holds pointers (returned as they are,
	 * for the caller's checks to refuse) */
	CHECK_EQ(ptw_linux_compound_head(tail, mask | 1, 80, true), mask);
	/* 6.x's compound_head is always a pointer */
	CHECK_EQ(ptw_linux_compound_head(tail, mask | 1, 64, false), mask);
}

/* A unit of 16 user entries (pages PFN..PFN+15, mapped by one fault in
 * one pass) whose page PFN+2 Linux's struct page puts in a large folio
 * (order 2, PFN..PFN+3) or in a small one (a large folio split since it
 * was mapped, as reclaim splits one it cannot swap out whole: the entries
 * stay as they were). Returns the unit's first VA. */
#define PC_FAULT 0xffffffff81000110ULL /* handle_mm_fault+0x10 */
#define PC_PVMW	 0xffffffff81000b40ULL /* page_vma_mapped_walk+0x40 */
#define PC_TTU	 0xffffffff81000c10ULL /* try_to_unmap_one+0x10 */
#define UNIT_PFN 0x350ULL	       /* 64 KiB aligned */
static uint64_t unit_of_16(env *v, bool large_folio)
{
	uint32_t n;
	void *btf = make_btf(&n);
	char *head = symbols_with_btf(n);
	char *syms = g_strconcat(head,
				 "ffffffff81000b00 T page_vma_mapped_walk\n"
				 "ffffffff81000c00 t try_to_unmap_one\n"
				 "ffffffff81000d00 t zz_end\n",
				 NULL);
	setup(v, syms, btf, n, false);
	g_free(syms);
	g_free(head);
	g_free(btf);
	const uint64_t A = 0x10040000ULL;
	for (unsigned i = 0; i < 16; i++) {
		map_user(v, A + i * 0x1000ULL, (UNIT_PFN + i) << 12, true);
		mem_w64(&v->g, leaf_of(v, A + i * 0x1000ULL), 0);
	}
	if (large_folio)
		put_large_anon(v, UNIT_PFN, 4, 0, 0);
	else
		put_page(v, UNIT_PFN + 2, 1ULL << PG_SWAPBACKED, 0,
			 PAGE_OFF + 0x700001, 2, 1, 0);
	mmu_on(v);
	for (unsigned i = 0; i < 16; i++)
		store_at(v, 0, leaf_of(v, A + i * 0x1000ULL),
			 ((UNIT_PFN + i) << 12) | 0x67, PC_FAULT);
	return A;
}

static unsigned sev_of(env *v, ptw_kind k)
{
	unsigned sev = 0;
	for (unsigned i = 0; i < ptw_findings_total(v->g.e); i++) {
		const ptw_finding *f = ptw_finding_get(v->g.e, i);
		if (f && f->kind == k)
			sev = f->severity;
	}
	return sev;
}

/* BBM_WINDOW_READ by page_vma_mapped_walk() called from
 * try_to_unmap_one() (reclaim's unmap, seed 001's reader) of page 2's
 * entry while cpu 0 has it cleared (mprotect's start and commit), its
 * task then back in user mode without reading the entry again: Linux's
 * struct page decides. A large folio: an error (Linux takes the PTE lock
 * first for one, TTU_SYNC, so a read in the window says it did not); a
 * small one: a note, since the unmap then fails and reclaim keeps the
 * page (seen on 7.2 arm64 16K, under memory.high). The severity (0: no
 * finding); small: summary.json's window_reads_small_folio. */
static unsigned unmap_window_read(bool large_folio, uint64_t *small)
{
	env v;
	uint64_t A = unit_of_16(&v, large_folio);
	uint64_t pte = leaf_of(&v, A + 0x2000), val = mem_r64(&v.g, pte);
	store_at(&v, 0, pte, 0, PC_FAULT);
	ptw_ctx call = ctx_at(&v, 1, PC_TTU);
	ptw_ev_call(v.g.e, &call);
	load_at(&v, 1, pte, PC_PVMW);
	store_at(&v, 0, pte, val, PC_FAULT);
	ptw_ev_lower_half_entry(v.g.e, 1);
	load_at(&v, 1, leaf_of(&v, A), PC_FAULT);
	unsigned sev = sev_of(&v, PTW_KIND_BBM_WINDOW_READ);
	*small = ptw_stat(v.g.e, "window_reads_small_folio");
	teardown(&v);
	return sev;
}

static void window_read_folio_size(void)
{
	uint64_t small;
	CHECK_EQ(unmap_window_read(true, &small), PTW_SEV_ERROR);
	CHECK_EQ(small, 0);
	CHECK_EQ(unmap_window_read(false, &small), PTW_SEV_NOTE);
	CHECK_EQ(small, 1);
}

/* PARTIAL_UNIT_UNMAP, the same unit: cpu 1's pass swaps out every entry
 * but page 2's, which cpu 0 has cleared meanwhile, and ends (INVLPG);
 * cpu 0 makes page 2's entry again. A large folio left mixed: an error;
 * page 2 a folio of its own: nothing (each small folio is unmapped, or
 * kept, whole). The severity (0: no finding). */
static unsigned unmap_pass_around_window(bool large_folio)
{
	env v;
	uint64_t A = unit_of_16(&v, large_folio);
	uint64_t pte = leaf_of(&v, A + 0x2000), val = mem_r64(&v.g, pte);
	store_at(&v, 0, pte, 0, PC_FAULT);
	for (unsigned i = 0; i < 16; i++)
		if (i != 2)
			store_at(&v, 1, leaf_of(&v, A + i * 0x1000ULL),
				 swap_pte(0x100 + i), PC_TTU);
	ptw_ctx c = ctx_at(&v, 1, PC_TTU);
	ptw_ev_x86_invlpg(v.g.e, &c, A);
	store_at(&v, 0, pte, val, PC_FAULT);
	unsigned sev = sev_of(&v, PTW_KIND_PARTIAL_UNIT_UNMAP);
	teardown(&v);
	return sev;
}

static void partial_unmap_folio_size(void)
{
	CHECK_EQ(unmap_pass_around_window(true), PTW_SEV_ERROR);
	CHECK_EQ(unmap_pass_around_window(false), 0);
}

int main(void)
{
	RUN(facts_from_btf);
	RUN(small_pages);
	RUN(large_folio);
	RUN(cached_per_event);
	RUN(swap_counts);
	RUN(off_paths);
	RUN(mmu_off_decides_nothing);
	RUN(arm64_vmemmap);
	RUN(cow_shared_writable);
	RUN(pinned_page_diverged);
	RUN(pinned_large_folio_and_fork);
	RUN(swap_slot_unclaimed);
	RUN(swap_entry_leaked);
	RUN(zap_left_entry);
	RUN(call_stacks);
	RUN(zap_7x_arguments);
	RUN(layout_7x);
	RUN(compound_info_mask);
	RUN(swap_tables_7x);
	RUN(window_read_folio_size);
	RUN(partial_unmap_folio_size);
	TAP_DONE();
}
