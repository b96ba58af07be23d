/* SPDX-License-Identifier: MIT */
/*
 * The event boundary (ptw_event.h): one dispatch for every event, where a
 * trace records it, and the architecture front ends that build events from
 * what an adapter sees (a TLBI encoding, an INVLPG, a DC ZVA ...).
 *
 * Locking: every event is applied under the engine lock, except three the
 * hot path sends often that touch only their own vCPU's slots (the return
 * to user, the rmap walker's call site, the deferred-flush stall). While a
 * trace records, those take the lock too: the trace's order is then the
 * order in which the engine saw every event, and a replay is exact.
 */
#include <string.h>

#include "engine_internal.h"
#include "ptw_trace.h"

static bool lock_free(const ptw_event *ev)
{
	return ev->kind == PTW_EV_LOWER_ENTRY || ev->kind == PTW_EV_CALL ||
	       ev->kind == PTW_EV_DEFERRED_FLUSH;
}

static uint64_t apply_one(ptw_engine *e, const ptw_event *ev)
{
	const ptw_ctx *c = &ev->ctx;
	switch (ev->kind) {
	case PTW_EV_SYSREG:
		ptw_apply_sysreg(e, c, ev->sysreg.reg, ev->sysreg.value);
		break;
	case PTW_EV_ACCESS:
		ptw_apply_access(e, c, ev->access.va, ev->access.pa,
				 ev->access.size, ev->access.flags,
				 ev->access.value);
		break;
	case PTW_EV_DATA:
		ptw_apply_data(e, c, ev->data.va, ev->data.size, ev->data.store,
			       ev->data.bytes);
		break;
	case PTW_EV_INVAL:
		ptw_apply_inval(e, c, ev);
		break;
	case PTW_EV_BARRIER:
		ptw_apply_barrier(e, c, ev->barrier.crm);
		break;
	case PTW_EV_CLIENT:
		ptw_apply_client(e, c, ev->client.req, ev->client.a[0],
				 ev->client.a[1], ev->client.a[2],
				 ev->client.a[3]);
		break;
	case PTW_EV_LOWER_ENTRY:
		ptw_apply_lower_entry(e, c->cpu, c->pc);
		break;
	case PTW_EV_TASK:
		ptw_task_switch(e, c->cpu, ev->task.task);
		break;
	case PTW_EV_CALL:
		ptw_apply_call(e, c);
		break;
	case PTW_EV_OP_START:
		ptw_task_op_start(e, c->cpu);
		break;
	case PTW_EV_DEFERRED_FLUSH:
		return ptw_apply_deferred_flush(e, c);
	case PTW_EV_FINISH:
		ptw_apply_finish(e);
		break;
	case PTW_EV_FAULT:
		ptw_apply_fault(e, c, ev);
		break;
	case PTW_EV_HW_UPDATE:
		ptw_apply_hw_update(e, c, ev);
		break;
	case PTW_EV_ZAP:
		ptw_apply_zap(e, c, ev->zap.start, ev->zap.size,
			      ev->zap.details);
		break;
	default:
		break;
	}
	return 0;
}

/* the context of the event being applied, for what happens inside it (a
 * table registered); not for the lock-free events, which register none
 * and may run on two vCPU threads at once */
static uint64_t apply(ptw_engine *e, const ptw_event *ev)
{
	if (lock_free(ev))
		return apply_one(e, ev);
	e->event_ctx = &ev->ctx;
	uint64_t r = apply_one(e, ev);
	e->event_ctx = NULL;
	return r;
}

/* the engine lock held (or a single-threaded engine): record, apply */
static uint64_t locked_apply(ptw_engine *e, const ptw_event *ev)
{
	if (e->trace && !e->finished)
		ptw_trace_write_event(e->trace, ev);
	uint64_t r = apply(e, ev);
	if (ev->kind == PTW_EV_FINISH && e->trace) {
		char *err = NULL;
		if (!ptw_trace_writer_close(e->trace, &err)) {
			fprintf(stderr, "ptwatch: trace: %s\n", err);
			g_free(err);
		}
		__atomic_store_n(&e->trace, NULL, __ATOMIC_RELEASE);
	}
	return r;
}

