/* SPDX-License-Identifier: MIT */
/*
 * x86-64 litmus harness: serial console, exceptions, local APIC, CPU1
 * bring-up, the step handshake and the final report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/*
 * Bound for every wait loop (handshake steps, CPU1 start-up, ICR idle).
 * One iteration is an acquire load plus PAUSE, which under TCG leaves the
 * translated code: about 0.3 us without plugins, so the limit is reached
 * after roughly 5 s (more under a plugin). Normal waits take a few thousand
 * iterations at most, so this only fires when something is really stuck.
 */
#define SPIN_LIMIT 400000000UL

/* Local APIC registers (xAPIC, memory mapped at APIC_BASE). */
#define APIC_ID		0x020
#define APIC_SVR	0x0f0
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define APIC_SVR_ENABLE 0x100
#define ICR_INIT	0x00000500
#define ICR_STARTUP	0x00000600
#define ICR_PENDING	0x00001000
#define ICR_ASSERT	0x00004000
#define ICR_LEVEL	0x00008000

/* boot.S */
extern const char ap_trampoline[], ap_trampoline_end[];
extern const uint64_t isr_stub_table[32];
extern void halt_forever(void) __attribute__((noreturn));
extern uint64_t pml4[512];

/*
 * Shared state. The flags are only accessed through __atomic builtins;
 * fail_msg is written once, by the CPU that set failed first, and read by
 * CPU0 only after CPU1 has published cpu1_finished.
 */
static unsigned int step_seq; /* number of the next step to run */
static unsigned int cpu1_online;
static unsigned int cpu1_finished;
static unsigned int print_lock;
static unsigned int failed; /* first litmus_fail() wins the message */
static char fail_msg[160];

/* ------------------------------------------------------------------ */
/* Small freestanding helpers.                                         */
/* ------------------------------------------------------------------ */

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg);
}

static inline void apic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg) = val;
}

unsigned int this_cpu(void)
{
	return apic_read(APIC_ID) >> 24;
}

/* ------------------------------------------------------------------ */
/* Serial console (COM1, 16550) and a minimal printf.                  */
/* ------------------------------------------------------------------ */

static void serial_init(void)
{
	outb(COM1_PORT + 1, 0x00); /* no interrupts */
	outb(COM1_PORT + 3, 0x80); /* DLAB */
	outb(COM1_PORT + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1_PORT + 1, 0x00);
	outb(COM1_PORT + 3, 0x03); /* 8N1 */
	outb(COM1_PORT + 2, 0x07); /* enable and clear FIFOs */
	outb(COM1_PORT + 4, 0x03); /* DTR, RTS */
}

static void serial_putc(char c)
{
	unsigned long i;

	for (i = 0; i < 100000 && !(inb(COM1_PORT + 5) & 0x20); i++)
		cpu_relax();
	outb(COM1_PORT, (uint8_t)c);
}

/* Output sink for vformat(): the serial port or a bounded buffer. */
struct sink {
	char *buf; /* NULL: serial */
	size_t len, cap;
};

static void sink_putc(struct sink *s, char c)
{
	if (!s->buf)
		serial_putc(c);
	else if (s->len + 1 < s->cap)
		s->buf[s->len++] = c;
}

static void format_num(struct sink *s, uint64_t v, unsigned int base, int width,
		       char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		sink_putc(s, pad);
	while (n)
		sink_putc(s, tmp[--n]);
}

