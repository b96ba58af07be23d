/* SPDX-License-Identifier: MIT */
/*
 * ptwatch analysis engine: public interface.
 *
 * Plain C (glib only), no QEMU dependency. The QEMU plugin, an offline trace
 * reader and the unit tests all drive it with the same normalised events:
 * system-register loads (page-table roots and translation controls), memory
 * accesses with VA and PA, TLB maintenance, barriers and client requests.
 *
 * The engine is thread-safe: events may arrive concurrently from several
 * vCPU threads (MTTCG). ptw_is_table_page(), ptw_has_pending() and
 * ptw_pending_may_hit() are lock-free so the adapter can filter the hot path
 * cheaply.
 */
#ifndef PTW_H
#define PTW_H

#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#define PTW_MAX_CPUS 64
#define PTW_NO_PA    UINT64_MAX

typedef enum {
	PTW_ARCH_ARM64 = 1,
	PTW_ARCH_X86_64 = 2,
} ptw_arch;

/* Finding kinds; numbering shared with guest-tests/include/ptwatch-client.h */
typedef enum {
	PTW_KIND_NONE = 0,
	PTW_KIND_BBM_VALID_TO_VALID = 1,
	PTW_KIND_BBM_MAKE_BEFORE_INVALIDATE = 2,
	PTW_KIND_BBM_WINDOW_READ = 3,
	PTW_KIND_STALE_TLB_ACCESS = 4,
	PTW_KIND_PARTIAL_UNIT_UNMAP = 5,
	PTW_KIND_CONTIG_MISPROGRAMMED = 6,
	PTW_KIND_PTE_ABA = 7,
	PTW_KIND_DATA_MISMATCH = 8,
	PTW_KIND_BBM_WINDOW_WALK = 9,
	PTW_KIND_DIRTY_LOST = 10,
	PTW_KIND_PT_PAGE_MAPPED = 11,
	PTW_KIND_COW_SHARED_WRITABLE = 12,
	PTW_KIND_PINNED_PAGE_DIVERGED = 13,
	PTW_KIND_SWAP_SLOT_UNCLAIMED = 14,
	PTW_KIND_SWAP_ENTRY_LEAKED = 15,
	PTW_KIND_ZAP_LEFT_ENTRY = 16,
	PTW_KIND_COUNT
} ptw_kind;

const char *ptw_kind_name(ptw_kind k);

/* s as a quoted JSON string appended to out (valid JSON for any bytes:
 * UTF-8 kept, invalid bytes as U+FFFD); the engine's logs and the
 * timeline share it */
struct _GString;
void ptw_json_string(struct _GString *out, const char *s);
ptw_kind ptw_kind_from_name(const char *name);

/* How much a finding matters (docs/findings.md, "Severity"). Numbering
 * shared with guest-tests/include/ptwatch-client.h (PTW_EXPECT_SEV). */
typedef enum {
	PTW_SEV_NONE = 0,
	PTW_SEV_NOTE = 1,    /* benign by design (a reader that re-checks) */
	PTW_SEV_WARNING = 2, /* a rule broken on a path Linux takes on
				purpose (arm64 reclaim's batched flush) */
	PTW_SEV_ERROR = 3,   /* a rule broken where a consequence is
				possible, data lost, an invariant broken */
	PTW_SEV_COUNT
} ptw_severity;

const char *ptw_severity_name(ptw_severity s);
/* "error", "warning" or "note"; PTW_SEV_NONE if unknown */
ptw_severity ptw_severity_from_name(const char *name);

/* System registers the engine cares about. */
typedef enum {
	PTW_REG_ARM_TTBR0 = 1,
	PTW_REG_ARM_TTBR1,
	PTW_REG_ARM_TCR,
	PTW_REG_ARM_SCTLR,
	PTW_REG_ARM_MAIR,
	PTW_REG_ARM_ID_AA64MMFR2, /* for the FEAT_BBM level */
	PTW_REG_X86_CR0,
	PTW_REG_X86_CR3,
	PTW_REG_X86_CR4,
	PTW_REG_X86_EFER,
	/* Linux on arm64 keeps the current task in SP_EL0 while in the
	 * kernel: a kernel-half value written there names the task that
	 * runs on the vCPU (see ptw_ev_task) */
	PTW_REG_ARM_SP_EL0,
} ptw_reg;

