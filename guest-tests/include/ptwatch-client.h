/* SPDX-License-Identifier: MIT */
/*
 * ptwatch client requests: a guest program talks to the ptwatch plugin through
 * an instruction sequence that is a no-op on hardware and on QEMU without the
 * plugin. The plugin recognises the sequence at translation time and reads the
 * request number and arguments from registers when it executes.
 *
 * arm64:  ror x12,x12,#3; ror x12,x12,#13; ror x12,x12,#51; ror x12,x12,#61;
 *         orr x13,x13,x13         request in x0, arguments in x1..x4
 * x86-64: rol $3,%rdi; rol $13,%rdi; rol $61,%rdi; rol $51,%rdi;
 *         xchg %r13,%r13          request in rax, arguments in rcx,rdx,rsi,r8
 *
 * The rotations add up to 128 bits (a no-op); the final instruction moves a
 * register onto itself. Usable freestanding (bare metal) and from Linux user
 * space. See docs/client-requests.md.
 */
#ifndef PTWATCH_CLIENT_H
#define PTWATCH_CLIENT_H

#include <stdint.h>

/* Finding kinds (same numbering as the engine's ptw_kind). */
enum ptw_kind_id {
	PTW_K_BBM_VALID_TO_VALID = 1,
	PTW_K_BBM_MAKE_BEFORE_INVALIDATE = 2,
	PTW_K_BBM_WINDOW_READ = 3,
	PTW_K_STALE_TLB_ACCESS = 4,
	PTW_K_PARTIAL_UNIT_UNMAP = 5,
	PTW_K_CONTIG_MISPROGRAMMED = 6,
	PTW_K_PTE_ABA = 7,
	PTW_K_DATA_MISMATCH = 8,
	PTW_K_BBM_WINDOW_WALK = 9,
	PTW_K_DIRTY_LOST = 10,
	PTW_K_PT_PAGE_MAPPED = 11,
	PTW_K_COW_SHARED_WRITABLE = 12,
	PTW_K_PINNED_PAGE_DIVERGED = 13,
	PTW_K_SWAP_SLOT_UNCLAIMED = 14,
	PTW_K_SWAP_ENTRY_LEAKED = 15,
	PTW_K_ZAP_LEFT_ENTRY = 16,
};

/* Severities (same numbering as the engine's ptw_severity). An expectation
 * may name one: ptw_expect(PTW_EXPECT_SEV(kind, sev), n) declares n findings
 * of that kind with that severity (and n of the kind in all). */
enum ptw_severity_id {
	PTW_SEV_NOTE = 1,
	PTW_SEV_WARNING = 2,
	PTW_SEV_ERROR = 3,
};
#define PTW_EXPECT_SEV(kind, sev) ((enum ptw_kind_id)((kind) | ((sev) << 8)))
/* An expectation that holds only where QEMU reports its translation faults
 * with the entries they came from, and the access/dirty updates its MMU
 * writes (a QEMU built with qemu-patches/): elsewhere
 * the engine drops it and says so in ptwatch.log.
 * PTW_EXPECT_PATCHED(PTW_EXPECT_SEV(k, s)). */
#define PTW_EXPECT_PATCHED(e) ((enum ptw_kind_id)((e) | (1u << 16)))

/* Request numbers. */
enum ptw_request {
	PTW_REQ_EXPECT = 0x50570001, /* a1 = kind [| sev << 8], a2 = count */
	PTW_REQ_PHASE = 0x50570002,  /* a1,a2 = up to 16 label bytes */
	PTW_REQ_DONE = 0x50570003, /* a1 = 0 guest checks passed, else failed */
	PTW_REQ_TRACK = 0x50570004,	   /* a1 = va, a2 = len */
	PTW_REQ_UNTRACK = 0x50570005,	   /* a1 = va, a2 = len */
	PTW_REQ_EXPECT_WRITE = 0x50570006, /* a1 = va, a2 = len */
	PTW_REQ_PROGRAM = 0x50570007,	   /* a1..a4 = up to 32 name bytes */
	PTW_REQ_OP_BEGIN = 0x50570008,	   /* no arguments */
};

