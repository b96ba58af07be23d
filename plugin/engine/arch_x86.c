/* SPDX-License-Identifier: MIT */
/*
 * x86-64 specifics: 4- and 5-level paging descriptors and decoding of the
 * instructions that change translation state (MOV to CR0/CR3/CR4, INVLPG,
 * INVPCID, WRMSR) and of the client-request sequence.
 */
#include <string.h>

#include "engine_internal.h"

#define X86_P	 (1ULL << 0)
#define X86_A	 (1ULL << 5) /* Accessed */
#define X86_D	 (1ULL << 6) /* Dirty */
#define X86_PS	 (1ULL << 7)
#define X86_ADDR 0x000ffffffffff000ULL

/* MOV to CR3 with CR4.PCIDE: bit 63 of the source asks for no flush and
 * is not stored (Intel SDM Vol. 3A, 4.10.4.1; Vol. 2B, "MOV--Move to/from
 * Control Registers") */
#define CR3_NOFLUSH (1ULL << 63)
/* IA32_EFER (Intel SDM Vol. 4, "IA32_EFER", MSR C000_0080H) */
#define MSR_EFER 0xc0000080u

const char *const ptw_x86_gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};

ptw_desc ptw_x86_decode(uint64_t d, int level)
{
	ptw_desc r = {PTW_DESC_INVALID, 0, 0};
	if (!(d & X86_P))
		return r;
	if (level == 1) {
		r.type = PTW_DESC_PAGE;
		r.size = 4096;
		r.oa = d & X86_ADDR;
		return r;
	}
	if ((level == 2 || level == 3) && (d & X86_PS)) {
		r.type = PTW_DESC_BLOCK;
		r.size = 1ULL << (12 + 9 * (level - 1));
		r.oa = d & X86_ADDR & ~(r.size - 1); /* bit 12 is PAT */
		return r;
	}
	r.type = PTW_DESC_TABLE;
	r.oa = d & X86_ADDR;
	return r;
}

/* Decode a ModRM memory operand (mod != 3). Returns bytes consumed after
 * the ModRM byte, or -1. */
static int decode_modrm_mem(const uint8_t *b, size_t n, unsigned rex,
			    ptw_x86_insn *o)
{
	uint8_t modrm = b[0];
	unsigned mod = modrm >> 6, rm = modrm & 7;
	size_t p = 1;
	o->base = -1;
	o->index = -1;
	o->scale = 1;
	o->disp = 0;
	if (rm == 4) { /* SIB */
		if (n < 2)
			return -1;
		uint8_t sib = b[p++];
		unsigned ss = sib >> 6, idx = (sib >> 3) & 7, base = sib & 7;
		idx |= (rex & 2) ? 8 : 0;
		if (idx != 4)
			o->index = (int)idx;
		o->scale = 1u << ss;
		if (base == 5 && mod == 0) {
			if (n < p + 4)
				return -1;
			int32_t d32;
			memcpy(&d32, b + p, 4);
			o->disp = d32;
			p += 4;
		} else {
			o->base = (int)(base | ((rex & 1) ? 8 : 0));
		}
	} else if (rm == 5 && mod == 0) { /* RIP-relative */
		if (n < p + 4)
			return -1;
		int32_t d32;
		memcpy(&d32, b + p, 4);
		o->disp = d32;
		o->base = 16;
		p += 4;
		return (int)p;
	} else {
		o->base = (int)(rm | ((rex & 1) ? 8 : 0));
	}
	if (mod == 1) {
		if (n < p + 1)
			return -1;
		o->disp += (int8_t)b[p];
		p += 1;
	} else if (mod == 2) {
		if (n < p + 4)
			return -1;
		int32_t d32;
		memcpy(&d32, b + p, 4);
		o->disp += d32;
		p += 4;
	}
	return (int)p;
}

bool ptw_x86_direct_call(const uint8_t *b, size_t n, uint64_t pc,
			 uint64_t *target)
{
	if (n < 5 || b[0] != 0xe8) /* CALL rel32 */
		return false;
	int32_t rel;
	memcpy(&rel, b + 1, 4);
	*target = pc + 5 + (uint64_t)(int64_t)rel;
	return true;
}