uint64_t ptw_engine_event(ptw_engine *e, const ptw_event *ev)
{
	/* a client request names no vCPU state; everything else does */
	if (ev->kind != PTW_EV_FINISH && ev->kind != PTW_EV_CLIENT &&
	    ev->ctx.cpu >= e->cfg.ncpus)
		return 0;
	if (e->cfg.single_threaded ||
	    (lock_free(ev) && !__atomic_load_n(&e->trace, __ATOMIC_ACQUIRE)))
		return e->trace ? locked_apply(e, ev) : apply(e, ev);
	pthread_mutex_lock(&e->lock);
	uint64_t r = locked_apply(e, ev);
	pthread_mutex_unlock(&e->lock);
	return r;
}

bool ptw_read_phys(ptw_engine *e, uint64_t pa, void *buf, size_t len)
{
	bool ok = e->cfg.read_phys &&
		  e->cfg.read_phys(e->cfg.read_opaque, pa, buf, len);
	if (e->trace)
		ptw_trace_write_read(e->trace, pa, len, ok ? buf : NULL);
	return ok;
}

void ptw_engine_finish(ptw_engine *e)
{
	ptw_event ev = {.kind = PTW_EV_FINISH};
	ptw_engine_event(e, &ev);
}

/* ------------------------------------------------------------------ */
/* front ends: what an adapter sees -> events */

static ptw_event event(ptw_ev_kind k, const ptw_ctx *c)
{
	ptw_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = k;
	if (c)
		ev.ctx = *c;
	return ev;
}

void ptw_ev_sysreg(ptw_engine *e, const ptw_ctx *c, ptw_reg reg, uint64_t value)
{
	ptw_event ev = event(PTW_EV_SYSREG, c);
	ev.sysreg.reg = reg;
	ev.sysreg.value = value;
	ptw_engine_event(e, &ev);
}

void ptw_ev_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		   unsigned size, bool is_store, uint64_t value)
{
	if (pa == PTW_NO_PA)
		return;
	/* ptw_ev_access_checked keeps the table and pending flags */
	ptw_ev_access_checked(
		e, c, va, pa, size, is_store, value,
		ptw_access_interest(e, c->cpu, va, pa, size, is_store));
}

void ptw_ev_access_checked(ptw_engine *e, const ptw_ctx *c, uint64_t va,
			   uint64_t pa, unsigned size, bool is_store,
			   uint64_t value, unsigned want)
{
	unsigned flags = (is_store ? PTW_ACC_STORE : 0) |
			 (want & (PTW_ACC_PENDING | PTW_ACC_TABLE));
	if (pa == PTW_NO_PA || !(flags & (PTW_ACC_PENDING | PTW_ACC_TABLE)))
		return;
	ptw_event ev = event(PTW_EV_ACCESS, c);
	ev.access.va = va;
	ev.access.pa = pa;
	ev.access.value = value;
	ev.access.size = size > 255 ? 255 : (uint8_t)size;
	ev.access.flags = (uint8_t)flags;
	ptw_engine_event(e, &ev);
}

void ptw_ev_data(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned size,
		 bool is_store, const uint8_t *bytes)
{
	if (size == 0 || size > 64)
		return;
	ptw_event ev = event(PTW_EV_DATA, c);
	ev.data.va = va;
	ev.data.size = (uint8_t)size;
	ev.data.store = is_store;
	memcpy(ev.data.bytes, bytes, size);
	ptw_engine_event(e, &ev);
}

void ptw_ev_zero(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned len)
{
	uint8_t z[64] = {0};
	for (unsigned i = 0; i < len; i += 64)
		ptw_ev_data(e, c, va + i, len - i < 64 ? len - i : 64, true, z);
}

void ptw_ev_arm64_tlbi(ptw_engine *e, const ptw_ctx *c, unsigned op1,
		       unsigned crm, unsigned op2, uint64_t xt)
{
	if (c->cpu >= e->cfg.ncpus)
		return;
	ptw_event ev = event(PTW_EV_INVAL, c);
	ev.inval.origin = PTW_INVAL_TLBI;
	ev.inval.op1 = (uint8_t)op1;
	ev.inval.crm = (uint8_t)crm;
	ev.inval.op2 = (uint8_t)op2;
	ev.inval.modelled =
		ptw_arm64_tlbi(e, c->cpu, op1, crm, op2, xt, &ev.inval.scope,
			       &ev.inval.broadcast);
	ptw_engine_event(e, &ev);
}

