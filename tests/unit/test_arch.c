/* SPDX-License-Identifier: MIT */
/* Descriptor and instruction decoding, arm64 (48-bit, LPA2) and x86-64. */
#include <string.h>

#include "engine_internal.h"
#include "tap.h"

static void arm64_48bit_descriptors(void)
{
	/* level 3 page: OA bits 47:12 */
	ptw_desc d = ptw_arm64_decode(0x00600000412344f3ULL, 3, false, 12);
	CHECK_EQ(d.type, PTW_DESC_PAGE);
	CHECK_EQ(d.oa, 0x41234000ULL);
	CHECK_EQ(d.size, 4096);
	/* level 3 with bit 1 clear is reserved: invalid */
	d = ptw_arm64_decode(0x41234001ULL, 3, false, 12);
	CHECK_EQ(d.type, PTW_DESC_INVALID);
	/* level 2 block: 2 MiB, OA bits 47:21 */
	d = ptw_arm64_decode(0x0000000040200701ULL | (0x1fULL << 12), 2, false,
			     12);
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.oa, 0x40200000ULL);
	CHECK_EQ(d.size, 2ULL << 20);
	/* level 1 block: 1 GiB */
	d = ptw_arm64_decode(0x0000000080000701ULL, 1, false, 12);
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.oa, 0x80000000ULL);
	/* level 0 block is not allowed without LPA2 */
	d = ptw_arm64_decode(0x0000008000000701ULL, 0, false, 12);
	CHECK_EQ(d.type, PTW_DESC_INVALID);
	/* table at level 0 */
	d = ptw_arm64_decode(0x0000000041000003ULL, 0, false, 12);
	CHECK_EQ(d.type, PTW_DESC_TABLE);
	CHECK_EQ(d.oa, 0x41000000ULL);
	/* high OA bits 47:40 */
	d = ptw_arm64_decode(0x0000ab0000001003ULL, 3, false, 12);
	CHECK_EQ(d.oa, 0x0000ab0000001000ULL);
	/* bits 9:8 are shareability without LPA2, not address */
	d = ptw_arm64_decode(0x0000000041000303ULL, 3, false, 12);
	CHECK_EQ(d.oa, 0x41000000ULL);
}