bool ptw_x86_decode_insn(const uint8_t *b, size_t n, ptw_x86_insn *o)
{
	size_t p = 0;
	unsigned rex = 0;
	bool opsize = false, gs = false;
	memset(o, 0, sizeof(*o));
	o->op = PTW_X86_NONE;
	/* legacy prefixes */
	while (p < n &&
	       (b[p] == 0x66 || b[p] == 0x67 || b[p] == 0xf2 || b[p] == 0xf3 ||
		b[p] == 0x2e || b[p] == 0x36 || b[p] == 0x3e || b[p] == 0x26 ||
		b[p] == 0x64 || b[p] == 0x65 || b[p] == 0xf0)) {
		if (b[p] == 0x66)
			opsize = true;
		if (b[p] == 0x65)
			gs = true;
		p++;
	}
	if (p < n && (b[p] & 0xf0) == 0x40)
		rex = b[p++] & 0xf;
	if (gs && (rex & 8) && p + 2 <= n && b[p] == 0x89 &&
	    (b[p + 1] >> 6) != 3) { /* mov r64, %gs:m64 */
		int used = decode_modrm_mem(b + p + 1, n - p - 1, rex, o);
		if (used < 0)
			return false;
		o->op = PTW_X86_GS_STORE64;
		o->gpr = ((b[p + 1] >> 3) & 7) | ((rex & 4) ? 8 : 0);
		o->len = (unsigned)(p + 1 + (size_t)used);
		return true;
	}
	if (p + 2 > n || b[p] != 0x0f)
		return false;
	uint8_t op = b[p + 1];
	if (op == 0x30) { /* WRMSR */
		o->op = PTW_X86_WRMSR;
		o->len = (unsigned)(p + 2);
		return true;
	}
	if (op == 0x22 && p + 3 <= n) { /* MOV CRn, r64 */
		uint8_t modrm = b[p + 2];
		if ((modrm >> 6) != 3)
			return false;
		o->op = PTW_X86_MOV_TO_CR;
		o->cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		o->gpr = (modrm & 7) | ((rex & 1) ? 8 : 0);
		o->len = (unsigned)(p + 3);
		return true;
	}
	if (op == 0x01 && p + 3 <= n) { /* group 7: INVLPG is /7, mod != 3 */
		uint8_t modrm = b[p + 2];
		if (((modrm >> 3) & 7) != 7 || (modrm >> 6) == 3)
			return false;
		int used = decode_modrm_mem(b + p + 2, n - p - 2, rex, o);
		if (used < 0)
			return false;
		o->op = PTW_X86_INVLPG;
		o->len = (unsigned)(p + 2 + (size_t)used);
		return true;
	}
	if (op == 0x38 && opsize && p + 4 <= n && b[p + 2] == 0x82) {
		uint8_t modrm = b[p + 3];
		o->op = PTW_X86_INVPCID;
		o->gpr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		o->len = (unsigned)(p + 4);
		return true;
	}
	return false;
}

/* Base + index * scale + displacement, RIP-relative from the next
 * instruction's address (Intel SDM Vol. 2A, 2.1.5 "Addressing-Mode
 * Encoding of ModR/M and SIB Bytes"; 2.2.1.6 "RIP-Relative Addressing") */
uint64_t ptw_x86_operand_ea(const ptw_x86_insn *d, uint64_t pc, unsigned len,
			    const ptw_vcpu_regs *r)
{
	uint64_t ea = (uint64_t)d->disp;
	if (d->base == 16)
		ea += pc + len;
	else if (d->base >= 0 && r)
		ea += r->gpr(r->opaque, (unsigned)d->base);
	if (d->index >= 0 && r)
		ea += r->gpr(r->opaque, (unsigned)d->index) * d->scale;
	return ea;
}

/* the control registers whose writes the engine follows: CR0 (PG), CR3
 * (the root, the PCID), CR4 (PAE, PGE, LA57, PCIDE) */
ptw_reg ptw_x86_cr_reg(unsigned cr)
{
	switch (cr) {
	case 0:
		return PTW_REG_X86_CR0;
	case 3:
		return PTW_REG_X86_CR3;
	case 4:
		return PTW_REG_X86_CR4;
	default:
		return 0;
	}
}

uint64_t ptw_x86_cr_stored(ptw_reg reg, uint64_t value)
{
	return reg == PTW_REG_X86_CR3 ? value & ~CR3_NOFLUSH : value;
}

/* WRMSR writes EDX:EAX to the MSR ECX names (Intel SDM Vol. 2B, "WRMSR");
 * the engine follows IA32_EFER (LME) */
ptw_reg ptw_x86_msr_reg(uint64_t rcx)
{
	return (rcx & 0xffffffff) == MSR_EFER ? PTW_REG_X86_EFER : 0;
}

uint64_t ptw_x86_msr_value(uint64_t rax, uint64_t rdx)
{
	return (rax & 0xffffffff) | (rdx << 32);
}