/* Where and when an event happened. */
typedef struct {
	unsigned cpu;
	uint64_t pc;
	uint64_t icount; /* guest instructions retired by this vCPU */
	/* the guest call stack there, when the engine took it
	 * (ptw_stack_capture): an id of the engine's, 0 for none */
	uint32_t stack;
} ptw_ctx;

/* Guest physical memory reader (e.g. a mapping of the RAM backend). */
typedef bool (*ptw_read_phys_fn)(void *opaque, uint64_t pa, void *buf,
				 size_t len);
/* A general-purpose register of the vCPU whose event is being applied, by
 * the architecture's number (ptw_vcpu_regs.gpr), called on that vCPU's
 * thread; false if it cannot be read. */
typedef bool (*ptw_read_gpr_fn)(void *opaque, unsigned cpu, unsigned n,
				uint64_t *value);

/* ---- the timeline (docs/timeline.md) ----
 * What a replay draws: the moments the core and the detectors tell a sink
 * (ptw_config.timeline), NULL in live runs, which then pay one untaken
 * branch at each of those moments and nothing on the hot path. */
typedef enum {
	PTW_TL_BREAK_OPEN = 1, /* an entry broken (valid -> invalid) */
	PTW_TL_BREAK_CLOSE,    /* ... made again, or forgotten (made: by its
				  breaker, a transient window) */
	PTW_TL_PASS_OPEN,      /* a CPU's pass over a multi-page unit */
	PTW_TL_PASS_CLOSE,
	PTW_TL_PENDING_OPEN, /* a stale-TLB record: a flush pending */
	PTW_TL_PENDING_CLOSE,
	PTW_TL_FINDING, /* reported (number 0: a repeat of its title) */
	PTW_TL_TASK,	/* the vCPU switched to another guest task */
	PTW_TL_PROGRAM, /* a guest program named itself (text) */
	PTW_TL_PHASE,	/* a guest phase marker (text) */
} ptw_tl_kind;

typedef struct ptw_finding ptw_finding;

typedef struct {
	ptw_tl_kind kind;
	unsigned cpu; /* whose track: the breaker, passer, changer, ... */
	/* the event that caused it; NULL when none did (a break forgotten
	 * when its table went), or on another vCPU than cpu: the sink then
	 * takes cpu's clock as it is */
	const ptw_ctx *at;
	uint64_t id; /* pairs an OPEN with its CLOSE (per kind and cpu) */
	uint64_t pte_pa, va;
	int level;
	unsigned n;    /* PASS_OPEN: the unit's entries */
	bool made;     /* BREAK_CLOSE */
	uint64_t task; /* TASK */
	const char *text;
	const ptw_finding *finding; /* FINDING */
	unsigned number;	    /* FINDING: #N of findings.jsonl */
} ptw_tl_event;

typedef struct {
	void (*event)(void *opaque, const ptw_tl_event *ev);
	void *opaque;
} ptw_timeline_sink;

typedef struct {
	ptw_arch arch;
	unsigned ncpus;
	ptw_read_phys_fn read_phys;
	void *read_opaque;
	/* the registers call stacks start from (with read_opaque); NULL:
	 * findings carry no call stacks */
	ptw_read_gpr_fn read_gpr;
	/* Output directory for ptwatch.log, findings.jsonl, summary.json;
	 * NULL for none (unit tests). */
	const char *out_dir;
	/* Echo findings and warnings here too (may be NULL). */
	FILE *echo;
	/* Maximum pending-change records kept for stale-TLB detection. */
	unsigned max_pending;
	/* Race amplification: stall a CPU this long when it opens a break
	 * window or starts an unmap pass over a large unit (0: off). */
	uint64_t widen_ns;
	/* Record the event stream and the memory the engine reads to this
	 * file (docs/trace-format.md), NULL for none; trace_args: the
	 * plugin's arguments, one key=value per line, for its header. */
	const char *trace_path;
	const char *trace_args;
	/* Events come from one thread only (a replay): the engine takes no
	 * lock. */
	bool single_threaded;
	/* QEMU reports its faults with the entries they came from
	 * (PTW_EV_FAULT: a QEMU built with qemu-patches/) */
	bool sees_walks;
	/* Read no Linux mm objects (struct pages, swap slots) through the
	 * guest kernel's BTF: the detectors that need them are off, the
	 * others as they are (the plugin's linux_mm=off; bench/modes'
	 * measure of what those reads cost). */
	bool no_linux_mm;
	/* Tell the timeline's moments here (a replay's --timeline), NULL
	 * for none. */
	const ptw_timeline_sink *timeline;
} ptw_config;

