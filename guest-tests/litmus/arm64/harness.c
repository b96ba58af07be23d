/* SPDX-License-Identifier: MIT */
/*
 * arm64 litmus harness: UART, PSCI, page tables, MMU, the CPU handshake,
 * exceptions and the final report. The scenario itself lives in its own
 * file (bbm_ok.c, ...), see harness.h.
 *
 * Boot: QEMU starts CPU0 at _start (start.S) at EL1 with the MMU off; CPU1
 * stays powered off until CPU0 starts it with PSCI CPU_ON.
 */
#include "harness.h"

/* Give up waiting for the other CPU after this long. */
#define TIMEOUT_SECONDS 60
/* Backstop if CNTFRQ_EL0 reads as 0: give up after this many polls. */
#define TIMEOUT_SPINS 2000000000ULL

#define PSCI_CPU_ON	0xc4000003ULL
#define PSCI_SYSTEM_OFF 0x84000008ULL

/* TCR_EL1 fields. */
#define TCR_T0SZ(x)    ((uint64_t)(x) << 0)
#define TCR_IRGN0_WBWA (1ULL << 8)
#define TCR_ORGN0_WBWA (1ULL << 10)
#define TCR_SH0_INNER  (3ULL << 12)
#define TCR_TG0_4K     (0ULL << 14)
#define TCR_TG0_16K    (2ULL << 14)
#define TCR_T1SZ(x)    ((uint64_t)(x) << 16)
#define TCR_EPD1       (1ULL << 23)
#define TCR_TG1_4K     (2ULL << 30)
#define TCR_TG1_16K    (1ULL << 30)
#define TCR_IPS_SHIFT  32

#define SCTLR_M	  (1ULL << 0)
#define SCTLR_A	  (1ULL << 1)
#define SCTLR_C	  (1ULL << 2)
#define SCTLR_I	  (1ULL << 12)
#define SCTLR_WXN (1ULL << 19)

#define MAIR_VALUE (0xffULL << (8 * MT_NORMAL) | 0x00ULL << (8 * MT_DEVICE))

/* Descriptor attributes of the identity map (global, EL1 RW). */
#define PTE_RAM_BLOCK                                                          \
	(PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_VALID)
#define PTE_DEVICE_BLOCK                                                       \
	(PTE_ATTRINDX(MT_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN | PTE_VALID)

#define PL011_DR      0x00
#define PL011_FR      0x18
#define PL011_FR_TXFF (1U << 5)

#define read_sysreg(r)                                                         \
	({                                                                     \
		uint64_t __v;                                                  \
		__asm__ volatile("mrs %0, " #r : "=r"(__v));                   \
		__v;                                                           \
	})

#define write_sysreg(v, r)                                                     \
	__asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)) : "memory")

/* ---- page tables: static, page-aligned, VA == PA ---- */

#define PT_ALIGNED __attribute__((aligned(4096)))
/* a table of the granule (16 KiB ones with LITMUS_GRANULE_16K) */
#define PT_GRANULE __attribute__((aligned(LITMUS_PAGE_SIZE)))

#ifndef LITMUS_GRANULE_16K
static uint64_t pt_l0[512] PT_ALIGNED;
#endif
static uint64_t pt_l1[PT_ENTRIES] PT_GRANULE;
static uint64_t pt_l2_ram[PT_ENTRIES] PT_GRANULE;
static uint64_t pt_l2_test[512] PT_ALIGNED;
uint64_t pt_l3_test[PT_ENTRIES] PT_GRANULE;
uint64_t pt_l2_block[512] PT_ALIGNED;
uint64_t pt_l3_block[512] PT_ALIGNED;

/* ---- state shared by the two CPUs ---- */

/* The sequence counter: only ever accessed with acquire/release. */
static uint64_t litmus_seq;

/* First data-check failure (steps never overlap, so no locking needed). */
static int check_failed;
static const char *fail_what;
static uint64_t fail_got, fail_want;

/* Set once a CPU has started to report a fatal error. */
static int aborting;

/* start.S */
extern char secondary_entry[];
void primary_main(void);
void secondary_main(void);
void exception_handler(uint64_t vector, uint64_t esr, uint64_t far,
		       uint64_t elr);

/*
 * The compiler may emit calls to these even with -ffreestanding (struct
 * copies, zeroing loops).
 */
