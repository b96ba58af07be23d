/* SPDX-License-Identifier: MIT */
/*
 * Address map of the x86-64 litmus guests. Shared by boot.S and the C code,
 * so it must stay preprocessor-only (no C declarations).
 *
 * Physical RAM (-m 256M, identity-mapped for the first 1 GiB):
 *
 *   0x00008000            AP real-mode trampoline (copied there by CPU0)
 *   0x00100000 - ...      the ELF image text: boot code, C code, rodata
 *   0x00200000 - 0x00207fff  the static page tables (PAGE_TABLES_BASE + n
 *                         * 0x1000: pml4, pdpt, pd_ident, pd_test, pt_test,
 *                         pt_size, pd_apic, pt_apic)
 *   0x00208000 - ...      GDT, .bss: stacks, IDT, shared flags
 *                         (linker asserts the image ends below 0x00400000)
 *   0x00480000 - 0x00485fff  data pages A, B, C, D, E, F (first word =
 *                         marker)
 *   0x00490000 - 0x0049ffff  the unit: 16 contiguous pages, 64 KiB aligned
 *                         (page i's first word = UNIT_MARKER(i))
 *   0x00800000 - 0x009fffff  2 MiB region for size_change (each 4 KiB page's
 *                         first word = SIZE_MARKER(page index))
 *
 * Virtual address space (one CR3 shared by both CPUs, 4-level paging):
 *
 *   0x00000000 - 0x3fffffff  identity, 2 MiB pages  (PML4[0] -> PDPT[0])
 *   0x40000000 - 0x7fffffff  test area              (PDPT[1] -> pd_test)
 *     0x40000000 - 0x401fffff  4 KiB pages through pt_test (pd_test[0]),
 *                              all not present until a scenario maps them:
 *       0x40000000, 0x40001000   TEST_VA (V), TEST_VA2 (V2)
 *       0x40020000, 0x40021000   QUIET_VA, QUIET_VA2: V and V2 of the
 *                                scenarios that read through a stale entry
 *       0x40030000 - 0x4003ffff  UNIT_VA: the unit's 16 pages
 *     0x40200000 - 0x403fffff  size_change region (pd_test[1]), mapped as
 *                              one 2 MiB page; pt_size maps the same 2 MiB
 *                              with 4 KiB pages except that page
 *                              SIZE_CHANGE_PAGE maps SIZE_CHANGE_PA, but is
 *                              not installed
 *     0x40400000 - 0x405fffff  table_alias_*: pd_test[2] links pt_test
 *                              too, so ALIAS_VA maps what TEST_VA maps
 *     0x40600000 - 0x407fffff  pt_page_mapped_*: pd_test[3] links pt_size
 *                              there (LINK_VA)
 *   The walk to pt_test (pml4[0], pdpt[1], pd_test[0]) has U/S set, so a
 *   test-area leaf is user-accessible exactly when it has U/S itself; every
 *   other entry (the identity map, pd_test[1..3], the APIC) has U/S clear.
 *   0xfee00000               local APIC, one 4 KiB page, PCD|PWT
 *                            (PDPT[3] -> pd_apic[0x1f7] -> pt_apic[0])
 */
#ifndef LITMUS_X86_64_LAYOUT_H
#define LITMUS_X86_64_LAYOUT_H

/* Where the image is linked and loaded. */
#define IMAGE_BASE  0x00100000
#define IMAGE_LIMIT 0x00400000

/* Static page tables (boot.S, placed by link.ld), 4 KiB each. */
#define PAGE_TABLES_BASE 0x00200000
#define PML4_PA		 (PAGE_TABLES_BASE + 0x0000)
#define PDPT_PA		 (PAGE_TABLES_BASE + 0x1000)
#define PD_IDENT_PA	 (PAGE_TABLES_BASE + 0x2000)
#define PD_TEST_PA	 (PAGE_TABLES_BASE + 0x3000)
#define PT_TEST_PA	 (PAGE_TABLES_BASE + 0x4000)
#define PT_SIZE_PA	 (PAGE_TABLES_BASE + 0x5000)
#define PD_APIC_PA	 (PAGE_TABLES_BASE + 0x6000)
#define PT_APIC_PA	 (PAGE_TABLES_BASE + 0x7000)

/* AP start-up: real-mode trampoline page, SIPI vector = page number. */
#define AP_TRAMPOLINE  0x00008000
#define AP_SIPI_VECTOR (AP_TRAMPOLINE >> 12)

/* Spare physical data pages, below 256 MiB and outside the image. */
#define DATA_PAGE_A 0x00480000
#define DATA_PAGE_B 0x00481000
#define DATA_PAGE_C 0x00482000
#define DATA_PAGE_D 0x00483000
#define DATA_PAGE_E 0x00484000 /* data_*: the page V maps first */
#define DATA_PAGE_F 0x00485000 /* data_*: the page V is remapped to */

/* First word of each data page: "AAAAAAAA", "BBBBBBBB", ... in ASCII. */
#define MARKER_A 0x4141414141414141
#define MARKER_B 0x4242424242424242
#define MARKER_C 0x4343434343434343
#define MARKER_D 0x4444444444444444
#define MARKER_E 0x4545454545454545
#define MARKER_F 0x4646464646464646