struct ptw_finding {
	ptw_kind kind;
	ptw_severity severity;
	const char *severity_why; /* static: why this severity */
	/* static: the kind's variant, named in the title after the kind
	 * ("use-after-free"), NULL for none */
	const char *variant;
	ptw_arch arch;
	ptw_ctx ctx;
	uint64_t pte_pa; /* physical address of the entry */
	uint64_t va;	 /* VA the entry maps */
	int level;	 /* architecture level of the entry */
	uint64_t old_desc, new_desc;
	char detail[1024];
	/* the other side of the finding (writer / breaker / changer / first
	 * reader / storer), when there is one */
	bool has_other;
	ptw_ctx other;
	const char *role, *other_role;
	char sym[96], other_sym[96]; /* filled by the engine */
	/* "KIND[ variant] in a / b": the two sides' functions (symbols without
	 * their offsets, sorted; a PC where a side has no symbol), filled by
	 * the engine; with the severity, the key repeats are counted by */
	char title[256];
};

typedef struct ptw_engine ptw_engine;

#include "ptw_event.h" /* the events, ptw_engine_event() */

/* Returns NULL and sets *err (static string or g_strdup'd message, caller
 * frees with g_free) when the output directory cannot be written. */
ptw_engine *ptw_engine_new(const ptw_config *cfg, char **err);
/* Load guest kernel text symbols (/proc/kallsyms or System.map format). */
bool ptw_symbols_load(ptw_engine *e, const char *path, char **err);
/* Load suppressions (see docs/suppressions.md). */
bool ptw_suppressions_load(ptw_engine *e, const char *path, char **err);
/* Load known upstream issues (suppression format plus 'fix:'). */
bool ptw_known_load(ptw_engine *e, const char *path, char **err);
/* Writes summary.json, closes logs and the trace. Safe to call once. */
void ptw_engine_finish(ptw_engine *e);
/* The input ended badly (a corrupt trace): log why, write summary.json
 * marked incomplete with the findings so far, close logs and the trace,
 * without the end-of-run checks. */
void ptw_engine_abandon(ptw_engine *e, const char *why);
void ptw_engine_free(ptw_engine *e);

/* ---- architecture front ends: each builds a ptw_event (ptw_event.h) and
 * feeds it to ptw_engine_event() ---- */

/* A system register now holds value (the instruction that writes it is
 * about to complete, or the value was read at vCPU start). */
void ptw_ev_sysreg(ptw_engine *e, const ptw_ctx *c, ptw_reg reg,
		   uint64_t value);

/* The vCPU went on from upper-half code (VA bit 63 set: a Linux kernel) to
 * lower-half code: on Linux, a return to user mode. Called on the vCPU's
 * own thread, without the engine lock. Two reads of a page-table entry on
 * either side belong to different kernel operations: PTE_ABA pairs only
 * reads with none between them. */
void ptw_ev_lower_half_entry(ptw_engine *e, unsigned cpu);
/* ... and pc, the first lower-half instruction it runs (0: not known).
 * Kernel code run through an ID map (VA = PA: Linux's idmap, while it
 * replaces TTBR1 or brings a CPU up) is lower-half code too: the PC tells
 * it from user code (ran_id_mapped(), engine.c). */
void ptw_ev_lower_half_entry_at(ptw_engine *e, unsigned cpu, uint64_t pc);
/* Code at va is upper-half code in that sense. */
bool ptw_linux_upper_half_code(uint64_t va);

/* The guest kernel switched the vCPU to another task (task: an opaque,
 * non-zero id; on Linux its task_struct address: arm64 SP_EL0, x86-64 the
 * per-CPU current_task slot). PTE_ABA pairs the reads of one task, and
 * ends them at that task's own return to user mode, so a task that sleeps
 * between its lockless read and its pte_same() keeps its pair while its
 * vCPU runs others. Before the first call, reads are paired per vCPU. */