void ptw_ev_arm64_dsb(ptw_engine *e, const ptw_ctx *c, unsigned crm)
{
	ptw_event ev = event(PTW_EV_BARRIER, c);
	ev.barrier.crm = (uint8_t)crm;
	ptw_engine_event(e, &ev);
}

void ptw_ev_x86_invlpg(ptw_engine *e, const ptw_ctx *c, uint64_t va)
{
	/* x86 shootdowns are each CPU invalidating itself after an IPI, so a
	 * local INVLPG says nothing about the scope the changer intended:
	 * not 'scoped'. */
	ptw_event ev = event(PTW_EV_INVAL, c);
	ev.inval.origin = PTW_INVAL_LOCAL_FLUSH;
	ev.inval.modelled = true;
	ev.inval.scope.by_va = true;
	ev.inval.scope.va_lo = va & ~0xfffULL;
	ev.inval.scope.va_hi = va | 0xfff;
	ptw_engine_event(e, &ev);
}

void ptw_ev_x86_invpcid(ptw_engine *e, const ptw_ctx *c, uint64_t type)
{
	(void)type; /* the descriptor is not decoded: assume everything */
	ptw_event ev = event(PTW_EV_INVAL, c);
	ev.inval.origin = PTW_INVAL_LOCAL_FLUSH;
	ev.inval.modelled = true;
	ev.inval.scope.all = true;
	ptw_engine_event(e, &ev);
}

void ptw_ev_client(ptw_engine *e, const ptw_ctx *c, uint64_t req, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4)
{
	ptw_event ev = event(PTW_EV_CLIENT, c);
	ev.client.req = req;
	ev.client.a[0] = a1;
	ev.client.a[1] = a2;
	ev.client.a[2] = a3;
	ev.client.a[3] = a4;
	ptw_engine_event(e, &ev);
}

void ptw_ev_lower_half_entry_at(ptw_engine *e, unsigned cpu, uint64_t pc)
{
	ptw_event ev = event(PTW_EV_LOWER_ENTRY, NULL);
	ev.ctx.cpu = cpu;
	ev.ctx.pc = pc;
	ptw_engine_event(e, &ev);
}

void ptw_ev_lower_half_entry(ptw_engine *e, unsigned cpu)
{
	ptw_ev_lower_half_entry_at(e, cpu, 0);
}

void ptw_ev_task(ptw_engine *e, const ptw_ctx *c, uint64_t task)
{
	if (!task)
		return;
	ptw_event ev = event(PTW_EV_TASK, c);
	ev.task.task = task;
	ptw_engine_event(e, &ev);
}

void ptw_ev_call(ptw_engine *e, const ptw_ctx *c)
{
	ptw_event ev = event(PTW_EV_CALL, c);
	ptw_engine_event(e, &ev);
}

void ptw_ev_op_start(ptw_engine *e, const ptw_ctx *c)
{
	ptw_event ev = event(PTW_EV_OP_START, c);
	ptw_engine_event(e, &ev);
}

uint64_t ptw_ev_deferred_flush_call(ptw_engine *e, const ptw_ctx *c)
{
	ptw_event ev = event(PTW_EV_DEFERRED_FLUSH, c);
	return ptw_engine_event(e, &ev);
}

void ptw_ev_zap(ptw_engine *e, const ptw_ctx *c, uint64_t start, uint64_t size,
		uint64_t details)
{
	ptw_event ev = event(PTW_EV_ZAP, c);
	ev.zap.start = start;
	ev.zap.size = size;
	ev.zap.details = details;
	ptw_engine_event(e, &ev);
}

