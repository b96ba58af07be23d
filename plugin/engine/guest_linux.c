// SPDX-License-Identifier: MIT
/*
 * What ptwatch knows of Linux, the guest OS: its present-invalid entries,
 * its swap and migration entry layouts, which of its functions read page
 * tables locklessly by design and which must complete a pending batched
 * flush, where it keeps the current task, and which of its calls the
 * adapter reports. The detectors ask these questions; a guest that is not
 * Linux (the litmus guests, given no symbols) gets answers that change
 * nothing: no symbol matches, and the entry layouts only apply to values
 * Linux writes.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"

/* Linux's "present but not valid" entries: PROT_NONE (NUMA hinting,
 * mprotect(PROT_NONE)) and an entry invalidated in place while it is
 * changed (pmdp_invalidate(), pte_mkinvalid()). They still refer to their
 * page: arm64 6.12 PTE_PRESENT_INVALID is nG (bit 11) with the valid bit
 * clear; x86 _PAGE_PROTNONE is the global bit (8) with present clear, and
 * pmd_mkinvalid() keeps _PAGE_PSE (7), which pmd_present() counts. Swap and
 * migration entries keep those bits zero. */
bool ptw_linux_present_invalid(ptw_arch arch, uint64_t v)
{
	if (v & 1)
		return false;
	return arch == PTW_ARCH_ARM64 ? (v >> 11) & 1 : (v >> 7) & 3;
}

/* Linux keeps a page's dirty state in a software bit of the entry when it
 * takes away the hardware's (pte_wrprotect() moves it there, pte_mkdirty()
 * sets it): arm64 PTE_DIRTY (bit 55), x86 _PAGE_SAVED_DIRTY (bit 58, with
 * user shadow stacks) */
bool ptw_linux_sw_dirty(ptw_arch arch, uint64_t v)
{
	return arch == PTW_ARCH_ARM64 ? (v >> 55) & 1 : (v >> 58) & 1;
}

/* sym (with or without +offset or a .isra/.constprop suffix) names one of
 * the functions in names (globs) */
static bool sym_in(const char *sym, const char *const *names, unsigned n)
{
	char name[96];
	g_strlcpy(name, sym, sizeof(name));
	name[strcspn(name, "+.")] = 0;
	for (unsigned i = 0; i < n; i++) {
		/* a name without '*' or '?' matches only itself: no glob to
		 * compile (these questions come at every page-table load) */
		if (!strpbrk(names[i], "*?")
			    ? !strcmp(names[i], name)
			    : g_pattern_match_simple(names[i], name))
			return true;
	}
	return false;
}

/* Linux's lockless page-table readers that re-check under the PTE lock by
 * design: the fault path reads the PTE (or a folio's range of PTEs) without
 * the lock, then takes it and checks again (pte_same(), vmf_pte_changed(),
 * pte_range_none(), a swap-in's batch check), backing off when anything
 * changed; GUP-fast re-checks after taking a reference;
 * contpte_ptep_get_lockless() retries its block. A read in a window by
 * such a reader is benign by design (a note, decided at the read). Other
 * readers, such as page_vma_mapped_walk() (seed 001: it skips the
 * leading none entries of a folio and takes the lock at the first present
 * one), must load the entry itself again, or restart their walk. sym is a
 * symbol name with or without +offset. */
bool ptw_linux_rechecking_reader(const char *sym)
{
	static const char *const readers[] = {
		"__handle_mm_fault",
		"handle_mm_fault",
		"handle_pte_fault",
		"do_anonymous_page",
		"alloc_anon_folio",
		"pte_range_none",
		"do_swap_page",
		"can_swapin_thp",
		"swap_pte_batch",
		"do_fault",
		"finish_fault",
		"do_pte_missing",
		"contpte_ptep_get_lockless",
		"ptep_get_lockless",
		"gup_fast*",
		"internal_get_user_pages_fast",
	};
	return sym_in(sym, readers, G_N_ELEMENTS(readers));
}

/* Linux's helpers that read an entry for their caller and decide
 * nothing: arm64's contpte_ptep_get() (ptep_get() of a contiguous entry:
 * the block's access and dirty bits gathered into one value). A read by
 * one is judged as its caller's. */
