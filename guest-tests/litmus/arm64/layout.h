/* SPDX-License-Identifier: MIT */
/*
 * Address map of the arm64 litmus guests. Shared by start.S and the C code,
 * so it must stay preprocessor-only (no C declarations).
 *
 * Physical RAM (-M virt -m 256M: 0x40000000 - 0x4fffffff):
 *
 *   0x40000000            QEMU's device tree blob (placed there for ELF
 *                         kernels; never touched)
 *   0x40200000 - ...      the ELF image: boot code, vectors, C code, data,
 *                         the static page tables, stacks (linker asserts
 *                         < IMAGE_LIMIT)
 *   0x40400000 - 0x40403fff  data pages A, B, C, D (first word = marker)
 *   0x40404000 - 0x40406fff  data pages E, F (first word = marker) and Z
 *                         (all zero), for data_mismatch / data_copy_ok
 *   0x40410000 - 0x4041ffff  the unit: 16 physically contiguous pages,
 *                         64 KiB-aligned (each page's first word =
 *                         UNIT_MARKER(page index))
 *   0x40600000 - 0x407fffff  2 MiB region for bbm_block_to_table (each
 *                         4 KiB page's first word = BLOCK_MARKER(page index))
 *   0x09000000            PL011 UART (device)
 *
 * Virtual address space (TTBR0_EL1 only, 48-bit VA, 4 KiB granule, level 0
 * start; one TTBR0 with ASID 1 shared by both CPUs):
 *
 *   0x00000000 - 0x3fffffff  identity, 1 GiB device block   (L1[0])
 *   0x40000000 - 0x7fffffff  identity, 2 MiB normal blocks  (L1[1] ->
 * pt_l2_ram) 0x100000000 - 0x1001fffff  test area, 4 KiB pages      (L1[4] ->
 * pt_l2_test [0] -> pt_l3_test), all invalid until a scenario maps what it
 * uses: 0x100030000            TEST_VA   (pt_l3_test[0x30]) 0x100038000
 * TEST_VA2  (pt_l3_test[0x38]) 0x100100000 - 0x10010ffff  UNIT_VA, 16 pages
 * (pt_l3_test[0x100..0x10f]) 0x140000000 - 0x1401fffff  block area (L1[5] ->
 * pt_l2_block[0]), invalid until bbm_block_to_table maps it as a 2 MiB block;
 * pt_l3_block is the replacement table
 */
#ifndef LITMUS_ARM64_LAYOUT_H
#define LITMUS_ARM64_LAYOUT_H

/*
 * The translation granule. The litmus-arm64-g16k_* guests are built with
 * LITMUS_GRANULE_16K (meson.build): 16 KiB pages, 47-bit VAs and three
 * levels from level 1, as Linux's arm64-16k kernels; TTBR0_EL1 then names
 * pt_l1, pt_l2_ram maps RAM and the UART in 32 MiB blocks and links
 * pt_l3_test, and TEST_VA, TEST_VA2 and the data pages are 16 KiB pages.
 * Only the scenarios that use TEST_VA, TEST_VA2 and the data pages are
 * built that way (not the unit, the block area or the aliases).
 */
#ifdef LITMUS_GRANULE_16K
#define LITMUS_PAGE_SHIFT 14
#else
#define LITMUS_PAGE_SHIFT 12
#endif
#define LITMUS_PAGE_SIZE (1 << LITMUS_PAGE_SHIFT)
/* entries per table, and the VA shift of a level 2 entry (a block) */
#define PT_ENTRIES (1 << (LITMUS_PAGE_SHIFT - 3))
#define L2_SHIFT   (2 * LITMUS_PAGE_SHIFT - 3)

/* Where the image is linked and loaded (must match litmus.ld). */
#define IMAGE_BASE  0x40200000
#define IMAGE_LIMIT 0x40230000

#define UART_BASE    0x09000000
#define RAM_BASE     0x40000000
#define RAM_MAP_SIZE 0x40000000 /* identity map 0x40000000 - 0x7fffffff */

/* Spare physical data pages, in RAM and outside the image (a granule
 * apart). */
