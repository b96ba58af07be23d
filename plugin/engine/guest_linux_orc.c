// SPDX-License-Identifier: MIT
/*
 * Linux x86-64's ORC unwind tables (CONFIG_UNWINDER_ORC, Debian's): how to
 * find a frame's caller where the kernel keeps no frame pointers.
 *
 * objtool writes, for every range of kernel text, how to find the
 * previous frame's stack pointer (the CFA) and frame pointer
 * (arch/x86/include/asm/orc_types.h, struct orc_entry: s16 sp_offset,
 * s16 bp_offset, then sp_reg:4 bp_reg:4 type:3 signal:1); the image holds
 * them in .orc_unwind_ip (the start of each range, as an int32 relative
 * to its own address, sorted at build time by scripts/sorttable) and
 * .orc_unwind (the entries, 6 bytes each, in the same order), bounded by
 * __start_orc_unwind_ip/__stop_orc_unwind_ip and __start_orc_unwind
 * (include/asm-generic/vmlinux.lds.h). Both are read once from guest
 * memory, at the first stack asked for (a trace records the read), and
 * stepped as arch/x86/kernel/unwind_orc.c unwind_next_frame() steps them:
 * for the frame's code address (the PC itself for the first frame, the
 * call instruction, ret - 1, for the others) the entry of the last range
 * that starts at or below it; the CFA from SP or BP (directly or through
 * memory); a call frame's return address at CFA - 8; BP from the stack
 * or kept. The walk ends at an entry of another type (the pt_regs of an
 * entry from user mode or an interrupt, the end of the stack), an address
 * outside the image's tables (modules, BPF, trampolines), or a stack that
 * does not grow upward.
 */
#include <glib.h>
#include <string.h>

#include "engine_internal.h"

/* orc_types.h's register numbers, #defines (not in BTF) that Linux
 * renumbered: 6.12 has PREV_SP 1, DX 2, DI 3, BP 4, SP 5, R10 6, R13 7,
 * BP_INDIRECT 8, SP_INDIRECT 9; 7.x AX 1, DX 2, SP 3, BP 4, DI 5, R10 6,
 * R13 7, PREV_SP 8, SP_INDIRECT 9, BP_INDIRECT 10. Which one a kernel
 * has is read from its table (load(): a call frame's CFA is almost always
 * SP-based, so the most frequent base register of call entries is SP). */
typedef struct {
	unsigned prev_sp, bp, sp, bp_indirect, sp_indirect;
	const char *name;
} orc_regs;
static const orc_regs ORC_REGS_612 = {1, 4, 5, 8, 9, "6.12"};
static const orc_regs ORC_REGS_7 = {8, 4, 3, 10, 9, "7.x"};
#define ORC_REG_UNDEFINED 0
#define ORC_TYPE_CALL	  2
#define ORC_ENTRY_BYTES	  6
/* more entries than this are not a kernel's (6.12 x86-64: ~0.5 M) */
#define ORC_MAX (8u << 20)

typedef enum { ORC_UNTRIED, ORC_ON, ORC_OFF } orc_state;

struct ptw_linux_orc {
	uint64_t start_ip, stop_ip, start_unwind; /* symbols */
	bool orc_unwinder; /* its unwinder's code is among them */
	orc_state state;
	unsigned n;
	uint64_t *ip;	/* absolute range starts, sorted */
	uint8_t *entry; /* n * ORC_ENTRY_BYTES */
	const orc_regs *regs;
};

static struct ptw_linux_orc *orc_of(ptw_engine *e)
{
	if (!e->linux_orc_tables)
		e->linux_orc_tables = g_new0(struct ptw_linux_orc, 1);
	return e->linux_orc_tables;
}

void ptw_linux_orc_note_symbol(ptw_engine *e, const char *name, uint64_t addr)
{
	/* arch/x86/kernel/unwind_orc.c, in a kernel built with it */
	if (strcmp(name, "__orc_find") == 0)
		orc_of(e)->orc_unwinder = true;
	if (strncmp(name, "__st", 4) != 0)
		return;
	if (strcmp(name, "__start_orc_unwind_ip") == 0)
		orc_of(e)->start_ip = addr;
	else if (strcmp(name, "__stop_orc_unwind_ip") == 0)
		orc_of(e)->stop_ip = addr;
	else if (strcmp(name, "__start_orc_unwind") == 0)
		orc_of(e)->start_unwind = addr;
}

bool ptw_linux_orc_kernel(const ptw_engine *e)
{
	return e->linux_orc_tables && (e->linux_orc_tables->start_ip ||
				       e->linux_orc_tables->orc_unwinder);
}

void ptw_linux_orc_free(ptw_engine *e)
{
	struct ptw_linux_orc *o = e->linux_orc_tables;
	if (!o)
		return;
	g_free(o->ip);
	g_free(o->entry);
	g_free(o);
	e->linux_orc_tables = NULL;
}