static void arm64_lpa2_descriptors(void)
{
	/* LPA2: OA[49:12] in bits 49:12, OA[51:50] in bits 9:8 */
	uint64_t desc = (0x3ULL << 48) | 0x41000000ULL | (0x2ULL << 8) | 3;
	ptw_desc d = ptw_arm64_decode(desc, 3, true, 12);
	CHECK_EQ(d.type, PTW_DESC_PAGE);
	CHECK_EQ(d.oa, (0x2ULL << 50) | (0x3ULL << 48) | 0x41000000ULL);
	/* level 0 block allowed with LPA2: 512 GiB */
	d = ptw_arm64_decode((1ULL << 39) | 1, 0, true, 12);
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.size, 1ULL << 39);
	CHECK_EQ(d.oa, 1ULL << 39);
	/* level -1: only tables */
	d = ptw_arm64_decode(0x41000003ULL, -1, true, 12);
	CHECK_EQ(d.type, PTW_DESC_TABLE);
	d = ptw_arm64_decode(0x41000001ULL, -1, true, 12);
	CHECK_EQ(d.type, PTW_DESC_INVALID);
	/* geometry */
	int start;
	unsigned nent;
	CHECK(ptw_arm64_geometry(16, &start, &nent, 12));
	CHECK_EQ(start, 0);
	CHECK_EQ(nent, 512);
	CHECK(ptw_arm64_geometry(12, &start, &nent, 12));
	CHECK_EQ((uint64_t)(int64_t)start, (uint64_t)(int64_t)-1);
	CHECK_EQ(nent, 16);
	CHECK(ptw_arm64_geometry(25, &start, &nent, 12)); /* 39-bit */
	CHECK_EQ(start, 1);
	CHECK_EQ(nent, 512);
	CHECK(ptw_arm64_geometry(24, &start, &nent, 12)); /* 40-bit */
	CHECK_EQ(start, 0);
	CHECK_EQ(nent, 2);
	CHECK(!ptw_arm64_geometry(60, &start, &nent, 12));
	/* the 16K granule (Linux's arm64-16k: 47-bit VAs, 3 levels from
	 * level 1; 48 bits adds a 2-entry level 0; 52 bits with LPA2 a
	 * 32-entry one): 11 index bits a level */
	CHECK(ptw_arm64_geometry(17, &start, &nent, 14));
	CHECK_EQ(start, 1);
	CHECK_EQ(nent, 2048);
	CHECK(ptw_arm64_geometry(16, &start, &nent, 14));
	CHECK_EQ(start, 0);
	CHECK_EQ(nent, 2);
	CHECK(ptw_arm64_geometry(12, &start, &nent, 14));
	CHECK_EQ(start, 0);
	CHECK_EQ(nent, 32);
	CHECK(ptw_arm64_geometry(28, &start, &nent, 14)); /* 36-bit */
	CHECK_EQ(start, 2);
	CHECK_EQ(nent, 2048);
	CHECK(!ptw_arm64_geometry(16, &start, &nent, 16)); /* 64K: no */
	/* 16K descriptors: pages of 16 KiB (OA from bit 14), blocks of 32
	 * MiB at level 2; none at level 1 without LPA2, 64 GiB with it */
	d = ptw_arm64_decode(0x00600000412344f3ULL | (1ULL << 13), 3, false,
			     14);
	CHECK_EQ(d.type, PTW_DESC_PAGE);
	CHECK_EQ(d.size, 16384);
	CHECK_EQ(d.oa, 0x41234000ULL);
	d = ptw_arm64_decode(0x0000000042000701ULL, 2, false, 14);
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.size, 32ULL << 20);
	CHECK_EQ(d.oa, 0x42000000ULL);
	d = ptw_arm64_decode(0x0000001000000701ULL, 1, false, 14);
	CHECK_EQ(d.type, PTW_DESC_INVALID);
	d = ptw_arm64_decode(0x0000001000000701ULL, 1, true, 14);
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.size, 64ULL << 30);
	d = ptw_arm64_decode(0x0000000041238003ULL, 1, false, 14);
	CHECK_EQ(d.type, PTW_DESC_TABLE);
	CHECK_EQ(d.oa, 0x41238000ULL);
	/* TTBR with LPA2: BADDR[51:48] in bits 5:2, CnP in bit 0 */
	uint64_t ttbr = (5ULL << 48) | 0x41234000ULL | (0x3ULL << 2) | 1;
	CHECK_EQ(ptw_arm64_ttbr_baddr(ttbr, true),
		 (0x3ULL << 48) | 0x41234000ULL);
	CHECK_EQ(ptw_arm64_ttbr_baddr(ttbr & ~(0xfULL << 2), false),
		 0x41234000ULL);
}

