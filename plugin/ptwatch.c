/* SPDX-License-Identifier: MIT */
/*
 * ptwatch QEMU TCG plugin: a thin adapter from QEMU plugin callbacks to the
 * ptwatch engine (plugin/engine). It
 *  - reports every load and store with its VA, the PA of the TLB entry QEMU
 *    actually used, and the PC,
 *  - decodes at translation time the instructions that change translation
 *    state (arm64 MSR TTBRn_EL1/TCR_EL1/SCTLR_EL1/MAIR_EL1, TLBI, DSB; x86
 *    MOV to CR0/CR3/CR4, WRMSR EFER, INVLPG, INVPCID) and reads their
 *    register operands in an instruction callback,
 *  - recognises client-request sequences
 * (guest-tests/include/ptwatch-client.h),
 *  - gives the engine read access to guest RAM through the shared RAM backend
 *    file the launcher created (memory-backend-file, share=on).
 *
 * Arguments:
 *   ram=PATH          RAM backend file (required)
 *   ram_base=ADDR     guest PA of the start of RAM (arm64 default 0x40000000)
 *   ram_below_4g=SIZE x86: bytes of RAM mapped below 4 GiB (default: all)
 *   out=DIR           output directory (default ./ptwatch-out)
 *   echo=on|off       also print findings and warnings on stderr (off)
 *   max_pending=N     pending-change records kept (default 65536)
 *   symbols=FILE      guest kernel symbols (/proc/kallsyms or System.map)
 *   suppress=FILE     suppressions (docs/suppressions.md)
 *   known=FILE        known upstream issues, set aside and counted
 *                     (docs/known-issues.md)
 *   widen=DURATION    race amplification: stall a vCPU that opens a break
 *                     window or starts an unmap pass over a unit, or (Linux)
 *                     calls try_to_unmap_flush*() with stale-TLB records
 *                     pending (e.g. 200us)
 *   trace=FILE        record the engine's events and the memory it reads
 *                     (docs/trace-format.md), for ptwatch-replay
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qemu-plugin.h>

#include "engine/ptw.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static ptw_engine *eng;
static ptw_arch arch;
static unsigned ncpus;

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
	uint8_t pad[128 - 2 * sizeof(uint64_t)];
} vcpu_counters;
static struct qemu_plugin_scoreboard *counters_sb;
static qemu_plugin_u64 icount;
static qemu_plugin_u64 in_upper;

/* guest RAM through the shared backend */
static uint8_t *ram;
static uint64_t ram_size, ram_base, ram_below_4g;

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
/* per vCPU: the buffer register reads go through (no allocation per read) */
static GByteArray *reg_buf[PTW_MAX_CPUS];

/* ------------------------------------------------------------------ */

static bool read_phys(void *opaque, uint64_t pa, void *buf, size_t len)
{
	(void)opaque;
	uint64_t off;
	if (arch == PTW_ARCH_X86_64) {
		if (pa + len <= ram_below_4g)
			off = pa;
		else if (pa >= (1ULL << 32) &&
			 pa - (1ULL << 32) + len <= ram_size - ram_below_4g)
			off = ram_below_4g + (pa - (1ULL << 32));
		else
			return false;
	} else {
		if (pa < ram_base || pa - ram_base + len > ram_size)
			return false;
		off = pa - ram_base;
	}
	if (len == 8 && !(off & 7))
		*(uint64_t *)buf = __atomic_load_n((uint64_t *)(ram + off),
						   __ATOMIC_RELAXED);
	else
		memcpy(buf, ram + off, len);
	return true;
}

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

/* The patched QEMU's fault callback (qemu-patches/0003-0005). The plugin
 * builds against stock QEMU's qemu-plugin.h, so the info struct is
 * mirrored here, and the register function is found with dlsym(). The
 * fault names the descriptor it came from. Of the walk callback's
 * reports only the access/dirty updates the MMU writes are taken: through
 * qemu_plugin_register_vcpu_ptw_update_cb (0009), which calls for nothing
 * else, or else qemu_plugin_register_vcpu_ptw_cb (0003: a call for every
 * level of every walk, which returns at once for the reads). */
