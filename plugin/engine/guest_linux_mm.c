// SPDX-License-Identifier: MIT
/*
 * Linux's memory-management objects as the guest kernel has them: a page
 * frame's struct page and its folio (flags, counts, mapping), a swap
 * slot's count. Their layout comes from the guest kernel's own BTF
 * (CONFIG_DEBUG_INFO_BTF: the raw blob between the symbols __start_BTF
 * and __stop_BTF of the kernel image, include/asm-generic/vmlinux.lds.h),
 * parsed with libbpf, never from offsets written here. Only what BTF
 * cannot say is written here, with its source: #defines (the mapping's low
 * bits, the pin bias, the swap map's flags) and where the struct pages
 * live (vmemmap).
 *
 * The BTF is read at the first question, through the kernel's page
 * tables as the engine shadows them (ptw_translate() on a vCPU whose MMU
 * is on) and ptw_read_phys() (a trace records the reads: a replay asks the
 * same questions at the same events and reads the same bytes). One line
 * in ptwatch.log says where it came from and how big it is, or why the
 * facts are off (no symbols, no __start_BTF, unreadable, not BTF, a
 * member missing); off, every question answers unknown (false) and
 * nothing else changes. A question before any vCPU maps __start_BTF
 * decides nothing (early boot): a later one tries again.
 *
 * Answers are read from guest memory when asked and kept for the rest of
 * the event being applied (the engine's event context: its vCPU, PC and
 * instruction count), so a detector may ask the same page twice at no
 * cost; the next event reads again. ptw_linux_mm_forget() drops them
 * sooner (e.g. between two events of one instruction).
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"

/* include/linux/page-flags.h (6.12): a folio's mapping pointer's low
 * bits, #defines and so not in BTF: PAGE_MAPPING_ANON 0x1,
 * PAGE_MAPPING_MOVABLE 0x2, PAGE_MAPPING_KSM (ANON | MOVABLE),
 * PAGE_MAPPING_FLAGS (ANON | MOVABLE) */
#define PAGE_MAPPING_ANON  0x1ULL
#define PAGE_MAPPING_KSM   0x3ULL
#define PAGE_MAPPING_FLAGS 0x3ULL
/* include/linux/mm.h (6.12): a pin of a small folio adds
 * GUP_PIN_COUNTING_BIAS (1U << 10) to its refcount, and
 * folio_maybe_dma_pinned() is (unsigned)refcount >= the bias (large
 * folios count pins exactly in _pincount) */
#define GUP_PIN_COUNTING_BIAS 1024u
/* mm/swap_table.h (7.x, 64-bit): a swap table entry is 0 (free), a
 * shadow (bit 0 set) or a cached folio's PFN (low bits 0b10), with the
 * slot's count in its top SWP_TB_COUNT_BITS (4: 5 flag bits less the zero
 * flag, as SWAP_CACHE_PFN_BITS leaves room for both), or ~0 << 3 (bad);
 * a count of SWP_TB_COUNT_MAX continues in the cluster's extend_table */
#define SWP_TB_COUNT_SHIFT 60
#define SWP_TB_COUNT_MAX   15u
#define SWP_TB_BAD	   (~0ULL << 3)
/* include/linux/swap.h (6.12): swap_map's byte per slot */
#define SWAP_HAS_CACHE	0x40
#define COUNT_CONTINUED 0x80
#define SWAP_MAP_BAD	0x3f
#define SWAP_MAP_SHMEM	0xbf
/* mm/swapfile.c: static struct swap_info_struct *swap_info[MAX_SWAPFILES];
 * MAX_SWAPFILES is below 32 (5 type bits, include/linux/swap.h) */
#define SWAP_TYPES 32
/* include/linux/page-flags.h page_type_has_type(): a _mapcount below
 * PGTY_mapcount_underflow << 24 holds a page type (buddy, table, slab
 * ...), and folio_mapcount() (mm.h) counts such a page as unmapped */
#define PAGE_TYPE_BELOW ((int32_t)0xff000000)

/* a BTF of more than this is not a kernel's (6.12 vmlinux: ~6 MB) */
#define BTF_MAX (64u << 20)
/* larger structs than this are not struct page / folio (6.12: 64, 256) */
#define STRUCT_MAX 1024u
/* pages and translations remembered within one event */
#define PAGE_CACHE 8
#define KPAGE	   4096u /* kernel VAs are read a page at a time */
#define AMBIGUOUS  (~0ULL)

typedef enum { MM_UNTRIED, MM_ON, MM_OFF } mm_state;