void ptw_ev_task(ptw_engine *e, const ptw_ctx *c, uint64_t task);

/* Linux on x86-64: the per-CPU address of the current task pointer
 * (pcpu_hot.current_task, or current_task before 6.2) from the symbols
 * given, or 0. The adapter reports a %gs-relative store of a register to
 * it as ptw_ev_task. */
uint64_t ptw_linux_current_slot(ptw_engine *e);

/* Linux: target is the function whose callers ptwatch tells apart (the
 * rmap walker page_vma_mapped_walk(): try_to_unmap_one() acts on what it
 * finds, folio_referenced_one() only tests young bits), from the symbols
 * given. The adapter reports each direct call to it (c->pc: the call
 * site) as ptw_ev_call, on the calling vCPU's thread; lock-free. */
typedef enum {
	PTW_CALLEE_NONE,
	PTW_CALLEE_RMAP_WALK,	   /* page_vma_mapped_walk(): ptw_ev_call */
	PTW_CALLEE_FAULT,	   /* handle_mm_fault(): ptw_ev_op_start */
	PTW_CALLEE_DEFERRED_FLUSH, /* try_to_unmap_flush*():
				      ptw_ev_deferred_flush_call */
	PTW_CALLEE_ZAP,		   /* zap_page_range_single(): ptw_ev_zap,
				      from its arguments */
} ptw_callee;
ptw_callee ptw_linux_watched_callee(ptw_engine *e, uint64_t target);
/* Whether the adapter must give ptw_ev_watched_call the registers (the
 * callee's arguments matter) */
bool ptw_linux_callee_args(ptw_callee callee);
/* A direct call to a watched callee (c->pc: the call site): the event its
 * kind stands for (ptw_ev_call, ptw_ev_op_start,
 * ptw_ev_deferred_flush_call, ptw_ev_zap); r: the vCPU's registers at the
 * call, for a callee whose arguments matter (else NULL). Returns how long
 * to stall the vCPU. */
struct ptw_vcpu_regs;
uint64_t ptw_ev_watched_call(ptw_engine *e, const ptw_ctx *c, ptw_callee callee,
			     const struct ptw_vcpu_regs *r);
/* Linux: a call to zap_page_range_single(vma, start, size, details): the
 * calling task removes the entries of [start, start + size) of one VMA
 * (details: the struct zap_details pointer, 0 for none) */
void ptw_ev_zap(ptw_engine *e, const ptw_ctx *c, uint64_t start, uint64_t size,
		uint64_t details);
void ptw_ev_call(ptw_engine *e, const ptw_ctx *c);
/* Linux: a direct call to try_to_unmap_flush() or _dirty(): reclaim
 * completes the TLB flush it deferred (TTU_BATCH_FLUSH). Returns how long
 * the adapter should stall the calling vCPU (widen=, while stale-TLB
 * records are pending), else 0. */
uint64_t ptw_ev_deferred_flush_call(ptw_engine *e, const ptw_ctx *c);
/* The vCPU's guest task starts an operation (Linux: a call to
 * handle_mm_fault(), each attempt of a fault): PTE_ABA pairs no reads
 * across it. */
void ptw_ev_op_start(ptw_engine *e, const ptw_ctx *c);

/* A load or store completed. pa is PTW_NO_PA for I/O. For stores to
 * page-table pages the engine re-reads memory for the real value (failed CAS,
 * fetch-op atomics); value is what QEMU reported. */
void ptw_ev_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		   unsigned size, bool is_store, uint64_t value);

/* arm64 TLBI (SYS with CRn=8): op1, CRm, op2 from the encoding; xt the
 * register operand (0 for forms without one). */
void ptw_ev_arm64_tlbi(ptw_engine *e, const ptw_ctx *c, unsigned op1,
		       unsigned crm, unsigned op2, uint64_t xt);

/* arm64 DSB (crm = the option field: 0xb ISH, 0xf SY, ...). */
void ptw_ev_arm64_dsb(ptw_engine *e, const ptw_ctx *c, unsigned crm);

/* x86 INVLPG of one linear address, on this CPU only. */
void ptw_ev_x86_invlpg(ptw_engine *e, const ptw_ctx *c, uint64_t va);