struct patched_fault_info {
	uint64_t vaddr, pc, desc_hwaddr, desc;
	int level;
	int type;   /* enum qemu_plugin_fault_type == ptw_fault_type */
	int access; /* enum qemu_plugin_mem_rw: 1 R, 2 W */
	bool fetch, desc_valid;
};
typedef void (*patched_fault_cb)(qemu_plugin_id_t, unsigned int,
				 const struct patched_fault_info *);
struct patched_ptw_info {
	uint64_t vaddr, desc_hwaddr, desc, new_desc;
	int level, stage;
	bool updated;
};
typedef void (*patched_ptw_cb)(qemu_plugin_id_t, unsigned int,
			       const struct patched_ptw_info *);

/* The patched QEMU's page watch (qemu-patches/0006): only accesses to the
 * pages the engine names (ptw_set_watch) reach the plugin, with no memory
 * callback on any other. Mirrored like the fault callback's. */
struct patched_watch_info {
	uint64_t vaddr, hwaddr, pc, value_low, value_high;
	qemu_plugin_meminfo_t info;
};
typedef void (*patched_watch_cb)(qemu_plugin_id_t, unsigned int,
				 const struct patched_watch_info *);
/* The patched QEMU's TLB maintenance callback (qemu-patches/0008): arm64
 * TLBIs and x86 INVLPGs without instruction callbacks. Mirrored like the
 * fault callback's. */
struct patched_tlbi_info {
	int scope; /* enum qemu_plugin_tlbi_scope */
	uint64_t asid, vaddr, len, pc;
	bool last_level, broadcast, all_asids, keep_global;
	uint32_t arch_op; /* arm64 CRn << 12 | op1 << 8 | CRm << 4 | op2 */
	uint64_t arch_value;
};
typedef void (*patched_tlbi_cb)(qemu_plugin_id_t, unsigned int,
				const struct patched_tlbi_info *);
/* TLB maintenance comes from that callback (tlbi_cb=on, and the QEMU has
 * it) */
static bool use_tlbi_cb;
static bool (*watch_phys)(uint64_t hwaddr, uint64_t len, bool watch);
static void (*watch_vaddr)(uint64_t start, uint64_t end);
/* qemu-patches/0010: pending stale-TLB records watched through their
 * virtual pages and their old pages' stores (vpage_watch=on, and the QEMU
 * has them) */
static bool (*watch_phys_stores)(uint64_t hwaddr, uint64_t len, bool watch);
static bool (*watch_vpages)(uint64_t vaddr, uint64_t len, bool watch);
/* the page watch is in use (page_watch=on, and the QEMU has it) */
static bool use_watch;

static ptw_ctx ctx_of(unsigned vcpu, uint64_t pc)
{
	ptw_ctx c = {vcpu, pc, qemu_plugin_u64_get(icount, vcpu)};
	return c;
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

/* set on every vCPU thread (vcpu_init runs there) */
static __thread bool on_vcpu_thread;

static void vcpu_fault(qemu_plugin_id_t id G_GNUC_UNUSED, unsigned int vcpu,
		       const struct patched_fault_info *i)
{
	ptw_ctx c = ctx_of(vcpu, i->pc);
	ptw_ev_fault(eng, &c, i->vaddr, i->level, (unsigned)i->type,
		     i->access == QEMU_PLUGIN_MEM_W, i->fetch, i->desc_valid,
		     i->desc_hwaddr, i->desc);
}

/* the MMU set an access or dirty flag: for DIRTY_LOST, and the shadow */
static void vcpu_ptw(qemu_plugin_id_t id G_GNUC_UNUSED, unsigned int vcpu,
		     const struct patched_ptw_info *i)
{
	if (!i->updated || i->stage != 1 || vcpu >= ncpus ||
	    !ptw_is_table_page(eng, i->desc_hwaddr))
		return;
	ptw_ctx c = ctx_of(vcpu, 0);
	ptw_ev_hw_update(eng, &c, i->desc_hwaddr, i->desc, i->new_desc,
			 i->vaddr);
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
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

static void vcpu_resume(qemu_plugin_id_t id, unsigned int vcpu)
{
	(void)id;
	sync_sysregs(vcpu, 0);
}

/* ------------------------------------------------------------------ */
/* hot path */

/*
 * Pages (by VA) seen to be MMIO. QEMU 10.0's qemu_plugin_get_hwaddr asserts
 * (iotlb_to_section) when an MMIO store has just changed the memory map,
 * e.g. a PCI BAR write, because the TLB entry still indexes the old map. MMIO
 * is of no interest here, so after a page is once seen as MMIO its stores
 * are not looked up again. Lock-free open-addressing set of VA pages.
 */
#define IO_PAGES 4096
static uint64_t io_pages[IO_PAGES];

static bool io_page_known(uint64_t page)
{
	uint64_t h = (page >> 12) * 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < 8; i++) {
		uint64_t v = __atomic_load_n(&io_pages[(h + i) % IO_PAGES],
					     __ATOMIC_RELAXED);
		if (v == (page | 1))
			return true;
		if (!v)
			return false;
	}
	return false;
}

static void io_page_add(uint64_t page)
{
	uint64_t h = (page >> 12) * 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < 8; i++) {
		uint64_t exp = 0;
		uint64_t *slot = &io_pages[(h + i) % IO_PAGES];
		if (__atomic_compare_exchange_n(slot, &exp, page | 1, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED) ||
		    exp == (page | 1))
			return;
	}
}

