/* SPDX-License-Identifier: MIT */
/*
 * ptwatch QEMU TCG plugin: a thin adapter from QEMU plugin callbacks to the
 * ptwatch engine (plugin/engine). It
 *  - reports every load and store with its VA, the PA of the TLB entry QEMU
 *    actually used, and the PC (ptwatch_memory.c),
 *  - hands the engine, as they execute, the instructions that change
 *    translation state (arm64 MSR TTBRn_EL1/TCR_EL1/SCTLR_EL1/MAIR_EL1,
 *    TLBI, DSB; x86 MOV to CR0/CR3/CR4, WRMSR EFER, INVLPG, INVPCID) with a
 *    reader of their registers (ptwatch_translate.c, ptwatch_vcpu.c),
 *  - recognises client-request sequences
 *    (guest-tests/include/ptwatch-client.h),
 *  - gives the engine read access to guest RAM through the shared RAM backend
 *    file the launcher created (memory-backend-file, share=on),
 *  - uses what a QEMU built with qemu-patches/ offers (ptwatch_patched.c).
 * The files and what they share: ptwatch.h. The arguments:
 * ptwatch_args.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ptwatch.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

ptw_engine *eng;
ptw_arch arch;
unsigned ncpus;

/* The per-vCPU counters the blocks update inline, in one scoreboard.
 * Each vCPU's slot is 128 bytes so that no two vCPUs' counters share a
 * cache line: with 8-byte slots, every block's inline add on one host
 * core took the line from the other core (false sharing), which made the
 * bare-metal mem_churn 3x slower in the patched QEMU and 3.5x in stock
 * QEMU (bench/profile.md). */
typedef struct {
	uint64_t icount;
	/* 1 while the vCPU runs upper-half code (a Linux kernel), set
	 * inline; its first lower-half block after that is a return to user
	 * mode */
	uint64_t in_upper;
	/* arm64: 1 while a DSB would matter to the engine
	 * (ptw_barrier_due()): the DSBs' callbacks are conditional on it */
	uint64_t barrier_due;
	uint8_t pad[128 - 3 * sizeof(uint64_t)];
} vcpu_counters;
static struct qemu_plugin_scoreboard *counters_sb;
qemu_plugin_u64 icount, in_upper, barrier_due;

/* At exit: the logs, then everything we hold. QEMU calls this from libc's
 * atexit. On a guest power-off, a shutdown request or a signal, the main
 * thread exits after stopping the vCPUs, and we free. A device that calls
 * exit() on a vCPU thread (x86 isa-debug-exit, the litmus guests' way out)
 * leaves the other vCPUs running, and their callbacks may still reach the
 * engine: then the logs are finished (the engine ignores what follows) and
 * nothing is freed, as the process is ending anyway. */
static void plugin_exit(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	ptw_engine_finish(eng);
	if (on_vcpu_thread)
		return;
	ptw_engine_free(eng);
	eng = NULL;
	translate_free();
	vcpu_free();
	qemu_plugin_scoreboard_free(counters_sb);
	ram_unmap();
}

#define INSTALL_FAIL(...)                                                      \
	do {                                                                   \
		fprintf(stderr, "ptwatch: " __VA_ARGS__);                      \
		fputc('\n', stderr);                                           \
		return -1;                                                     \
	} while (0)

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	if (!info->system_emulation)
		INSTALL_FAIL("needs system emulation (qemu-system-*)");
	if (strcmp(info->target_name, "aarch64") == 0)
		arch = PTW_ARCH_ARM64;
	else if (strcmp(info->target_name, "x86_64") == 0)
		arch = PTW_ARCH_X86_64;
	else
		INSTALL_FAIL(
			"unsupported target '%s' (aarch64 and x86_64 only)",
			info->target_name);
	ncpus = (unsigned)info->system.max_vcpus;
	if (ncpus > PTW_MAX_CPUS)
		INSTALL_FAIL("at most %d vCPUs supported, machine has %u",
			     PTW_MAX_CPUS, ncpus);
	plugin_args a;
	if (!args_parse(argc, argv, &a) || !ram_map(&a))
		return -1;

	ptw_config cfg = {
		.arch = arch,
		.ncpus = ncpus,
		.read_phys = ram_read_phys,
		.out_dir = a.out,
		.echo = a.echo ? stderr : NULL,
		.max_pending = (unsigned)a.max_pending,
		.widen_ns = a.widen_ns,
		.trace_path = a.trace,
	};
	ptw_qemu_mode mode = patched_probe(&a);
	cfg.sees_walks = mode != PTW_QEMU_STOCK;
	cfg.no_linux_mm = !a.linux_mm;
	cfg.read_gpr = a.stacks ? vcpu_read_gpr : NULL;
	g_autoptr(GString) args = g_string_new(NULL);
	for (int i = 0; i < argc; i++)
		g_string_append_printf(args, "%s\n", argv[i]);
	g_string_append_printf(args, "qemu=%s\n", ptw_qemu_mode_name(mode));
	/* whether the trace holds the registers stacks start from (a trace
	 * without this line has none; not "stacks=", which a user's own
	 * argument line would come before) */
	g_string_append_printf(args, "trace_stacks=%s\n",
			       a.stacks ? "on" : "off");
	/* the RAM layout the live run read guest memory through */
	uint64_t ram_base, ram_size, ram_below_4g;
	ram_layout(&ram_base, &ram_size, &ram_below_4g);
	g_string_append_printf(args,
			       "ram_layout=base 0x%" PRIx64 " size 0x%" PRIx64
			       " below_4g 0x%" PRIx64 "\n",
			       ram_base, ram_size,
			       arch == PTW_ARCH_X86_64 ? ram_below_4g : 0);
	cfg.trace_args = args->str;
	char *err = NULL;
	eng = ptw_engine_new(&cfg, &err);
	if (!eng) {
		fprintf(stderr, "ptwatch: %s\n", err);
		g_free(err);
		return -1;
	}
	ptw_log(eng, "%s", ptw_qemu_mode_text(mode));
	patched_set_watch();
	if (a.symbols && !ptw_symbols_load(eng, a.symbols, &err)) {
		fprintf(stderr, "ptwatch: %s\n", err);
		g_free(err);
		ptw_engine_free(eng);
		return -1;
	}
	if ((a.suppress && !ptw_suppressions_load(eng, a.suppress, &err)) ||
	    (a.known && !ptw_known_load(eng, a.known, &err))) {
		fprintf(stderr, "ptwatch: %s\n", err);
		g_free(err);
		ptw_engine_free(eng);
		return -1;
	}
	translate_init();
	counters_sb = qemu_plugin_scoreboard_new(sizeof(vcpu_counters));
	icount = qemu_plugin_scoreboard_u64_in_struct(counters_sb,
						      vcpu_counters, icount);
	in_upper = qemu_plugin_scoreboard_u64_in_struct(
		counters_sb, vcpu_counters, in_upper);
	barrier_due = qemu_plugin_scoreboard_u64_in_struct(
		counters_sb, vcpu_counters, barrier_due);

	qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
	qemu_plugin_register_vcpu_resume_cb(id, vcpu_resume);
	qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	patched_register(id);
	return 0;
}
