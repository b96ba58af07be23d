/* SPDX-License-Identifier: MIT */
/*
 * The vCPUs' registers, through QEMU's register API: the general-purpose
 * registers the front ends read for an instruction (by the architecture's
 * number), and the translation registers, sent to the engine when a vCPU
 * starts or resumes and their value changed since it last saw them (an
 * instruction's write is seen by the engine as it executes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptwatch.h"

__thread bool on_vcpu_thread;

/* per-vCPU register handles and last values seen */
enum {
	SR_TTBR0,
	SR_TTBR1,
	SR_TCR,
	SR_SCTLR,
	SR_MAIR,
	SR_CR0,
	SR_CR3,
	SR_CR4,
	SR_EFER,
	SR_MMFR2,
	SR_COUNT
};
static const ptw_reg sr_engine[SR_COUNT] = {
	PTW_REG_ARM_TTBR0,	  PTW_REG_ARM_TTBR1, PTW_REG_ARM_TCR,
	PTW_REG_ARM_SCTLR,	  PTW_REG_ARM_MAIR,  PTW_REG_X86_CR0,
	PTW_REG_X86_CR3,	  PTW_REG_X86_CR4,   PTW_REG_X86_EFER,
	PTW_REG_ARM_ID_AA64MMFR2,
};
static const char *const sr_names[SR_COUNT][3] = {
	{"TTBR0_EL1", NULL}, {"TTBR1_EL1", NULL},
	{"TCR_EL1", NULL},   {"SCTLR_EL1", "SCTLR", NULL},
	{"MAIR_EL1", NULL},  {"cr0", NULL},
	{"cr3", NULL},	     {"cr4", NULL},
	{"efer", NULL},	     {"ID_AA64MMFR2_EL1", NULL},
};

typedef struct {
	struct qemu_plugin_register *gpr[32];
	struct qemu_plugin_register *sr[SR_COUNT];
	uint64_t sr_val[SR_COUNT];
	bool sr_known[SR_COUNT];
} vcpu_state;
static vcpu_state vcpus[PTW_MAX_CPUS];
/* the bytes DC ZVA zeroes, from a vCPU's DCZID_EL0 (arm64) */
static unsigned dczva_bytes = 64;
/* per vCPU: the buffer register reads go through (no allocation per read) */
static GByteArray *reg_buf[PTW_MAX_CPUS];

static uint64_t read_reg(unsigned vcpu, struct qemu_plugin_register *h)
{
	if (!h || vcpu >= PTW_MAX_CPUS)
		return 0;
	if (!reg_buf[vcpu])
		reg_buf[vcpu] = g_byte_array_sized_new(64);
	GByteArray *buf = reg_buf[vcpu];
	g_byte_array_set_size(buf, 0);
	int n = qemu_plugin_read_register(h, buf);
	uint64_t v = 0;
	if (n > 0)
		memcpy(&v, buf->data, n > 8 ? 8 : (size_t)n);
	return v;
}

/* Send system registers whose value changed since we last looked. */
static void sync_sysregs(unsigned vcpu, uint64_t pc)
{
	if (vcpu >= ncpus)
		return;
	vcpu_state *vs = &vcpus[vcpu];
	ptw_ctx c = ctx_of(vcpu, pc);
	/* order matters: controls before roots, SCTLR/CR0 last */
	static const int order_a64[] = {SR_MMFR2, SR_MAIR,  SR_TCR,
					SR_TTBR0, SR_TTBR1, SR_SCTLR};
	static const int order_x86[] = {SR_CR4, SR_EFER, SR_CR3, SR_CR0};
	const int *ord = arch == PTW_ARCH_ARM64 ? order_a64 : order_x86;
	int n = arch == PTW_ARCH_ARM64 ? 6 : 4;
	for (int i = 0; i < n; i++) {
		int r = ord[i];
		if (!vs->sr[r])
			continue;
		uint64_t v = read_reg(vcpu, vs->sr[r]);
		if (vs->sr_known[r] && vs->sr_val[r] == v)
			continue;
		vs->sr_known[r] = true;
		vs->sr_val[r] = v;
		ptw_ev_sysreg(eng, &c, sr_engine[r], v);
	}
}