/* widen=: hold this vCPU for ns (at least 1 us) while the others run */
static void stall_vcpu(uint64_t ns)
{
	if (ns)
		g_usleep(ns / 1000 ? ns / 1000 : 1);
}

/* An access the filter passed (want), with its value's bytes. */
static void mem_access(unsigned vcpu, uint64_t pc, uint64_t vaddr, uint64_t pa,
		       unsigned size, bool st, const uint8_t *bytes,
		       unsigned want)
{
	ptw_ctx c = ctx_of(vcpu, pc);
	uint64_t v64 = 0;
	memcpy(&v64, bytes, size < 8 ? size : 8);
	ptw_ev_access_checked(eng, &c, vaddr, pa, size, st, v64, want);
	if (st)
		stall_vcpu(ptw_take_stall(eng, vcpu));
	if ((want & PTW_INTEREST_DATA) && size <= 16)
		ptw_ev_data(eng, &c, vaddr, size, st, bytes);
}

static void vcpu_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
		     uint64_t vaddr, void *udata)
{
	bool st = qemu_plugin_mem_is_store(info);
	if (st && io_page_known(vaddr & ~0xfffULL))
		return;
	struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
	if (!hw)
		return;
	if (qemu_plugin_hwaddr_is_io(hw)) {
		io_page_add(vaddr & ~0xfffULL);
		return;
	}
	uint64_t pa = qemu_plugin_hwaddr_phys_addr(hw);
	unsigned size = 1u << qemu_plugin_mem_size_shift(info);
	unsigned want = ptw_access_interest(eng, vaddr, pa, size, st);
	if (!want)
		return;
	qemu_plugin_mem_value mv = qemu_plugin_mem_get_value(info);
	uint8_t bytes[16];
	switch (mv.type) {
	case QEMU_PLUGIN_MEM_VALUE_U8:
		bytes[0] = mv.data.u8;
		break;
	case QEMU_PLUGIN_MEM_VALUE_U16:
		memcpy(bytes, &mv.data.u16, 2);
		break;
	case QEMU_PLUGIN_MEM_VALUE_U32:
		memcpy(bytes, &mv.data.u32, 4);
		break;
	case QEMU_PLUGIN_MEM_VALUE_U64:
		memcpy(bytes, &mv.data.u64, 8);
		break;
	case QEMU_PLUGIN_MEM_VALUE_U128:
		memcpy(bytes, &mv.data.u128.low, 8);
		memcpy(bytes + 8, &mv.data.u128.high, 8);
		break;
	}
	mem_access(vcpu, (uint64_t)(uintptr_t)udata, vaddr, pa, size, st, bytes,
		   want);
}

/* A page-watch report (patched QEMU): an access to a page the engine
 * named, after it was made. The same filter as vcpu_mem's follows, so
 * the watch only saves the calls the filter would have dropped. */
