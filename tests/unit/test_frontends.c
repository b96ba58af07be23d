/* SPDX-License-Identifier: MIT */
/* The architecture front ends: what an adapter's raw register values and
 * decoded instructions mean (arch_*.c, events.c, guest_linux.c), and the
 * events they make, read back from a trace. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "engine_internal.h"
#include "ptw_trace.h"
#include "tap.h"

/* DSB CRm -> completes TLB maintenance or not, local (NSH) or not: the
 * architecture's barrier op, the rule det_bbm applies */
static void arm64_barriers(void)
{
	for (unsigned crm = 0; crm < 16; crm++) {
		ptw_barrier k;
		ptw_arch_arm64_ops.barrier(crm, &k);
		bool full =
			crm == 0xf || crm == 0xb || crm == 0x7 || crm == 0x3;
		CHECK_EQ(k.completes_maintenance, full);
		CHECK_EQ(k.local, crm == 0x7);
	}
}

static void arm64_decodes(void)
{
	CHECK_EQ(ptw_arm64_dczva_block(4), 64);	  /* BS 4: 16 words */
	CHECK_EQ(ptw_arm64_dczva_block(0), 4);	  /* BS 0: one word */
	CHECK_EQ(ptw_arm64_dczva_block(9), 2048); /* the largest, 2 KiB */
	CHECK_EQ(ptw_arm64_dczva_block(0x14), 0); /* DZP: prohibited */
	ptw_a64_insn d;
	CHECK(ptw_arm64_decode_insn(0xd50b7425u, &d)); /* dc zva, x5 */
	CHECK_EQ(d.op, PTW_A64_DC_ZVA);
	CHECK_EQ(d.rt, 5);
	CHECK(!ptw_arm64_decode_insn(0xd50b7a25u, &d)); /* dc cvac, x5 */
}

static uint64_t fake_regs[32];

static uint64_t fake_gpr(void *opaque, unsigned n)
{
	(void)opaque;
	CHECK(n < 31);
	return n < 32 ? fake_regs[n] : 0;
}

static const ptw_vcpu_regs regs = {.gpr = fake_gpr, .dczva_block = 64};

static void x86_decodes(void)
{
	CHECK_EQ(ptw_x86_cr_reg(0), PTW_REG_X86_CR0);
	CHECK_EQ(ptw_x86_cr_reg(3), PTW_REG_X86_CR3);
	CHECK_EQ(ptw_x86_cr_reg(4), PTW_REG_X86_CR4);
	CHECK_EQ(ptw_x86_cr_reg(2), 0);
	CHECK_EQ(ptw_x86_cr_reg(8), 0);
	/* CR3 bit 63 (NOFLUSH) is not stored */
	CHECK_EQ(ptw_x86_cr_stored(PTW_REG_X86_CR3, (1ULL << 63) | 0x5003),
		 0x5003);
	CHECK_EQ(ptw_x86_cr_stored(PTW_REG_X86_CR4, 1ULL << 63), 1ULL << 63);
	CHECK_EQ(ptw_x86_msr_reg(0xffffffffc0000080ULL), PTW_REG_X86_EFER);
	CHECK_EQ(ptw_x86_msr_reg(0xc0000081ULL), 0); /* STAR */
	CHECK_EQ(ptw_x86_msr_value(0xdeadbeef00000d01ULL, 0x12),
		 0x1200000d01ULL);
	/* invlpg 0x10(%rbx,%rsi,8) */
	ptw_x86_insn d;
	static const uint8_t invlpg[] = {0x0f, 0x01, 0x7c, 0xf3, 0x10};
	CHECK(ptw_x86_decode_insn(invlpg, sizeof(invlpg), &d));
	CHECK_EQ(d.op, PTW_X86_INVLPG);
	fake_regs[3] = 0x1000;
	fake_regs[6] = 2;
	CHECK_EQ(ptw_x86_operand_ea(&d, 0x400000, 5, &regs),
		 0x1000 + 16 + 0x10);
	/* invlpg 0x100(%rip): from the next instruction */
	static const uint8_t rip[] = {0x0f, 0x01, 0x3d, 0x00, 0x01, 0x00, 0x00};
	CHECK(ptw_x86_decode_insn(rip, sizeof(rip), &d));
	CHECK_EQ(ptw_x86_operand_ea(&d, 0x400000, 7, NULL), 0x400107);
}

/* ---- the events the front ends make, from a trace ---- */

static char path[64];