bool ptw_linux_entry_getter(const char *sym)
{
	static const char *const getters[] = {
		"contpte_ptep_get",
	};
	return sym_in(sym, getters, G_N_ELEMENTS(getters));
}

/* Linux's rmap walker, whose skip of a transiently none entry matters only
 * for a large folio: for a single page, try_to_unmap() then finds no
 * mapping, the folio stays mapped and reclaim keeps it (nothing is lost),
 * which is why Linux takes the PTE lock from the first entry (TTU_SYNC,
 * PVMW_SYNC) only for large folios; a large folio is unmapped in part and
 * split (seed 001). */
bool ptw_linux_single_page_benign_reader(const char *sym)
{
	static const char *const readers[] = {
		"page_vma_mapped_walk",
		"check_pte",
		"map_pte",
	};
	return sym_in(sym, readers, G_N_ELEMENTS(readers));
}

/* Callers of page_vma_mapped_walk() that unmap what it finds: a skipped
 * entry leaves that entry mapped (seed 001 in try_to_unmap_one(), whose
 * caller passes TTU_SYNC for large folios since the fix). The others only
 * read (folio_referenced_one() tests young bits, page_mkclean_one() dirty
 * ones): a skipped entry misses a bit, not a mapping. */
bool ptw_linux_unmapping_walker(const char *sym)
{
	static const char *const callers[] = {
		"try_to_unmap_one",
		"try_to_migrate_one",
	};
	return sym_in(sym, callers, G_N_ELEMENTS(callers));
}

/* Linux's operations that must complete another CPU's pending batched TLB
 * flush before they act on an entry (they call flush_tlb_batched_pending()
 * under the PTE lock: mprotect's change_pte_range(), munmap's
 * zap_pte_range(), mremap's move_ptes(), MADV_FREE and MADV_COLD/PAGEOUT),
 * since the user relies on their result once the call returns: reclaim
 * may have unmapped a page and deferred its flush (TTU_BATCH_FLUSH), and a
 * protection change or an unmap that finds the entry already gone would
 * otherwise return with the old translation still live in some TLB (the
 * race fixed by 3ea277194daa, "mm, mprotect: flush TLB if potentially
 * racing with a parallel reclaim leaving stale TLB entries"). The static
 * functions are usually inlined: their callers are named too. */
bool ptw_linux_batched_flush_obliged(const char *sym)
{
	static const char *const ops[] = {
		"change_protection",
		"change_pte_range",
		"change_pmd_range",
		"unmap_page_range",
		"zap_pte_range",
		"zap_pmd_range",
		"move_page_tables",
		"move_ptes",
		"madvise_free_pte_range",
		"madvise_cold_or_pageout_pte_range",
		/* 7.x: unmap_page_range() became __zap_vma_range(), inlined
		 * into its callers */
		"__zap_vma_range",
		"zap_vma_range_batched",
		"zap_vma_range",
		"unmap_vmas",
	};
	return sym_in(sym, ops, G_N_ELEMENTS(ops));
}

/* Linux's changers that defer their TLB flush past the PTE lock into the
 * mm's batch (TTU_BATCH_FLUSH: reclaim's and migration's unmaps), which
 * is the flush flush_tlb_batched_pending() completes. (mmu_gather's
 * deferral is excluded by the mmap lock: the obliged operations above that
 * take it for writing cannot run beside a zap.) */
bool ptw_linux_batched_flush_changer(const char *sym)
{
	static const char *const changers[] = {
		"try_to_unmap_one",
		"try_to_migrate_one",
	};
	return sym_in(sym, changers, G_N_ELEMENTS(changers));
}

/* A swap entry's type and offset, as Linux 6.12 lays them out (the one
 * place they are decoded): arm64 (pgtable.h) type in bits 10:6, offset in
 * bits 61:12; x86-64 (pgtable_64.h) type in bits 63:59, offset stored
 * inverted from bit 9 up */
static void swap_decode(ptw_arch arch, uint64_t v, unsigned *type,
			uint64_t *off)
{
	if (arch == PTW_ARCH_ARM64) {
		*type = (v >> 6) & 0x1f;
		*off = (v >> 12) & ((1ULL << 50) - 1);
	} else {
		*type = (unsigned)(v >> 59);
		*off = (~v << 5) >> 14;
	}
}