static void vcpu_watch(qemu_plugin_id_t id G_GNUC_UNUSED, unsigned int vcpu,
		       const struct patched_watch_info *i)
{
	if (vcpu >= ncpus)
		return;
	bool st = qemu_plugin_mem_is_store(i->info);
	unsigned size = 1u << qemu_plugin_mem_size_shift(i->info);
	unsigned want = ptw_access_interest(eng, i->vaddr, i->hwaddr, size, st);
	if (!want)
		return;
	uint8_t bytes[16];
	memcpy(bytes, &i->value_low, 8);
	memcpy(bytes + 8, &i->value_high, 8);
	mem_access(vcpu, i->pc, i->vaddr, i->hwaddr, size, st, bytes, want);
}

/* A TLB maintenance operation as QEMU reports it (patched QEMU), in place
 * of the instruction callback on TLBI (arm64) or INVLPG (x86): the same
 * engine event, from the operation's encoding and operand. x86 CR3 and
 * CR4 writes still come from their instruction callbacks (they are also
 * system register changes), so their reports are not used. */
static void vcpu_tlbi(qemu_plugin_id_t id G_GNUC_UNUSED, unsigned int vcpu,
		      const struct patched_tlbi_info *i)
{
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, i->pc);
	ptw_ev_qemu_tlbi(eng, &c, i->arch_op, i->arch_value);
}

/* the engine's page watch, passed on to QEMU (under the engine lock):
 * set, one of QEMU's two physical watches; what: what goes unseen when a
 * page is beyond it */
static void watch_phys_with(bool (*set)(uint64_t, uint64_t, bool),
			    const char *what, uint64_t pa, uint64_t len,
			    bool on)
{
	if (!set(pa, len, on) && on)
		ptw_warn(eng, "watch-beyond-512g",
			 "page watch: physical page 0x%" PRIx64
			 " is beyond what QEMU's page watch covers "
			 "(512 GiB); its %s are not seen",
			 pa, what);
}

static void watch_phys_cb(void *opaque, uint64_t pa, uint64_t len, bool on)
{
	(void)opaque;
	watch_phys_with(watch_phys, "accesses", pa, len, on);
}

static void watch_vrange_cb(void *opaque, uint64_t lo, uint64_t hi)
{
	(void)opaque;
	watch_vaddr(lo, hi);
}

static void watch_phys_stores_cb(void *opaque, uint64_t pa, uint64_t len,
				 bool on)
{
	(void)opaque;
	watch_phys_with(watch_phys_stores, "stores", pa, len, on);
}

static void watch_vpages_cb(void *opaque, uint64_t va, uint64_t len, bool on)
{
	(void)opaque;
	/* the engine asks for at most PTW_WATCH_VPAGES_MAX bytes, within
	 * QEMU's limit of 65,536 pages */
	if (!watch_vpages(va, len, on))
		ptw_warn(eng, "watch-vpages",
			 "page watch: QEMU refused to watch the virtual "
			 "pages 0x%" PRIx64 "+0x%" PRIx64
			 "; stale accesses through them are not seen",
			 va, len);
}

/* ------------------------------------------------------------------ */
/* instruction callbacks (read registers) */

/* general-purpose register n of the vCPU (opaque), for the front ends */
static uint64_t read_gpr(void *opaque, unsigned n)
{
	unsigned vcpu = (unsigned)(uintptr_t)opaque;
	if (vcpu >= PTW_MAX_CPUS || n >= 32)
		return 0;
	return read_reg(vcpu, vcpus[vcpu].gpr[n]);
}

static ptw_vcpu_regs regs_of(unsigned vcpu)
{
	ptw_vcpu_regs r = {.gpr = read_gpr,
			   .opaque = (void *)(uintptr_t)vcpu,
			   .dczva_block = dczva_bytes};
	return r;
}

/* the register an instruction wrote holds w->value now: no need to report
 * it again from sync_sysregs */