static const uint8_t x86_client_seq[PTW_CLIENT_SEQ_X86_BYTES] = {
	0x48, 0xc1, 0xc7, 0x03, /* rol $3, %rdi */
	0x48, 0xc1, 0xc7, 0x0d, /* rol $13, %rdi */
	0x48, 0xc1, 0xc7, 0x3d, /* rol $61, %rdi */
	0x48, 0xc1, 0xc7, 0x33, /* rol $51, %rdi */
	0x4d, 0x87, 0xed,	/* xchg %r13, %r13 */
};

bool ptw_x86_is_client_seq(const uint8_t *b)
{
	return memcmp(b, x86_client_seq, sizeof(x86_client_seq)) == 0;
}

/* ------------------------------------------------------------------ */
/* the registers each CPU wrote (ptw_engine.arch) */

typedef struct {
	uint64_t cr0, cr3, cr4, efer;
} x86_regs;

typedef struct {
	x86_regs cpu[PTW_MAX_CPUS];
} x86_state;

static x86_regs *x86_cpu(const ptw_engine *e, unsigned cpu)
{
	return &((x86_state *)e->arch)->cpu[cpu];
}

static void *x86_init(const ptw_engine *e)
{
	(void)e;
	return g_new0(x86_state, 1);
}

/* ------------------------------------------------------------------ */
/* the architecture interface */

static unsigned x86_entry_shift(const ptw_engine *e, int level)
{
	(void)e;
	return 12 + 9 * (level - 1);
}

/* no contiguous bit; 16 entries is det_bbm's guess at a group */
static unsigned x86_cont_entries(const ptw_engine *e, int level)
{
	(void)e;
	(void)level;
	return 16;
}

static ptw_desc x86_decode(const ptw_engine *e, uint64_t d, int level)
{
	(void)e;
	return ptw_x86_decode(d, level);
}

/* 5-level paging (CR4.LA57) as the first CPU with paging on has it */
static bool x86_la57(const ptw_engine *e)
{
	for (unsigned i = 0; i < e->cfg.ncpus; i++)
		if (e->cpu[i].mmu_on)
			return (x86_cpu(e, i)->cr4 >> 12) & 1;
	return false;
}

static uint64_t x86_canonical(const ptw_engine *e, uint64_t va)
{
	unsigned top = x86_la57(e) ? 56 : 47;
	if (va & (1ULL << top))
		va |= ~((1ULL << top) - 1);
	else
		va &= (1ULL << top) - 1;
	return va;
}

static uint64_t x86_code_address(uint64_t saved)
{
	return saved;
}

static bool x86_upper_half(uint64_t va)
{
	return (va >> 63) & 1;
}

static unsigned x86_root_index(uint64_t va)
{
	(void)va;
	return 0;
}

/* G (bit 8) counts only with CR4.PGE set */
static bool x86_global(const ptw_engine *e, unsigned cpu, uint64_t desc)
{
	return ((desc >> 8) & 1) && cpu < e->cfg.ncpus &&
	       ((x86_cpu(e, cpu)->cr4 >> 7) & 1);
}

/* the processor sets Accessed and Dirty itself (Intel SDM Vol. 3A, 4.8
 * "Accessed and Dirty Flags") */
static uint64_t x86_hw_managed(uint64_t old, uint64_t new)
{
	(void)old;
	(void)new;
	return X86_A | X86_D;
}

static bool x86_hw_dirty(uint64_t desc)
{
	return (desc & X86_P) && (desc & X86_D);
}

static uint64_t x86_unit_attr_mask(const ptw_engine *e)
{
	(void)e;
	/* the address (bits 51:12), Accessed and Dirty */
	return ~(X86_ADDR | X86_A | X86_D);
}

/* 64-bit paging: CR0.PG, CR4.PAE, EFER.LME; CR4.LA57 for 5 levels; CR3's
 * PCID with CR4.PCIDE */
static void x86_roots(const ptw_engine *e, unsigned cpu, ptw_root_spec *out)
{
	const x86_regs *cs = x86_cpu(e, cpu);
	memset(out, 0, sizeof(*out));
	out->on = (cs->cr0 >> 31) & 1 && (cs->cr4 >> 5) & 1 &&
		  (cs->efer >> 8) & 1;
	out->off_why = "left 64-bit paging";
	if (!out->on)
		return;
	out->root[0].valid = true;
	out->root[0].pa = cs->cr3 & 0x000ffffffffff000ULL;
	out->root[0].start_level = (cs->cr4 >> 12) & 1 ? 5 : 4;
	out->root[0].nent = 512;
	out->root[0].asid = (cs->cr4 >> 17) & 1 ? cs->cr3 & 0xfff : 0;
}

