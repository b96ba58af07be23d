/* SPDX-License-Identifier: MIT */
/*
 * Translation: each block counts its instructions and notes upper- to
 * lower-half transitions inline; each instruction gets the memory callback
 * (unless the patched QEMU's page watch is in use), and those the engine
 * wants an instruction callback: the ones that change translation state
 * (arm64 MSR, TLBI, DSB, DC ZVA; x86 MOV to CR, WRMSR, INVLPG, INVPCID, a
 * store to Linux's current task), direct calls to the functions the
 * engine watches, and the client-request sequence
 * (guest-tests/include/ptwatch-client.h). The engine decodes them
 * (ptw_arm64_decode_insn, ptw_x86_decode_insn) and, when they execute,
 * reads their registers through ptwatch_vcpu.c (ptw_ev_arm64_insn,
 * ptw_ev_x86_insn, ptw_ev_client_regs).
 */
#include <string.h>

#include "ptwatch.h"

/* instruction-callback payloads, one per distinct instruction (a block
 * translated again reuses its payloads), freed at exit */
typedef struct {
	uint64_t pc;
	unsigned len;
	ptw_callee callee; /* cb_call */
	union {
		ptw_a64_insn a64;
		ptw_x86_insn x86;
	};
} insn_info;
static GHashTable *infos; /* insn_info -> itself */
static GMutex infos_lock;

/* arm64 MSR, TLBI, DSB, DC ZVA */
static void cb_a64(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = vcpu_regs(vcpu);
	ptw_reg_write w;
	ptw_ev_arm64_insn(eng, &c, &ii->a64, &r, &w);
	vcpu_note_write(vcpu, &w);
	barrier_due_sync(vcpu);
}

static void cb_client(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = vcpu_regs(vcpu);
	ptw_ev_client_regs(eng, &c, &r);
}

/* x86 MOV to CR, WRMSR, INVLPG, INVPCID, a store to Linux's current task */
static void cb_x86(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = vcpu_regs(vcpu);
	ptw_reg_write w;
	ptw_ev_x86_insn(eng, &c, &ii->x86, ii->len, &r, &w);
	vcpu_note_write(vcpu, &w);
}

/* a direct call to a function the engine watches (ii->callee): the rmap
 * walker, the fault handler, where reclaim completes a deferred flush
 * (the engine asks for a stall there only with widen=), or a zap (whose
 * arguments the engine reads from the registers) */
static void cb_call(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = vcpu_regs(vcpu);
	stall_vcpu(ptw_ev_watched_call(
		eng, &c, ii->callee,
		ptw_linux_callee_args(ii->callee) ? &r : NULL));
}

static insn_info *intern_info(const insn_info *tmpl);

/* insn at pc calls to: report it when the engine watches that callee */
static void watch_call(struct qemu_plugin_insn *insn, uint64_t pc, uint64_t to)
{
	ptw_callee callee = ptw_linux_watched_callee(eng, to);
	if (callee == PTW_CALLEE_NONE)
		return;
	insn_info t;
	memset(&t, 0, sizeof(t));
	t.pc = pc;
	t.callee = callee;
	qemu_plugin_register_vcpu_insn_exec_cb(insn, cb_call,
					       ptw_linux_callee_args(callee)
						       ? QEMU_PLUGIN_CB_R_REGS
						       : QEMU_PLUGIN_CB_NO_REGS,
					       intern_info(&t));
}

static guint info_hash(gconstpointer p)
{
	const guint8 *b = p;
	guint h = 5381;
	for (size_t i = 0; i < sizeof(insn_info); i++)
		h = h * 33 ^ b[i];
	return h;
}

static gboolean info_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(insn_info)) == 0;
}

/* the payload for an instruction (built in a zeroed template): the one
 * already made for the same instruction at the same pc, or a new one */
static insn_info *intern_info(const insn_info *tmpl)
{
	g_mutex_lock(&infos_lock);
	insn_info *ii = g_hash_table_lookup(infos, tmpl);
	if (!ii) {
		ii = g_memdup2(tmpl, sizeof(*tmpl));
		g_hash_table_add(infos, ii);
	}
	g_mutex_unlock(&infos_lock);
	return ii;
}

/* ------------------------------------------------------------------ */
/* translation */

/* the client-request sequence starts at instruction i of n */
static bool client_seq_at(struct qemu_plugin_tb *tb, size_t i, size_t n)
{
	if (i + PTW_CLIENT_SEQ_INSNS > n)
		return false;
	uint8_t b[64];
	size_t got = 0;
	for (int k = 0; k < PTW_CLIENT_SEQ_INSNS; k++) {
		struct qemu_plugin_insn *in =
			qemu_plugin_tb_get_insn(tb, i + k);
		size_t sz = qemu_plugin_insn_size(in);
		if (got + sz > sizeof(b) ||
		    qemu_plugin_insn_data(in, b + got, sz) != sz)
			return false;
		got += sz;
	}
	return ptw_client_seq(eng, b, got);
}