/* 6.12's swap types: the swap devices' below SWAP_DEVICE_TYPES, PTE
 * markers' the last (SWP_PTE_MARKER) */
#define SWAP_DEVICE_TYPES 24
#define SWP_PTE_MARKER	  31

/* Linux's non-swap entries that name a page frame: migration and device
 * entries use the last swap types (5 type bits: MAX_SWAPFILES is 32 less
 * the migration, device, hwpoison and marker types, which count down from
 * 31), with the PFN as offset; real swap devices use the first types. A
 * page under migration keeps its identity (present(A) -> migration(A) ->
 * present(A) is no ABA); a swap entry is the identity of its slot. */
bool ptw_linux_pfn_entry(ptw_arch arch, uint64_t v, uint64_t *pfn)
{
	unsigned type;
	uint64_t off;
	if (v == 0 || (v & 1) || ptw_linux_present_invalid(arch, v))
		return false;
	swap_decode(arch, v, &type, &off);
	if (type < SWAP_DEVICE_TYPES || type == SWP_PTE_MARKER)
		return false;
	*pfn = off;
	return true;
}

/* A swap device's entry (not present, not PROT_NONE, not a migration,
 * device or hwpoison entry, not a PTE marker): its type and offset. */
bool ptw_linux_swap_device_entry(ptw_arch arch, uint64_t v, unsigned *type,
				 uint64_t *off)
{
	if (v == 0 || (v & 1) || ptw_linux_present_invalid(arch, v))
		return false;
	swap_decode(arch, v, type, off);
	return *type < SWAP_DEVICE_TYPES;
}

/* Linux page-table walkers that read entries without the lock to harvest
 * or scan, and never compare a value read in one walk with one read in a
 * later walk: MGLRU's walks (walk_pte_range() and its callers, inlined
 * into walk_pud_range(), and lru_gen_look_around()) and khugepaged's scan.
 * Two of their reads of one entry, on a vCPU that runs the walker as a
 * kernel thread (it never returns to user mode), are not one operation.
 * Swap readahead (swap_vma_readahead(), inlined in swapin_readahead())
 * reads the neighbouring entries of a faulting one as a hint for which
 * slots to read: a later fault of the same task on a neighbour (from a
 * system call's user copy, with no return to user in between) reads it
 * afresh and compares with that. */
bool ptw_linux_aba_walker(const char *sym)
{
	static const char *const walkers[] = {
		"walk_pte_range",
		"walk_pmd_range",
		"walk_pud_range",
		"walk_pmd_range_locked",
		"lru_gen_look_around",
		"hpage_collapse_scan_pmd",
		"check_pte",
		"swapin_readahead",
		"swap_vma_readahead",
		/* 7.x's name for hpage_collapse_scan_pmd() */
		"collapse_scan_pmd",
		/* arm64 reclaim's harvest of a contpte block's young bits
		 * (folio_referenced_one()): a later reclaim pass's rmap walk
		 * reads afresh, even by the same task with no return to user
		 * between (memory.high reclaim loops in
		 * exit_to_user_mode_loop()). 7.x inlines check_pte() into
		 * page_vma_mapped_walk(), whose read was the pair's walker
		 * before (a false PTE_ABA error on 7.2 16K, session 19) */
		"contpte_test_and_clear_young_ptes",
		"contpte_ptep_test_and_clear_young",
		/* khugepaged's collapse takes the PMD down with a get-and-
		 * clear and keeps the value only to put the table back if
		 * the collapse fails (pmd_populate()), never to compare: a
		 * later scan's read of that PMD (find_pmd_or_thp_or_none(),
		 * by the same kthread, which never returns to user) is
		 * another operation (a false PTE_ABA error on our 7.2
		 * x86-64 build, session 20: the PMD went THP, fork, split,
		 * back to the same table page in between) */
		"pmdp_collapse_flush",
	};
	return sym_in(sym, walkers, G_N_ELEMENTS(walkers));
}

/* The present descriptor a present-invalid entry stands for. x86 stores a
 * non-present entry's PFN inverted (the L1TF guard, flip_protnone_guard()
 * in pgtable-invert.h), bits 12-51. */