struct ptw_linux_mm {
	/* kernel symbols (ptw_linux_mm_note_symbol), AMBIGUOUS if named
	 * twice at different addresses */
	uint64_t start_btf, stop_btf;
	uint64_t vmemmap_base, page_offset_base; /* x86-64 variables */
	uint64_t memstart_addr;			 /* arm64 variable */
	uint64_t swap_info;
	mm_state state;
	ptw_linux_mm_layout lay;
	/* the event whose reads are kept, and what was read in it */
	bool key_valid;
	unsigned key_cpu;
	uint64_t key_pc, key_icount;
	bool kmap_known, kmap_ok;
	ptw_linux_kmap kmap;
	struct {
		uint64_t pfn;
		bool ok;
		ptw_linux_page_info info;
	} page[PAGE_CACHE];
	unsigned npage, next;
};

static struct ptw_linux_mm *mm_state_of(ptw_engine *e)
{
	if (!e->linux_mm)
		e->linux_mm = g_new0(struct ptw_linux_mm, 1);
	return e->linux_mm;
}

static void note(uint64_t *slot, uint64_t addr)
{
	if (*slot && *slot != addr)
		*slot = AMBIGUOUS;
	else
		*slot = addr;
}

void ptw_linux_mm_note_symbol(ptw_engine *e, const char *name, uint64_t addr)
{
	static const char *const names[] = {
		"__start_BTF",	    "__stop_BTF",    "vmemmap_base",
		"page_offset_base", "memstart_addr", "swap_info",
	};
	unsigned i;
	if (name[0] != '_' && name[0] != 'v' && name[0] != 'p' &&
	    name[0] != 'm' && name[0] != 's')
		return;
	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			break;
	if (i == G_N_ELEMENTS(names))
		return;
	struct ptw_linux_mm *m = mm_state_of(e);
	uint64_t *slots[] = {&m->start_btf,	&m->stop_btf,
			     &m->vmemmap_base,	&m->page_offset_base,
			     &m->memstart_addr, &m->swap_info};
	note(slots[i], addr);
}

void ptw_linux_mm_free(ptw_engine *e)
{
	g_free(e->linux_mm);
	e->linux_mm = NULL;
}

void ptw_linux_mm_forget(ptw_engine *e)
{
	if (e->linux_mm)
		e->linux_mm->key_valid = false;
}

/* ------------------------------------------------------------------ */
/* kernel virtual memory, through the engine's shadow of the kernel's
 * tables */

static bool kread64(ptw_engine *e, uint64_t va, uint64_t *v)
{
	return ptw_read_kernel(e, va, v, 8, NULL);
}

static bool any_mmu_on(const ptw_engine *e)
{
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		if (e->cpu[i].mmu_on)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* the BTF */

/* name's offset (bits, from the start of type id) and type, looking into
 * anonymous struct and union members as C does */
static bool find_member(const struct btf *btf, uint32_t id, const char *name,
			uint32_t *bit_off, uint32_t *type, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || !btf_is_composite(t) || depth > 8)
		return false;
	const struct btf_member *mb = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *mn = btf__name_by_offset(btf, mb[i].name_off);
		uint32_t off = btf_member_bit_offset(t, i), sub;
		if (mn && *mn) {
			if (strcmp(mn, name) != 0 ||
			    btf_member_bitfield_size(t, i))
				continue;
			*bit_off = off;
			*type = mb[i].type;
			return true;
		}
		if (find_member(btf, mb[i].type, name, &sub, type, depth + 1)) {
			*bit_off = off + sub;
			return true;
		}
	}
	return false;
}

static uint32_t struct_size(const struct btf *btf, int32_t id)
{
	int64_t s = id > 0 ? btf__resolve_size(btf, (uint32_t)id) : -1;
	return s > 0 && s <= STRUCT_MAX ? (uint32_t)s : 0;
}

/* struct sid's member fname: offset and size (an integer or a pointer,
 * inside the struct), off -1 if absent */
static ptw_linux_field field(const struct btf *btf, int32_t sid,
			     const char *fname)
{
	ptw_linux_field f = {-1, 0};
	uint32_t bits, type, ssize = struct_size(btf, sid);
	if (!ssize || !find_member(btf, (uint32_t)sid, fname, &bits, &type, 0))
		return f;
	int64_t size = btf__resolve_size(btf, type);
	if ((bits & 7) || size <= 0 || size > 8 || bits / 8 + size > ssize)
		return f;
	f.off = (int32_t)(bits / 8);
	f.size = (uint32_t)size;
	return f;
}