/* udata: the TB's PC, the first lower-half instruction run */
static void vcpu_lower_half(unsigned int vcpu, void *udata)
{
	qemu_plugin_u64_set(in_upper, vcpu, 0);
	ptw_ev_lower_half_entry_at(eng, vcpu, (uint64_t)(uintptr_t)udata);
}

void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
		tb, QEMU_PLUGIN_INLINE_ADD_U64, icount, n);
	if (ptw_linux_upper_half_code(qemu_plugin_tb_vaddr(tb)))
		qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
			tb, QEMU_PLUGIN_INLINE_STORE_U64, in_upper, 1);
	else
		qemu_plugin_register_vcpu_tb_exec_cond_cb(
			tb, vcpu_lower_half, QEMU_PLUGIN_CB_NO_REGS,
			QEMU_PLUGIN_COND_EQ, in_upper, 1,
			(void *)(uintptr_t)qemu_plugin_tb_vaddr(tb));
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t pc = qemu_plugin_insn_vaddr(insn);
		size_t len = qemu_plugin_insn_size(insn);
		if (!use_watch)
			qemu_plugin_register_vcpu_mem_cb(
				insn, vcpu_mem, QEMU_PLUGIN_CB_NO_REGS,
				QEMU_PLUGIN_MEM_RW, (void *)(uintptr_t)pc);
		if (client_seq_at(tb, i, n)) {
			size_t last = i + PTW_CLIENT_SEQ_INSNS - 1;
			struct qemu_plugin_insn *li =
				qemu_plugin_tb_get_insn(tb, last);
			insn_info t = {.pc = qemu_plugin_insn_vaddr(li)};
			qemu_plugin_register_vcpu_insn_exec_cb(
				li, cb_client, QEMU_PLUGIN_CB_R_REGS,
				intern_info(&t));
			continue;
		}
		if (arch == PTW_ARCH_ARM64) {
			uint32_t w;
			ptw_a64_insn d;
			uint64_t to;
			if (qemu_plugin_insn_data(insn, &w, 4) != 4)
				continue;
			if (ptw_arm64_direct_call(w, pc, &to)) {
				watch_call(insn, pc, to);
				continue;
			}
			memset(&d, 0, sizeof(d));
			if (!ptw_arm64_decode_insn(w, &d))
				continue;
			if (d.op == PTW_A64_TLBI && use_tlbi_cb)
				continue; /* vcpu_tlbi */
			insn_info t;
			memset(&t, 0, sizeof(t));
			t.pc = pc;
			t.len = (unsigned)len;
			t.a64 = d;
			/* a DSB reads no register, and is reported only
			 * while one would matter (bench/profile.md) */
			if (d.op == PTW_A64_DSB)
				qemu_plugin_register_vcpu_insn_exec_cond_cb(
					insn, cb_a64, QEMU_PLUGIN_CB_NO_REGS,
					QEMU_PLUGIN_COND_NE, barrier_due, 0,
					intern_info(&t));
			else
				qemu_plugin_register_vcpu_insn_exec_cb(
					insn, cb_a64, QEMU_PLUGIN_CB_R_REGS,
					intern_info(&t));
		} else {
			uint8_t b[16] = {0};
			ptw_x86_insn d;
			size_t got = qemu_plugin_insn_data(insn, b,
							   len < 16 ? len : 16);
			uint64_t to;
			if (ptw_x86_direct_call(b, got, pc, &to)) {
				watch_call(insn, pc, to);
				continue;
			}
			memset(&d, 0, sizeof(d));
			if (!ptw_x86_decode_insn(b, got, &d))
				continue;
			if (d.op == PTW_X86_INVLPG && use_tlbi_cb)
				continue; /* vcpu_tlbi */
			if (!ptw_x86_insn_wanted(eng, &d, pc, (unsigned)len))
				continue;
			insn_info t;
			memset(&t, 0, sizeof(t));
			t.pc = pc;
			t.len = (unsigned)len;
			t.x86 = d;
			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, cb_x86, QEMU_PLUGIN_CB_R_REGS,
				intern_info(&t));
		}
	}
}

void translate_init(void)
{
	infos = g_hash_table_new_full(info_hash, info_equal, g_free, NULL);
}

void translate_free(void)
{
	g_hash_table_destroy(infos);
	infos = NULL;
}