/* A write to CR0, CR3, CR4 or IA32_EFER (x86_roots reads them again) and
 * what it invalidates (Intel SDM Vol. 3A, 4.10.4.1 "Operations that
 * Invalidate TLBs and Paging-Structure Caches"). */
static void x86_sysreg(ptw_engine *e, unsigned cpu, ptw_reg reg, uint64_t value,
		       ptw_sysreg_effect *fx)
{
	x86_regs *cs = x86_cpu(e, cpu);
	switch (reg) {
	case PTW_REG_X86_CR3: {
		fx->stat = ST_CR3_WRITES;
		/* MOV to CR3 invalidates the non-global entries (with
		 * CR4.PCIDE, those of the PCID it loads; taken here as all
		 * of them), unless CR4.PCIDE (bit 17) is set and so is bit 63
		 * of the value written (NOFLUSH): then none. Bit 63 is not
		 * stored in CR3 (SDM Vol. 3A, 4.10.4.1; Vol. 2B, "MOV--Move
		 * to/from Control Registers") */
		bool noflush = ((cs->cr4 >> 17) & 1) && (value & CR3_NOFLUSH);
		cs->cr3 = ptw_x86_cr_stored(PTW_REG_X86_CR3, value);
		fx->roots = true;
		if (!noflush) {
			fx->flush = true;
			fx->flush_scope.nonglobal = true;
		}
		fx->local_flush = true;
		break;
	}
	case PTW_REG_X86_CR4: {
		/* MOV to CR4 that changes CR4.PGE (bit 7) or CR4.PCIDE (bit
		 * 17) invalidates every entry, global ones included (SDM Vol.
		 * 3A, 4.10.4.1); so does, here, one that changes CR4.LA57
		 * (bit 12: another paging mode) */
		uint64_t chg = cs->cr4 ^ value;
		cs->cr4 = value;
		fx->roots = true;
		if (chg & ((1ULL << 7) | (1ULL << 17) | (1ULL << 12))) {
			fx->flush = true;
			fx->flush_scope.all = true;
		}
		break;
	}
	case PTW_REG_X86_CR0:
		cs->cr0 = value;
		fx->roots = true;
		break;
	case PTW_REG_X86_EFER:
		cs->efer = value;
		fx->roots = true;
		break;
	default: /* not an x86 register */
		break;
	}
}

/* User mode may pass this entry: U/S (bit 2) set, at every level of the
 * walk (Intel SDM Vol. 3A 4.6.1 "Determination of Access Rights": a
 * user-mode access needs U/S = 1 in every paging-structure entry used). */
static bool x86_user_ok(uint64_t desc, bool leaf)
{
	(void)leaf;
	return (desc >> 2) & 1;
}

/* A leaf writes may go through: R/W (bit 1) set (Intel SDM Vol. 3A
 * 4.6.1 "Determination of Access Rights"; the directories above may still
 * take it away, which Linux never does for user space). */
static bool x86_writable(uint64_t desc)
{
	return (desc >> 1) & 1;
}

const ptw_arch_ops ptw_arch_x86_ops = {
	.name = "x86_64",
	.last_level = 1,
	.level_step = -1,
	.entry_shift = x86_entry_shift,
	.cont_entries = x86_cont_entries,
	.decode = x86_decode,
	.canonical = x86_canonical,
	.upper_half = x86_upper_half,
	.root_index = x86_root_index,
	.shared_upper = true,
	.global = x86_global,
	.hw_managed = x86_hw_managed,
	.hw_dirty = x86_hw_dirty,
	.bbm_reason = NULL,
	.cont_bit = 0,
	.unit_attr_mask = x86_unit_attr_mask,
	.roots = x86_roots,
	.sysreg = x86_sysreg,
	.init = x86_init,
	.bbm_level = NULL,
	.client_gpr = {0, 1, 2, 6, 8}, /* rax; rcx, rdx, rsi, r8 */
	/* System V AMD64 ABI 3.2.3: rdi, rsi, rdx, rcx, r8, r9 */
	.call_arg_gpr = {7, 6, 2, 1, 8, 9},
	.frame_gpr = 5, /* rbp, with frame pointers */
	.sp_gpr = 4,	/* rsp */
	.link_gpr = -1, /* the return address is on the stack */
	.code_address = x86_code_address,
	.user_ok = x86_user_ok,
	.writable = x86_writable,
};
