/* SPDX-License-Identifier: MIT */
/*
 * arm64 specifics: VMSAv8-64 descriptors (4K and 16K granules, 48-bit and
 * 52-bit LPA2), the break-before-make rule, TTBR/TCR decoding and instruction
 * decoding (MSR to translation registers, TLBI, DSB, client requests).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"

#define A64_VALID   (1ULL << 0)
#define A64_TABLE   (1ULL << 1)
#define A64_ATTRIDX (7ULL << 2)
#define A64_NS	    (1ULL << 5)
#define A64_AP	    (3ULL << 6)
#define A64_RDONLY  (1ULL << 7)
#define A64_SH	    (3ULL << 8)
#define A64_AF	    (1ULL << 10)
#define A64_NG	    (1ULL << 11)
#define A64_GP	    (1ULL << 50)
#define A64_DBM	    (1ULL << 51)
#define A64_CONT    (1ULL << 52)
#define A64_PXN	    (1ULL << 53)
#define A64_UXN	    (1ULL << 54)
#define A64_SW	    (0xfULL << 55)
#define A64_IGN_HI  (0xfULL << 59) /* PBHA / ignored in leaves */

static uint64_t oa_bits(uint64_t d, unsigned lo, bool lpa2)
{
	uint64_t hi_mask = lpa2 ? ((1ULL << 50) - 1) : ((1ULL << 48) - 1);
	uint64_t oa = d & hi_mask & ~((1ULL << lo) - 1);
	if (lpa2)
		oa |= ((d >> 8) & 3ULL) << 50;
	return oa;
}

/* log2 of the bytes an entry at level maps: the page, then (ps - 3) index
 * bits a level (Arm ARM DDI 0487 D8.2 "Translation table walk": 4K
 * granule 12/21/30/39, 16K granule 14/25/36/47) */
static unsigned level_shift(unsigned ps, int level)
{
	return ps + (ps - 3) * (unsigned)(3 - level);
}

/* A VMSAv8-64 stage-1 descriptor, 4K (ps 12) or 16K (ps 14) granule (Arm
 * ARM DDI 0487J.a chapter D8, "Translation table descriptor formats": bit
 * 0 valid, bit 1 table (levels 0-2) or page (level 3); blocks at levels
 * 1-2 with 4K (level 0 too with FEAT_LPA2), at level 2 with 16K (level 1
 * too with LPA2); with LPA2 (TCR_EL1.DS) level -1 tables (4K) and
 * OA[51:50] in bits 9:8). */
ptw_desc ptw_arm64_decode(uint64_t d, int level, bool lpa2, unsigned ps)
{
	ptw_desc r = {PTW_DESC_INVALID, 0, 0};
	if (!(d & A64_VALID))
		return r;
	if (level == 3) {
		if (!(d & A64_TABLE))
			return r; /* reserved encoding: invalid */
		r.type = PTW_DESC_PAGE;
		r.size = 1ULL << ps;
		r.oa = oa_bits(d, ps, lpa2);
		return r;
	}
	if (d & A64_TABLE) {
		r.type = PTW_DESC_TABLE;
		r.oa = oa_bits(d, ps, lpa2);
		return r;
	}
	bool block = ps == 14
			     ? level == 2 || (level == 1 && lpa2)
			     : level == 1 || level == 2 || (level == 0 && lpa2);
	if (block) {
		unsigned sh = level_shift(ps, level);
		r.type = PTW_DESC_BLOCK;
		r.size = 1ULL << sh;
		r.oa = oa_bits(d, sh, lpa2);
	}
	return r;
}

bool ptw_arm64_geometry(unsigned tsz, int *start_level, unsigned *nent,
			unsigned ps)
{
	if (tsz < 12 || tsz > 48 || (ps != 12 && ps != 14))
		return false;
	unsigned vabits = 64 - tsz, bits = ps - 3;
	if (vabits <= ps)
		return false;
	unsigned levels = (vabits - ps + bits - 1) / bits;
	int start = 4 - (int)levels;
	unsigned idx_bits = vabits - level_shift(ps, start);
	*start_level = start;
	*nent = 1u << idx_bits;
	return true;
}