static int enum_value(const struct btf *btf, int32_t eid, const char *name)
{
	const struct btf_type *t =
		eid > 0 ? btf__type_by_id(btf, (uint32_t)eid) : NULL;
	if (!t)
		return -1;
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *n;
		int64_t v;
		if (btf_is_enum(t)) {
			n = btf__name_by_offset(btf, btf_enum(t)[i].name_off);
			v = btf_enum(t)[i].val;
		} else {
			n = btf__name_by_offset(btf, btf_enum64(t)[i].name_off);
			v = (int64_t)btf_enum64_value(&btf_enum64(t)[i]);
		}
		if (n && strcmp(n, name) == 0)
			return v >= 0 && v < 64 ? (int)v : -1;
	}
	return -1;
}

/* the layout from a parsed BTF; false: why (in why) */
static bool resolve(const struct btf *btf, ptw_linux_mm_layout *l, char *why,
		    size_t n)
{
	int32_t page = btf__find_by_name_kind(btf, "page", BTF_KIND_STRUCT);
	int32_t folio = btf__find_by_name_kind(btf, "folio", BTF_KIND_STRUCT);
	int32_t swap = btf__find_by_name_kind(btf, "swap_info_struct",
					      BTF_KIND_STRUCT);
	int32_t pf = btf__find_by_name_kind(btf, "pageflags", BTF_KIND_ENUM);
	if (pf <= 0)
		pf = btf__find_by_name_kind(btf, "pageflags", BTF_KIND_ENUM64);
	l->page_size = struct_size(btf, page);
	if (!l->page_size) {
		g_strlcpy(why,
			  "the BTF has no struct page (of a plausible size)",
			  n);
		return false;
	}
	l->folio_size = struct_size(btf, folio);
	l->page_flags = field(btf, page, "flags");
	l->page_refcount = field(btf, page, "_refcount");
	l->page_mapcount = field(btf, page, "_mapcount");
	l->page_mapping = field(btf, page, "mapping");
	/* 7.x names (mm_types.h): __folio_index, compound_info (a tail's
	 * head pointer | 1, or a mask | 1: ptw_linux_compound_head()),
	 * struct folio's _nr_pages */
	l->page_index = field(btf, page, "index");
	if (l->page_index.off < 0)
		l->page_index = field(btf, page, "__folio_index");
	l->page_compound_head = field(btf, page, "compound_head");
	l->compound_info = l->page_compound_head.off < 0;
	if (l->compound_info)
		l->page_compound_head = field(btf, page, "compound_info");
	l->folio_flags_1 = field(btf, folio, "_flags_1");
	l->folio_large_mapcount = field(btf, folio, "_large_mapcount");
	l->folio_entire_mapcount = field(btf, folio, "_entire_mapcount");
	l->folio_nr_pages_mapped = field(btf, folio, "_nr_pages_mapped");
	l->folio_pincount = field(btf, folio, "_pincount");
	l->folio_nr_pages = field(btf, folio, "_folio_nr_pages");
	if (l->folio_nr_pages.off < 0)
		l->folio_nr_pages = field(btf, folio, "_nr_pages");
	l->swap_map = field(btf, swap, "swap_map");
	l->swap_max = field(btf, swap, "max");
	l->swap_type = field(btf, swap, "type");
	int32_t sci = btf__find_by_name_kind(btf, "swap_cluster_info",
					     BTF_KIND_STRUCT);
	l->cluster_table = field(btf, sci, "table");
	l->si_cluster_info = field(btf, swap, "cluster_info");
	l->cluster_info_size = struct_size(btf, sci);
	/* mm/swap_table.h: struct swap_table { atomic_long_t
	 * entries[SWAPFILE_CLUSTER]; }, SWAPFILE_CLUSTER not in BTF but
	 * the array's size is */
	int32_t stb =
		btf__find_by_name_kind(btf, "swap_table", BTF_KIND_STRUCT);
	int64_t stsize = stb > 0 ? btf__resolve_size(btf, (uint32_t)stb) : -1;
	if (stsize >= 64 && stsize <= (64 << 10) && !(stsize & (stsize - 1)))
		l->swap_table_slots = (uint32_t)(stsize / 8);
	int32_t zd =
		btf__find_by_name_kind(btf, "zap_details", BTF_KIND_STRUCT);
	l->zap_even_cows = field(btf, zd, "even_cows");
	l->zap_skip_cows = field(btf, zd, "skip_cows");
	l->pg_locked = enum_value(btf, pf, "PG_locked");
	l->pg_head = enum_value(btf, pf, "PG_head");
	l->pg_swapbacked = enum_value(btf, pf, "PG_swapbacked");
	l->pg_swapcache = enum_value(btf, pf, "PG_swapcache");
	l->pg_anon_exclusive = enum_value(btf, pf, "PG_anon_exclusive");
	static const struct {
		const char *name;
		size_t at;
	} need[] = {
		{"flags", offsetof(ptw_linux_mm_layout, page_flags)},
		{"_refcount", offsetof(ptw_linux_mm_layout, page_refcount)},
		{"_mapcount", offsetof(ptw_linux_mm_layout, page_mapcount)},
		{"mapping", offsetof(ptw_linux_mm_layout, page_mapping)},
		{"index (or __folio_index)",
		 offsetof(ptw_linux_mm_layout, page_index)},
		{"compound_head (or compound_info)",
		 offsetof(ptw_linux_mm_layout, page_compound_head)},
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(need); i++) {
		const ptw_linux_field *f =
			(const ptw_linux_field *)((const char *)l + need[i].at);
		if (f->off < 0) {
			snprintf(why, n, "the BTF's struct page has no %s",
				 need[i].name);
			return false;
		}
	}
	if (l->pg_locked < 0 || l->pg_head < 0) {
		g_strlcpy(why,
			  "the BTF's enum pageflags has no PG_locked or "
			  "PG_head",
			  n);
		return false;
	}
	return true;
}