static void arm64_bbm_rule(void)
{
	uint64_t mair = 0x000000000044ff00ULL | 0xf0ULL << 32; /* idx1 normal */
	uint64_t base = 0x0040000041000000ULL | (1 << 10) | (3 << 8) |
			(1 << 2) | 3; /* AF, ISH, AttrIndx 1 */
	uint64_t other = (base & ~0xfffff000ULL) | 0x41001000ULL;
	CHECK(ptw_arm64_bbm_reason(base, other, 3, false, mair, 12) != NULL);
	/* permission only: AP[2], PXN, UXN, DBM, AF, SW bits: fine */
	CHECK(!ptw_arm64_bbm_reason(base, base | (1 << 7), 3, false, mair, 12));
	CHECK(!ptw_arm64_bbm_reason(base, base | (3ULL << 53), 3, false, mair,
				    12));
	CHECK(!ptw_arm64_bbm_reason(base, base | (1ULL << 51), 3, false, mair,
				    12));
	CHECK(!ptw_arm64_bbm_reason(base, base & ~(1ULL << 10), 3, false, mair,
				    12));
	CHECK(!ptw_arm64_bbm_reason(base, base | (0xfULL << 55), 3, false, mair,
				    12));
	/* global -> non-global fine, non-global -> global not */
	CHECK(!ptw_arm64_bbm_reason(base, base | (1 << 11), 3, false, mair,
				    12));
	CHECK(ptw_arm64_bbm_reason(base | (1 << 11), base, 3, false, mair, 12));
	/* contiguous bit change */
	CHECK(ptw_arm64_bbm_reason(base, base | (1ULL << 52), 3, false, mair,
				   12));
	/* permission change on a contiguous entry is allowed */
	CHECK(!ptw_arm64_bbm_reason(base | (1ULL << 52),
				    base | (1ULL << 52) | (1 << 7), 3, false,
				    mair, 12));
	/* memory type: Normal (idx1 0xff) <-> Normal-Tagged (idx4 0xf0) ok */
	uint64_t tagged = (base & ~(7ULL << 2)) | (4 << 2);
	CHECK(!ptw_arm64_bbm_reason(base, tagged, 3, false, mair, 12));
	/* Normal -> Device (idx0 0x00) needs a break */
	uint64_t dev = base & ~(7ULL << 2);
	CHECK(ptw_arm64_bbm_reason(base, dev, 3, false, mair, 12));
	/* shareability change needs a break (not with LPA2: bits are OA) */
	CHECK(ptw_arm64_bbm_reason(base, base & ~(3ULL << 8), 3, false, mair,
				   12));
	/* invalid <-> valid is never a violation */
	CHECK(!ptw_arm64_bbm_reason(0, base, 3, false, mair, 12));
	CHECK(!ptw_arm64_bbm_reason(base, base & ~1ULL, 3, false, mair, 12));
	/* block -> table at level 2 */
	uint64_t blk = 0x40200000ULL | (1 << 10) | 1;
	uint64_t tbl = 0x41100000ULL | 3;
	const char *why = ptw_arm64_bbm_reason(blk, tbl, 2, false, mair, 12);
	CHECK(why && strstr(why, "block replaced by table"));
	CHECK(ptw_arm64_bbm_reason(tbl, blk, 2, false, mair, 12));
	CHECK(ptw_arm64_bbm_reason(tbl, tbl + 0x1000, 2, false, mair, 12));
	CHECK(!ptw_arm64_bbm_reason(tbl, tbl | (1ULL << 63), 2, false, mair,
				    12));
}

static void hw_managed(void)
{
	CHECK_EQ(ptw_hw_managed_bits(PTW_ARCH_X86_64, 0, 0), 0x60);
	CHECK_EQ(ptw_hw_managed_bits(PTW_ARCH_ARM64, 0, 0), 1 << 10);
	uint64_t dbm = 1ULL << 51;
	CHECK_EQ(ptw_hw_managed_bits(PTW_ARCH_ARM64, dbm, dbm),
		 (1 << 10) | (1 << 7));
}

static void x86_descriptors(void)
{
	/* 4-level: PML4 (4) -> PDPT (3) -> PD (2) -> PT (1) */
	ptw_desc d = ptw_x86_decode(0x0000000001234067ULL, 4);
	CHECK_EQ(d.type, PTW_DESC_TABLE);
	CHECK_EQ(d.oa, 0x1234000ULL);
	d = ptw_x86_decode(0x00000000400000e3ULL, 3); /* 1 GiB page */
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.size, 1ULL << 30);
	CHECK_EQ(d.oa, 0x40000000ULL);
	d = ptw_x86_decode(0x00000000002010e3ULL, 2); /* 2 MiB, PAT bit 12 */
	CHECK_EQ(d.type, PTW_DESC_BLOCK);
	CHECK_EQ(d.oa, 0x200000ULL);
	d = ptw_x86_decode(0x80000000deadb063ULL, 1); /* XD bit, 4K */
	CHECK_EQ(d.type, PTW_DESC_PAGE);
	CHECK_EQ(d.oa, 0xdeadb000ULL);
	/* PS at level 1 is PAT, still a 4K page */
	d = ptw_x86_decode(0x00000000deadb0e3ULL, 1);
	CHECK_EQ(d.type, PTW_DESC_PAGE);
	/* 5-level: PML5 entries are tables; PS ignored at 4 and 5 */
	d = ptw_x86_decode(0x0000000001234067ULL, 5);
	CHECK_EQ(d.type, PTW_DESC_TABLE);
	d = ptw_x86_decode(0x0000000001234000ULL, 5);
	CHECK_EQ(d.type, PTW_DESC_INVALID);
	/* swap entry (not present) */
	d = ptw_x86_decode(0x7ffffffffff00000ULL, 1);
	CHECK_EQ(d.type, PTW_DESC_INVALID);
}