void *memset(void *s, int c, unsigned long n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

/* ---- UART (PL011, usable with the MMU off and on) ---- */

static void uart_putc(char c)
{
	volatile uint32_t *uart = (volatile uint32_t *)UART_BASE;

	while (uart[PL011_FR / 4] & PL011_FR_TXFF)
		;
	uart[PL011_DR / 4] = (uint32_t)c;
}

static void puts_raw(const char *s)
{
	while (*s) {
		if (*s == '\n')
			uart_putc('\r');
		uart_putc(*s++);
	}
}

static void put_hex(uint64_t v)
{
	puts_raw("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

static void put_dec(uint64_t v)
{
	char buf[21];
	int i = sizeof(buf) - 1;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_raw(&buf[i]);
}

/* "litmus arm64/<name>: " */
static void put_prefix(void)
{
	puts_raw("litmus arm64/");
#ifdef LITMUS_GRANULE_16K
	puts_raw("g16k_");
#endif
	puts_raw(litmus_scenario.name);
	puts_raw(": ");
}

/* ---- PSCI through HVC (QEMU's built-in PSCI on -M virt) ---- */

static int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	/* SMCCC: x4-x17 may be clobbered by the callee. */
	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			 :
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return (int64_t)x0;
}

static void __attribute__((noreturn)) system_off(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- phase markers (harness.h) ---- */

/* Smaller than 128 bytes (nm -S), so it never straddles a page. */
void __attribute__((noinline, noclone, aligned(128)))
litmus_phase(const char *label)
{
	ptw_phase(label);
}

/* Smaller than 128 bytes too. */
void __attribute__((noinline, noclone, aligned(128))) litmus_op_begin(void)
{
	ptw_op_begin();
}

/* ---- reporting ---- */

static unsigned int cpu_id(void)
{
	return (unsigned int)(read_sysreg(mpidr_el1) & 0xff);
}

/*
 * Fatal error (timeout, PSCI failure): tell the plugin, print the FAIL line
 * and power off. Only the first CPU to get here reports.
 */
static void __attribute__((noreturn))
litmus_abort(const char *why, uint64_t val)
{
	if (__atomic_exchange_n(&aborting, 1, __ATOMIC_ACQ_REL))
		for (;;)
			__asm__ volatile("wfe");
	ptw_done(1);
	put_prefix();
	puts_raw("FAIL ");
	puts_raw(why);
	puts_raw(" (cpu");
	put_dec(cpu_id());
	puts_raw(", ");
	put_hex(val);
	puts_raw(")\n");
	system_off();
}

void litmus_check(const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	if (!check_failed) {
		fail_what = what;
		fail_got = got;
		fail_want = want;
	}
	check_failed = 1;
}

static void __attribute__((noreturn)) finish(void)
{
	litmus_phase("done");
	ptw_done(check_failed);
	put_prefix();
	if (check_failed) {
		puts_raw("FAIL ");
		puts_raw(fail_what);
		puts_raw(": read ");
		put_hex(fail_got);
		puts_raw(", want ");
		put_hex(fail_want);
		puts_raw("\n");
	} else {
		puts_raw("ok\n");
	}
	system_off();
}

static const char *const vector_names[16] = {
	"sync EL1t",   "irq EL1t",   "fiq EL1t",   "serror EL1t",
	"sync EL1h",   "irq EL1h",   "fiq EL1h",   "serror EL1h",
	"sync EL0/64", "irq EL0/64", "fiq EL0/64", "serror EL0/64",
	"sync EL0/32", "irq EL0/32", "fiq EL0/32", "serror EL0/32",
};

/* Every exception is unexpected: report it and fail (called by start.S). */
void exception_handler(uint64_t vector, uint64_t esr, uint64_t far,
		       uint64_t elr)
{
	if (__atomic_exchange_n(&aborting, 1, __ATOMIC_ACQ_REL))
		for (;;)
			__asm__ volatile("wfe");
	ptw_done(1);
	put_prefix();
	puts_raw("FAIL unexpected exception ");
	puts_raw(vector_names[vector & 15]);
	puts_raw(" on cpu");
	put_dec(cpu_id());
	puts_raw(": ESR=");
	put_hex(esr);
	puts_raw(" FAR=");
	put_hex(far);
	puts_raw(" ELR=");
	put_hex(elr);
	puts_raw("\n");
	system_off();
}

/* ---- the handshake ---- */

static uint64_t counter(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

/*
 * Wait until the sequence counter reaches n (acquire), with a timeout.
 * "Reaches", not "equals": the counter only grows, and when a scenario's
 * step 0 is CPU1's, CPU1 posts 1 ("up") and then 2 at once, so CPU0 waiting
 * for CPU1 to come up may never see the value 1 itself. For steps it is the
 * same test: nobody can post past i + 1 before step i has run.
 */
static void wait_seq(uint64_t n, const char *what)
{
	uint64_t limit = read_sysreg(cntfrq_el0) * TIMEOUT_SECONDS;
	uint64_t start = counter();
	uint64_t spins = 0;

	while (__atomic_load_n(&litmus_seq, __ATOMIC_ACQUIRE) < n) {
		/* A device register read goes through QEMU's I/O path (YIELD
		 * is a no-op under MTTCG): the waiting CPU executes few
		 * instructions while the host deschedules the other vCPU, so
		 * the instruction distance between one CPU's steps (what
		 * ptwatch's PTE_ABA window measures) stays small. */
		(void)((volatile uint32_t *)UART_BASE)[PL011_FR / 4];
		if ((++spins & 1023) != 0)
			continue;
		if (limit ? counter() - start > limit : spins > TIMEOUT_SPINS)
			litmus_abort(what, __atomic_load_n(&litmus_seq,
							   __ATOMIC_ACQUIRE));
	}
}

static void post_seq(uint64_t n)
{
	__atomic_store_n(&litmus_seq, n, __ATOMIC_RELEASE);
}

/* Run this CPU's steps of the scenario, in list order. */
static void run_steps(unsigned int cpu)
{
	const struct litmus_scenario *s = &litmus_scenario;

	for (unsigned int i = 0; i < s->nr_steps; i++) {
		if (s->steps[i].cpu != cpu)
			continue;
		wait_seq(i + 1, "timeout waiting for the other CPU (seq)");
		s->steps[i].fn();
		post_seq(i + 2);
	}
}

/* ---- memory map and MMU ---- */

/*
 * Data-page, unit and block-region markers and the zero page, written with
 * the MMU off.
 */
static void init_markers(void)
{
	*(volatile uint64_t *)DATA_PAGE_A = MARKER_A;
	*(volatile uint64_t *)DATA_PAGE_B = MARKER_B;
	*(volatile uint64_t *)DATA_PAGE_C = MARKER_C;
	*(volatile uint64_t *)DATA_PAGE_D = MARKER_D;
	*(volatile uint64_t *)DATA_PAGE_E = MARKER_E;
	*(volatile uint64_t *)DATA_PAGE_F = MARKER_F;
	for (uint64_t i = 0; i < LITMUS_PAGE_SIZE / 8; i++)
		((volatile uint64_t *)DATA_PAGE_Z)[i] = 0;
	for (uint64_t i = 0; i < UNIT_PAGES; i++)
		*(volatile uint64_t *)(UNIT_PA + (i << 12)) = UNIT_MARKER(i);
	for (uint64_t i = 0; i < 512; i++)
		*(volatile uint64_t *)(BLOCK_PA + (i << 12)) = BLOCK_MARKER(i);
}

/*
 * The fixed part of the map, built by CPU0 with the MMU off (the tables are
 * zero from start.S). Leaves first, then the tables that point to them.
 * The test area and block area entries stay invalid for the scenario's
 * setup. No cache maintenance: QEMU does not model data caches (real
 * hardware would need the tables invalidated from the cache before the
 * MMU is turned on).
 */
#ifdef LITMUS_GRANULE_16K
/* The 16K granule's map (layout.h): three levels from level 1 (47-bit
 * VAs), pt_l1[0] -> pt_l2_ram, whose 32 MiB blocks map the UART's first
 * GiB as device and RAM as normal memory, and whose entry for the test
 * area links pt_l3_test. */
static void build_page_tables(void)
{
	for (uint64_t i = 0; i < (RAM_BASE >> L2_SHIFT); i++)
		write_desc(&pt_l2_ram[i], (i << L2_SHIFT) | PTE_DEVICE_BLOCK);
	for (uint64_t i = 0; i < RAM_MAP_SIZE >> L2_SHIFT; i++)
		write_desc(&pt_l2_ram[(RAM_BASE >> L2_SHIFT) + i],
			   (RAM_BASE + (i << L2_SHIFT)) | PTE_RAM_BLOCK);
	write_desc(&pt_l2_ram[(TEST_AREA_VA >> L2_SHIFT) & (PT_ENTRIES - 1)],
		   table_desc(pt_l3_test));
	write_desc(&pt_l1[0], table_desc(pt_l2_ram));
	dsb_ish();
}
#else
static void build_page_tables(void)
{
	for (uint64_t i = 0; i < RAM_MAP_SIZE >> 21; i++)
		write_desc(&pt_l2_ram[((RAM_BASE >> 21) + i) & 511],
			   (RAM_BASE + (i << 21)) | PTE_RAM_BLOCK);
	write_desc(&pt_l2_test[(TEST_AREA_VA >> 21) & 511],
		   table_desc(pt_l3_test));

	write_desc(&pt_l1[0], 0 | PTE_DEVICE_BLOCK); /* 1 GiB: UART */
	write_desc(&pt_l1[RAM_BASE >> 30], table_desc(pt_l2_ram));
	write_desc(&pt_l1[TEST_AREA_VA >> 30], table_desc(pt_l2_test));
	write_desc(&pt_l1[BLOCK_VA >> 30], table_desc(pt_l2_block));

	write_desc(&pt_l0[0], table_desc(pt_l1));
	dsb_ish();
}
#endif

static uint64_t tcr_value(void)
{
	/* PARange from ID_AA64MMFR0_EL1, capped at 48 bits (no TCR.DS). */
	uint64_t ips = read_sysreg(id_aa64mmfr0_el1) & 0xf;

	if (ips > 5)
		ips = 5;
#ifdef LITMUS_GRANULE_16K
	return TCR_T0SZ(17) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
	       TCR_TG0_16K | TCR_T1SZ(17) | TCR_EPD1 | TCR_TG1_16K |
	       ips << TCR_IPS_SHIFT;
#else
	return TCR_T0SZ(16) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
	       TCR_TG0_4K | TCR_T1SZ(16) | TCR_EPD1 | TCR_TG1_4K |
	       ips << TCR_IPS_SHIFT;
#endif
}

/* Turn the MMU on with the shared tables (both CPUs). */
static void mmu_enable(void)
{
	uint64_t sctlr;

	write_sysreg(MAIR_VALUE, mair_el1);
	write_sysreg(tcr_value(), tcr_el1);
#ifdef LITMUS_GRANULE_16K
	write_sysreg((uint64_t)pt_l1 | (uint64_t)LITMUS_ASID << 48, ttbr0_el1);
#else
	write_sysreg((uint64_t)pt_l0 | (uint64_t)LITMUS_ASID << 48, ttbr0_el1);
#endif
	isb();
	/* TLB contents are unknown out of reset: drop them (local, as Linux).
	 */
	__asm__ volatile("tlbi vmalle1\n\tdsb nsh\n\tisb" : : : "memory");

	sctlr = read_sysreg(sctlr_el1);
	sctlr |= SCTLR_M | SCTLR_C | SCTLR_I;
	sctlr &= ~(SCTLR_A | SCTLR_WXN);
	write_sysreg(sctlr, sctlr_el1);
	isb();
}

/* ---- the unit (harness.h) ---- */

void unit_read_check(const char *what, unsigned int first, unsigned int last)
{
	for (unsigned int i = first; i <= last; i++)
		litmus_read_check(what, unit_va(i), UNIT_MARKER(i));
}

void unit_map(uint64_t extra)
{
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_desc(unit_pte(i), unit_page_desc(i) | extra);
	dsb_ish();
	isb();
}

void unit_map_cont_except(unsigned int odd, uint64_t odd_desc)
{
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_desc(unit_pte(i),
			   i == odd ? odd_desc : unit_page_desc(i) | PTE_CONT);
	dsb_ish();
	isb();
}

/* Unit entries first..last -> swap_desc(i) (swap) or 0, then invalidate. */
static void unit_take_down(unsigned int first, unsigned int last, int swap)
{
	for (unsigned int i = first; i <= last; i++)
		write_desc(unit_pte(i), swap ? swap_desc(i) : 0);
	dsb_ish();
	for (unsigned int i = first; i <= last; i++)
		tlbi_vae1is(unit_va(i));
	dsb_ish();
}

void unit_clear(unsigned int first, unsigned int last)
{
	unit_take_down(first, last, 0);
}

void unit_swap_out(unsigned int first, unsigned int last)
{
	unit_take_down(first, last, 1);
}

/* ---- shared setups and steps (harness.h) ---- */

void setup_test_va_a(void)
{
	make_va(TEST_VA, test_page_desc(DATA_PAGE_A));
}

void setup_test_va_a_writable_clean(void)
{
	make_va(TEST_VA, test_page_desc(DATA_PAGE_A) | PTE_DBM | PTE_AP_RDONLY);
}

void setup_test_va_e(void)
{
	make_va(TEST_VA, test_page_desc(DATA_PAGE_E));
}

void setup_unit(void)
{
	unit_map(0);
}

void cpu0_before_a(void)
{
	litmus_phase("before");
	litmus_read_check("cpu0 before", TEST_VA, MARKER_A);
}

void cpu1_hafdbs_write_a(void)
{
	hafdbs_on();
	litmus_phase("write");
	write_va(TEST_VA, MARKER_A);
}

void cpu1_before_a(void)
{
	litmus_read_check("cpu1 before", TEST_VA, MARKER_A);
}

void cpu0_break(void)
{
	litmus_phase("break");
	break_va(TEST_VA);
}

void cpu0_make_b(void)
{
	litmus_phase("make");
	make_va(TEST_VA, test_page_desc(DATA_PAGE_B));
}

void cpu0_after_b(void)
{
	litmus_phase("after");
	litmus_read_check("cpu0 after", TEST_VA, MARKER_B);
}

void cpu1_after_b(void)
{
	litmus_read_check("cpu1 after", TEST_VA, MARKER_B);
}

void cpu0_remake_a_ro(void)
{
	litmus_phase("make");
	/* the same page, read-only (AP[2]) */
	make_va(TEST_VA, test_page_desc(DATA_PAGE_A) | (1ULL << 7));
	cpu0_after_a();
}

void cpu0_after_a(void)
{
	litmus_phase("after");
	litmus_read_check("cpu0 after", TEST_VA, MARKER_A);
}

void cpu1_after_a(void)
{
	litmus_read_check("cpu1 after", TEST_VA, MARKER_A);
}

void cpu0_break_no_tlbi(void)
{
	litmus_phase("break");
	unmap_va(TEST_VA);
}

void cpu0_make_b_then_cleanup(const char *make_phase)
{
	litmus_phase(make_phase);
	write_desc_dsb(test_pte(TEST_VA), test_page_desc(DATA_PAGE_B));
	cpu0_cleanup();
	cpu0_after_b();
}

void cpu0_unmap(void)
{
	litmus_phase("unmap");
	unmap_va(TEST_VA);
}

void cpu1_stale_read_a(void)
{
	litmus_phase("stale-read");
	litmus_read_check("cpu1 stale read", TEST_VA, MARKER_A);
}

void cpu0_cleanup(void)
{
	litmus_phase("cleanup");
	tlbi_sync(TEST_VA);
}

void cpu0_move_to_va2(void)
{
	litmus_phase("move");
	unmap_va(TEST_VA);
	make_va(TEST_VA2, test_page_desc(DATA_PAGE_A));
	write_va(TEST_VA2 + 8, MOVED_VALUE);
	litmus_read_check("cpu0 read v2 after the move", TEST_VA2, MARKER_A);
}

void cpu0_reuse_a(void)
{
	litmus_phase("reuse");
	write_va(DATA_PAGE_A + 8, REUSE_VALUE);
}

void cpu0_cleanup_check_reused(void)
{
	cpu0_cleanup();
	litmus_read_check("cpu0 read A", DATA_PAGE_A, MARKER_A);
	litmus_read_check("cpu0 read A+8", DATA_PAGE_A + 8, REUSE_VALUE);
}

void cpu1_stale_read_reused(void)
{
	litmus_phase("stale-read");
	litmus_read_check("cpu1 stale read", TEST_VA + 8, REUSE_VALUE);
}

void cpu1_load_desc_1(void)
{
	litmus_phase("load-1");
	litmus_check("cpu1 first descriptor load", load_desc(test_pte(TEST_VA)),
		     test_page_desc(DATA_PAGE_A));
}

void cpu1_load_desc_2(void)
{
	litmus_phase("load-2");
	litmus_check("cpu1 second descriptor load",
		     load_desc(test_pte(TEST_VA)), test_page_desc(DATA_PAGE_A));
}

void cpu1_op_load_desc_1(void)
{
	litmus_phase("load-1");
	litmus_op_begin();
	litmus_check("cpu1 first descriptor load", load_desc(test_pte(TEST_VA)),
		     test_page_desc(DATA_PAGE_A));
}

void cpu0_bbm_to_b(void)
{
	litmus_phase("bbm-to-b");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read after A->B", TEST_VA, MARKER_B);
}

void cpu0_bbm_back_to_a(void)
{
	litmus_phase("bbm-back-to-a");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_A));
	litmus_read_check("cpu0 read after B->A", TEST_VA, MARKER_A);
}

void cpu0_track_fill(void)
{
	litmus_phase("track-fill");
	ptw_track((const volatile void *)TEST_VA, 4096);
	litmus_read_check("cpu0 read before fill", TEST_VA, MARKER_E);
	for (uint64_t i = 0; i < 512; i++)
		write_va(TEST_VA + i * 8, DATA_PATTERN(i));
}

void cpu0_untrack(void)
{
	litmus_phase("cleanup");
	ptw_untrack((const volatile void *)TEST_VA, 4096);
}

void cpu0_unit_before(void)
{
	litmus_phase("before");
	unit_read_check("cpu0 unit before", 0, UNIT_PAGES - 1);
}

void cpu1_unit_before(void)
{
	unit_read_check("cpu1 unit before", 0, UNIT_PAGES - 1);
}

void cpu0_done(void)
{
	litmus_phase("cpu0-done");
}

void cpu1_done(void)
{
	litmus_phase("cpu1-done");
}

void link_alias(void)
{
	litmus_phase("link-alias");
	make_desc(&pt_l2_test[(ALIAS_VA >> 21) & 511], table_desc(pt_l3_test));
}

void unlink_alias(void)
{
	litmus_phase("unlink-alias");
	write_desc_dsb(&pt_l2_test[(ALIAS_VA >> 21) & 511], 0);
	tlbi_sync(ALIAS_VA);
}

void cpu1_t1_load_then_t2(void)
{
	set_task(TASK_T1);
	cpu1_op_load_desc_1();
	litmus_phase("switch-to-t2");
	set_task(TASK_T2);
}

void cpu0_remap_b_and_back(void)
{
	litmus_phase("bbm-to-b-and-back");
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_B));
	litmus_read_check("cpu0 read after A->B", TEST_VA, MARKER_B);
	bbm_va(TEST_VA, test_page_desc(DATA_PAGE_A));
	litmus_read_check("cpu0 read after B->A", TEST_VA, MARKER_A);
}