/* %s %c %d %u %x %p, with optional '0', width and 'l' modifiers. */
static void vformat(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		char pad = ' ';
		int width = 0, is_long = 0;

		if (*fmt != '%') {
			sink_putc(s, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			is_long = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);

			while (*str)
				sink_putc(s, *str++);
			break;
		}
		case 'c':
			sink_putc(s, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v =
				is_long ? va_arg(ap, long) : va_arg(ap, int);

			if (v < 0) {
				sink_putc(s, '-');
				v = -v;
			}
			format_num(s, (uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
			format_num(s,
				   is_long ? va_arg(ap, unsigned long)
					   : va_arg(ap, unsigned int),
				   10, width, pad);
			break;
		case 'x':
			format_num(s,
				   is_long ? va_arg(ap, unsigned long)
					   : va_arg(ap, unsigned int),
				   16, width, pad);
			break;
		case 'p':
			sink_putc(s, '0');
			sink_putc(s, 'x');
			format_num(s, (uintptr_t)va_arg(ap, void *), 16, 0,
				   ' ');
			break;
		case '%':
			sink_putc(s, '%');
			break;
		default: /* unknown or truncated: print it literally */
			sink_putc(s, '%');
			if (!*fmt)
				return;
			sink_putc(s, *fmt);
			break;
		}
	}
}

/*
 * The print lock holds the owner's APIC id + 1. It is re-entrant (an
 * exception while printing still gets its report out) and bounded, so a CPU
 * that dies while printing cannot hang the other one.
 */
static int print_lock_acquire(void)
{
	unsigned int me = this_cpu() + 1;
	unsigned long i;

	if (__atomic_load_n(&print_lock, __ATOMIC_ACQUIRE) == me)
		return 0;
	for (i = 0; i < SPIN_LIMIT; i++) {
		unsigned int free = 0;

		if (__atomic_compare_exchange_n(&print_lock, &free, me, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
		cpu_relax();
	}
	return 0;
}

void kprintf(const char *fmt, ...)
{
	struct sink s = {0};
	va_list ap;
	int locked = print_lock_acquire();

	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
	if (locked)
		__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* Phase markers (harness.h).                                          */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Result, power off, fatal errors.                                    */
/* ------------------------------------------------------------------ */

/*
 * isa-debug-exit makes QEMU exit with (value << 1) | 1: 0 -> 1 (ok),
 * 1 -> 3 (failure). The exit is only requested there: QEMU 10 stops the
 * vCPUs a little later, so keep quiet for a while. Without the device, fall
 * back to a triple fault, which ends QEMU too under -no-reboot (exit 0).
 */
static void __attribute__((noreturn)) power_off(int fail)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = {0, 0};
	unsigned long i;

	outb(DEBUG_EXIT_PORT, fail ? 1 : 0);
	for (i = 0; i < SPIN_LIMIT; i++)
		cpu_relax();
	kprintf("litmus: isa-debug-exit did not stop QEMU, triple-faulting\n");
	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	halt_forever();
}

/* Record a failed check; the run goes on, the first message is reported. */
void litmus_fail(const char *fmt, ...)
{
	char line[sizeof(fail_msg)];
	struct sink l = {line, 0, sizeof(line)};
	va_list ap;

	va_start(ap, fmt);
	vformat(&l, fmt, ap);
	va_end(ap);
	line[l.len] = 0;
	kprintf("  cpu%u: check failed: %s\n", this_cpu(), line);

	if (__atomic_exchange_n(&failed, 1, __ATOMIC_ACQ_REL) == 0)
		memcpy(fail_msg, line, l.len + 1);
}

/* Unrecoverable error on either CPU: report FAIL and power off now. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	char line[160];
	struct sink l = {line, 0, sizeof(line)};
	va_list ap;

	va_start(ap, fmt);
	vformat(&l, fmt, ap);
	va_end(ap);
	line[l.len] = 0;

	ptw_done(1);
	kprintf("litmus x86_64/%s: FAIL %s\n", litmus_name, line);
	power_off(1);
}

/* ------------------------------------------------------------------ */
/* Exceptions.                                                         */
/* ------------------------------------------------------------------ */

/* Matches the push order in boot.S isr_common. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t zero;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));

static void idt_init(void)
{
	for (int v = 0; v < 32; v++) {
		uint64_t h = isr_stub_table[v];

		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)h,
			.selector = GDT_CODE64,
			.type_attr = 0x8e, /* present, DPL 0, interrupt gate */
			.offset_mid = (uint16_t)(h >> 16),
			.offset_hi = (uint32_t)(h >> 32),
		};
	}
}