static void arm64_insns(void)
{
	ptw_a64_insn d;
	CHECK(ptw_arm64_decode_insn(0xd5182001u, &d)); /* msr ttbr0_el1, x1 */
	CHECK_EQ(d.op, PTW_A64_MSR);
	CHECK_EQ(d.reg, PTW_REG_ARM_TTBR0);
	CHECK_EQ(d.rt, 1);
	CHECK(ptw_arm64_decode_insn(0xd5182020u, &d)); /* msr ttbr1_el1, x0 */
	CHECK_EQ(d.reg, PTW_REG_ARM_TTBR1);
	CHECK(ptw_arm64_decode_insn(0xd5182043u, &d)); /* msr tcr_el1, x3 */
	CHECK_EQ(d.reg, PTW_REG_ARM_TCR);
	CHECK(ptw_arm64_decode_insn(0xd5181000u, &d)); /* msr sctlr_el1, x0 */
	CHECK_EQ(d.reg, PTW_REG_ARM_SCTLR);
	CHECK(ptw_arm64_decode_insn(0xd518a200u, &d)); /* msr mair_el1, x0 */
	CHECK_EQ(d.reg, PTW_REG_ARM_MAIR);
	CHECK(!ptw_arm64_decode_insn(0xd5184000u, &d)); /* msr spsr_el1 */
	uint64_t to;
	CHECK(ptw_arm64_direct_call(0x94000010u, 0xffff800080010000ULL, &to));
	CHECK_EQ(to, 0xffff800080010040ULL); /* bl .+0x40 */
	CHECK(ptw_arm64_direct_call(0x97ffffffu, 0xffff800080010000ULL, &to));
	CHECK_EQ(to, 0xffff80008000fffcULL);		    /* bl .-4 */
	CHECK(!ptw_arm64_direct_call(0x14000010u, 0, &to)); /* b */
	CHECK(ptw_arm64_decode_insn(0xd5184101u, &d));	    /* msr sp_el0, x1 */
	CHECK_EQ(d.reg, PTW_REG_ARM_SP_EL0);
	CHECK_EQ(d.rt, 1);
	CHECK(ptw_arm64_decode_insn(0xd508833fu, &d)); /* tlbi vae1is, x31? */
	CHECK_EQ(d.op, PTW_A64_TLBI);
	CHECK_EQ(d.crm, 3);
	CHECK_EQ(d.op2, 1);
	CHECK(ptw_arm64_decode_insn(0xd508871fu, &d)); /* tlbi vmalle1 */
	CHECK_EQ(d.crm, 7);
	CHECK_EQ(d.op2, 0);
	CHECK(ptw_arm64_decode_insn(0xd5088220u, &d)); /* tlbi rvae1is, x0 */
	CHECK_EQ(d.crm, 2);
	CHECK_EQ(d.op2, 1);
	CHECK(ptw_arm64_decode_insn(0xd5033b9fu, &d)); /* dsb ish */
	CHECK_EQ(d.op, PTW_A64_DSB);
	CHECK_EQ(d.crm, 0xb);
	CHECK(!ptw_arm64_decode_insn(0xd5033bbfu, &d)); /* dmb ish */
	CHECK(!ptw_arm64_decode_insn(0xd503201fu, &d)); /* nop */
	uint32_t seq[5] = {0x93cc0d8cu, 0x93cc358cu, 0x93cccd8cu, 0x93ccf58cu,
			   0xaa0d01adu};
	CHECK(ptw_arm64_is_client_seq(seq));
	seq[4] = 0xaa0a014au; /* valgrind's orr x10,x10,x10 is not ours */
	CHECK(!ptw_arm64_is_client_seq(seq));
}