#define DATA_PAGE_A 0x40400000
#define DATA_PAGE_B (DATA_PAGE_A + 1 * LITMUS_PAGE_SIZE)
#define DATA_PAGE_C (DATA_PAGE_A + 2 * LITMUS_PAGE_SIZE)
#define DATA_PAGE_D (DATA_PAGE_A + 3 * LITMUS_PAGE_SIZE)

/* More data pages for data_mismatch / data_copy_ok. Z is all zeroes. */
#define DATA_PAGE_E (DATA_PAGE_A + 4 * LITMUS_PAGE_SIZE)
#define DATA_PAGE_F (DATA_PAGE_A + 5 * LITMUS_PAGE_SIZE)
#define DATA_PAGE_Z (DATA_PAGE_A + 6 * LITMUS_PAGE_SIZE)

/* First word of each data page: "AAAAAAAA", "BBBBBBBB", ... in ASCII. */
#define MARKER_A 0x4141414141414141
#define MARKER_B 0x4242424242424242
#define MARKER_C 0x4343434343434343
#define MARKER_D 0x4444444444444444
#define MARKER_E 0x4545454545454545
#define MARKER_F 0x4646464646464646

/*
 * The unit (docs/litmus-catalogue.md): 16 physically contiguous pages at a
 * 64 KiB-aligned PA, mapped by the aligned run of 16 level 3 entries
 * pt_l3_test[0x100..0x10f] at the 64 KiB-aligned UNIT_VA.
 */
#ifdef LITMUS_GRANULE_16K
#define UNIT_PA 0x40440000 /* past the 16 KiB data pages; not mapped */
#else
#define UNIT_PA 0x40410000
#endif
#define UNIT_VA	       (TEST_AREA_VA + 0x100000)
#define UNIT_PAGES     16
#define UNIT_MARKER(i) (0x5555555500000000 | (i)) /* i = page index 0..15 */

/* Test area: L1[4], its own L2 (pt_l2_test) and L3 (pt_l3_test). */
#define TEST_AREA_VA 0x100000000
/*
 * The page the scenarios use: pt_l3_test[0x30]. Not page 0 of the area on
 * purpose: QEMU's softmmu TLB is direct-mapped by (va >> 12) & (n - 1) with
 * n >= 64 entries, and stale_access relies on the stale entry for TEST_VA
 * surviving in CPU0's QEMU TLB. Index 0x30 differs from every page CPU0
 * touches meanwhile (image pages 0x40200-0x4022f, data pages, UART).
 */
#define TEST_VA (TEST_AREA_VA + 0x30000)
/*
 * A second test VA (stale_moved_* move page A there while TEST_VA's stale
 * translation is still live on CPU1). Its QEMU TLB index 0x38 is free too.
 */
#define TEST_VA2 (TEST_AREA_VA + 0x38000)
/*
 * table_alias_*: pt_l2_test[1] links pt_l3_test as well, so every test
 * area page is also mapped 2 MiB higher; TEST_VA's second VA.
 */
#define ALIAS_VA (TEST_VA + 0x200000)

/* bbm_block_to_table: 2 MiB physical region and its VA (pt_l2_block[0]). */
#define BLOCK_PA	0x40600000
#define BLOCK_VA	0x140000000
#define BLOCK_TEST_OFF	0x30000 /* the page read inside the block */
#define BLOCK_MARKER(i) (0x5a5a5a5a00000000 | (i)) /* i = 4 KiB page index */

/* ASID used in TTBR0_EL1[63:48] and in TLBI VAE1IS operands. */
#define LITMUS_ASID 1
/* An ASID no mapping uses (mbi_wrong_asid invalidates with it). */
#define LITMUS_OTHER_ASID 2

/* Swap-format entries, Linux arm64 layout: (offset << 8) | (type << 3), bit 0 =
 * 0. */
#define SWAP_TYPE	 1
#define SWAP_OFFSET_BASE 0x100 /* entry i of the unit gets offset 0x100 + i */

/* Per-CPU stack size (start.S). */
#define STACK_SIZE 0x4000

#endif