/* read both tables once; false: off (said once) */
static bool load(ptw_engine *e, struct ptw_linux_orc *o)
{
	if (o->state != ORC_UNTRIED)
		return o->state == ORC_ON;
	const char *why = NULL;
	uint64_t bytes = o->stop_ip - o->start_ip, bad = 0;
	if (!o->start_ip || !o->stop_ip || !o->start_unwind)
		why = "the symbols lack __start_orc_unwind_ip, "
		      "__stop_orc_unwind_ip or __start_orc_unwind (a symbols "
		      "file of text symbols only?)";
	else if (o->stop_ip <= o->start_ip || bytes % 4 || bytes / 4 > ORC_MAX)
		why = "__stop_orc_unwind_ip - __start_orc_unwind_ip is not a "
		      "plausible size";
	if (!why) {
		o->n = (unsigned)(bytes / 4);
		int32_t *rel = g_new(int32_t, o->n);
		o->entry = g_malloc((size_t)o->n * ORC_ENTRY_BYTES);
		if (!ptw_read_kernel(e, o->start_ip, rel, bytes, &bad) ||
		    !ptw_read_kernel(e, o->start_unwind, o->entry,
				     (size_t)o->n * ORC_ENTRY_BYTES, &bad)) {
			why = "the tables are not mapped where the symbols say";
		} else {
			o->ip = g_new(uint64_t, o->n);
			for (unsigned i = 0; i < o->n; i++)
				o->ip[i] = o->start_ip + 4ULL * i +
					   (uint64_t)(int64_t)rel[i];
			for (unsigned i = 1; i < o->n && !why; i++)
				if (o->ip[i] < o->ip[i - 1])
					why = "the .orc_unwind_ip table is not "
					      "sorted";
		}
		g_free(rel);
	}
	if (why) {
		o->state = ORC_OFF;
		ptw_report_line(e, "stacks: none: the kernel's ORC tables: %s",
				why);
		return false;
	}
	unsigned base[16] = {0};
	for (unsigned i = 0; i < o->n; i++)
		if ((o->entry[i * ORC_ENTRY_BYTES + 5] & 7) == ORC_TYPE_CALL)
			base[o->entry[i * ORC_ENTRY_BYTES + 4] & 15]++;
	o->regs = base[ORC_REGS_7.sp] > base[ORC_REGS_612.sp] ? &ORC_REGS_7
							      : &ORC_REGS_612;
	o->state = ORC_ON;
	ptw_report_line(e,
			"stacks: from the kernel's ORC tables, %u entries at "
			"0x%" PRIx64 " (register numbers as in %s)",
			o->n, o->start_ip, o->regs->name);
	return true;
}

/* the entry of the last range starting at or below ip (__orc_find()) */
static const uint8_t *find(const struct ptw_linux_orc *o, uint64_t ip)
{
	if (!o->n || ip < o->ip[0])
		return NULL;
	unsigned lo = 0, hi = o->n - 1;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo + 1) / 2;
		if (o->ip[mid] <= ip)
			lo = mid;
		else
			hi = mid - 1;
	}
	return o->entry + (size_t)lo * ORC_ENTRY_BYTES;
}

static bool read64(ptw_engine *e, uint64_t va, uint64_t *v)
{
	return !(va & 7) && ptw_read_kernel(e, va, v, 8, NULL);
}

unsigned ptw_linux_orc_unwind(ptw_engine *e, uint64_t ip, uint64_t sp,
			      uint64_t bp, uint64_t *ret, unsigned max)
{
	struct ptw_linux_orc *o = orc_of(e);
	if (!load(e, o))
		return 0;
	unsigned n = 0;
	for (bool first = true; n < max; first = false) {
		const uint8_t *en = find(o, first ? ip : ip - 1);
		if (!en)
			break;
		int16_t sp_off, bp_off;
		memcpy(&sp_off, en, 2);
		memcpy(&bp_off, en + 2, 2);
		unsigned sp_reg = en[4] & 15, bp_reg = en[4] >> 4,
			 type = en[5] & 7;
		if (type != ORC_TYPE_CALL)
			break;
		const orc_regs *R = o->regs;
		uint64_t cfa;
		if (sp_reg == R->sp) {
			cfa = sp + (uint64_t)(int64_t)sp_off;
		} else if (sp_reg == R->bp) {
			cfa = bp + (uint64_t)(int64_t)sp_off;
		} else if (sp_reg == R->sp_indirect) {
			if (!read64(e, sp, &cfa))
				return n;
			cfa += (uint64_t)(int64_t)sp_off;
		} else if (sp_reg == R->bp_indirect) {
			if (!read64(e, bp + (uint64_t)(int64_t)sp_off, &cfa))
				return n;
		} else { /* AX, R10, R13, DI, DX: only at entry code */
			return n;
		}
		uint64_t r;
		if (!read64(e, cfa - 8, &r) || !e->ops->upper_half(r))
			break;
		if (bp_reg == R->prev_sp) {
			if (!read64(e, cfa + (uint64_t)(int64_t)bp_off, &bp))
				return n;
		} else if (bp_reg == R->bp) {
			if (!read64(e, bp + (uint64_t)(int64_t)bp_off, &bp))
				return n;
		} else if (bp_reg != ORC_REG_UNDEFINED) {
			return n;
		}
		if (cfa <= sp)
			break;
		ret[n++] = r;
		sp = cfa;
		ip = r;
	}
	return n;
}