uint64_t ptw_arm64_ttbr_baddr(uint64_t ttbr, bool lpa2)
{
	uint64_t pa = ttbr & 0x0000fffffffffffeULL & ~1ULL;
	if (lpa2) {
		pa &= ~0x3fULL;
		pa |= ((ttbr >> 2) & 0xfULL) << 48;
	}
	return pa;
}

static bool mair_normal_or_tagged(uint64_t mair, unsigned idx)
{
	unsigned attr = (mair >> (8 * idx)) & 0xff;
	return attr == 0xff || attr == 0xf0;
}

/* Arm ARM DDI 0487J.a D8.14.1 "Using break-before-make when updating
 * translation table entries": changing the output address, the block size
 * (block <-> table), the contiguous bit, the memory type or shareability of a
 * live valid entry needs a break; Linux's own reading of the list is
 * pgattr_change_is_safe() (arch/arm64/mm/mmu.c), which this follows at
 * every level (docs/findings.md says where it differs and why). */
const char *ptw_arm64_bbm_reason(uint64_t old, uint64_t new, int level,
				 bool lpa2, uint64_t mair, unsigned ps)
{
	ptw_desc o = ptw_arm64_decode(old, level, lpa2, ps);
	ptw_desc n = ptw_arm64_decode(new, level, lpa2, ps);
	if (o.type == PTW_DESC_INVALID || n.type == PTW_DESC_INVALID)
		return NULL; /* creating or taking down a mapping */
	if (o.type != n.type) {
		if (o.type == PTW_DESC_BLOCK && n.type == PTW_DESC_TABLE)
			return "block replaced by table (size change)";
		if (o.type == PTW_DESC_TABLE && n.type == PTW_DESC_BLOCK)
			return "table replaced by block (size change)";
		return "descriptor type change";
	}
	if (o.oa != n.oa)
		return o.type == PTW_DESC_TABLE
			       ? "next-level table address changed"
			       : "output address changed";
	if (o.type == PTW_DESC_TABLE)
		return NULL; /* table attributes (APTable etc.) are permissions
			      */
	if ((old ^ new) & A64_CONT)
		return "contiguous bit changed";
	if (old & ~new &A64_NG)
		return "non-global to global";
	if ((old ^ new) & A64_NS)
		return "NS (output address space) changed";
	if (!lpa2 && ((old ^ new) & A64_SH))
		return "shareability changed";
	if ((old ^ new) & A64_ATTRIDX) {
		unsigned oi = (old >> 2) & 7, ni = (new >> 2) & 7;
		if (!(mair_normal_or_tagged(mair, oi) &&
		      mair_normal_or_tagged(mair, ni)))
			return "memory type (AttrIndx) changed";
	}
	/* Safe without a break: AP, PXN, UXN, DBM, AF, software bits, GP,
	 * global -> non-global, ignored/PBHA bits (pgattr_change_is_safe()). */
	return NULL;
}

/* ---- instruction decoding ---- */

/* MSR (register): 1101 0101 0001 o0 op1 CRn CRm op2 Rt, op0 = 2 + o0 */
#define SYSREG(op0, op1, crn, crm, op2)                                        \
	(((op0) << 19) | ((op1) << 16) | ((crn) << 12) | ((crm) << 8) |        \
	 ((op2) << 5))

static const struct {
	uint32_t enc;
	ptw_reg reg;
} msr_regs[] = {
	{SYSREG(3, 0, 2, 0, 0), PTW_REG_ARM_TTBR0},
	{SYSREG(3, 0, 2, 0, 1), PTW_REG_ARM_TTBR1},
	{SYSREG(3, 0, 2, 0, 2), PTW_REG_ARM_TCR},
	{SYSREG(3, 0, 1, 0, 0), PTW_REG_ARM_SCTLR},
	{SYSREG(3, 0, 10, 2, 0), PTW_REG_ARM_MAIR},
	{SYSREG(3, 0, 4, 1, 0), PTW_REG_ARM_SP_EL0},
	/* VHE aliases used by a host kernel at EL2 (E2H=1) */
	{SYSREG(3, 5, 2, 0, 0), PTW_REG_ARM_TTBR0},
	{SYSREG(3, 5, 2, 0, 1), PTW_REG_ARM_TTBR1},
	{SYSREG(3, 5, 2, 0, 2), PTW_REG_ARM_TCR},
	{SYSREG(3, 5, 1, 0, 0), PTW_REG_ARM_SCTLR},
	{SYSREG(3, 5, 10, 2, 0), PTW_REG_ARM_MAIR},
};