static inline void ptw_request(uint64_t req, uint64_t a1, uint64_t a2,
			       uint64_t a3, uint64_t a4)
{
#if defined(__aarch64__)
	register uint64_t x0 __asm__("x0") = req;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	register uint64_t x4 __asm__("x4") = a4;
	__asm__ volatile("ror x12, x12, #3\n\t"
			 "ror x12, x12, #13\n\t"
			 "ror x12, x12, #51\n\t"
			 "ror x12, x12, #61\n\t"
			 "orr x13, x13, x13\n\t"
			 :
			 : "r"(x0), "r"(x1), "r"(x2), "r"(x3), "r"(x4)
			 : "x12", "x13", "memory");
#elif defined(__x86_64__)
	register uint64_t r8 __asm__("r8") = a4;
	__asm__ volatile("rolq $3, %%rdi\n\t"
			 "rolq $13, %%rdi\n\t"
			 "rolq $61, %%rdi\n\t"
			 "rolq $51, %%rdi\n\t"
			 "xchgq %%r13, %%r13\n\t"
			 :
			 : "a"(req), "c"(a1), "d"(a2), "S"(a3), "r"(r8)
			 : "rdi", "r13", "memory", "cc");
#else
#error "ptwatch client requests: unsupported architecture"
#endif
}

static inline void ptw_expect(enum ptw_kind_id kind, uint64_t count)
{
	ptw_request(PTW_REQ_EXPECT, kind, count, 0, 0);
}

static inline void ptw_done(int failed)
{
	ptw_request(PTW_REQ_DONE, (uint64_t)failed, 0, 0, 0);
}

/* Phase marker: the first 16 bytes of label appear in the log. */
static inline void ptw_phase(const char *label)
{
	uint64_t w[2] = {0, 0};
	char *p = (char *)w;
	for (int i = 0; i < 16 && label[i]; i++)
		p[i] = label[i];
	ptw_request(PTW_REQ_PHASE, w[0], w[1], 0, 0);
}

/* Name this address space's program in findings (user PCs show [name]). */
static inline void ptw_program(const char *name)
{
	uint64_t w[4] = {0, 0, 0, 0};
	char *p = (char *)w;
	for (int i = 0; i < 32 && name[i]; i++)
		p[i] = name[i];
	ptw_request(PTW_REQ_PROGRAM, w[0], w[1], w[2], w[3]);
}

/* The calling CPU starts one operation: PTE_ABA pairs two reads of an
 * entry only within one operation (on Linux the engine finds them itself:
 * a page fault's handle_mm_fault()). The operation belongs to what the CPU
 * runs: its guest task where one is known, else the CPU; it lasts until
 * that reader starts the next one. */
static inline void ptw_op_begin(void)
{
	ptw_request(PTW_REQ_OP_BEGIN, 0, 0, 0, 0);
}

/* Track a region of the current address space: every later load of it
 * must return what this address space last stored there. */
static inline void ptw_track(const volatile void *va, uint64_t len)
{
	ptw_request(PTW_REQ_TRACK, (uint64_t)(uintptr_t)va, len, 0, 0);
}

static inline void ptw_untrack(const volatile void *va, uint64_t len)
{
	ptw_request(PTW_REQ_UNTRACK, (uint64_t)(uintptr_t)va, len, 0, 0);
}

/* The region is about to change by other means (read(), DMA, another
 * process): forget its remembered values until this address space stores
 * there again. */
static inline void ptw_expect_write(const volatile void *va, uint64_t len)
{
	ptw_request(PTW_REQ_EXPECT_WRITE, (uint64_t)(uintptr_t)va, len, 0, 0);
}

#endif