static void note_write(unsigned vcpu, const ptw_reg_write *w)
{
	vcpu_state *vs = &vcpus[vcpu];
	for (int r = 0; w->reg && r < SR_COUNT; r++)
		if (sr_engine[r] == w->reg) {
			vs->sr_known[r] = true;
			vs->sr_val[r] = w->value;
		}
}

/* arm64 MSR, TLBI, DSB, DC ZVA */
static void cb_a64(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = regs_of(vcpu);
	ptw_reg_write w;
	ptw_ev_arm64_insn(eng, &c, &ii->a64, &r, &w);
	note_write(vcpu, &w);
}

static void cb_client(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = regs_of(vcpu);
	ptw_ev_client_regs(eng, &c, &r);
}

/* x86 MOV to CR, WRMSR, INVLPG, INVPCID, a store to Linux's current task */
static void cb_x86(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	ptw_vcpu_regs r = regs_of(vcpu);
	ptw_reg_write w;
	ptw_ev_x86_insn(eng, &c, &ii->x86, ii->len, &r, &w);
	note_write(vcpu, &w);
}

/* a direct call to a function the engine watches (ii->callee): the rmap
 * walker, the fault handler, or where reclaim completes a deferred flush
 * (the engine asks for a stall there only with widen=) */
static void cb_call(unsigned int vcpu, void *udata)
{
	insn_info *ii = udata;
	if (vcpu >= ncpus)
		return;
	ptw_ctx c = ctx_of(vcpu, ii->pc);
	stall_vcpu(ptw_ev_watched_call(eng, &c, ii->callee));
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
	qemu_plugin_register_vcpu_insn_exec_cb(
		insn, cb_call, QEMU_PLUGIN_CB_NO_REGS, intern_info(&t));
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

static void vcpu_lower_half(unsigned int vcpu, void *udata)
{
	(void)udata;
	qemu_plugin_u64_set(in_upper, vcpu, 0);
	ptw_ev_lower_half_entry(eng, vcpu);
}

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
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
			QEMU_PLUGIN_COND_EQ, in_upper, 1, NULL);
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
			/* a DSB reads no register */
			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, cb_a64,
				d.op == PTW_A64_DSB ? QEMU_PLUGIN_CB_NO_REGS
						    : QEMU_PLUGIN_CB_R_REGS,
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

/* ------------------------------------------------------------------ */

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
	g_hash_table_destroy(infos);
	infos = NULL;
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++)
		if (reg_buf[i]) {
			g_byte_array_free(reg_buf[i], TRUE);
			reg_buf[i] = NULL;
		}
	qemu_plugin_scoreboard_free(counters_sb);
	if (ram)
		munmap(ram, ram_size);
	ram = NULL;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