uint64_t ptw_ev_watched_call(ptw_engine *e, const ptw_ctx *c, ptw_callee callee,
			     const ptw_vcpu_regs *r)
{
	const unsigned *arg = e->ops->call_arg_gpr;
	switch (callee) {
	case PTW_CALLEE_RMAP_WALK:
		ptw_ev_call(e, c);
		return 0;
	case PTW_CALLEE_FAULT:
		ptw_ev_op_start(e, c);
		return 0;
	case PTW_CALLEE_DEFERRED_FLUSH:
		return ptw_ev_deferred_flush_call(e, c);
	case PTW_CALLEE_ZAP: {
		/* 6.12 zap_page_range_single(vma, address, size, details),
		 * 7.x zap_vma_range_batched(tlb, vma, address, size,
		 * details) */
		unsigned a = e->zap_start_arg;
		if (r && a + 2 < G_N_ELEMENTS(e->ops->call_arg_gpr))
			ptw_ev_zap(e, c, r->gpr(r->opaque, arg[a]),
				   r->gpr(r->opaque, arg[a + 1]),
				   r->gpr(r->opaque, arg[a + 2]));
		return 0;
	}
	default:
		return 0;
	}
}

void ptw_ev_fault(ptw_engine *e, const ptw_ctx *c, uint64_t va, int level,
		  unsigned type, bool store, bool fetch, bool has_desc,
		  uint64_t pte_pa, uint64_t desc)
{
	ptw_event ev = event(PTW_EV_FAULT, c);
	ev.fault.va = va;
	ev.fault.has_desc = has_desc;
	ev.fault.pte_pa = has_desc ? pte_pa : 0;
	ev.fault.desc = has_desc ? desc : 0;
	ev.fault.level = (int8_t)level;
	ev.fault.type = (uint8_t)type;
	ev.fault.store = store;
	ev.fault.fetch = fetch;
	ptw_engine_event(e, &ev);
}

void ptw_ev_hw_update(ptw_engine *e, const ptw_ctx *c, uint64_t pte_pa,
		      uint64_t old, uint64_t new, uint64_t va)
{
	ptw_event ev = event(PTW_EV_HW_UPDATE, c);
	ev.hw_update.pte_pa = pte_pa;
	ev.hw_update.old = old;
	ev.hw_update.new = new;
	ev.hw_update.va = va;
	ptw_engine_event(e, &ev);
}

/* ------------------------------------------------------------------ */
/* front ends from instructions (ptw.h): the adapter hands over what it
 * decoded at translation and a reader of the vCPU's registers */

static uint64_t gpr(const ptw_vcpu_regs *r, unsigned n)
{
	return r->gpr(r->opaque, n);
}

/* arm64 Rt: register 31 of MSR and SYS (TLBI, DC) is XZR (Arm ARM DDI
 * 0487, chapter C1, "Register names") */
static uint64_t a64_xt(const ptw_vcpu_regs *r, unsigned rt)
{
	return rt == 31 ? 0 : gpr(r, rt);
}

void ptw_ev_arm64_insn(ptw_engine *e, const ptw_ctx *c, const ptw_a64_insn *d,
		       const ptw_vcpu_regs *r, ptw_reg_write *w)
{
	w->reg = 0;
	w->value = 0;
	switch (d->op) {
	case PTW_A64_MSR:
		w->reg = d->reg;
		w->value = a64_xt(r, d->rt);
		ptw_ev_sysreg(e, c, d->reg, w->value);
		break;
	case PTW_A64_TLBI:
		ptw_ev_arm64_tlbi(e, c, d->op1, d->crm, d->op2,
				  a64_xt(r, d->rt));
		break;
	case PTW_A64_DSB:
		ptw_ev_arm64_dsb(e, c, d->crm);
		break;
	case PTW_A64_DC_ZVA:
		ptw_ev_arm64_dc_zva(e, c, a64_xt(r, d->rt), r->dczva_block);
		break;
	default:
		break;
	}
}

/* DC ZVA zeroes the naturally aligned block that holds Xt (Arm ARM DDI
 * 0487, chapter C5, "DC ZVA"), invisible to memory callbacks: data
 * events, for tracked data only */
void ptw_ev_arm64_dc_zva(ptw_engine *e, const ptw_ctx *c, uint64_t xt,
			 unsigned block)
{
	uint64_t lo, hi;
	ptw_tracked_bounds(e, &lo, &hi);
	uint64_t va = xt & ~(uint64_t)(block - 1);
	if (va >= hi || va + block <= lo)
		return;
	ptw_ev_zero(e, c, va, block);
}