void link_l3_block(void)
{
	litmus_phase("link-table");
	write_desc(&pt_l3_block[L3_BLOCK_IDX], l3_block_desc());
	make_desc(block_pmd(), table_desc(pt_l3_block));
	litmus_read_check("cpu0 read through pt_l3_block",
			  BLOCK_VA + BLOCK_TEST_OFF,
			  BLOCK_MARKER(BLOCK_TEST_OFF >> 12));
}

void cpu1_read_l3_block(void)
{
	litmus_read_check("cpu1 read through pt_l3_block",
			  BLOCK_VA + BLOCK_TEST_OFF,
			  BLOCK_MARKER(BLOCK_TEST_OFF >> 12));
}

void cpu0_unmap_va2(void)
{
	litmus_phase("cleanup");
	break_va(TEST_VA2);
	isb();
}

/* ---- bring-up ---- */

static void start_cpu1(void)
{
	int64_t ret;

	litmus_phase("cpu1-on");
	ret = psci_call(PSCI_CPU_ON, 1 /* MPIDR */,
			(uint64_t)secondary_entry /* VA == PA */, 0);
	if (ret != 0)
		litmus_abort("PSCI CPU_ON failed", (uint64_t)ret);
	wait_seq(1, "timeout waiting for CPU1 to come up");
}

/* CPU0, from start.S: stack set, .bss zeroed, MMU off. */
void primary_main(void)
{
	const struct litmus_scenario *s = &litmus_scenario;

	for (unsigned int i = 0; i < s->nr_expect; i++)
		ptw_expect(s->expect[i].kind, s->expect[i].count);
	litmus_phase("boot");

	init_markers();
	build_page_tables();
	mmu_enable();
	litmus_phase("mmu-on");

	if (s->setup) {
		litmus_phase("setup");
		s->setup();
	}

	start_cpu1();
	run_steps(0);
	wait_seq(s->nr_steps + 1, "timeout waiting for CPU1 to finish");
	finish();
}

/* CPU1, from start.S after PSCI CPU_ON: stack set, MMU off. */
void secondary_main(void)
{
	mmu_enable();
	post_seq(1); /* CPU1 is up */
	run_steps(1);
	/* start.S parks CPU1; CPU0 powers the system off. */
}