static ptw_engine *recording(ptw_arch arch)
{
	snprintf(path, sizeof(path), "/tmp/ptw-test-frontends.%d",
		 (int)getpid());
	ptw_config cfg = {
		.arch = arch, .ncpus = 2, .trace_path = path, .trace_args = ""};
	char *err = NULL;
	ptw_engine *e = ptw_engine_new(&cfg, &err);
	CHECK(e != NULL);
	return e;
}

/* finish e, read its events back (a second engine consumes the reads) */
static GArray *recorded(ptw_engine *e)
{
	ptw_engine_finish(e);
	ptw_engine_free(e);
	GArray *evs = g_array_new(FALSE, TRUE, sizeof(ptw_event));
	char *err = NULL;
	ptw_trace_reader *r = ptw_trace_reader_open(path, &err);
	CHECK(r != NULL);
	if (!r)
		return evs;
	const ptw_trace_meta *m = ptw_trace_reader_meta(r);
	ptw_config cfg = {.arch = m->arch,
			  .ncpus = m->ncpus,
			  .read_phys = ptw_trace_read_phys,
			  .read_opaque = r,
			  .single_threaded = true};
	ptw_engine *f = ptw_engine_new(&cfg, &err);
	ptw_event ev;
	int k;
	while ((k = ptw_trace_next_event(r, &ev, &err)) == 1 &&
	       ev.kind != PTW_EV_FINISH) {
		g_array_append_val(evs, ev);
		ptw_engine_event(f, &ev);
	}
	CHECK(k == 1);
	ptw_engine_free(f);
	ptw_trace_reader_close(r);
	unlink(path);
	return evs;
}

static const ptw_event *ev_at(GArray *evs, unsigned i)
{
	static const ptw_event none;
	return i < evs->len ? &g_array_index(evs, ptw_event, i) : &none;
}

static void arm64_events(void)
{
	ptw_engine *e = recording(PTW_ARCH_ARM64);
	ptw_ctx c = {.cpu = 1, .pc = 0x1000, .icount = 10};
	ptw_reg_write w;
	ptw_a64_insn d;
	memset(fake_regs, 0, sizeof(fake_regs));
	fake_regs[2] = 0xff44;
	CHECK(ptw_arm64_decode_insn(0xd518a202u, &d)); /* msr mair_el1, x2 */
	ptw_ev_arm64_insn(e, &c, &d, &regs, &w);
	CHECK_EQ(w.reg, PTW_REG_ARM_MAIR);
	CHECK_EQ(w.value, 0xff44);
	CHECK(ptw_arm64_decode_insn(0xd518a21fu, &d)); /* msr mair_el1, xzr */
	ptw_ev_arm64_insn(e, &c, &d, &regs, &w);
	CHECK_EQ(w.value, 0);
	fake_regs[0] = 0x0005000000012345ULL;
	CHECK(ptw_arm64_decode_insn(0xd5088320u, &d)); /* tlbi vae1is, x0 */
	ptw_ev_arm64_insn(e, &c, &d, &regs, &w);
	CHECK_EQ(w.reg, 0);
	CHECK(ptw_arm64_decode_insn(0xd503379fu, &d)); /* dsb nsh */
	ptw_ev_arm64_insn(e, &c, &d, &regs, &w);
	/* DC ZVA outside tracked data: nothing */
	CHECK(ptw_arm64_decode_insn(0xd50b7420u, &d)); /* dc zva, x0 */
	ptw_ev_arm64_insn(e, &c, &d, &regs, &w);
	/* client request: x0, x1..x4 */
	for (unsigned i = 0; i < 5; i++)
		fake_regs[i] = 0x50570000 + i;
	ptw_ev_client_regs(e, &c, &regs);
	/* a patched QEMU's TLBI report: tlbi vmalle1 (CRn 8, op1 0, CRm 7,
	 * op2 0); nXS (CRn 9) not decoded */
	ptw_ev_qemu_tlbi(e, &c, 0x8070, 0);
	ptw_ev_qemu_tlbi(e, &c, 0x9070, 0);
	GArray *evs = recorded(e);
	CHECK_EQ(evs->len, 6);
	CHECK_EQ(ev_at(evs, 0)->kind, PTW_EV_SYSREG);
	CHECK_EQ(ev_at(evs, 0)->sysreg.reg, PTW_REG_ARM_MAIR);
	CHECK_EQ(ev_at(evs, 0)->sysreg.value, 0xff44);
	CHECK_EQ(ev_at(evs, 0)->ctx.cpu, 1);
	CHECK_EQ(ev_at(evs, 0)->ctx.pc, 0x1000);
	CHECK_EQ(ev_at(evs, 1)->sysreg.value, 0);
	const ptw_event *t = ev_at(evs, 2);
	CHECK_EQ(t->kind, PTW_EV_INVAL);
	CHECK(t->inval.broadcast && t->inval.scope.by_va);
	CHECK_EQ(t->inval.scope.va_lo, 0x12345000ULL);
	CHECK_EQ(t->inval.scope.asid, 5);
	CHECK_EQ(ev_at(evs, 3)->kind, PTW_EV_BARRIER);
	CHECK_EQ(ev_at(evs, 3)->barrier.crm, 7);
	const ptw_event *cl = ev_at(evs, 4);
	CHECK_EQ(cl->kind, PTW_EV_CLIENT);
	CHECK_EQ(cl->client.req, 0x50570000);
	CHECK_EQ(cl->client.a[3], 0x50570004);
	CHECK_EQ(ev_at(evs, 5)->kind, PTW_EV_INVAL);
	CHECK(ev_at(evs, 5)->inval.scope.all);
	CHECK(!ev_at(evs, 5)->inval.broadcast);
	g_array_free(evs, TRUE);
}