/* read and parse the BTF; false: not decided yet (no vCPU maps it) */
static bool load(ptw_engine *e, struct ptw_linux_mm *m)
{
	const char *why = NULL;
	char buf[160];
	uint64_t size = m->stop_btf - m->start_btf, pa = 0, bad = 0;
	if (e->cfg.no_linux_mm)
		why = "turned off (linux_mm=off)";
	else if (!ptw_guest_is_linux(e))
		why = "no kernel symbols";
	else if (!m->start_btf || !m->stop_btf)
		why = "no __start_BTF / __stop_BTF among the kernel symbols "
		      "(a kernel without CONFIG_DEBUG_INFO_BTF, or a symbols "
		      "file that leaves them out)";
	else if (m->start_btf == AMBIGUOUS || m->stop_btf == AMBIGUOUS)
		why = "__start_BTF or __stop_BTF named twice in the symbols";
	else if (m->stop_btf <= m->start_btf || size > BTF_MAX)
		why = "__stop_BTF - __start_BTF is not a plausible size";
	else if (e->cfg.arch == PTW_ARCH_X86_64 &&
		 (!m->vmemmap_base || m->vmemmap_base == AMBIGUOUS))
		why = "no vmemmap_base among the kernel symbols";
	else if (e->cfg.arch == PTW_ARCH_ARM64 &&
		 (!m->memstart_addr || m->memstart_addr == AMBIGUOUS))
		why = "no memstart_addr among the kernel symbols";
	if (!why) {
		if (!any_mmu_on(e) || !ptw_kernel_xlate(e, m->start_btf, &pa))
			return false; /* not mapped yet: ask again later */
		uint8_t *raw = g_malloc(size);
		if (!ptw_read_kernel(e, m->start_btf, raw, size, &bad)) {
			snprintf(buf, sizeof(buf),
				 "unreadable at __start_BTF+0x%" PRIx64
				 " (VA 0x%" PRIx64 " not mapped or not RAM)",
				 bad - m->start_btf, bad);
			why = buf;
		} else {
			/* libbpf says why a blob is refused on stderr: the
			 * line below says it once */
			libbpf_print_fn_t old = libbpf_set_print(NULL);
			struct btf *btf = btf__new(raw, (uint32_t)size);
			libbpf_set_print(old);
			if (!btf) {
				why = "the bytes at __start_BTF are not BTF "
				      "(libbpf refused them)";
			} else {
				if (!resolve(btf, &m->lay, buf, sizeof(buf)))
					why = buf;
				btf__free(btf);
			}
		}
		g_free(raw);
	}
	if (why) {
		m->state = MM_OFF;
		ptw_report_line(
			e, "linux mm: off, facts about pages unknown: %s", why);
		return true;
	}
	m->state = MM_ON;
	m->lay.btf_va = m->start_btf;
	m->lay.btf_bytes = (uint32_t)size;
	ptw_report_line(e,
			"linux mm: the guest kernel's BTF, %" PRIu64
			" bytes at __start_BTF 0x%" PRIx64 " (PA 0x%" PRIx64
			"): struct page %u bytes, struct folio %u bytes",
			size, m->start_btf, pa, m->lay.page_size,
			m->lay.folio_size);
	return true;
}

/* the state if the facts are on (the BTF loaded), the event's cache
 * fresh; NULL: unknown */