/* x86 INVPCID (type from the register operand; descriptor not decoded):
 * treated as invalidating everything on this CPU. */
void ptw_ev_x86_invpcid(ptw_engine *e, const ptw_ctx *c, uint64_t type);

/* A load or store inside the tracked-data bounds (ptw_tracked_bounds):
 * bytes is the value loaded or stored (size <= 64). */
void ptw_ev_data(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned size,
		 bool is_store, const uint8_t *bytes);
/* arm64 DC ZVA (invisible to memory callbacks) zeroed len bytes at va. */
void ptw_ev_zero(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned len);
/* VA bounds of all tracked regions [lo, hi), lock-free; lo == hi: none */
void ptw_tracked_bounds(ptw_engine *e, uint64_t *lo, uint64_t *hi);

/* A client request from the guest (see ptwatch-client.h). */
void ptw_ev_client(ptw_engine *e, const ptw_ctx *c, uint64_t req, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4);

/* Nanoseconds the adapter should now stall this vCPU (race amplification),
 * 0 if none; clears the request. Lock-free. */
uint64_t ptw_take_stall(ptw_engine *e, unsigned cpu);

/* Whether a barrier on this vCPU would matter to the engine now: it has
 * changed a page-table entry or issued TLB maintenance since its last
 * barrier that completes maintenance (arm64 DSB with a full option). A
 * barrier with neither before it completes nothing the detectors track
 * (each one's barrier and sync hooks act only on the issuing CPU's own
 * stores and maintenance), so the adapter may leave it unreported.
 * Lock-free: the vCPU's own thread. */
bool ptw_barrier_due(ptw_engine *e, unsigned cpu);

/* ---- the page watch (a patched QEMU) ----
 * What the hot-path filters below can pass, named to the adapter so that a
 * patched QEMU calls it only for those accesses: the physical pages of
 * page tables and of pending stale-TLB records' old pages (phys, on when a
 * page starts to matter, off when it stops), and the tracked-data bounds
 * (vrange, [lo, hi), lo == hi: none). Called under the engine's lock, as
 * the state changes; set before the first event.
 * With phys_stores and vpages too (qemu-patches/0010), a pending record of
 * up to PTW_WATCH_VPAGES_MAX bytes is watched where it can matter instead
 * of through its whole old page: its virtual pages (vpages, on when the
 * record opens, off when it closes, counted: a stale access can only come
 * through them) and its old page for stores while no store elsewhere has
 * reused it (phys_stores, as phys). */
#define PTW_WATCH_VPAGES_MAX (32ULL << 20)
typedef struct ptw_watch_ops {
	void (*phys)(void *opaque, uint64_t pa, uint64_t len, bool on);
	void (*vrange)(void *opaque, uint64_t lo, uint64_t hi);
	void *opaque;
	void (*phys_stores)(void *opaque, uint64_t pa, uint64_t len, bool on);
	void (*vpages)(void *opaque, uint64_t va, uint64_t len, bool on);
} ptw_watch_ops;
void ptw_set_watch(ptw_engine *e, const ptw_watch_ops *ops);

/* ---- hot-path filters (lock-free) ---- */
/* What an access at va (pa, size bytes) matters to, in one call: 0, or
 * PTW_ACC_TABLE (a page-table page), PTW_ACC_PENDING (ptw_pending_may_matter),
 * PTW_INTEREST_DATA (tracked data) */
#define PTW_INTEREST_DATA 0x100
unsigned ptw_access_interest(ptw_engine *e, unsigned cpu, uint64_t va,
			     uint64_t pa, unsigned size, bool is_store);
/* A patched QEMU is delivering a translation fault (type: ptw_fault_type in
 * ptw_event.h) at va to the guest; c->pc is the faulting instruction; with
 * has_desc, the walker read desc at pte_pa (level) and faulted on it. */
void ptw_ev_fault(ptw_engine *e, const ptw_ctx *c, uint64_t va, int level,
		  unsigned type, bool store, bool fetch, bool has_desc,
		  uint64_t pte_pa, uint64_t desc);

/* A patched QEMU's MMU set the access or dirty flag of the entry at pte_pa
 * (old -> new) while it translated va for vCPU c->cpu (c->pc: not known,
 * 0). */