void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
	(void)id;
	on_vcpu_thread = true;
	if (vcpu >= ncpus)
		return;
	vcpu_state *vs = &vcpus[vcpu];
	GArray *regs = qemu_plugin_get_registers();
	for (guint i = 0; i < regs->len; i++) {
		qemu_plugin_reg_descriptor *d =
			&g_array_index(regs, qemu_plugin_reg_descriptor, i);
		for (int r = 0; r < SR_COUNT; r++)
			for (int k = 0; sr_names[r][k]; k++)
				if (!vs->sr[r] &&
				    g_ascii_strcasecmp(d->name,
						       sr_names[r][k]) == 0)
					vs->sr[r] = d->handle;
		if (arch == PTW_ARCH_ARM64) {
			if (d->name[0] == 'x' && g_ascii_isdigit(d->name[1])) {
				int n = atoi(d->name + 1);
				if (n >= 0 && n < 31)
					vs->gpr[n] = d->handle;
			}
		} else {
			for (int g = 0; g < 16; g++)
				if (strcmp(d->name, ptw_x86_gpr_names[g]) == 0)
					vs->gpr[g] = d->handle;
		}
	}
	for (guint i = 0; i < regs->len && arch == PTW_ARCH_ARM64; i++) {
		qemu_plugin_reg_descriptor *d =
			&g_array_index(regs, qemu_plugin_reg_descriptor, i);
		if (g_ascii_strcasecmp(d->name, "DCZID_EL0") == 0) {
			unsigned b = ptw_arm64_dczva_block(
				read_reg(vcpu, d->handle));
			if (b) /* 0: DC ZVA prohibited */
				dczva_bytes = b;
		}
	}
	g_array_free(regs, TRUE);
	if (arch == PTW_ARCH_ARM64 &&
	    (!vs->sr[SR_TTBR0] || !vs->sr[SR_TCR] || !vs->sr[SR_SCTLR]))
		fprintf(stderr,
			"ptwatch: warning: vcpu %u: TTBR0_EL1/TCR_EL1/SCTLR "
			"not readable; roots come from decoded MSRs only\n",
			vcpu);
	sync_sysregs(vcpu, 0);
}

void vcpu_resume(qemu_plugin_id_t id, unsigned int vcpu)
{
	(void)id;
	sync_sysregs(vcpu, 0);
}

/* general-purpose register n of the vCPU (opaque), for the front ends */
static uint64_t read_gpr(void *opaque, unsigned n)
{
	unsigned vcpu = (unsigned)(uintptr_t)opaque;
	if (vcpu >= PTW_MAX_CPUS || n >= 32)
		return 0;
	return read_reg(vcpu, vcpus[vcpu].gpr[n]);
}

/* Registers are read from QEMU's CPU state: in a memory callback (and the
 * patched QEMU's page watch) it holds every register as of the access,
 * since TCG writes its registers back before an access that may fault;
 * the access's own destination register aside (never a frame pointer
 * where page tables are touched). */
bool vcpu_read_gpr(void *opaque, unsigned cpu, unsigned n, uint64_t *value)
{
	(void)opaque;
	if (cpu >= ncpus || n >= 32 || !vcpus[cpu].gpr[n])
		return false;
	*value = read_reg(cpu, vcpus[cpu].gpr[n]);
	return true;
}

ptw_vcpu_regs vcpu_regs(unsigned vcpu)
{
	ptw_vcpu_regs r = {.gpr = read_gpr,
			   .opaque = (void *)(uintptr_t)vcpu,
			   .dczva_block = dczva_bytes};
	return r;
}

/* the register an instruction wrote holds w->value now: no need to report
 * it again from sync_sysregs */
void vcpu_note_write(unsigned vcpu, const ptw_reg_write *w)
{
	vcpu_state *vs = &vcpus[vcpu];
	for (int r = 0; w->reg && r < SR_COUNT; r++)
		if (sr_engine[r] == w->reg) {
			vs->sr_known[r] = true;
			vs->sr_val[r] = w->value;
		}
}

void vcpu_free(void)
{
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++)
		if (reg_buf[i]) {
			g_byte_array_free(reg_buf[i], TRUE);
			reg_buf[i] = NULL;
		}
}