bool ptw_arm64_direct_call(uint32_t w, uint64_t pc, uint64_t *target)
{
	if ((w & 0xfc000000u) != 0x94000000u) /* BL imm26 */
		return false;
	int64_t off = (int64_t)((uint64_t)(w & 0x03ffffffu) << 38) >> 36;
	*target = pc + (uint64_t)off;
	return true;
}

bool ptw_arm64_decode_insn(uint32_t w, ptw_a64_insn *out)
{
	out->op = PTW_A64_NONE;
	out->rt = w & 31;
	if ((w & 0xfff00000u) == 0xd5100000u) { /* MSR reg, L=0, op0=2/3 */
		uint32_t enc = w & 0x001fffe0u;
		for (unsigned i = 0; i < sizeof(msr_regs) / sizeof(msr_regs[0]);
		     i++) {
			if (msr_regs[i].enc == enc) {
				out->op = PTW_A64_MSR;
				out->reg = msr_regs[i].reg;
				return true;
			}
		}
		return false;
	}
	if ((w & 0xfff8f000u) == 0xd5088000u) { /* SYS op0=1, CRn=8: TLBI */
		out->op = PTW_A64_TLBI;
		out->op1 = (w >> 16) & 7;
		out->crm = (w >> 8) & 15;
		out->op2 = (w >> 5) & 7;
		return true;
	}
	/* DC ZVA, Xt: SYS #3, C7, C4, #1 (Arm ARM DDI 0487, chapter C5,
	 * "DC ZVA") */
	if ((w & 0xffffffe0u) == 0xd50b7420u) {
		out->op = PTW_A64_DC_ZVA;
		return true;
	}
	if ((w & 0xfffff0ffu) == 0xd503309fu) { /* DSB <option> */
		out->op = PTW_A64_DSB;
		out->crm = (w >> 8) & 15;
		/* crm 0 with op2=4 is SSBB etc.; only proper DSB options */
		return out->crm != 0 && out->crm != 4;
	}
	return false;
}

static const uint32_t a64_client_seq[PTW_CLIENT_SEQ_A64_WORDS] = {
	0x93cc0d8cu, /* ror x12, x12, #3 */
	0x93cc358cu, /* ror x12, x12, #13 */
	0x93cccd8cu, /* ror x12, x12, #51 */
	0x93ccf58cu, /* ror x12, x12, #61 */
	0xaa0d01adu, /* orr x13, x13, x13 */
};