static void x86_insns(void)
{
	ptw_x86_insn d;
	const uint8_t mov_cr3_rax[] = {0x0f, 0x22, 0xd8};
	CHECK(ptw_x86_decode_insn(mov_cr3_rax, 3, &d));
	CHECK_EQ(d.op, PTW_X86_MOV_TO_CR);
	CHECK_EQ(d.cr, 3);
	CHECK_EQ(d.gpr, 0);
	const uint8_t mov_cr4_r9[] = {0x41, 0x0f, 0x22, 0xe1};
	CHECK(ptw_x86_decode_insn(mov_cr4_r9, 4, &d));
	CHECK_EQ(d.cr, 4);
	CHECK_EQ(d.gpr, 9);
	const uint8_t invlpg_rax[] = {0x0f, 0x01, 0x38};
	CHECK(ptw_x86_decode_insn(invlpg_rax, 3, &d));
	CHECK_EQ(d.op, PTW_X86_INVLPG);
	CHECK_EQ(d.base, 0);
	CHECK_EQ((uint64_t)(int64_t)d.index, (uint64_t)(int64_t)-1);
	CHECK_EQ(d.len, 3);
	/* invlpg 0x10(%r12,%rbx,4): REX.B, SIB base=r12 index=rbx, disp8 */
	const uint8_t invlpg_sib[] = {0x41, 0x0f, 0x01, 0x7c, 0x9c, 0x10};
	CHECK(ptw_x86_decode_insn(invlpg_sib, 6, &d));
	CHECK_EQ(d.base, 12);
	CHECK_EQ(d.index, 3);
	CHECK_EQ(d.scale, 4);
	CHECK_EQ(d.disp, 0x10);
	CHECK_EQ(d.len, 6);
	/* invlpg 0x100(%rip) */
	const uint8_t invlpg_rip[] = {0x0f, 0x01, 0x3d, 0x00, 0x01, 0, 0};
	CHECK(ptw_x86_decode_insn(invlpg_rip, 7, &d));
	CHECK_EQ(d.base, 16);
	CHECK_EQ(d.disp, 0x100);
	CHECK_EQ(d.len, 7);
	/* lgdt (0f 01 /2) is not invlpg; swapgs (0f 01 f8) neither */
	const uint8_t lgdt[] = {0x0f, 0x01, 0x10};
	CHECK(!ptw_x86_decode_insn(lgdt, 3, &d));
	const uint8_t swapgs[] = {0x0f, 0x01, 0xf8};
	CHECK(!ptw_x86_decode_insn(swapgs, 3, &d));
	const uint8_t invpcid[] = {0x66, 0x0f, 0x38, 0x82, 0x07};
	CHECK(ptw_x86_decode_insn(invpcid, 5, &d));
	CHECK_EQ(d.op, PTW_X86_INVPCID);
	CHECK_EQ(d.gpr, 0);
	/* __switch_to's current task store (Linux 6.12, from its vmlinux):
	 * mov %rbx, %gs:0x7effe729(%rip), wrapping to pcpu_hot */
	const uint8_t gs_rip[] = {0x65, 0x48, 0x89, 0x1d,
				  0x29, 0xe7, 0xff, 0x7e};
	CHECK(ptw_x86_decode_insn(gs_rip, 8, &d));
	CHECK_EQ(d.op, PTW_X86_GS_STORE64);
	CHECK_EQ(d.gpr, 3);
	CHECK_EQ(d.base, 16);
	CHECK_EQ(d.len, 8);
	CHECK_EQ(0xffffffff8102438fULL + d.len + (uint64_t)d.disp, 0x22ac0);
	/* mov %r8, %gs:0x22ac0 (absolute, SIB without base or index) */
	const uint8_t gs_abs[] = {0x65, 0x4c, 0x89, 0x04, 0x25,
				  0xc0, 0x2a, 0x02, 0x00};
	CHECK(ptw_x86_decode_insn(gs_abs, 9, &d));
	CHECK_EQ(d.op, PTW_X86_GS_STORE64);
	CHECK_EQ(d.gpr, 8);
	CHECK_EQ((uint64_t)(int64_t)d.base, (uint64_t)(int64_t)-1);
	CHECK_EQ((uint64_t)(int64_t)d.index, (uint64_t)(int64_t)-1);
	CHECK_EQ(d.disp, 0x22ac0);
	/* not a GS store: a plain store, a 32-bit one, a GS load */
	const uint8_t plain[] = {0x48, 0x89, 0x1d, 0x29, 0xe7, 0xff, 0x7e};
	CHECK(!ptw_x86_decode_insn(plain, 7, &d));
	const uint8_t gs32[] = {0x65, 0x89, 0x1d, 0x29, 0xe7, 0xff, 0x7e};
	CHECK(!ptw_x86_decode_insn(gs32, 7, &d));
	const uint8_t gsload[] = {0x65, 0x48, 0x8b, 0x05,
				  0x94, 0xe4, 0xff, 0x7e};
	CHECK(!ptw_x86_decode_insn(gsload, 8, &d));
	uint64_t to;
	const uint8_t call_back[] = {0xe8, 0xfb, 0xff, 0xff, 0xff};
	CHECK(ptw_x86_direct_call(call_back, 5, 0xffffffff81000000ULL, &to));
	CHECK_EQ(to, 0xffffffff81000000ULL);
	const uint8_t call_fwd[] = {0xe8, 0x00, 0x01, 0x00, 0x00};
	CHECK(ptw_x86_direct_call(call_fwd, 5, 0xffffffff81000000ULL, &to));
	CHECK_EQ(to, 0xffffffff81000105ULL);
	CHECK(!ptw_x86_direct_call(call_fwd, 4, 0, &to));
	const uint8_t jmp[] = {0xe9, 0x00, 0x01, 0x00, 0x00};
	CHECK(!ptw_x86_direct_call(jmp, 5, 0, &to));
	const uint8_t wrmsr[] = {0x0f, 0x30};
	CHECK(ptw_x86_decode_insn(wrmsr, 2, &d));
	CHECK_EQ(d.op, PTW_X86_WRMSR);
	const uint8_t seq[19] = {0x48, 0xc1, 0xc7, 0x03, 0x48, 0xc1, 0xc7,
				 0x0d, 0x48, 0xc1, 0xc7, 0x3d, 0x48, 0xc1,
				 0xc7, 0x33, 0x4d, 0x87, 0xed};
	CHECK(ptw_x86_is_client_seq(seq));
}