void ptw_ev_hw_update(ptw_engine *e, const ptw_ctx *c, uint64_t pte_pa,
		      uint64_t old, uint64_t new, uint64_t va);

/* ptw_ev_access with the filters' answer already known (want, from
 * ptw_access_interest) */
void ptw_ev_access_checked(ptw_engine *e, const ptw_ctx *c, uint64_t va,
			   uint64_t pa, unsigned size, bool is_store,
			   uint64_t value, unsigned want);
bool ptw_is_table_page(ptw_engine *e, uint64_t pa);
/* A page-watch report on pa the filters dropped (ptw_access_interest()
 * gave 0): if pa's page is watched only because it lingers (its count
 * fell to 0 a moment ago), it is no longer watched. Lock-free unless it
 * lingers. */
void ptw_watch_unwanted(ptw_engine *e, uint64_t pa);
bool ptw_has_pending(ptw_engine *e);
/* false when no pending stale-TLB record's old page can contain pa (then
 * the access can neither be stale nor reuse a stale page) */
bool ptw_pending_may_hit(ptw_engine *e, uint64_t pa);
/* the same, and a record for va's page in the address space vCPU cpu
 * translates va in, or for a store a record not yet marked reused: an
 * access through another address (the kernel's linear map reading a page
 * freed since, or writing one already known reused), or through the same
 * VA of another address space (a forked parent using the page its child's
 * record left), can neither be stale nor tell anything new, and is
 * dropped without the engine's lock */
bool ptw_pending_may_matter(ptw_engine *e, unsigned cpu, uint64_t va,
			    uint64_t pa, bool is_store);

/* ---- queries (for tests and the adapter) ---- */
unsigned ptw_finding_count(ptw_engine *e, ptw_kind k);
/* i-th finding recorded (in order), or NULL. */
const ptw_finding *ptw_finding_get(ptw_engine *e, unsigned i);
unsigned ptw_findings_total(ptw_engine *e);
/* Findings of kind k (PTW_KIND_NONE: any kind) with severity s. */
unsigned ptw_finding_count_sev(ptw_engine *e, ptw_kind k, ptw_severity s);
/* Shadow value of the descriptor at pa, false if pa is not a tracked entry */
bool ptw_shadow_get(ptw_engine *e, uint64_t pa, uint64_t *val);
/* Number of tracked page-table pages. */
unsigned ptw_table_count(ptw_engine *e);
/* Named statistic (see summary.json "stats"), 0 if unknown. */
uint64_t ptw_stat(ptw_engine *e, const char *name);
/* The QEMU the plugin runs in (which plugin API it found): one line in
 * ptwatch.log, and the same line from a replay of its trace. */
typedef enum {
	PTW_QEMU_STOCK,		/* memory callbacks only */
	PTW_QEMU_PATCHED,	/* + the fault callback */
	PTW_QEMU_PATCHED_WATCH, /* + the page watch instead of memory cbs */
	/* + QEMU's TLB maintenance callback instead of decoding TLBI and
	 * INVLPG */
	PTW_QEMU_PATCHED_TLBI,
	PTW_QEMU_PATCHED_VPAGES, /* + pending records by virtual page */
} ptw_qemu_mode;
const char *ptw_qemu_mode_text(ptw_qemu_mode mode);
/* the mode's name in a trace header's qemu=, and back (stock if NULL or
 * unknown) */