bool ptw_arm64_is_client_seq(const uint32_t *w)
{
	for (int i = 0; i < PTW_CLIENT_SEQ_A64_WORDS; i++)
		if (w[i] != a64_client_seq[i])
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* the registers each CPU wrote (ptw_engine.arch) */

typedef struct {
	uint64_t ttbr[2], tcr, sctlr;
} a64_regs;

typedef struct {
	a64_regs cpu[PTW_MAX_CPUS];
	uint64_t mair; /* MAIR_EL1, as a CPU last wrote it */
	int bbm_level; /* ID_AA64MMFR2_EL1.BBM, -1 unknown */
} a64_state;

static a64_state *a64(const ptw_engine *e)
{
	return e->arch;
}

static void *a64_init(const ptw_engine *e)
{
	(void)e;
	a64_state *st = g_new0(a64_state, 1);
	st->bbm_level = -1;
	return st;
}

static int a64_bbm_level(const ptw_engine *e)
{
	return a64(e)->bbm_level;
}

/* DCZID_EL0: DZP (bit 4) set prohibits DC ZVA; BS (bits 3:0) is log2 of
 * the block it zeroes in 4-byte words (Arm ARM DDI 0487, "DCZID_EL0") */
unsigned ptw_arm64_dczva_block(uint64_t dczid)
{
	if (dczid & 0x10)
		return 0;
	return 4u << (dczid & 0xf);
}

/* ------------------------------------------------------------------ */
/* TLB maintenance */

static uint64_t sext(uint64_t v, unsigned bit)
{
	return (v & (1ULL << bit)) ? v | ~((1ULL << bit) - 1)
				   : v & ((1ULL << bit) - 1);
}

/* TLBI <op>, Xt (Arm ARM DDI 0487J.a "A64 system instructions for TLB
 * maintenance" and "TLB maintenance" in chapter D8): the VA forms take
 * VA[55:12] in Xt[43:0] and the ASID in Xt[63:48]; the range forms
 * (FEAT_TLBIRANGE) BaseADDR, NUM, SCALE and TG; the IS and OS forms are
 * broadcast to the Inner/Outer Shareable domain, the others act on the
 * issuing PE only. */
bool ptw_arm64_decode_tlbi(unsigned op1, unsigned crm, unsigned op2,
			   uint64_t xt, bool asid16, bool lpa2, inval_scope *s,
			   bool *broadcast, unsigned ps)
{
	uint64_t page = (1ULL << ps) - 1;
	memset(s, 0, sizeof(*s));
	*broadcast = crm == 1 || crm == 2 || crm == 3 || crm == 5;
	bool range = crm == 2 || crm == 5 || crm == 6;
	bool known = true;
	uint16_t asid = (uint16_t)(xt >> 48);
	if (!asid16)
		asid &= 0xff;
	if (op1 == 4 && crm == 4) {
		known = false; /* stage-2 IPA forms: not modelled */
	} else if (!range && (crm == 1 || crm == 3 || crm == 7)) {
		switch (op2) {
		case 0: /* VMALLE1 / ALLE2 / ALLE3 */
		case 4: /* ALLE1 (op1=4) */
		case 6: /* VMALLS12E1 (op1=4) */
			s->all = true;
			break;
		case 2: /* ASIDE1 */
			if (op1 == 0) {
				s->nonglobal = s->by_asid = true;
				s->asid = asid;
				s->scoped = true;
			} else
				s->all = true;
			break;
		case 1: /* VAE1 / VAE2 / VAE3 */
		case 5: /* VALE1 ... */
		case 3: /* VAAE1 */
		case 7: /* VAALE1 */
			s->by_va = true;
			s->scoped = true;
			/* VA[55:12] whatever the granule; the entry it
			 * invalidates maps the whole page around it */
			s->va_lo = s->va_hi =
				sext((xt & ((1ULL << 44) - 1)) << 12, 55) &
				~page;
			s->va_hi |= page;
			if (op1 == 0 && (op2 == 1 || op2 == 5)) {
				s->by_asid = true;
				s->asid = asid;
			}
			break;
		default:
			known = false;
		}
	} else if (range) {
		unsigned scale = (xt >> 44) & 3, num = (xt >> 39) & 31;
		uint64_t pages = (uint64_t)(num + 1) << (5 * scale + 1);
		uint64_t base = xt & ((1ULL << 37) - 1);
		unsigned tg = (xt >> 46) & 3;
		uint64_t gran = tg == 2 ? 16384 : tg == 3 ? 65536 : 4096;
		/* BaseADDR is in units of the granule TG names (of 64 KiB
		 * with LPA2): Linux's __TLBI_VADDR_RANGE() shifts by
		 * PAGE_SHIFT, or 16 */
		uint64_t va = lpa2 ? sext(base << 16, 52)
				   : sext(base << __builtin_ctzll(gran), 48);
		s->by_va = true;
		s->scoped = true;
		s->va_lo = va;
		s->va_hi = va + pages * gran - 1;
		if (op1 == 0 && (op2 == 1 || op2 == 5)) {
			s->by_asid = true;
			s->asid = asid;
		}
	} else {
		known = false;
	}
	if (!known) {
		memset(s, 0, sizeof(*s));
		s->all = true;
		*broadcast = true;
	}
	return known;
}

/* TCR_EL1.AS (bit 36): 16-bit ASIDs in TLBI operands (and TTBRs). Read
 * on the issuing vCPU's thread, which alone writes its registers; the
 * descriptor format (TCR_EL1.DS) is the engine's. */
bool ptw_arm64_tlbi(const ptw_engine *e, unsigned cpu, unsigned op1,
		    unsigned crm, unsigned op2, uint64_t xt, inval_scope *s,
		    bool *broadcast)
{
	uint64_t tcr = __atomic_load_n(&a64(e)->cpu[cpu].tcr, __ATOMIC_RELAXED);
	bool lpa2 = __atomic_load_n(&e->lpa2, __ATOMIC_RELAXED);
	unsigned ps = __atomic_load_n(&e->page_shift, __ATOMIC_RELAXED);
	return ptw_arm64_decode_tlbi(op1, crm, op2, xt, (tcr >> 36) & 1, lpa2,
				     s, broadcast, ps);
}

/* ------------------------------------------------------------------ */
/* the architecture interface */

static unsigned a64_entry_shift(const ptw_engine *e, int level)
{
	return level_shift(e->page_shift, level);
}

/* the contiguous bit's group (Arm ARM DDI 0487 D8.6.1 "The Contiguous
 * bit"): 16 entries at levels 2 and 3 with the 4K granule; 128 at level
 * 3 and 32 at level 2 with 16K */
static unsigned a64_cont_entries(const ptw_engine *e, int level)
{
	if (e->page_shift == 14)
		return level == 3 ? 128 : 32;
	return 16;
}

static ptw_desc a64_decode(const ptw_engine *e, uint64_t d, int level)
{
	return ptw_arm64_decode(d, level, e->lpa2, e->page_shift);
}

static uint64_t a64_canonical(const ptw_engine *e, uint64_t va)
{
	(void)e;
	return va;
}

static bool a64_upper_half(uint64_t va)
{
	return (va >> 55) & 1;
}

/* A return address saved by a function built with pointer
 * authentication (PACIASP signs x30 before it is stored) carries its code
 * in the bits above the VA; XPACI strips them, which for code below 2^48
 * (the kernel image, modules and user programs) is bits 63:48 set to bit
 * 55 (Arm ARM D8.10 "Pointer authentication"). */
static uint64_t a64_code_address(uint64_t saved)
{
	const uint64_t top = 0xffff000000000000ULL;
	return (saved >> 55) & 1 ? saved | top : saved & ~top;
}

static unsigned a64_root_index(uint64_t va)
{
	return (va >> 55) & 1;
}

static bool a64_global(const ptw_engine *e, unsigned cpu, uint64_t desc)
{
	(void)e;
	(void)cpu;
	return !(desc & A64_NG);
}

/* FEAT_HAFDBS: AF set by hardware; with DBM, AP[2] cleared on write (Arm
 * ARM DDI 0487, "Hardware management of the Access flag and dirty state")
 */
static uint64_t a64_hw_managed(uint64_t old, uint64_t new)
{
	uint64_t m = A64_AF;
	if (old & new &A64_DBM)
		m |= A64_RDONLY;
	return m;
}

/* FEAT_HAFDBS: a write through an entry with DBM clears AP[2] */
static bool a64_hw_dirty(uint64_t desc)
{
	return (desc & A64_VALID) && (desc & A64_DBM) && !(desc & A64_RDONLY);
}

static const char *a64_bbm_reason(const ptw_engine *e, uint64_t old,
				  uint64_t new, int level)
{
	return ptw_arm64_bbm_reason(old, new, level, e->lpa2, a64(e)->mair,
				    e->page_shift);
}

static uint64_t a64_unit_attr_mask(const ptw_engine *e)
{
	/* the output address, AF and AP[2] (dirty state with DBM), and with
	 * LPA2 OA[51:50] in bits 9:8 */
	return ~((((1ULL << 50) - 1) & ~0xfffULL) | A64_AF | A64_RDONLY |
		 (e->lpa2 ? A64_SH : 0));
}

/* SCTLR_EL1.M; TCR_EL1: T0SZ/T1SZ, EPD0/1, TG0/TG1, A1 (which TTBR holds
 * the ASID), AS (16-bit ASIDs), DS (LPA2) */
static void a64_roots(const ptw_engine *e, unsigned cpu, ptw_root_spec *out)
{
	const a64_regs *cs = &a64(e)->cpu[cpu];
	memset(out, 0, sizeof(*out));
	out->on = cs->sctlr & 1;
	out->off_why = "turned its MMU off (SCTLR_EL1.M=0)";
	uint64_t tcr = cs->tcr;
	out->lpa2 = (tcr >> 59) & 1;
	if (!out->on)
		return;
	unsigned as16 = (tcr >> 36) & 1;
	unsigned a1 = (tcr >> 22) & 1;
	uint16_t asid = (uint16_t)(cs->ttbr[a1] >> 48);
	if (!as16)
		asid &= 0xff;
	/* the granule: TG1 (the kernel's half) decides, TTBR0 must agree
	 * (Linux gives both halves its PAGE_SIZE); TG0 4K 0, 16K 2, 64K 1;
	 * TG1 4K 2, 16K 1, 64K 3 */
	unsigned tg1 = (tcr >> 30) & 3, tg0 = (tcr >> 14) & 3;
	unsigned ps1 = tg1 == 2 ? 12 : tg1 == 1 ? 14 : 0;
	unsigned ps0 = tg0 == 0 ? 12 : tg0 == 2 ? 14 : 0;
	bool epd1 = (tcr >> 23) & 1;
	out->page_shift = !epd1 && ps1 ? ps1 : ps0;
	for (int i = 0; i < 2; i++) {
		unsigned tsz = i ? (tcr >> 16) & 63 : tcr & 63;
		bool epd = i ? (tcr >> 23) & 1 : (tcr >> 7) & 1;
		unsigned tg = i ? tg1 : tg0;
		unsigned ps = i ? ps1 : ps0;
		bool ok = ps && ps == out->page_shift;
		int start;
		unsigned nent;
		if (!epd && !ok) {
			/* once per half and TG value, and only for a half in
			 * use: a guest that never loads TTBR1 may leave TG1 at
			 * a reserved value */
			bool reserved = i ? tg == 0 : tg == 3;
			if (cs->ttbr[i] != 0) {
				out->root[i].warn_key = 1u << (i * 4 + tg);
				snprintf(out->root[i].warn,
					 sizeof(out->root[i].warn),
					 "vcpu %u TTBR%d (0x%" PRIx64
					 ") uses %s (TCR_EL1.TG%d=%u): its "
					 "tables are not tracked",
					 cpu, i, cs->ttbr[i],
					 reserved ? "a reserved granule"
					 : ps	  ? "a granule other than the "
						    "other half's"
						  : "the 64K granule",
					 i, tg);
			}
		} else if (!epd && ptw_arm64_geometry(tsz, &start, &nent, ps)) {
			out->root[i].valid = true;
			out->root[i].pa =
				ptw_arm64_ttbr_baddr(cs->ttbr[i], out->lpa2);
			out->root[i].va_base = i ? ~0ULL << (64 - tsz) : 0;
			out->root[i].start_level = start;
			out->root[i].nent = nent;
			out->root[i].asid = asid;
		}
	}
}

/* A write to one of the registers the engine follows (Arm ARM DDI 0487,
 * the AArch64 system register descriptions): TTBR0_EL1, TTBR1_EL1,
 * TCR_EL1 and SCTLR_EL1 name the roots (a64_roots: SCTLR_EL1.M is bit 0);
 * MAIR_EL1 the memory types break-before-make compares;
 * ID_AA64MMFR2_EL1.BBM (bits 55:52) the CPU's FEAT_BBM level; SP_EL0, on
 * Linux, the current task (guest_linux.c). */
static void a64_sysreg(ptw_engine *e, unsigned cpu, ptw_reg reg, uint64_t value,
		       ptw_sysreg_effect *fx)
{
	a64_state *st = a64(e);
	a64_regs *cs = &st->cpu[cpu];
	switch (reg) {
	case PTW_REG_ARM_TTBR0:
	case PTW_REG_ARM_TTBR1:
	case PTW_REG_ARM_TCR:
	case PTW_REG_ARM_SCTLR: {
		uint64_t *slot = reg == PTW_REG_ARM_TTBR0   ? &cs->ttbr[0]
				 : reg == PTW_REG_ARM_TTBR1 ? &cs->ttbr[1]
				 : reg == PTW_REG_ARM_TCR   ? &cs->tcr
							    : &cs->sctlr;
		if (*slot != value ||
		    (reg == PTW_REG_ARM_SCTLR &&
		     (bool)(value & 1) != e->cpu[cpu].mmu_on)) {
			*slot = value;
			fx->roots = true;
		}
		break;
	}
	case PTW_REG_ARM_MAIR:
		st->mair = value;
		break;
	case PTW_REG_ARM_SP_EL0:
		fx->task = ptw_linux_arm64_task(value);
		break;
	case PTW_REG_ARM_ID_AA64MMFR2:
		if (st->bbm_level < 0) {
			st->bbm_level = (int)((value >> 52) & 0xf);
			snprintf(fx->note, sizeof(fx->note),
				 "note: the guest CPU advertises FEAT_BBM "
				 "level %d; ptwatch applies the strict "
				 "rule (every block/table size change "
				 "needs a break), as Linux 6.12 does",
				 st->bbm_level);
		}
		break;
	default: /* not an arm64 register */
		break;
	}
}

/* DSB <option>: CRm is the option (Arm ARM DDI 0487J.a, the DSB instruction).
 * The options SY (0b1111), ISH (0b1011), NSH (0b0111) and OSH (0b0011) are full
 * barriers: they complete the PE's earlier TLB maintenance (Arm ARM
 * chapter D8, "Ordering and completion of TLB maintenance instructions"),
 * NSH only for the PE's own TLB; the ST and LD variants do not complete
 * TLB maintenance, but every DSB makes the PE's earlier stores visible to
 * the translation table walks that follow. */
static void a64_barrier(unsigned crm, ptw_barrier *out)
{
	out->completes_maintenance =
		crm == 0xf || crm == 0xb || crm == 0x7 || crm == 0x3;
	out->local = crm == 0x7;
}

/* EL0 may pass this entry: a page or block descriptor with AP[1] (bit 6)
 * set grants EL0 access; a table descriptor with APTable[0] (bit 61) set
 * takes EL0 access away for everything below it (Arm ARM DDI 0487J.a chapter
 * D8, "Data access permissions", D8.4.2 "Hierarchical permissions"). */
static bool a64_user_ok(uint64_t desc, bool leaf)
{
	return leaf ? (desc >> 6) & 1 : !((desc >> 61) & 1);
}

/* A leaf writes may go through: AP[2] (bit 7) clear, or DBM (bit 51) set,
 * with which the MMU clears AP[2] on the first write (Arm ARM DDI 0487J.a
 * chapter D8, "Hardware management of the dirty state"; Linux's
 * pte_write() tests PTE_WRITE, which is PTE_DBM). */
static bool a64_writable(uint64_t desc)
{
	return !((desc >> 7) & 1) || ((desc >> 51) & 1);
}

const ptw_arch_ops ptw_arch_arm64_ops = {
	.name = "arm64",
	.last_level = 3,
	.level_step = 1,
	.entry_shift = a64_entry_shift,
	.cont_entries = a64_cont_entries,
	.decode = a64_decode,
	.canonical = a64_canonical,
	.upper_half = a64_upper_half,
	.root_index = a64_root_index,
	.shared_upper = false,
	.global = a64_global,
	.hw_managed = a64_hw_managed,
	.hw_dirty = a64_hw_dirty,
	.bbm_reason = a64_bbm_reason,
	.cont_bit = A64_CONT,
	.unit_attr_mask = a64_unit_attr_mask,
	.roots = a64_roots,
	.sysreg = a64_sysreg,
	.init = a64_init,
	.bbm_level = a64_bbm_level,
	.client_gpr = {0, 1, 2, 3, 4}, /* x0; x1..x4 */
	/* AAPCS64 (IHI 0055) 6.8.2: x0..x7 carry the integer arguments */
	.call_arg_gpr = {0, 1, 2, 3, 4, 5},
	.frame_gpr = 29, /* AAPCS64 6.2.3: x29 heads the frame records */
	.sp_gpr = -1,
	.link_gpr = 30, /* AAPCS64 6.2.1: x30, the link register */
	.direct_call4 = ptw_arm64_direct_call,
	.code_address = a64_code_address,
	.barrier = a64_barrier,
	.user_ok = a64_user_ok,
	.writable = a64_writable,
};
