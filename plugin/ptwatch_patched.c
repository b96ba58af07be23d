/* SPDX-License-Identifier: MIT */
/*
 * The API of a QEMU built with qemu-patches/ (scripts/build-qemu), found
 * with dlsym() (the plugin builds against stock QEMU's qemu-plugin.h, so
 * the patched structs are mirrored here): its fault and access/dirty
 * update callbacks, its page watch (only the accesses to the pages the
 * engine names reach the plugin), its TLB maintenance callback, and its
 * virtual-page watch. Each used when the QEMU has it and the arguments
 * allow it (ptw_qemu_mode).
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <string.h>

#include "ptwatch.h"

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
bool use_tlbi_cb;
static bool (*watch_phys)(uint64_t hwaddr, uint64_t len, bool watch);
static void (*watch_vaddr)(uint64_t start, uint64_t end);
/* qemu-patches/0010: pending stale-TLB records watched through their
 * virtual pages and their old pages' stores (vpage_watch=on, and the QEMU
 * has them) */
static bool (*watch_phys_stores)(uint64_t hwaddr, uint64_t len, bool watch);
static bool (*watch_vpages)(uint64_t vaddr, uint64_t len, bool watch);
/* the page watch is in use (page_watch=on, and the QEMU has it) */
bool use_watch;
/* the walks and faults are reported; the virtual-page watch is in use */
static bool patched, use_vpages;
static void (*reg_fault)(qemu_plugin_id_t, patched_fault_cb);
static void (*reg_ptw)(qemu_plugin_id_t, patched_ptw_cb);
static void (*reg_watch)(qemu_plugin_id_t, patched_watch_cb);
static void (*reg_tlbi)(qemu_plugin_id_t, patched_tlbi_cb);

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
	barrier_due_sync(vcpu);
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
	unsigned want =
		ptw_access_interest(eng, vcpu, i->vaddr, i->hwaddr, size, st);
	if (!want) {
		ptw_watch_unwanted(eng, i->hwaddr);
		return;
	}
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
	barrier_due_sync(vcpu);
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

ptw_qemu_mode patched_probe(const plugin_args *a)
{
	reg_fault = (void (*)(qemu_plugin_id_t, patched_fault_cb))dlsym(
		RTLD_DEFAULT, "qemu_plugin_register_vcpu_fault_cb");
	reg_ptw = (void (*)(qemu_plugin_id_t, patched_ptw_cb))dlsym(
		RTLD_DEFAULT, "qemu_plugin_register_vcpu_ptw_update_cb");
	if (!reg_ptw)
		reg_ptw = (void (*)(qemu_plugin_id_t, patched_ptw_cb))dlsym(
			RTLD_DEFAULT, "qemu_plugin_register_vcpu_ptw_cb");
	patched = reg_fault != NULL && reg_ptw != NULL;
	reg_watch = (void (*)(qemu_plugin_id_t, patched_watch_cb))dlsym(
		RTLD_DEFAULT, "qemu_plugin_register_vcpu_watch_cb");
	watch_phys = (bool (*)(uint64_t, uint64_t, bool))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_phys");
	watch_vaddr = (void (*)(uint64_t, uint64_t))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_vaddr");
	use_watch = patched && a->page_watch && reg_watch && watch_phys &&
		    watch_vaddr;
	watch_phys_stores = (bool (*)(uint64_t, uint64_t, bool))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_phys_stores");
	watch_vpages = (bool (*)(uint64_t, uint64_t, bool))dlsym(
		RTLD_DEFAULT, "qemu_plugin_watch_vpages");
	reg_tlbi = (void (*)(qemu_plugin_id_t, patched_tlbi_cb))dlsym(
		RTLD_DEFAULT, "qemu_plugin_register_vcpu_tlbi_cb");
	/* with the page watch only: one patched mode that has it all */
	use_tlbi_cb = use_watch && a->tlbi_cb && reg_tlbi;
	/* and the virtual-page watch only with all of that */
	use_vpages = use_tlbi_cb && a->vpage_watch && watch_phys_stores &&
		     watch_vpages;
	return use_vpages    ? PTW_QEMU_PATCHED_VPAGES
	       : use_tlbi_cb ? PTW_QEMU_PATCHED_TLBI
	       : use_watch   ? PTW_QEMU_PATCHED_WATCH
	       : patched     ? PTW_QEMU_PATCHED
			     : PTW_QEMU_STOCK;
}

void patched_set_watch(void)
{
	if (use_watch) {
		ptw_watch_ops wops = {.phys = watch_phys_cb,
				      .vrange = watch_vrange_cb};
		if (use_vpages) {
			wops.phys_stores = watch_phys_stores_cb;
			wops.vpages = watch_vpages_cb;
		}
		ptw_set_watch(eng, &wops);
	}
}

void patched_register(qemu_plugin_id_t id)
{
	if (patched) {
		reg_fault(id, vcpu_fault);
		reg_ptw(id, vcpu_ptw);
	}
	if (use_watch)
		reg_watch(id, vcpu_watch);
	if (use_tlbi_cb)
		reg_tlbi(id, vcpu_tlbi);
}