uint64_t ptw_linux_revalidate(ptw_arch arch, uint64_t v)
{
	if (arch == PTW_ARCH_X86_64)
		v ^= 0x000ffffffffff000ULL;
	return v | 1;
}

ptw_callee ptw_linux_watched_callee(ptw_engine *e, uint64_t target)
{
	if (!target)
		return PTW_CALLEE_NONE;
	if (target == e->pvmw_addr)
		return PTW_CALLEE_RMAP_WALK;
	if (target == e->fault_addr)
		return PTW_CALLEE_FAULT;
	if (target == e->deferred_flush_addr[0] ||
	    target == e->deferred_flush_addr[1])
		return PTW_CALLEE_DEFERRED_FLUSH;
	if (target == e->zap_addr)
		return PTW_CALLEE_ZAP;
	return PTW_CALLEE_NONE;
}

/* Linux on x86-64 keeps frame pointers only with
 * CONFIG_UNWINDER_FRAME_POINTER; with ORC (Debian's) rbp is an ordinary
 * register and no chain of frame records exists. arm64 Linux always has
 * them (FRAME_POINTER is def_bool y there). */
bool ptw_linux_unwinds_without_fp(const ptw_engine *e)
{
	return ptw_linux_orc_kernel(e);
}

bool ptw_linux_callee_args(ptw_callee callee)
{
	return callee == PTW_CALLEE_ZAP;
}

/* Linux's functions that walk a range's entries to zap them, under the
 * PTE lock (mm/memory.c: unmap_page_range() down to zap_pte_range(), its
 * static helpers usually inlined into it; 7.x __zap_vma_range() and its
 * callers): a read of an entry by one of
 * them is followed, in the same pass under the lock, by the entry's clear
 * or by the decision to keep it (zap_details). */
bool ptw_linux_zapper(const char *sym)
{
	static const char *const zappers[] = {
		"unmap_page_range",	 "zap_p4d_range",   "zap_pud_range",
		"zap_pmd_range",	 "zap_pte_range",   "zap_present_ptes",
		"zap_nonpresent_ptes",	 "swap_pte_batch",  "unmap_single_vma",
		"zap_page_range_single", "__zap_vma_range", "zap_vma_range",
		"zap_vma_range_batched",
	};
	return sym_in(sym, zappers, G_N_ELEMENTS(zappers));
}

/* Linux's fork, copying a parent's entries to its child (mm/memory.c:
 * copy_page_range() down to copy_pte_range(), copy_present_ptes() usually
 * inlined into it, which write-protects the parent's writable private
 * entries it shares; copy_huge_pmd() for a PMD leaf; hugetlb's own;
 * arm64's contpte_wrprotect_ptes() is wrprotect_ptes(), fork's only) */
bool ptw_linux_fork_copier(const char *sym)
{
	static const char *const copiers[] = {
		"copy_page_range",	  "copy_p4d_range",
		"copy_pud_range",	  "copy_pmd_range",
		"copy_pte_range",	  "copy_present_ptes",
		"copy_present_pte",	  "copy_huge_pmd",
		"copy_huge_pud",	  "copy_hugetlb_page_range",
		"contpte_wrprotect_ptes",
	};
	return sym_in(sym, copiers, G_N_ELEMENTS(copiers));
}

/* Linux runs its kernel in the upper half of the address space, user
 * programs in the lower half: VA bit 63 tells them apart on both
 * architectures (arm64 TTBR1 addresses, x86-64 canonical kernel
 * addresses). */
bool ptw_linux_upper_half_code(uint64_t va)
{
	return va >> 63;
}

/* Linux on arm64 keeps the current task's task_struct in SP_EL0 while it
 * runs in the kernel (arch/arm64/include/asm/current.h, get_current()),
 * and switches it in cpu_switch_to(): a kernel-half value written there
 * names the task the vCPU runs now. A user stack pointer restored on the
 * way out to user mode is no task: 0. */
uint64_t ptw_linux_arm64_task(uint64_t sp_el0)
{
	return sp_el0 >> 63 ? sp_el0 : 0;
}