static struct ptw_linux_mm *ready(ptw_engine *e)
{
	struct ptw_linux_mm *m = mm_state_of(e);
	if (m->state == MM_UNTRIED && !load(e, m))
		return NULL;
	if (m->state != MM_ON)
		return NULL;
	const ptw_ctx *c = e->event_ctx;
	if (!c || !m->key_valid || c->cpu != m->key_cpu || c->pc != m->key_pc ||
	    c->icount != m->key_icount) {
		m->npage = m->next = 0;
		m->kmap_known = false;
		m->key_valid = c != NULL;
		if (c) {
			m->key_cpu = c->cpu;
			m->key_pc = c->pc;
			m->key_icount = c->icount;
		}
	}
	return m;
}

const ptw_linux_mm_layout *ptw_linux_mm_layout_get(ptw_engine *e)
{
	struct ptw_linux_mm *m = ready(e);
	return m ? &m->lay : NULL;
}

/* ------------------------------------------------------------------ */
/* where the struct pages are */

/* arm64 6.12, arch/arm64/include/asm/pgtable.h and memory.h:
 *   vmemmap       = (struct page *)VMEMMAP_START
 *                   - (memstart_addr >> PAGE_SHIFT)
 *   VMEMMAP_START = VMEMMAP_END - VMEMMAP_SIZE, VMEMMAP_END = -SZ_1G
 *   VMEMMAP_SIZE  = (VMEMMAP_RANGE >> PAGE_SHIFT) * sizeof(struct page)
 *   VMEMMAP_RANGE = _PAGE_END(VA_BITS_MIN) - PAGE_OFFSET
 *   _PAGE_END(va) = -(1 << (va - 1)), PAGE_OFFSET = -(1 << VA_BITS)
 *   VA_BITS_MIN   = VA_BITS > 48 ? (16K pages ? 47 : 48) : VA_BITS
 * (memstart_addr is signed: a 52-bit kernel on 48-bit hardware moves it
 * below 0, arch/arm64/mm/init.c arm64_memblock_init()) */
uint64_t ptw_linux_arm64_vmemmap(unsigned va_bits, unsigned page_shift,
				 uint64_t page_size, int64_t memstart_addr)
{
	unsigned min_bits =
		va_bits > 48 ? (page_shift == 14 ? 47 : 48) : va_bits;
	uint64_t page_offset = -(1ULL << va_bits);
	uint64_t page_end = -(1ULL << (min_bits - 1));
	uint64_t range = page_end - page_offset;
	uint64_t start = -(1ULL << 30) - (range >> page_shift) * page_size;
	return start - (uint64_t)(memstart_addr >> page_shift) * page_size;
}

static bool kmap_read(ptw_engine *e, struct ptw_linux_mm *m, ptw_linux_kmap *k)
{
	if (e->cfg.arch == PTW_ARCH_X86_64) {
		/* arch/x86/kernel/head64.c: vmemmap_base and page_offset_base,
		 * set at boot (5-level paging, KASLR's
		 * kernel_randomize_memory()); pgtable_64.h: vmemmap is
		 * VMEMMAP_START, which is vmemmap_base; pfn_to_page(pfn) is
		 * vmemmap + pfn (asm-generic/memory_model.h) */
		uint64_t po = 0;
		if (!kread64(e, m->vmemmap_base, &k->vmemmap))
			return false;
		if (m->page_offset_base && m->page_offset_base != AMBIGUOUS &&
		    !kread64(e, m->page_offset_base, &po))
			return false;
		k->page_offset = po;
		k->phys_offset = 0;
		return k->vmemmap != 0;
	}
	/* arm64: memstart_addr (PHYS_OFFSET) and VA_BITS. The kernel's
	 * upper half starts at -(1 << (64 - TCR_EL1.T1SZ)): its TTBR1 root
	 * table's VA. That is VA_BITS but for a 52-bit kernel on 48-bit
	 * hardware, which runs with 48 and shows it by a memstart_addr
	 * below 0 (init.c: memstart_addr -= _PAGE_OFFSET(48) -
	 * _PAGE_OFFSET(52)). Before arm64_memblock_init() memstart_addr is
	 * -1 (odd, which PHYS_OFFSET never is): not known yet. */
	uint64_t v, base = 0;
	if (!kread64(e, m->memstart_addr, &v) || (v & 1))
		return false;
	for (unsigned i = 0; i < e->cfg.ncpus && !base; i++)
		if (e->cpu[i].mmu_on && e->cpu[i].root[1])
			base = e->cpu[i].root[1]->va_base;
	if (!base || ~base == 0)
		return false;
	unsigned bits = 64 - (unsigned)__builtin_clzll(~base);
	/* (a 52-bit 16K kernel falls back to 47 bits, VA_BITS_MIN) */
	if (bits == (e->page_shift == 14 ? 47u : 48u) && (int64_t)v < 0)
		bits = 52;
	if (bits < 36 || bits > 52)
		return false;
	/* the kernel's page size: the engine's arm64 granule */
	k->vmemmap = ptw_linux_arm64_vmemmap(bits, e->page_shift,
					     m->lay.page_size, (int64_t)v);
	k->page_offset = -(1ULL << bits);
	k->phys_offset = (int64_t)v;
	return true;
}