/*
 * The unit (docs/litmus-catalogue.md): 16 physically contiguous pages at a
 * 64 KiB-aligned PA, mapped by the 16 pt_test entries of a 64 KiB-aligned
 * VA. Page i starts with UNIT_MARKER(i) ("UNIT" in the high half).
 */
#define UNIT_PA	       0x00490000
#define UNIT_PAGES     16
#define UNIT_MARKER(i) (0x554e495400000000 | (i))

/* Test area: PDPT[1], its own PD (pd_test) and PT (pt_test). */
#define TEST_AREA_VA 0x40000000
#define TEST_VA	     TEST_AREA_VA	     /* pt_test[0] */
#define TEST_VA2     (TEST_AREA_VA + 0x1000) /* pt_test[1] */

/*
 * V and V2 of the scenarios whose data check needs a read through a stale
 * TLB entry (stale_reused, stale_deferred_ok, stale_moved_*). QEMU's
 * softmmu TLB is direct mapped, indexed by VA bits 12 and up modulo its
 * size (a power of two, 64 entries or more, resized only on full
 * flushes). TEST_VA (index 0) shares its slot with the local APIC page
 * 0xfee00000 that every kprintf touches, and TEST_VA2 (index 1) with the
 * first .text page, so a stale entry there survives only in QEMU's
 * 8-entry victim TLB. Page numbers
 * 0x40020 and 0x40021 share their index, at any TLB size, with nothing the
 * guest touches during a scenario (image pages 0x100-0x10f and 0x200-0x21f,
 * data pages 0x480-0x48f, unit pages 0x490-0x49f, APIC 0xfee00, unit VA
 * 0x40030-0x4003f, other test VAs 0x40000-0x40001, 0x40203-0x40204).
 */
#define QUIET_VA  (TEST_AREA_VA + 0x20000) /* pt_test[0x20] */
#define QUIET_VA2 (TEST_AREA_VA + 0x21000) /* pt_test[0x21] */

/* table_alias_*: TEST_VA's second VA, through pd_test[2] -> pt_test. */
#define ALIAS_VA (TEST_VA + 0x400000)

/*
 * pt_page_mapped_*: pd_test[3] links pt_size here (LINK_VA + i * 4096 maps
 * the size region's page i, page 3 -> data page D).
 */
#define LINK_VA (TEST_AREA_VA + 0x600000)

/* The unit's VA: 64 KiB aligned, pt_test[0x30..0x3f] (TLB indices too). */
#define UNIT_VA (TEST_AREA_VA + 0x30000)

/* size_change: 2 MiB physical region and its VA (pd_test[1]). */
#define SIZE_REGION_PA 0x00800000
#define SIZE_REGION_VA 0x40200000
#define SIZE_MARKER(i) (0x5a5a5a5a00000000 | (i)) /* i = 4 KiB page index */

/*
 * size_change: pt_size maps the region page for page, except that page
 * SIZE_CHANGE_PAGE (k = 3) maps data page D instead (boot.S).
 */
#define SIZE_CHANGE_PAGE 3
#define SIZE_CHANGE_PA	 DATA_PAGE_D
#define SIZE_CHANGE_VA	 (SIZE_REGION_VA + SIZE_CHANGE_PAGE * 0x1000)

/* Local APIC (xAPIC mode). */
#define APIC_BASE 0xfee00000

/* Page-table entry bits. */
#define PTE_P	0x001
#define PTE_RW	0x002
#define PTE_US	0x004 /* user/supervisor: CPL 3 may access */
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_A	0x020
#define PTE_D	0x040
#define PTE_PS	0x080

/*
 * Accessed and Dirty are preset everywhere so that QEMU's page walker never
 * has to write them back: the only stores to page tables are the guest's.
 */
#define PTE_TABLE   (PTE_P | PTE_RW | PTE_A)	     /* points to a table */
#define PTE_PAGE    (PTE_P | PTE_RW | PTE_A | PTE_D) /* 4 KiB leaf */
#define PTE_LARGE   (PTE_PAGE | PTE_PS)		     /* 2 MiB leaf */
#define PTE_PAGE_RO (PTE_P | PTE_A | PTE_D)	     /* read-only 4 KiB leaf */
#define PTE_NONE    0				     /* not present */

/*
 * User-accessible (U/S): the walk to pt_test (boot.S: pml4[0], pdpt[1],
 * pd_test[0]), and a 4 KiB leaf user code can reach (pt_page_mapped_*).
 */
#define PTE_TABLE_USER (PTE_TABLE | PTE_US)
#define PTE_PAGE_USER  (PTE_PAGE | PTE_US)

/*
 * Swap-format entry (catalogue): (offset << 12) | (type << 1), P clear;
 * type 1, offset 0x100 + i for unit entry i.
 */
#define SWAP_TYPE 1

/* GDT selectors (boot.S). */
#define GDT_CODE32 0x08
#define GDT_DATA   0x10
#define GDT_CODE64 0x18

/* Control registers and MSRs. */
#define CR0_PE	 0x00000001
#define CR0_WP	 0x00010000
#define CR0_PG	 0x80000000
#define CR4_PAE	 0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100

/* isa-debug-exit: QEMU exits with (value << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4
#define COM1_PORT	0x3f8

#define STACK_SIZE 0x4000

#endif