static void x86_events(void)
{
	ptw_engine *e = recording(PTW_ARCH_X86_64);
	ptw_ctx c = {.cpu = 0, .pc = 0x400000, .icount = 10};
	ptw_reg_write w;
	ptw_x86_insn d;
	memset(fake_regs, 0, sizeof(fake_regs));
	/* mov %rax, %cr3 with NOFLUSH */
	static const uint8_t mov_cr3[] = {0x0f, 0x22, 0xd8};
	CHECK(ptw_x86_decode_insn(mov_cr3, sizeof(mov_cr3), &d));
	CHECK(ptw_x86_insn_wanted(e, &d, c.pc, 3));
	fake_regs[0] = (1ULL << 63) | 0x5000;
	ptw_ev_x86_insn(e, &c, &d, 3, &regs, &w);
	CHECK_EQ(w.reg, PTW_REG_X86_CR3);
	CHECK_EQ(w.value, 0x5000);
	/* mov %rax, %cr2: not wanted */
	static const uint8_t mov_cr2[] = {0x0f, 0x22, 0xd0};
	CHECK(ptw_x86_decode_insn(mov_cr2, sizeof(mov_cr2), &d));
	CHECK(!ptw_x86_insn_wanted(e, &d, c.pc, 3));
	/* wrmsr to EFER, then to another MSR */
	static const uint8_t wrmsr[] = {0x0f, 0x30};
	CHECK(ptw_x86_decode_insn(wrmsr, sizeof(wrmsr), &d));
	CHECK(ptw_x86_insn_wanted(e, &d, c.pc, 2));
	fake_regs[1] = 0xc0000080;
	fake_regs[0] = 0xffffffff00000500ULL;
	fake_regs[2] = 0;
	ptw_ev_x86_insn(e, &c, &d, 2, &regs, &w);
	CHECK_EQ(w.reg, PTW_REG_X86_EFER);
	CHECK_EQ(w.value, 0x500);
	fake_regs[1] = 0xc0000082;
	ptw_ev_x86_insn(e, &c, &d, 2, &regs, &w);
	CHECK_EQ(w.reg, 0);
	/* invlpg (%rbx) */
	static const uint8_t invlpg[] = {0x0f, 0x01, 0x3b};
	CHECK(ptw_x86_decode_insn(invlpg, sizeof(invlpg), &d));
	fake_regs[3] = 0x7f0000001234ULL;
	ptw_ev_x86_insn(e, &c, &d, 3, &regs, &w);
	/* mov %rdi, %gs:0x1000 (absolute): wanted only with Linux's current
	 * task pointer there */
	static const uint8_t gs[] = {0x65, 0x48, 0x89, 0x3c, 0x25,
				     0x00, 0x10, 0x00, 0x00};
	CHECK(ptw_x86_decode_insn(gs, sizeof(gs), &d));
	CHECK_EQ(d.op, PTW_X86_GS_STORE64);
	CHECK(!ptw_x86_insn_wanted(e, &d, c.pc, sizeof(gs)));
	e->current_slot = 0x1000;
	CHECK(ptw_x86_insn_wanted(e, &d, c.pc, sizeof(gs)));
	e->current_slot = 0x2000;
	CHECK(!ptw_x86_insn_wanted(e, &d, c.pc, sizeof(gs)));
	fake_regs[7] = 0xffff888001234000ULL;
	ptw_ev_x86_insn(e, &c, &d, sizeof(gs), &regs, &w);
	/* client request: rax; rcx, rdx, rsi, r8 */
	static const unsigned cl_regs[5] = {0, 1, 2, 6, 8};
	for (unsigned i = 0; i < 5; i++)
		fake_regs[cl_regs[i]] = 0x50570000 + i;
	ptw_ev_client_regs(e, &c, &regs);
	/* a patched QEMU's reports: INVLPG; MOV to CR3 ignored */
	ptw_ev_qemu_tlbi(e, &c, 0x100, 0x7f0000005678ULL);
	ptw_ev_qemu_tlbi(e, &c, 0x103, 0x5000);
	GArray *evs = recorded(e);
	CHECK_EQ(evs->len, 6);
	CHECK_EQ(ev_at(evs, 0)->kind, PTW_EV_SYSREG);
	CHECK_EQ(ev_at(evs, 0)->sysreg.reg, PTW_REG_X86_CR3);
	CHECK_EQ(ev_at(evs, 0)->sysreg.value, (1ULL << 63) | 0x5000);
	CHECK_EQ(ev_at(evs, 1)->sysreg.reg, PTW_REG_X86_EFER);
	CHECK_EQ(ev_at(evs, 1)->sysreg.value, 0x500);
	const ptw_event *inv = ev_at(evs, 2);
	CHECK_EQ(inv->kind, PTW_EV_INVAL);
	CHECK_EQ(inv->inval.origin, PTW_INVAL_LOCAL_FLUSH);
	CHECK_EQ(inv->inval.scope.va_lo, 0x7f0000001000ULL);
	CHECK_EQ(ev_at(evs, 3)->kind, PTW_EV_TASK);
	CHECK_EQ(ev_at(evs, 3)->task.task, 0xffff888001234000ULL);
	const ptw_event *cl = ev_at(evs, 4);
	CHECK_EQ(cl->kind, PTW_EV_CLIENT);
	CHECK_EQ(cl->client.req, 0x50570000);
	CHECK_EQ(cl->client.a[0], 0x50570001);
	CHECK_EQ(cl->client.a[3], 0x50570004);
	CHECK_EQ(ev_at(evs, 5)->inval.scope.va_lo, 0x7f0000005000ULL);
	g_array_free(evs, TRUE);
}

