/* SPDX-License-Identifier: MIT */
/*
 * The ptwatch QEMU plugin's files (the only ones that include
 * qemu-plugin.h) and what they share:
 *   ptwatch.c            installation (qemu_plugin_install) and exit
 *   ptwatch_args.c       the plugin's arguments
 *   ptwatch_patched.c    the API of a QEMU built with qemu-patches/, found
 *                        with dlsym(), and its callbacks
 *   ptwatch_memory.c     guest RAM through the shared backend file (the
 *                        engine's reads), and the memory callbacks (the hot
 *                        path)
 *   ptwatch_vcpu.c       the vCPUs' registers: handles, reads, the values
 *                        last reported
 *   ptwatch_translate.c  translation: the instruction callbacks
 * The adapter hands raw facts (register values, instruction encodings,
 * QEMU's reports) to the engine's front ends (engine/ptw.h) and decodes
 * nothing itself.
 */
#ifndef PTWATCH_H
#define PTWATCH_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include <qemu-plugin.h>

#include "engine/ptw.h"

/* ptwatch.c */
extern ptw_engine *eng;
extern ptw_arch arch;
extern unsigned ncpus;
/* the per-vCPU counters the blocks update inline: guest instructions
 * retired, and whether the vCPU runs upper-half code */
extern qemu_plugin_u64 icount, in_upper, barrier_due;

/* after an event of vcpu's own: whether its next DSB is to be reported
 * (ptw_barrier_due(); the DSBs' callbacks are conditional on it) */
static inline void barrier_due_sync(unsigned vcpu)
{
	qemu_plugin_u64_set(barrier_due, vcpu, ptw_barrier_due(eng, vcpu));
}

static inline ptw_ctx ctx_of(unsigned vcpu, uint64_t pc)
{
	ptw_ctx c = {.cpu = vcpu,
		     .pc = pc,
		     .icount = qemu_plugin_u64_get(icount, vcpu)};
	return c;
}

/* ptwatch_args.c */
typedef struct {
	const char *ram_path, *out, *symbols, *suppress, *known, *trace;
	bool echo, page_watch, tlbi_cb, vpage_watch, linux_mm, stacks;
	bool have_base, have_below; /* ram_base=, ram_below_4g= given */
	uint64_t ram_base, ram_below_4g, max_pending, widen_ns;
} plugin_args;
/* false when an argument is bad (said on stderr) */
bool args_parse(int argc, char **argv, plugin_args *a);

/* ptwatch_memory.c */
/* map the RAM backend a names; false when it cannot (said on stderr) */
bool ram_map(const plugin_args *a);
void ram_unmap(void);
/* the engine's reader of guest memory (ptw_config.read_phys) */
bool ram_read_phys(void *opaque, uint64_t pa, void *buf, size_t len);
/* the layout it reads through (a trace's header) */
void ram_layout(uint64_t *base, uint64_t *size, uint64_t *below_4g);
void vcpu_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
	      void *udata);
/* an access the filter passed (want), with its value's bytes */
void mem_access(unsigned vcpu, uint64_t pc, uint64_t vaddr, uint64_t pa,
		unsigned size, bool st, const uint8_t *bytes, unsigned want);
/* widen=: hold this vCPU for ns (at least 1 us) while the others run */
void stall_vcpu(uint64_t ns);

/* ptwatch_patched.c */
/* which of qemu-patches/' API the QEMU has and the arguments allow */
ptw_qemu_mode patched_probe(const plugin_args *a);
/* the page watch is in use; TLB maintenance comes from QEMU's reports */
extern bool use_watch, use_tlbi_cb;
/* the engine's page watch passed on to QEMU (the engine made) */
void patched_set_watch(void);
void patched_register(qemu_plugin_id_t id);

/* ptwatch_vcpu.c */
/* set on every vCPU thread (vcpu_init runs there) */
extern __thread bool on_vcpu_thread;
void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu);
void vcpu_resume(qemu_plugin_id_t id, unsigned int vcpu);
/* the front ends' reader of a vCPU's registers */
ptw_vcpu_regs vcpu_regs(unsigned vcpu);
/* ptw_config.read_gpr: a register of the vCPU whose callback runs now */
bool vcpu_read_gpr(void *opaque, unsigned cpu, unsigned n, uint64_t *value);
/* a register an instruction wrote (ptw_ev_*_insn) */
void vcpu_note_write(unsigned vcpu, const ptw_reg_write *w);
void vcpu_free(void);

/* ptwatch_translate.c */
void translate_init(void);
void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void translate_free(void);

/* an adapter setup step failed: say why on stderr, return false */
#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "ptwatch: " __VA_ARGS__);                      \
		fputc('\n', stderr);                                           \
		return false;                                                  \
	} while (0)

#endif