static void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = {sizeof(idt) - 1, (uintptr_t)idt};

	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void exception_handler(struct exc_frame *f);

void exception_handler(struct exc_frame *f)
{
	kprintf("  cpu%u: exception %lu error %lx\n", this_cpu(), f->vector,
		f->error);
	kprintf("  rip %016lx cr2 %016lx rsp %016lx rflags %08lx\n", f->rip,
		read_cr2(), f->rsp, f->rflags);
	kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax,
		f->rbx, f->rcx, f->rdx);
	fatal("unexpected exception %lu on cpu%u, error %lx, cr2 %lx, rip %lx",
	      f->vector, this_cpu(), f->error, read_cr2(), f->rip);
}

/* ------------------------------------------------------------------ */
/* Steps.                                                              */
/* ------------------------------------------------------------------ */

void step_begin(unsigned int n)
{
	unsigned long i;

	for (i = 0; i < SPIN_LIMIT; i++) {
		if (__atomic_load_n(&step_seq, __ATOMIC_ACQUIRE) == n)
			return;
		cpu_relax();
	}
	fatal("cpu%u timed out waiting for step %u (sequence at %u)",
	      this_cpu(), n, __atomic_load_n(&step_seq, __ATOMIC_ACQUIRE));
}

void step_end(unsigned int n)
{
	__atomic_store_n(&step_seq, n + 1, __ATOMIC_RELEASE);
}

/* Format into buf (always terminated, truncated to n - 1 characters). */
static void format_buf(char *buf, size_t n, const char *fmt, ...)
{
	struct sink s = {buf, 0, n};
	va_list ap;

	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
	buf[s.len] = 0;
}

/*
 * Name a value read from a test page for the trace: a data page letter
 * ("A" ... "F"), "U<i>" (unit page i), "S<i>" (size region page i),
 * "P<i>" (data pattern word i), "0", else the value in hex.
 */
struct value_name {
	char s[24];
};

static struct value_name marker_name(uint64_t v)
{
	static const uint64_t marker[] = {MARKER_A, MARKER_B, MARKER_C,
					  MARKER_D, MARKER_E, MARKER_F};
	struct value_name r;

	for (unsigned int i = 0; i < sizeof(marker) / sizeof(marker[0]); i++) {
		if (v == marker[i]) {
			format_buf(r.s, sizeof(r.s), "%c", 'A' + i);
			return r;
		}
	}
	if ((v & ~0xffffULL) == UNIT_MARKER(0))
		format_buf(r.s, sizeof(r.s), "U%lu", v & 0xffff);
	else if ((v & ~0xffffULL) == SIZE_MARKER(0))
		format_buf(r.s, sizeof(r.s), "S%lu", v & 0xffff);
	else if ((v & ~0xffffULL) == DATA_PATTERN(0))
		format_buf(r.s, sizeof(r.s), "P%lu", v & 0xffff);
	else if (v == MOVED_VALUE)
		format_buf(r.s, sizeof(r.s), "MOVED");
	else if (v == REUSE_VALUE)
		format_buf(r.s, sizeof(r.s), "REUSED");
	else if (v == 0)
		format_buf(r.s, sizeof(r.s), "0");
	else
		format_buf(r.s, sizeof(r.s), "%016lx", v);
	return r;
}

void check_read(uint64_t va, uint64_t want)
{
	uint64_t got = read_va(va);

	kprintf("  cpu%u: read %lx -> %s\n", this_cpu(), va,
		marker_name(got).s);
	if (got != want)
		litmus_fail("cpu%u read %lx: got %s (%016lx), want %s",
			    this_cpu(), va, marker_name(got).s, got,
			    marker_name(want).s);
}

void check_pte(const volatile uint64_t *pte, uint64_t want)
{
	uint64_t got = load_pte(pte);

	kprintf("  cpu%u: load pte %p -> %016lx\n", this_cpu(),
		(const void *)pte, got);
	if (got != want)
		litmus_fail("cpu%u load pte %p: got %016lx, want %016lx",
			    this_cpu(), (const void *)pte, got, want);
}