static void kind_names(void)
{
	for (int k = 1; k < PTW_KIND_COUNT; k++)
		CHECK_EQ(ptw_kind_from_name(ptw_kind_name((ptw_kind)k)), k);
	CHECK_EQ(ptw_kind_from_name("NOPE"), PTW_KIND_NONE);
}

/* TLBI encodings -> scopes, as pure functions (Casemate's decode_tlbi) */
/* return addresses saved by PACIASP-signed functions: the code address
 * without the pointer-authentication code (kernel: bits 63:48 set; user:
 * cleared); x86-64 saves them as they are; the frame pointers */
static void return_addresses(void)
{
	const ptw_arch_ops *a = &ptw_arch_arm64_ops, *x = &ptw_arch_x86_ops;
	CHECK_EQ(a->code_address(0xffff8000801234a0ULL), 0xffff8000801234a0ULL);
	CHECK_EQ(a->code_address(0x00a5800080123400ULL | (1ULL << 55)),
		 0xffff800080123400ULL);
	CHECK_EQ(a->code_address(0x003a000000401b44ULL), 0x401b44ULL);
	CHECK_EQ(x->code_address(0xffffffff811ab271ULL), 0xffffffff811ab271ULL);
	CHECK_EQ(a->frame_gpr, 29);
	CHECK_EQ(x->frame_gpr, 5);
}