bool ptw_x86_insn_wanted(ptw_engine *e, const ptw_x86_insn *d, uint64_t pc,
			 unsigned len)
{
	switch (d->op) {
	case PTW_X86_MOV_TO_CR:
		return ptw_x86_cr_reg((unsigned)d->cr) != 0;
	case PTW_X86_GS_STORE64:
		return ptw_linux_x86_current_store(e, d, pc, len);
	case PTW_X86_NONE:
		return false;
	default:
		return true;
	}
}

void ptw_ev_x86_insn(ptw_engine *e, const ptw_ctx *c, const ptw_x86_insn *d,
		     unsigned len, const ptw_vcpu_regs *r, ptw_reg_write *w)
{
	w->reg = 0;
	w->value = 0;
	switch (d->op) {
	case PTW_X86_MOV_TO_CR: {
		ptw_reg reg = ptw_x86_cr_reg((unsigned)d->cr);
		if (!reg)
			break;
		uint64_t v = gpr(r, (unsigned)d->gpr);
		w->reg = reg;
		w->value = ptw_x86_cr_stored(reg, v);
		ptw_ev_sysreg(e, c, reg, v);
		break;
	}
	case PTW_X86_WRMSR: {
		ptw_reg reg = ptw_x86_msr_reg(gpr(r, 1)); /* ecx */
		if (!reg)
			break;
		w->reg = reg;
		w->value =
			ptw_x86_msr_value(gpr(r, 0), gpr(r, 2)); /* eax, edx */
		ptw_ev_sysreg(e, c, reg, w->value);
		break;
	}
	case PTW_X86_INVLPG:
		ptw_ev_x86_invlpg(e, c, ptw_x86_operand_ea(d, c->pc, len, r));
		break;
	case PTW_X86_INVPCID:
		ptw_ev_x86_invpcid(e, c, gpr(r, (unsigned)d->gpr));
		break;
	case PTW_X86_GS_STORE64: /* wanted: Linux's current task pointer */
		ptw_ev_task(e, c, gpr(r, (unsigned)d->gpr));
		break;
	default:
		break;
	}
}

bool ptw_client_seq(ptw_engine *e, const uint8_t *b, size_t n)
{
	if (e->cfg.arch == PTW_ARCH_ARM64) {
		uint32_t w[PTW_CLIENT_SEQ_A64_WORDS];
		if (n != sizeof(w))
			return false;
		memcpy(w, b, sizeof(w));
		return ptw_arm64_is_client_seq(w);
	}
	return n == PTW_CLIENT_SEQ_X86_BYTES && ptw_x86_is_client_seq(b);
}

void ptw_ev_client_regs(ptw_engine *e, const ptw_ctx *c, const ptw_vcpu_regs *r)
{
	uint64_t a[5];
	for (int i = 0; i < 5; i++)
		a[i] = gpr(r, e->ops->client_gpr[i]);
	ptw_ev_client(e, c, a[0], a[1], a[2], a[3], a[4]);
}

/* arch_op: arm64 CRn << 12 | op1 << 8 | CRm << 4 | op2 of the TLBI (CRn 8,
 * or 9 for the nXS forms, which are not decoded either); x86 0x100 INVLPG
 * (its address in arch_value), 0x103 MOV to CR3, 0x104 MOV to CR4 (these
 * two come from their instruction callbacks, as register writes) */
void ptw_ev_qemu_tlbi(ptw_engine *e, const ptw_ctx *c, uint32_t arch_op,
		      uint64_t arch_value)
{
	if (e->cfg.arch == PTW_ARCH_ARM64) {
		if ((arch_op >> 12) == 8)
			ptw_ev_arm64_tlbi(e, c, (arch_op >> 8) & 7,
					  (arch_op >> 4) & 15, arch_op & 7,
					  arch_value);
	} else if (arch_op == 0x100) {
		ptw_ev_x86_invlpg(e, c, arch_value);
	}
}

/* ------------------------------------------------------------------ */
/* public helpers by architecture (ptw.h): each architecture's own op */

uint64_t ptw_hw_managed_bits(ptw_arch arch, uint64_t old, uint64_t new)
{
	const ptw_arch_ops *ops = arch == PTW_ARCH_X86_64 ? &ptw_arch_x86_ops
							  : &ptw_arch_arm64_ops;
	return ops->hw_managed(old, new);
}