bool ptw_linux_kmap_get(ptw_engine *e, ptw_linux_kmap *out)
{
	struct ptw_linux_mm *m = ready(e);
	if (!m)
		return false;
	if (!m->kmap_known) {
		m->kmap_ok = kmap_read(e, m, &m->kmap);
		m->kmap_known = true;
	}
	if (m->kmap_ok)
		*out = m->kmap;
	return m->kmap_ok;
}

/* ------------------------------------------------------------------ */
/* pages */

static uint64_t get(const uint8_t *buf, ptw_linux_field f)
{
	uint64_t v = 0;
	if (f.off >= 0)
		memcpy(&v, buf + f.off, f.size); /* little-endian guests */
	return v;
}

static int32_t get32(const uint8_t *buf, ptw_linux_field f)
{
	return (int32_t)(uint32_t)get(buf, f);
}

/* a counter plus bias, -1 if this kernel has no such member */
static int32_t opt32(const uint8_t *buf, ptw_linux_field f, int32_t bias)
{
	return f.off < 0 ? -1 : get32(buf, f) + bias;
}

static bool bit(uint64_t flags, int nr)
{
	return nr >= 0 && ((flags >> nr) & 1);
}

/* include/linux/page-flags.h _compound_head(): a tail page's head from
 * its compound_head (6.x: the head's address | 1) or compound_info (7.x:
 * the same, or, when the kernel has HugeTLB's vmemmap optimization and
 * sizeof(struct page) is a power of two, compound_info_has_mask(), a
 * mask | 1 that the tail's own address ANDed with gives the head). The
 * config is not in BTF; the value tells: a mask is ones from bit 63 down,
 * then zeros (~mask + 1 a power of two), which no struct page address
 * is (vmemmap lies below -1G, and a struct page's address has set bits
 * below any such run). */
uint64_t ptw_linux_compound_head(uint64_t page_va, uint64_t info,
				 uint32_t page_size, bool compound_info)
{
	uint64_t m = info & ~1ULL;
	bool pow2 = page_size && !(page_size & (page_size - 1));
	if (compound_info && pow2 && (m >> 63) && !((~m + 1) & ~m))
		return page_va & m;
	return info - 1;
}