static void arm64_tlbi_scopes(void)
{
	inval_scope s;
	bool bc;
	const uint64_t va = 0x0000ffff12345000ULL, kva = 0xffff800080123000ULL;
	/* TLBI VAE1IS, ASID 5: one page of one ASID, broadcast */
	CHECK(ptw_arm64_decode_tlbi(0, 3, 1, 5ULL << 48 | va >> 12, true, false,
				    &s, &bc, 12));
	CHECK(bc && s.by_va && s.by_asid && s.scoped && !s.all);
	CHECK_EQ(s.asid, 5);
	CHECK_EQ(s.va_lo, va);
	CHECK_EQ(s.va_hi, va | 0xfff);
	/* TLBI VALE1 (CRm 7): local */
	CHECK(ptw_arm64_decode_tlbi(0, 7, 5, va >> 12, true, false, &s, &bc,
				    12));
	CHECK(!bc && s.by_va && s.by_asid);
	/* TLBI VAAE1IS: any ASID; an upper-half VA sign-extends from bit 55 */
	CHECK(ptw_arm64_decode_tlbi(0, 3, 3, (kva >> 12) & ((1ULL << 44) - 1),
				    true, false, &s, &bc, 12));
	CHECK(bc && s.by_va && !s.by_asid);
	CHECK_EQ(s.va_lo, kva);
	/* TLBI ASIDE1IS with 8-bit ASIDs (TCR_EL1.AS clear) */
	CHECK(ptw_arm64_decode_tlbi(0, 3, 2, 0x1234ULL << 48, false, false, &s,
				    &bc, 12));
	CHECK(bc && s.nonglobal && s.by_asid && !s.by_va);
	CHECK_EQ(s.asid, 0x34);
	/* TLBI VMALLE1IS: everything */
	CHECK(ptw_arm64_decode_tlbi(0, 3, 0, 0, true, false, &s, &bc, 12));
	CHECK(bc && s.all && !s.scoped);
	/* TLBI RVAE1IS: NUM 1, SCALE 0 -> (1 + 1) << 1 = 4 pages of 4K */
	uint64_t xt = 7ULL << 48 | 1ULL << 46 | 1ULL << 39 | (va >> 12);
	CHECK(ptw_arm64_decode_tlbi(0, 2, 1, xt, true, false, &s, &bc, 12));
	CHECK(bc && s.by_va && s.by_asid);
	CHECK_EQ(s.asid, 7);
	CHECK_EQ(s.va_lo, va);
	CHECK_EQ(s.va_hi, va + 4 * 4096 - 1);
	/* 16K granule: TLBI VAE1IS's scope is the 16 KiB page around the
	 * VA; a range form's BaseADDR counts 16 KiB pages (TG 2) */
	CHECK(ptw_arm64_decode_tlbi(0, 3, 1, 5ULL << 48 | (va + 0x1000) >> 12,
				    true, false, &s, &bc, 14));
	CHECK_EQ(s.va_lo, va & ~0x3fffULL);
	CHECK_EQ(s.va_hi, va | 0x3fff);
	xt = 7ULL << 48 | 2ULL << 46 | 1ULL << 39 | (va >> 14);
	CHECK(ptw_arm64_decode_tlbi(0, 2, 1, xt, true, false, &s, &bc, 14));
	CHECK_EQ(s.va_lo, va & ~0x3fffULL);
	CHECK_EQ(s.va_hi, (va & ~0x3fffULL) + 4 * 16384 - 1);
	/* a stage-2 IPA form: not modelled, taken as everything, broadcast */
	CHECK(!ptw_arm64_decode_tlbi(4, 4, 1, 0, true, false, &s, &bc, 12));
	CHECK(bc && s.all);
	/* a scope covers what it names */
	CHECK(ptw_scope_covers(&(inval_scope){.by_va = true,
					      .va_lo = va,
					      .va_hi = va | 0xfff,
					      .by_asid = true,
					      .asid = 5},
			       va, 4096, false, 5));
	CHECK(!ptw_scope_covers(&(inval_scope){.by_va = true,
					       .va_lo = va,
					       .va_hi = va | 0xfff,
					       .by_asid = true,
					       .asid = 5},
				va, 4096, false, 6));
}

int main(void)
{
	RUN(arm64_48bit_descriptors);
	RUN(arm64_lpa2_descriptors);
	RUN(arm64_bbm_rule);
	RUN(hw_managed);
	RUN(x86_descriptors);
	RUN(arm64_insns);
	RUN(x86_insns);
	RUN(kind_names);
	RUN(arm64_tlbi_scopes);
	RUN(return_addresses);
	TAP_DONE();
}