/* the register write's effect, as ptw_apply_sysreg applies it */
static void sysreg_effects(void)
{
	ptw_config cfg = {.arch = PTW_ARCH_X86_64, .ncpus = 1};
	char *err = NULL;
	ptw_engine *e = ptw_engine_new(&cfg, &err);
	ptw_sysreg_effect fx = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_X86_CR3, (1ULL << 63) | 0x5000, &fx);
	CHECK(fx.roots && fx.flush && fx.flush_scope.nonglobal);
	CHECK(fx.local_flush);
	CHECK_EQ(fx.stat, ST_CR3_WRITES);
	/* NOFLUSH counts with CR4.PCIDE only */
	ptw_sysreg_effect fx4 = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_X86_CR4, 1ULL << 17, &fx4);
	CHECK(fx4.flush && fx4.flush_scope.all);
	ptw_sysreg_effect fx3 = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_X86_CR3, (1ULL << 63) | 0x5000, &fx3);
	CHECK(fx3.roots && !fx3.flush && fx3.local_flush);
	/* another architecture's register: nothing */
	ptw_sysreg_effect none = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_ARM_SP_EL0, 1ULL << 63, &none);
	CHECK(!none.roots && !none.flush && !none.task && none.stat < 0);
	ptw_engine_free(e);

	cfg.arch = PTW_ARCH_ARM64;
	e = ptw_engine_new(&cfg, &err);
	ptw_sysreg_effect a = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_ARM_SP_EL0, 0xffff000012340000ULL, &a);
	CHECK_EQ(a.task, 0xffff000012340000ULL);
	ptw_sysreg_effect u = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_ARM_SP_EL0, 0x7ffff000, &u);
	CHECK_EQ(u.task, 0); /* a user stack pointer */
	ptw_sysreg_effect b = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_ARM_ID_AA64MMFR2, 2ULL << 52, &b);
	CHECK(strstr(b.note, "FEAT_BBM level 2") != NULL);
	CHECK_EQ(e->ops->bbm_level(e), 2);
	ptw_sysreg_effect t = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_ARM_TCR, 0x10, &t);
	CHECK(t.roots);
	ptw_sysreg_effect t2 = {.stat = -1};
	e->ops->sysreg(e, 0, PTW_REG_ARM_TCR, 0x10, &t2);
	CHECK(!t2.roots); /* unchanged */
	ptw_engine_free(e);
}

int main(void)
{
	RUN(arm64_barriers);
	RUN(arm64_decodes);
	RUN(x86_decodes);
	RUN(arm64_events);
	RUN(x86_events);
	RUN(sysreg_effects);
	TAP_DONE();
}