const char *ptw_qemu_mode_name(ptw_qemu_mode mode);
ptw_qemu_mode ptw_qemu_mode_parse(const char *name);
/* Log one line in ptwatch.log (and echo=). */
void ptw_log(ptw_engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Log a warning line (rate limited per key). */
void ptw_warn(ptw_engine *e, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- architecture helpers, exposed for the adapter and unit tests ---- */

typedef enum {
	PTW_DESC_INVALID = 0,
	PTW_DESC_TABLE,
	PTW_DESC_BLOCK, /* leaf above the last level */
	PTW_DESC_PAGE,	/* leaf at the last level */
} ptw_desc_type;

typedef struct {
	ptw_desc_type type;
	uint64_t oa;   /* output address (leaf) or next-level table address */
	uint64_t size; /* bytes mapped by a leaf */
} ptw_desc;

/* arm64. lpa2: TCR_EL1.DS set (52-bit OA, bits 9:8 = OA[51:50]); level:
 * -1..3; ps: log2 of the granule (12 for 4K, 14 for 16K) */
ptw_desc ptw_arm64_decode(uint64_t d, int level, bool lpa2, unsigned ps);
/* Start level and root entry count for a region of 64 - tsz VA bits with
 * the granule 1 << ps. */
bool ptw_arm64_geometry(unsigned tsz, int *start_level, unsigned *nent,
			unsigned ps);
/* Root table PA from a TTBR value. */
uint64_t ptw_arm64_ttbr_baddr(uint64_t ttbr, bool lpa2);
/* Why a valid -> valid change needs break-before-make; NULL if it does
 * not. mair: MAIR_EL1 (for Normal <-> Normal-Tagged). */
const char *ptw_arm64_bbm_reason(uint64_t old, uint64_t new, int level,
				 bool lpa2, uint64_t mair, unsigned ps);

/* x86-64, level 1 (PT) .. 5 (PML5). */
ptw_desc ptw_x86_decode(uint64_t d, int level);

/* Bits the hardware may change on its own (access flag / dirty state):
 * a difference in these alone is never a finding. */
uint64_t ptw_hw_managed_bits(ptw_arch arch, uint64_t old, uint64_t new);

/* x86 instruction decoding used by the adapter (at translation time). */
typedef enum {
	PTW_X86_NONE = 0,
	PTW_X86_MOV_TO_CR, /* cr, gpr */
	PTW_X86_INVLPG,	   /* memory operand */
	PTW_X86_INVPCID,   /* gpr = type register */
	PTW_X86_WRMSR,
	/* mov r64, %gs:mem (a per-CPU variable store on Linux): gpr, and
	 * the memory operand as for INVLPG */
	PTW_X86_GS_STORE64,
} ptw_x86_op;

typedef struct {
	ptw_x86_op op;
	int cr;	 /* MOV_TO_CR */
	int gpr; /* source (MOV_TO_CR, GS_STORE64) / type register (INVPCID) */
	/* INVLPG / GS_STORE64 effective address: base + index*scale + disp
	 * (+ rip); GS_STORE64's is an offset from the GS base */
	int base, index; /* -1 if absent; 16 = RIP-relative */
	unsigned scale;
	int64_t disp;
	unsigned len;
} ptw_x86_insn;

bool ptw_x86_decode_insn(const uint8_t *b, size_t n, ptw_x86_insn *out);
/* CALL rel32 at pc (n bytes at b): its target */
bool ptw_x86_direct_call(const uint8_t *b, size_t n, uint64_t pc,
			 uint64_t *target);
/* x86-64 GPR names in encoding order (rax, rcx, ... r15). */
extern const char *const ptw_x86_gpr_names[16];

/* arm64 instruction decoding used by the adapter. */
typedef enum {
	PTW_A64_NONE = 0,
	PTW_A64_MSR,	/* sysreg write: reg, rt */
	PTW_A64_TLBI,	/* op1, crm, op2, rt */
	PTW_A64_DSB,	/* crm */
	PTW_A64_DC_ZVA, /* rt */
} ptw_a64_op;

typedef struct {
	ptw_a64_op op;
	ptw_reg reg;
	unsigned op1, crm, op2, rt;
} ptw_a64_insn;

bool ptw_arm64_decode_insn(uint32_t w, ptw_a64_insn *out);
/* BL at pc: its target */
bool ptw_arm64_direct_call(uint32_t w, uint64_t pc, uint64_t *target);
/* Client-request sequences: number of instructions, and matchers. */
#define PTW_CLIENT_SEQ_A64_WORDS 5
bool ptw_arm64_is_client_seq(const uint32_t *w);
#define PTW_CLIENT_SEQ_X86_BYTES 19
bool ptw_x86_is_client_seq(const uint8_t *b);

/* DCZID_EL0 -> the bytes DC ZVA zeroes, 0 when DC ZVA is prohibited */
unsigned ptw_arm64_dczva_block(uint64_t dczid);
/* x86: the system register MOV to CR<cr> writes, 0 for a CR the engine
 * does not follow; the value that register then reads as; the register
 * WRMSR writes with this ECX (0: none followed), and the value from EDX:EAX
 */
ptw_reg ptw_x86_cr_reg(unsigned cr);
uint64_t ptw_x86_cr_stored(ptw_reg reg, uint64_t value);
ptw_reg ptw_x86_msr_reg(uint64_t rcx);
uint64_t ptw_x86_msr_value(uint64_t rax, uint64_t rdx);

/* ---- front ends from instructions: the adapter decodes an instruction
 * at translation (ptw_arm64_decode_insn, ptw_x86_decode_insn) and, when it
 * executes, hands it over with a way to read the vCPU's registers; the
 * front end reads what the instruction names and builds the events ---- */

/* What a front end reads of the vCPU an instruction runs on, through the
 * adapter (in the instruction's callback): general-purpose register n by
 * the architecture's number (arm64 X0-X30, never 31; x86-64 RAX, RCX, ...
 * R15 in encoding order, ptw_x86_gpr_names); and, arm64, the bytes DC ZVA
 * zeroes (ptw_arm64_dczva_block of DCZID_EL0). */
typedef struct ptw_vcpu_regs {
	uint64_t (*gpr)(void *opaque, unsigned n);
	void *opaque;
	unsigned dczva_block;
} ptw_vcpu_regs;

/* A system register an instruction wrote (reg 0: none), and the value it
 * now reads as: for an adapter that reports a register again only when its
 * value changed (ptw_ev_sysreg) */
typedef struct {
	ptw_reg reg;
	uint64_t value;
} ptw_reg_write;

/* The arm64 instruction d (ptw_arm64_decode_insn: MSR, TLBI, DSB, DC ZVA)
 * is about to complete: its events, from the registers it names. */
void ptw_ev_arm64_insn(ptw_engine *e, const ptw_ctx *c, const ptw_a64_insn *d,
		       const ptw_vcpu_regs *r, ptw_reg_write *w);
/* arm64 DC ZVA of the block (block bytes) that holds xt */
void ptw_ev_arm64_dc_zva(ptw_engine *e, const ptw_ctx *c, uint64_t xt,
			 unsigned block);

/* x86, at translation: whether the engine wants the instruction d
 * (ptw_x86_decode_insn at pc, len bytes) when it executes: a MOV to a CR
 * it follows, a per-CPU store only to Linux's current task pointer
 * (ptw_linux_current_slot), every WRMSR, INVLPG and INVPCID. */
bool ptw_x86_insn_wanted(ptw_engine *e, const ptw_x86_insn *d, uint64_t pc,
			 unsigned len);
/* The x86 instruction d (len bytes, at c->pc), wanted, is about to
 * complete: its events, from the registers it names. */
void ptw_ev_x86_insn(ptw_engine *e, const ptw_ctx *c, const ptw_x86_insn *d,
		     unsigned len, const ptw_vcpu_regs *r, ptw_reg_write *w);
/* the effective address of d's memory operand (INVLPG, GS_STORE64; len:
 * the instruction's, for RIP-relative); r NULL when it names no register */
uint64_t ptw_x86_operand_ea(const ptw_x86_insn *d, uint64_t pc, unsigned len,
			    const ptw_vcpu_regs *r);

/* The client-request sequence (guest-tests/include/ptwatch-client.h) is
 * PTW_CLIENT_SEQ_INSNS instructions: whether b (n bytes, those
 * instructions' encodings one after another) is it, on this engine's
 * architecture; and, at its last instruction, the request from the
 * registers it is made in. */
#define PTW_CLIENT_SEQ_INSNS 5
bool ptw_client_seq(ptw_engine *e, const uint8_t *b, size_t n);
void ptw_ev_client_regs(ptw_engine *e, const ptw_ctx *c,
			const ptw_vcpu_regs *r);

/* A TLB maintenance operation as a patched QEMU reports it
 * (qemu-patches/0008: arch_op, the architecture's encoding; arch_value,
 * its operand), in place of the instruction callbacks on arm64 TLBI and
 * x86 INVLPG. */
void ptw_ev_qemu_tlbi(ptw_engine *e, const ptw_ctx *c, uint32_t arch_op,
		      uint64_t arch_value);

#endif