uint64_t ptw_linux_current_slot(ptw_engine *e)
{
	return e->cfg.arch == PTW_ARCH_X86_64 ? e->current_slot : 0;
}

/* Linux on x86-64 switches its current task pointer (ptw_linux_current_slot)
 * with a %gs-relative store of a register to the pointer's per-CPU offset,
 * a fixed address: RIP-relative (wrapping to it) or absolute. d (at pc,
 * len bytes) is such a store, when Linux's symbols name the pointer; a
 * per-CPU store elsewhere is no task switch. */
bool ptw_linux_x86_current_store(ptw_engine *e, const ptw_x86_insn *d,
				 uint64_t pc, unsigned len)
{
	uint64_t slot = ptw_linux_current_slot(e);
	if (d->op != PTW_X86_GS_STORE64 || !slot || d->index >= 0 ||
	    (d->base >= 0 && d->base != 16))
		return false;
	return ptw_x86_operand_ea(d, pc, len, NULL) == slot;
}

void ptw_linux_swap_entry(ptw_arch arch, uint64_t v, unsigned *type,
			  uint64_t *off)
{
	swap_decode(arch, v, type, off);
}

void ptw_linux_describe_swap(ptw_arch arch, uint64_t d, char *buf, size_t n)
{
	unsigned type;
	uint64_t off;
	swap_decode(arch, d, &type, &off);
	snprintf(buf, n, "swap type %u offset 0x%" PRIx64, type, off);
}

/* A translation fault on a user (lower-half) address goes to
 * handle_mm_fault(), which looks at the entry again under the PTE lock and,
 * finding it being changed, returns and lets the access retry. A fault on
 * a kernel address (the linear map, vmalloc, the kernel image) has no such
 * path outside the exception-table fixups of user accesses: the kernel
 * oopses. */
bool ptw_linux_fault_retried(bool upper_half)
{
	return !upper_half;
}

/* Why a stale access after an overtaking operation is an error, in Linux's
 * words (det_stale.c: the operations of ptw_linux_batched_flush_obliged()
 * call flush_tlb_batched_pending() before they act on an entry). */
const char *ptw_linux_overtaken_why(void)
{
	return "an operation that read this entry while its invalidation was "
	       "pending (on Linux: mprotect, munmap, mremap or madvise) "
	       "returned to user mode before that invalidation: the old "
	       "translation outlived it (it must complete the pending "
	       "batched flush first: flush_tlb_batched_pending())";
}

/* Whether the guest is Linux: it gave us kernel symbols (kallsyms or a
 * System.map). Asked once here; the detectors ask this. */
bool ptw_guest_is_linux(const ptw_engine *e)
{
	return e->syms && e->syms->len;
}

/* A kernel symbol as symbols.c reads it: the addresses Linux's conventions
 * name. */
void ptw_linux_note_symbol(ptw_engine *e, const char *name, uint64_t addr)
{
	/* Linux x86-64: the per-CPU current task pointer, first
	 * field of pcpu_hot since 6.2, current_task before */
	if (strcmp(name, "pcpu_hot") == 0 ||
	    (strcmp(name, "current_task") == 0 && !e->current_slot))
		e->current_slot = addr;
	if (strcmp(name, "page_vma_mapped_walk") == 0)
		e->pvmw_addr = addr;
	if (strcmp(name, "handle_mm_fault") == 0)
		e->fault_addr = addr;
	if (strcmp(name, "try_to_unmap_flush") == 0)
		e->deferred_flush_addr[0] = addr;
	if (strcmp(name, "try_to_unmap_flush_dirty") == 0)
		e->deferred_flush_addr[1] = addr;
	if (strcmp(name, "zap_page_range_single") == 0) {
		e->zap_addr = addr;
		e->zap_start_arg = 1;
	}
	if (strcmp(name, "zap_vma_range_batched") == 0) {
		e->zap_addr = addr;
		e->zap_start_arg = 2;
	}
	/* CONFIG_UNWINDER_ORC: the ORC tables' bounds (vmlinux.lds.h) */
	ptw_linux_orc_note_symbol(e, name, addr);
	/* the BTF's bounds and the mm variables (guest_linux_mm.c) */
	ptw_linux_mm_note_symbol(e, name, addr);
}