void unit_map(void)
{
	for (unsigned int i = 0; i < UNIT_PAGES; i++)
		write_pte(unit_pte(i), unit_desc(i));
}

void check_unit(unsigned int first, unsigned int last)
{
	for (unsigned int i = first; i <= last; i++)
		check_read(unit_va(i), UNIT_MARKER(i));
}

void check_size_split(void)
{
	check_read(SIZE_CHANGE_VA, MARKER_D);
	check_read(SIZE_REGION_VA + 4 * 0x1000, SIZE_MARKER(4));
}

/* ------------------------------------------------------------------ */
/* Shared steps (harness.h).                                           */
/* ------------------------------------------------------------------ */

/* step_begin(n), then the phase marker if there is one. */
static void begin(unsigned int n, const char *phase)
{
	step_begin(n);
	if (phase)
		litmus_phase(phase);
}

void step_read(unsigned int n, const char *phase, uint64_t va, uint64_t want)
{
	begin(n, phase);
	check_read(va, want);
	step_end(n);
}

void step_write(unsigned int n, const char *phase, uint64_t va, uint64_t val)
{
	begin(n, phase);
	write_va(va, val);
	step_end(n);
}

void step_load_faults(unsigned int n, const char *phase, uint64_t va)
{
	begin(n, phase);
	uint64_t got = probe_load(va);

	kprintf("  cpu%u: load %lx -> %s\n", this_cpu(), va,
		got == PROBE_FAULTED ? "page fault" : marker_name(got).s);
	if (got != PROBE_FAULTED)
		litmus_fail("cpu%u load %lx: got %s, want a page fault",
			    this_cpu(), va, marker_name(got).s);
	step_end(n);
}

void step_fill(unsigned int n, uint64_t va, uint64_t pa, uint64_t marker)
{
	begin(n, "fill");
	write_pte(test_pte(va), pte_page(pa));
	check_read(va, marker);
	step_end(n);
}

void step_link_alias(unsigned int n, uint64_t want)
{
	begin(n, "link-alias");
	write_pte(alias_pde(), PT_TEST_PA | PTE_TABLE);
	check_read(ALIAS_VA, want);
	step_end(n);
}

void step_write_pte(unsigned int n, const char *phase, uint64_t va,
		    uint64_t val)
{
	begin(n, phase);
	write_pte(test_pte(va), val);
	step_end(n);
}

void step_write_pte_invlpg(unsigned int n, const char *phase, uint64_t va,
			   uint64_t val)
{
	begin(n, phase);
	write_pte(test_pte(va), val);
	invlpg(va);
	step_end(n);
}

void step_invlpg(unsigned int n, const char *phase, uint64_t va)
{
	begin(n, phase);
	invlpg(va);
	step_end(n);
}

void step_invlpg_read(unsigned int n, const char *phase, uint64_t va,
		      uint64_t want)
{
	begin(n, phase);
	invlpg(va);
	check_read(va, want);
	step_end(n);
}

void step_check_pte(unsigned int n, const char *phase, uint64_t va,
		    uint64_t want)
{
	begin(n, phase);
	check_pte(test_pte(va), want);
	step_end(n);
}

void step_check_pte_invlpg(unsigned int n, const char *phase, uint64_t va,
			   uint64_t want)
{
	begin(n, phase);
	check_pte(test_pte(va), want);
	invlpg(va);
	step_end(n);
}

void step_op_check_pte(unsigned int n, const char *phase, uint64_t va,
		       uint64_t want)
{
	begin(n, phase);
	litmus_op_begin();
	check_pte(test_pte(va), want);
	step_end(n);
}

void step_map(unsigned int n, const char *phase, uint64_t va, uint64_t val,
	      uint64_t want)
{
	begin(n, phase);
	write_pte(test_pte(va), val);
	check_read(va, want);
	step_end(n);
}