/* "250us", "5ms", "1s", "1000ns" or plain nanoseconds */
static bool parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	double mul = 1;
	if (!strcmp(end, "") || !strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s"))
		mul = 1e9;
	else
		return false;
	*ns = (uint64_t)(v * mul);
	return true;
}

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "ptwatch: " __VA_ARGS__);                      \
		fputc('\n', stderr);                                           \
		return -1;                                                     \
	} while (0)

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	const char *ram_path = NULL, *out = "ptwatch-out", *symbols = NULL;
	const char *suppress = NULL, *known = NULL, *trace = NULL;
	bool echo = false, have_base = false, have_below = false;
	bool page_watch = true;
	bool tlbi_cb = true;
	bool vpage_watch = true;
	uint64_t max_pending = 0, widen_ns = 0;

	if (!info->system_emulation)
		FAIL("needs system emulation (qemu-system-*)");
	if (strcmp(info->target_name, "aarch64") == 0)
		arch = PTW_ARCH_ARM64;
	else if (strcmp(info->target_name, "x86_64") == 0)
		arch = PTW_ARCH_X86_64;
	else
		FAIL("unsupported target '%s' (aarch64 and x86_64 only)",
		     info->target_name);
	ncpus = (unsigned)info->system.max_vcpus;
	if (ncpus > PTW_MAX_CPUS)
		FAIL("at most %d vCPUs supported, machine has %u", PTW_MAX_CPUS,
		     ncpus);

	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			FAIL("malformed argument '%s' (expected key=value)",
			     argv[i]);
		g_autofree char *key = g_strndup(argv[i], eq - argv[i]);
		const char *val = eq + 1;
		if (strcmp(key, "ram") == 0)
			ram_path = val;
		else if (strcmp(key, "out") == 0)
			out = val;
		else if (strcmp(key, "symbols") == 0)
			symbols = val;
		else if (strcmp(key, "suppress") == 0)
			suppress = val;
		else if (strcmp(key, "known") == 0)
			known = val;
		else if (strcmp(key, "trace") == 0)
			trace = val;
		else if (strcmp(key, "ram_base") == 0) {
			if (!parse_u64(val, &ram_base))
				FAIL("bad ram_base '%s'", val);
			have_base = true;
		} else if (strcmp(key, "ram_below_4g") == 0) {
			if (!parse_u64(val, &ram_below_4g))
				FAIL("bad ram_below_4g '%s'", val);
			have_below = true;
		} else if (strcmp(key, "max_pending") == 0) {
			if (!parse_u64(val, &max_pending) || !max_pending ||
			    max_pending > (1u << 24))
				FAIL("bad max_pending '%s'", val);
		} else if (strcmp(key, "widen") == 0) {
			if (!parse_duration(val, &widen_ns) ||
			    widen_ns > 10000000000ULL)
				FAIL("bad widen '%s' (a duration up to 10s, "
				     "e.g. "
				     "200us, 5ms)",
				     val);
		} else if (strcmp(key, "echo") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &echo))
				FAIL("bad boolean for echo: '%s'", val);
		} else if (strcmp(key, "page_watch") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &page_watch))
				FAIL("bad boolean for page_watch: '%s'", val);
		} else if (strcmp(key, "tlbi_cb") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &tlbi_cb))
				FAIL("bad boolean for tlbi_cb: '%s'", val);
		} else if (strcmp(key, "vpage_watch") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &vpage_watch))
				FAIL("bad boolean for vpage_watch: '%s'", val);
		} else
			FAIL("unknown argument '%s' (known: ram, ram_base, "
			     "ram_below_4g, out, echo, max_pending, symbols, "
			     "suppress, known, widen, trace, page_watch, "
			     "tlbi_cb, vpage_watch)",
			     key);
	}
	if (!ram_path)
		FAIL("missing ram=PATH: start QEMU with a shared RAM backend "
		     "(-object memory-backend-file,id=ram,mem-path=PATH,"
		     "share=on,size=... -machine memory-backend=ram) and pass "
		     "the same PATH");
	int fd = open(ram_path, O_RDONLY);
	if (fd < 0)
		FAIL("cannot open RAM backend '%s': %s", ram_path,
		     strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		FAIL("RAM backend '%s' is empty or unreadable (is QEMU using "
		     "it with share=on?)",
		     ram_path);
	}
	ram_size = (uint64_t)st.st_size;
	ram = mmap(NULL, ram_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (ram == MAP_FAILED)
		FAIL("cannot map RAM backend '%s': %s", ram_path,
		     strerror(errno));
	if (!have_base)
		ram_base = arch == PTW_ARCH_ARM64 ? 0x40000000ULL : 0;
	if (arch == PTW_ARCH_X86_64) {
		if (!have_below)
			ram_below_4g = ram_size;
		if (ram_below_4g > ram_size)
			FAIL("ram_below_4g larger than RAM backend");
	}

	ptw_config cfg = {
		.arch = arch,
		.ncpus = ncpus,
		.read_phys = read_phys,
		.out_dir = out,
		.echo = echo ? stderr : NULL,
		.max_pending = (unsigned)max_pending,
		.widen_ns = widen_ns,
		.trace_path = trace,
	};
	/* the API of a QEMU built with qemu-patches/ (scripts/build-qemu) */
	void (*reg_fault)(qemu_plugin_id_t, patched_fault_cb) =
		(void (*)(qemu_plugin_id_t, patched_fault_cb))dlsym(
			RTLD_DEFAULT, "qemu_plugin_register_vcpu_fault_cb");
	void (*reg_ptw)(qemu_plugin_id_t, patched_ptw_cb) =
		(void (*)(qemu_plugin_id_t, patched_ptw_cb))dlsym(
			RTLD_DEFAULT,
			"qemu_plugin_register_vcpu_ptw_update_cb");
	if (!reg_ptw)
		reg_ptw = (void (*)(qemu_plugin_id_t, patched_ptw_cb))dlsym(
			RTLD_DEFAULT, "qemu_plugin_register_vcpu_ptw_cb");
	bool patched = reg_fault != NULL && reg_ptw != NULL;
	cfg.sees_walks = patched;
	void (*reg_watch)(qemu_plugin_id_t, patched_watch_cb) =
		(void (*)(qemu_plugin_id_t, patched_watch_cb))dlsym(
			RTLD_DEFAULT, "qemu_plugin_register_vcpu_watch_cb");
	watch_phys = (bool (*)(uint64_t, uint64_t, bool))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_phys");
	watch_vaddr = (void (*)(uint64_t, uint64_t))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_vaddr");
	use_watch =
		patched && page_watch && reg_watch && watch_phys && watch_vaddr;
	watch_phys_stores = (bool (*)(uint64_t, uint64_t, bool))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_phys_stores");
	watch_vpages = (bool (*)(uint64_t, uint64_t, bool))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_vpages");
	void (*reg_tlbi)(qemu_plugin_id_t, patched_tlbi_cb) =
		(void (*)(qemu_plugin_id_t, patched_tlbi_cb))dlsym(
			RTLD_DEFAULT, "qemu_plugin_register_vcpu_tlbi_cb");
	/* with the page watch only: one patched mode that has it all */
	use_tlbi_cb = use_watch && tlbi_cb && reg_tlbi;
	/* and the virtual-page watch only with all of that */
	bool use_vpages =
		use_tlbi_cb && vpage_watch && watch_phys_stores && watch_vpages;
	ptw_qemu_mode mode = use_vpages	   ? PTW_QEMU_PATCHED_VPAGES
			     : use_tlbi_cb ? PTW_QEMU_PATCHED_TLBI
			     : use_watch   ? PTW_QEMU_PATCHED_WATCH
			     : patched	   ? PTW_QEMU_PATCHED
					   : PTW_QEMU_STOCK;
	g_autoptr(GString) args = g_string_new(NULL);
	for (int i = 0; i < argc; i++)
		g_string_append_printf(args, "%s\n", argv[i]);
	g_string_append_printf(args, "qemu=%s\n", ptw_qemu_mode_name(mode));
	/* the RAM layout the live run read guest memory through */
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
	if (use_watch) {
		ptw_watch_ops wops = {.phys = watch_phys_cb,
				      .vrange = watch_vrange_cb};
		if (use_vpages) {
			wops.phys_stores = watch_phys_stores_cb;
			wops.vpages = watch_vpages_cb;
		}
		ptw_set_watch(eng, &wops);
	}
	if (symbols && !ptw_symbols_load(eng, symbols, &err)) {
		fprintf(stderr, "ptwatch: %s\n", err);
		g_free(err);
		ptw_engine_free(eng);
		return -1;
	}
	if ((suppress && !ptw_suppressions_load(eng, suppress, &err)) ||
	    (known && !ptw_known_load(eng, known, &err))) {
		fprintf(stderr, "ptwatch: %s\n", err);
		g_free(err);
		ptw_engine_free(eng);
		return -1;
	}
	infos = g_hash_table_new_full(info_hash, info_equal, g_free, NULL);
	counters_sb = qemu_plugin_scoreboard_new(sizeof(vcpu_counters));
	icount = qemu_plugin_scoreboard_u64_in_struct(counters_sb,
						      vcpu_counters, icount);
	in_upper = qemu_plugin_scoreboard_u64_in_struct(
		counters_sb, vcpu_counters, in_upper);

	qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
	qemu_plugin_register_vcpu_resume_cb(id, vcpu_resume);
	qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	if (patched) {
		reg_fault(id, vcpu_fault);
		reg_ptw(id, vcpu_ptw);
	}
	if (use_watch)
		reg_watch(id, vcpu_watch);
	if (use_tlbi_cb)
		reg_tlbi(id, vcpu_tlbi);
	return 0;
}