static bool page_read(ptw_engine *e, struct ptw_linux_mm *m, uint64_t pfn,
		      ptw_linux_page_info *o)
{
	const ptw_linux_mm_layout *l = &m->lay;
	ptw_linux_kmap k;
	uint8_t pg[STRUCT_MAX], fo[STRUCT_MAX];
	if (!ptw_linux_kmap_get(e, &k))
		return false;
	o->pfn = pfn;
	o->page_va = k.vmemmap + pfn * l->page_size;
	if (!ptw_read_kernel(e, o->page_va, pg, l->page_size, NULL))
		return false;
	o->flags = get(pg, l->page_flags);
	o->anon_exclusive = bit(o->flags, l->pg_anon_exclusive);
	o->page_mapcount = get32(pg, l->page_mapcount) + 1;
	if (get32(pg, l->page_mapcount) < PAGE_TYPE_BELOW)
		o->page_mapcount = 0;
	/* include/linux/page-flags.h: a tail page's compound_head (7.x:
	 * compound_info) holds its head; a head page has PG_head. (HVO's
	 * fake heads, page_fixed_fake_head(), are hugetlb's: not
	 * followed.) */
	uint64_t ch = get(pg, l->page_compound_head);
	uint64_t head_va = o->page_va;
	o->tail = ch & 1;
	if (o->tail) {
		head_va = ptw_linux_compound_head(o->page_va, ch, l->page_size,
						  l->compound_info);
		if (head_va < k.vmemmap ||
		    (head_va - k.vmemmap) % l->page_size ||
		    head_va >= o->page_va)
			return false; /* not a head we can believe */
	}
	o->head_pfn = (head_va - k.vmemmap) / l->page_size;
	/* the folio: the head's struct page and, for a large one, the
	 * struct pages after it that struct folio overlays */
	size_t flen = l->page_size;
	memset(fo, 0, sizeof(fo));
	if (!o->tail)
		memcpy(fo, pg, flen);
	else if (!ptw_read_kernel(e, head_va, fo, flen, NULL))
		return false;
	uint64_t hflags = get(fo, l->page_flags);
	o->large = bit(hflags, l->pg_head);
	if (o->tail && !o->large)
		return false; /* its head is no head (changing under us) */
	if (o->large && l->folio_size > flen &&
	    !ptw_read_kernel(e, head_va + flen, fo + flen, l->folio_size - flen,
			     NULL))
		return false;
	o->locked = bit(hflags, l->pg_locked);
	/* folio_test_swapcache(): PG_swapcache (an alias of
	 * PG_owner_priv_1) counts only with PG_swapbacked */
	o->swapcache =
		bit(hflags, l->pg_swapbacked) && bit(hflags, l->pg_swapcache);
	o->mapping = get(fo, l->page_mapping);
	o->index = get(fo, l->page_index);
	o->anon = o->mapping & PAGE_MAPPING_ANON;
	o->ksm = (o->mapping & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_KSM;
	o->refcount = get32(fo, l->page_refcount);
	o->order = 0;
	o->nr_pages = 1;
	o->entire_mapcount = 0;
	o->pincount = -1;
	if (o->large) {
		/* include/linux/mm.h: folio_order() is _flags_1 & 0xff,
		 * folio_nr_pages() _folio_nr_pages (64-bit),
		 * folio_large_mapcount() _large_mapcount + 1,
		 * folio_entire_mapcount() _entire_mapcount + 1,
		 * folio_maybe_dma_pinned() _pincount > 0. A member this
		 * kernel lacks (off < 0) answers -1. */
		o->order = (unsigned)(get(fo, l->folio_flags_1) & 0xff);
		o->nr_pages = l->folio_nr_pages.off >= 0
				      ? get(fo, l->folio_nr_pages)
				      : 1ULL << o->order;
		o->mapcount = opt32(fo, l->folio_large_mapcount, 1);
		o->entire_mapcount = opt32(fo, l->folio_entire_mapcount, 1);
		o->pincount = opt32(fo, l->folio_pincount, 0);
		o->maybe_pinned = o->pincount > 0;
	} else {
		int32_t mc = get32(fo, l->page_mapcount);
		o->mapcount = mc < PAGE_TYPE_BELOW ? 0 : mc + 1;
		o->maybe_pinned =
			(uint32_t)o->refcount >= GUP_PIN_COUNTING_BIAS;
	}
	o->valid = true;
	return true;
}

bool ptw_linux_page(ptw_engine *e, uint64_t pfn, ptw_linux_page_info *out)
{
	memset(out, 0, sizeof(*out));
	struct ptw_linux_mm *m = ready(e);
	if (!m)
		return false;
	for (unsigned i = 0; i < m->npage; i++)
		if (m->page[i].pfn == pfn) {
			*out = m->page[i].info;
			return m->page[i].ok;
		}
	bool ok = page_read(e, m, pfn, out);
	e->stats[ST_LINUX_PAGES_READ]++;
	if (!ok) {
		e->stats[ST_LINUX_PAGES_UNKNOWN]++;
		memset(out, 0, sizeof(*out));
	}
	unsigned slot = m->npage < PAGE_CACHE ? m->npage++ : m->next++;
	m->next %= PAGE_CACHE;
	m->page[slot].pfn = pfn;
	m->page[slot].ok = ok;
	m->page[slot].info = *out;
	return ok;
}

int ptw_linux_folio_large(ptw_engine *e, int level, uint64_t desc)
{
	ptw_desc d;
	ptw_linux_page_info pi;
	if (!ptw_user_leaf(e, level, desc, &d) ||
	    !ptw_linux_page(e, d.oa >> e->page_shift, &pi) || !pi.valid)
		return -1;
	return pi.large;
}

/* ------------------------------------------------------------------ */
/* swap slots: swap_info[type]->swap_map[offset] (mm/swapfile.c) */

bool ptw_linux_swap_tables(const ptw_linux_mm_layout *l)
{
	return l->si_cluster_info.off >= 0 && l->si_cluster_info.size == 8 &&
	       l->cluster_table.off >= 0 && l->cluster_table.size == 8 &&
	       l->cluster_info_size && l->swap_table_slots;
}

/* 7.x: si->cluster_info[offset / slots].table->entries[offset % slots]
 * (mm/swap.h __swap_offset_to_cluster(), mm/swap_table.h); raw is made up
 * as 6.12's swap_map byte would say it (the count, SWAP_HAS_CACHE for a
 * cached slot, COUNT_CONTINUED past SWP_TB_COUNT_MAX) */
static bool swap_table_slot(ptw_engine *e, const ptw_linux_mm_layout *l,
			    uint64_t si, uint64_t offset,
			    ptw_linux_swap_slot *out)
{
	uint64_t cia, tbl, ent;
	if (!kread64(e, si + (uint64_t)l->si_cluster_info.off, &cia) || !cia ||
	    !kread64(e,
		     cia + offset / l->swap_table_slots * l->cluster_info_size +
			     (uint64_t)l->cluster_table.off,
		     &tbl))
		return false;
	if (!tbl) /* a cluster without a table: all its slots free */
		return true;
	if (!kread64(e, tbl + offset % l->swap_table_slots * 8ULL, &ent))
		return false;
	if (ent == SWP_TB_BAD) {
		out->bad = true;
		out->raw = SWAP_MAP_BAD;
		return true;
	}
	bool shadow = ent & 1, cached = (ent & 3) == 2;
	if (ent && !shadow && !cached)
		return false; /* a pointer entry: unused by 7.x, unknown */
	out->count = ent ? (unsigned)(ent >> SWP_TB_COUNT_SHIFT) : 0;
	out->has_cache = cached;
	out->continued = out->count == SWP_TB_COUNT_MAX;
	out->raw =
		(uint8_t)((out->count & 0x3f) | (cached ? SWAP_HAS_CACHE : 0) |
			  (out->continued ? COUNT_CONTINUED : 0));
	return true;
}

bool ptw_linux_swap_count(ptw_engine *e, unsigned type, uint64_t offset,
			  ptw_linux_swap_slot *out)
{
	memset(out, 0, sizeof(*out));
	struct ptw_linux_mm *m = ready(e);
	const ptw_linux_mm_layout *l = m ? &m->lay : NULL;
	if (!m || !m->swap_info || m->swap_info == AMBIGUOUS ||
	    type >= SWAP_TYPES || l->swap_max.off < 0 ||
	    (l->swap_map.off < 0 ? !ptw_linux_swap_tables(l)
				 : l->swap_map.size != 8))
		return false;
	uint64_t si, map = 0;
	uint8_t buf[16] = {0}, raw;
	int8_t stype;
	/* the device's own type must be its index: a type past the
	 * kernel's MAX_SWAPFILES reads beyond swap_info[] */
	if (!kread64(e, m->swap_info + type * 8ULL, &si) || !si ||
	    (l->swap_type.off >= 0 && l->swap_type.size == 1 &&
	     (!ptw_read_kernel(e, si + (uint64_t)l->swap_type.off, &stype, 1,
			       NULL) ||
	      stype != (int8_t)type)) ||
	    (l->swap_map.off >= 0 &&
	     (!kread64(e, si + (uint64_t)l->swap_map.off, &map) || !map)) ||
	    !ptw_read_kernel(e, si + (uint64_t)l->swap_max.off, buf,
			     l->swap_max.size, NULL))
		return false;
	ptw_linux_field at0 = {0, l->swap_max.size};
	if (offset >= get(buf, at0))
		return false;
	if (l->swap_map.off < 0)
		return swap_table_slot(e, l, si, offset, out);
	if (!ptw_read_kernel(e, map + offset, &raw, 1, NULL))
		return false;
	out->raw = raw;
	out->has_cache = raw & SWAP_HAS_CACHE;
	raw &= (uint8_t)~SWAP_HAS_CACHE;
	out->shmem = raw == SWAP_MAP_SHMEM;
	out->bad = raw == SWAP_MAP_BAD;
	out->continued = !out->shmem && (raw & COUNT_CONTINUED);
	out->count = out->shmem ? 0 : raw & (uint8_t)~COUNT_CONTINUED;
	return true;
}

/* mm/memory.c should_zap_cows(): no details zaps everything; else the
 * caller's even_cows (6.12; truncation: true; a hole punch or an
 * invalidation of the page cache: false), or not its skip_cows (7.x) */
bool ptw_linux_zap_even_cows(ptw_engine *e, uint64_t details, bool *cows)
{
	if (!details) {
		*cows = true;
		return true;
	}
	struct ptw_linux_mm *m = ready(e);
	if (!m)
		return false;
	bool skip = m->lay.zap_even_cows.off < 0;
	ptw_linux_field f = skip ? m->lay.zap_skip_cows : m->lay.zap_even_cows;
	uint8_t b = 0;
	if (f.off < 0 || f.size != 1 ||
	    !ptw_read_kernel(e, details + (uint64_t)f.off, &b, 1, NULL))
		return false;
	*cows = skip ? b == 0 : b != 0;
	return true;
}