void steps_pte_aba_cpu0(void)
{
	step_fill(0, TEST_VA, DATA_PAGE_A, MARKER_A);
	step_write_pte_invlpg(2, "change-to-b", TEST_VA, pte_page(DATA_PAGE_B));
	step_write_pte_invlpg(4, "change-back", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(7, "check", TEST_VA, MARKER_A);
}

void steps_pte_aba_cpu1(int begin_op)
{
	if (begin_op)
		step_op_check_pte(1, "load-1", TEST_VA, pte_page(DATA_PAGE_A));
	else
		step_check_pte(1, "load-1", TEST_VA, pte_page(DATA_PAGE_A));
	step_invlpg(3, NULL, TEST_VA);
	step_invlpg(5, NULL, TEST_VA);
	step_check_pte(6, "load-2", TEST_VA, pte_page(DATA_PAGE_A));
	step_read(8, NULL, TEST_VA, MARKER_A);
}

void step_move_a(unsigned int n, uint64_t va, uint64_t va2)
{
	begin(n, "move");
	write_pte(test_pte(va), PTE_NONE);
	write_pte(test_pte(va2), pte_page(DATA_PAGE_A));
	write_va(va2 + 8, MOVED_VALUE);
	check_read(va2, MARKER_A);
	step_end(n);
}

void step_reuse_a(unsigned int n)
{
	begin(n, "reuse");
	write_va(DATA_PAGE_A + 8, REUSE_VALUE);
	step_end(n);
}

void step_track_fill(unsigned int n)
{
	begin(n, "fill");
	write_pte(test_pte(TEST_VA), pte_page(DATA_PAGE_E));
	ptw_track((const volatile void *)(uintptr_t)TEST_VA, 4096);
	for (uint64_t i = 0; i < 512; i++)
		write_va(TEST_VA + 8 * i, DATA_PATTERN(i));
	step_end(n);
}

void step_untrack(unsigned int n)
{
	begin(n, "cleanup");
	ptw_untrack((const volatile void *)(uintptr_t)TEST_VA, 4096);
	step_end(n);
}

void step_unit_map(unsigned int n)
{
	begin(n, "map-unit");
	unit_map();
	check_unit(0, UNIT_PAGES - 1);
	step_end(n);
}

void step_check_unit(unsigned int n, const char *phase, unsigned int first,
		     unsigned int last)
{
	begin(n, phase);
	check_unit(first, last);
	step_end(n);
}

static void unit_invlpg(unsigned int first, unsigned int last)
{
	for (unsigned int i = first; i <= last; i++)
		invlpg(unit_va(i));
}

void step_unit_invlpg(unsigned int n, const char *phase, unsigned int first,
		      unsigned int last)
{
	begin(n, phase);
	unit_invlpg(first, last);
	step_end(n);
}

void step_unit_clear(unsigned int n, const char *phase, unsigned int first,
		     unsigned int last)
{
	begin(n, phase);
	for (unsigned int i = first; i <= last; i++)
		write_pte(unit_pte(i), PTE_NONE);
	unit_invlpg(first, last);
	step_end(n);
}

void step_unit_swap_out(unsigned int n, const char *phase, unsigned int first,
			unsigned int last)
{
	begin(n, phase);
	for (unsigned int i = first; i <= last; i++)
		write_pte(unit_pte(i), swap_desc(i));
	unit_invlpg(first, last);
	step_end(n);
}

/* ------------------------------------------------------------------ */
/* CPU bring-up.                                                       */
/* ------------------------------------------------------------------ */

static void apic_enable(void)
{
	apic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

static void apic_ipi(unsigned int dest, uint32_t icr_lo)
{
	unsigned long i;

	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr_lo);
	for (i = 0; apic_read(APIC_ICR_LO) & ICR_PENDING; i++) {
		if (i == SPIN_LIMIT)
			fatal("IPI %x to APIC id %u not delivered", icr_lo,
			      dest);
		cpu_relax();
	}
}

static void delay(unsigned long n)
{
	while (n--)
		cpu_relax();
}

/* Fill the data pages, the unit and the size region with their markers. */
static void data_init(void)
{
	static const uint64_t page[] = {DATA_PAGE_A, DATA_PAGE_B, DATA_PAGE_C,
					DATA_PAGE_D, DATA_PAGE_E, DATA_PAGE_F};
	static const uint64_t marker[] = {MARKER_A, MARKER_B, MARKER_C,
					  MARKER_D, MARKER_E, MARKER_F};

	for (int i = 0; i < 6; i++)
		*(volatile uint64_t *)(uintptr_t)page[i] = marker[i];
	for (uint64_t i = 0; i < UNIT_PAGES; i++)
		*(volatile uint64_t *)(uintptr_t)(UNIT_PA + (i << 12)) =
			UNIT_MARKER(i);
	for (uint64_t i = 0; i < 512; i++)
		*(volatile uint64_t *)(uintptr_t)(SIZE_REGION_PA + (i << 12)) =
			SIZE_MARKER(i);
}

/*
 * INIT-SIPI-SIPI to APIC id 1, as in the MP start-up algorithm. QEMU does
 * not need the delays, they only keep the sequence recognisable.
 */
static void start_cpu1(void)
{
	unsigned long i;

	memcpy((void *)AP_TRAMPOLINE, ap_trampoline,
	       (size_t)(ap_trampoline_end - ap_trampoline));

	apic_ipi(1, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	delay(1000);
	apic_ipi(1, ICR_INIT | ICR_LEVEL); /* de-assert */
	delay(1000);
	for (int sipi = 0; sipi < 2; sipi++) {
		if (__atomic_load_n(&cpu1_online, __ATOMIC_ACQUIRE))
			break;
		apic_ipi(1, ICR_STARTUP | ICR_ASSERT | AP_SIPI_VECTOR);
		delay(1000);
	}
	for (i = 0; !__atomic_load_n(&cpu1_online, __ATOMIC_ACQUIRE); i++) {
		if (i == SPIN_LIMIT)
			fatal("CPU1 did not come up after INIT-SIPI-SIPI");
		cpu_relax();
	}
}

/* CPU1's C entry, on its own stack (boot.S ap_entry64). */
void ap_main(void);

void ap_main(void)
{
	idt_load();
	apic_enable();
	if (this_cpu() != 1)
		fatal("second CPU has APIC id %u, expected 1", this_cpu());
	if (read_cr3() != (uintptr_t)pml4)
		fatal("cpu1 CR3 %lx is not pml4 %p", read_cr3(), (void *)pml4);
	kprintf("  cpu1: up, long mode, CR3 %lx\n", read_cr3());
	__atomic_store_n(&cpu1_online, 1, __ATOMIC_RELEASE);

	scenario_cpu1();

	__atomic_store_n(&cpu1_finished, 1, __ATOMIC_RELEASE);
}

/* CPU0's C entry (boot.S bsp_entry64). */
void bsp_main(void);

void bsp_main(void)
{
	unsigned long i;

	/* Expectations go first, before any page-table or memory activity. */
	scenario_expect();

	serial_init();
	idt_init();
	idt_load();
	apic_enable();
	kprintf("litmus x86_64/%s: start\n", litmus_name);
	if (this_cpu() != 0)
		fatal("boot CPU has APIC id %u, expected 0", this_cpu());

	data_init();
	start_cpu1();

	scenario_cpu0();

	for (i = 0; !__atomic_load_n(&cpu1_finished, __ATOMIC_ACQUIRE); i++) {
		if (i == SPIN_LIMIT)
			fatal("CPU1 did not finish its part of the scenario");
		cpu_relax();
	}

	if (__atomic_load_n(&failed, __ATOMIC_ACQUIRE)) {
		ptw_done(1);
		kprintf("litmus x86_64/%s: FAIL %s\n", litmus_name, fail_msg);
		power_off(1);
	}
	ptw_done(0);
	kprintf("litmus x86_64/%s: ok\n", litmus_name);
	power_off(0);
}
