/* SPDX-License-Identifier: MIT */
/* ptwatch engine internals shared by engine.c and report.c */
#ifndef PTW_ENGINE_INTERNAL_H
#define PTW_ENGINE_INTERNAL_H

#include <glib.h>
#include <pthread.h>

#include "ptw.h"
#include "u64map.h"

#define PTW_KSPACE 1ULL /* x86-64 upper half: shared by every root */

/* One way a table is reached: the address space and VA of its entry 0
 * through one parent path, and how many parent entries give that path. */
typedef struct {
	uint64_t space, va_base;
	unsigned refs;
} ptw_view;

/* extra views per table; more are not followed. x86-64 Linux's ESPFIX
 * area links one PTE page from 512 PMD entries under 4 PUD entries
 * (2048 views, written once at boot). */
#define PTW_MAX_ALIASES 4095

/* detectors in the table (detectors.c), at most */
#define PTW_MAX_DETECTORS 16

/* 4 KiB pages a table spans at most (2048 entries of the 16K granule) */
#define PTW_TABLE_PAGES 4

typedef struct ptw_table {
	uint64_t pa;	  /* base of the table (may be smaller than a page) */
	int level;	  /* architecture level of its entries */
	unsigned nent;	  /* number of entries */
	uint64_t va_base; /* VA mapped by entry 0 */
	uint64_t space;	  /* address-space key (root PA or PTW_KSPACE) */
	unsigned refs;	  /* parent entries pointing here, all views */
	/* Other views than (space, va_base), the first: a table linked from
	 * two parents (x86 hugetlb PMD sharing between processes, or one
	 * table mapped at two VAs). Changes to its entries leave stale-TLB
	 * records for every view; break-before-make and window records
	 * follow the first view only. */
	ptw_view *alias;
	unsigned nalias;
	bool is_root;
	unsigned cpu_refs; /* roots: CPU root slots holding it */
	uint16_t asid;	   /* roots: last ASID / PCID seen with it */
	uint64_t cached;   /* roots: CPUs whose TLB may hold its entries */
	/* roots: cold (no CPU holds it, no TLB may cache it) and kept, not
	 * dropped (root_park()); parked_at orders them for eviction */
	bool parked;
	uint64_t parked_at;
	/* roots: a CPU returned to user mode while holding it: a process's
	 * page tables (only those are parked; an early kernel table is
	 * freed without its entries cleared) */
	bool ran_user;
	/* the next table of each 4 KiB page the table spans (a 16K-granule
	 * table spans four; ptw_table_page_link()) */
	struct ptw_table *next_in_page[PTW_TABLE_PAGES];
	uint64_t *shadow;
	uint64_t gen; /* registration serial: what a detector keeps per entry
			 belongs to one registration of the table */
	/* each detector's own per-table state (detector.h: ptw_table_slot),
	 * freed with the table by that detector's table_free */
	void *det[PTW_MAX_DETECTORS];
} ptw_table;

typedef ptw_inval_scope inval_scope;

bool ptw_scope_covers(const inval_scope *s, uint64_t va, uint64_t size,
		      bool global, uint16_t asid);

/* arm64 TLBI <op1, CRm, op2> with operand xt -> the scope it invalidates
 * and whether it is broadcast (Inner Shareable). asid16: TCR_EL1.AS; lpa2:
 * TCR_EL1.DS (range operands); ps: log2 of the granule (a VA form's
 * scope is its page). False for an encoding not modelled: then *s is
 * everything, broadcast (the caller warns). A pure function. */
bool ptw_arm64_decode_tlbi(unsigned op1, unsigned crm, unsigned op2,
			   uint64_t xt, bool asid16, bool lpa2, inval_scope *s,
			   bool *broadcast, unsigned ps);
/* The same for a TLBI cpu issues: with its own TCR_EL1.AS and the
 * engine's descriptor format. Lock-free (the vCPU's own thread). */
bool ptw_arm64_tlbi(const ptw_engine *e, unsigned cpu, unsigned op1,
		    unsigned crm, unsigned op2, uint64_t xt, inval_scope *s,
		    bool *broadcast);

/* Guest tasks (task.c): the task each vCPU runs (0: not known, the vCPU
 * stands for it), its lower_entries when it was switched in, each task's
 * returns to user before its current run (task -> count), and each
 * task's current operation (task -> serial). */
typedef struct {
	uint64_t task[PTW_MAX_CPUS];
	uint64_t task_lower_base[PTW_MAX_CPUS];
	u64map task_lower; /* task -> uint64_t returns to user */
	u64map ops;	   /* task -> uint64_t[2]: serial, returns at start */
	uint64_t op_serial;
} ptw_tasks;

/* A barrier as the architecture decodes it (ptw_arch_ops.barrier). */
typedef struct {
	/* completes the issuing CPU's earlier TLB maintenance and makes its
	 * page-table stores visible to walkers (arm64 DSB with a full
	 * option, Arm ARM D8.13 / B2.3.12) */
	bool completes_maintenance;
	/* ... only for the issuing CPU's own invalidations (DSB NSH) */
	bool local;
} ptw_barrier;

/* A CPU's translation state as the core keeps it; its registers are the
 * architecture's (ptw_engine.arch) */
typedef struct {
	bool mmu_on;
	ptw_table *root[2];
	/* the address-space keys of root[] (0: none, or the MMU off), for
	 * the lock-free filters of the vCPU's own accesses
	 * (ptw_access_space_lockfree()); written under the lock */
	uint64_t space_key[2];
	/* the CPU's returns to user mode when it loaded root[] */
	uint64_t lower_at_load[2];
} ptw_cpu;

enum {
	ST_TABLES_REGISTERED,
	ST_TABLES_DROPPED,
	ST_TABLE_ALIASES,
	ST_ROOTS,
	ST_ROOTS_COLD,
	ST_ROOTS_PARKED,
	ST_ROOTS_UNPARKED,
	ST_ROOTS_PARKED_STALE,
	ST_WATCH_UNLINGERED,
	ST_PT_STORES,
	ST_ENTRY_CHANGES,
	ST_HW_AD_ONLY,
	ST_LEAF_CHANGES,
	ST_TLBI,
	ST_DSB,
	ST_INVLPG,
	ST_CR3_WRITES,
	ST_STALE_ACCESSES,
	ST_STALE_DEFERRED,
	ST_OPERATIONS,
	ST_PENDING_OVERFLOW,
	ST_PENDING_VA_EVICTED,
	ST_PENDING_MERGED,
	ST_PENDING_SPACE_GONE,
	ST_PENDING_PEAK,
	ST_CLIENT_REQUESTS,
	ST_BREAKS,
	ST_WINDOWS,
	ST_BREAKS_OBSERVED,
	ST_BREAK_LONGEST,
	ST_UNITS,
	ST_PT_LOADS,
	ST_DATA_LOADS_CHECKED,
	ST_WARNINGS,
	ST_STALLS,
	ST_LOWER_ENTRIES,
	ST_TASK_SWITCHES,
	ST_WINDOW_READS_REVALIDATED,
	ST_WINDOW_READS_SMALL_FOLIO,
	ST_WINDOW_READS_UNCHECKED,
	ST_FAULTS,	 /* patched QEMU: translation faults it delivered */
	ST_WINDOW_WALKS, /* ... of which on an entry in another CPU's break */
	ST_HW_UPDATES,	 /* patched QEMU: access/dirty updates by the MMU */
	ST_HW_DIRTIED,	 /* ... that made a tracked entry dirty */
	ST_HW_DIRTY_UNTRACKED, /* ... not checked: MAX_HW_DIRTY reached */
	/* accesses checked against pending stale-TLB records (their PA in
	 * the old page of one) */
	ST_PENDING_CHECKS,
	/* Linux: struct pages read through BTF (ptw_linux_page()), and of
	 * those the ones that made no sense (a tail whose head is none) */
	ST_LINUX_PAGES_READ,
	ST_LINUX_PAGES_UNKNOWN,
	/* accesses ptw_access_interest() answered from its per-vCPU cache of
	 * pages no filter wanted, and those it asked the filters about
	 * (summed from the vCPUs' counters when the summary is written) */
	ST_INTEREST_CACHE_HITS,
	ST_INTEREST_CACHE_MISSES,
	/* times a filter's growth emptied every vCPU's interest cache */
	ST_INTEREST_GENERATIONS,
	ST_COUNT
};
extern const char *const ptw_stat_names[ST_COUNT];

#define BITMAP_CHUNK_SHIFT 30
#define BITMAP_CHUNKS	   4096 /* covers PA < 4 TiB */

/* What a CPU's translation registers say (ptw_arch_ops.roots): whether
 * translation is on, and each root's table (arm64 TTBR0/TTBR1, x86 CR3). */
typedef struct {
	bool on;
	const char *off_why; /* why it is off, for the warning */
	bool lpa2;	     /* arm64 TCR_EL1.DS: the descriptor format */
	/* log2 of the translation granule (the page size): 12, or 14 for
	 * arm64's 16K granule */
	unsigned page_shift;
	struct {
		bool valid;
		uint64_t pa, va_base;
		int start_level;
		unsigned nent;
		uint16_t asid;
		/* not tracked: a warning, given once per warn_key */
		char warn[200];
		unsigned warn_key;
	} root[2];
} ptw_root_spec;

/* What a write to a system register does (ptw_arch_ops.sysreg), in the
 * order ptw_apply_sysreg() applies it */
typedef struct {
	int stat;   /* a statistic to count (ST_*), -1 for none */
	bool roots; /* the CPU's roots may have changed: read them again */
	bool flush; /* the write invalidates the CPU's own TLB, this much: */
	inval_scope flush_scope;
	/* a local flush to the detectors (x86: ends the CPU's unmap pass, as
	 * INVLPG does), also when nothing is invalidated */
	bool local_flush;
	uint64_t task;	/* non-zero: the vCPU now runs this guest task */
	char note[256]; /* a line for the log, "" for none */
} ptw_sysreg_effect;

/* The architecture interface: everything the core and the detectors ask
 * of an architecture, one table per architecture (arch_arm64.c,
 * arch_x86.c), chosen at ptw_engine_new(). The core holds no architecture
 * branches; the event entry points for an architecture's own registers and
 * instructions (ptw_ev_arm64_*, ptw_ev_x86_*) are architecture code by
 * name. */
typedef struct ptw_arch_ops {
	const char *name;
	int last_level; /* the level of last-level tables */
	int level_step; /* next level: +1 (arm64 -1..3) or -1 (x86 5..1) */
	/* log2 of the bytes an entry maps */
	unsigned (*entry_shift)(const ptw_engine *e, int level);
	/* entries in a contiguous group at level (arm64: 16 with the 4K
	 * granule; 128 at level 3, 32 at level 2 with 16K); an architecture
	 * without the bit gives the 4K 16 (det_bbm's group guess) */
	unsigned (*cont_entries)(const ptw_engine *e, int level);
	ptw_desc (*decode)(const ptw_engine *e, uint64_t d, int level);
	/* an address as the page tables produce it (x86: sign-extended from
	 * bit 47, or 56 with LA57) */
	uint64_t (*canonical)(const ptw_engine *e, uint64_t va);
	/* the upper (kernel) half: arm64 bit 55 (TTBR1), x86 bit 63 */
	bool (*upper_half)(uint64_t va);
	/* the CPU's root for va: 0 or 1 (arm64 TTBR0/TTBR1) */
	unsigned (*root_index)(uint64_t va);
	/* one upper half shared by every root (x86: PTW_KSPACE); a root's
	 * index bits must then be masked off va */
	bool shared_upper;
	/* cached for every ASID/PCID (arm64 nG clear; x86 G with CR4.PGE) */
	bool (*global)(const ptw_engine *e, unsigned cpu, uint64_t desc);
	/* bits the hardware may change on its own (access, dirty) */
	uint64_t (*hw_managed)(uint64_t old, uint64_t new);
	/* the entry's hardware dirty state is set (arm64: DBM and AP[2]
	 * clear; x86: D) */
	bool (*hw_dirty)(uint64_t desc);
	/* why a valid -> valid change needs break-before-make, NULL if not;
	 * the member is NULL on an architecture without the rule (x86) */
	const char *(*bbm_reason)(const ptw_engine *e, uint64_t old,
				  uint64_t new, int level);
	/* the contiguous bit (arm64 bit 52), 0: none */
	uint64_t cont_bit;
	/* attributes that must be identical across a multi-page unit */
	uint64_t (*unit_attr_mask)(const ptw_engine *e);
	/* the roots cpu's translation registers name */
	void (*roots)(const ptw_engine *e, unsigned cpu, ptw_root_spec *out);
	/* cpu wrote value to reg: keep it, and say what that does (*fx);
	 * another architecture's register does nothing */
	void (*sysreg)(ptw_engine *e, unsigned cpu, ptw_reg reg, uint64_t value,
		       ptw_sysreg_effect *fx);
	/* the architecture's own state, zeroed but for what it sets: the
	 * CPUs' registers (ptw_engine.arch; one block, g_free'd) */
	void *(*init)(const ptw_engine *e);
	/* the FEAT_BBM level the CPU advertises (arm64), -1 unknown; NULL on
	 * an architecture without one */
	int (*bbm_level)(const ptw_engine *e);
	/* the registers a client request is made in: the request, then its
	 * four arguments (guest-tests/include/ptwatch-client.h) */
	unsigned client_gpr[5];
	/* the registers a function's first six integer arguments are
	 * passed in (the procedure-call standard) */
	unsigned call_arg_gpr[6];
	/* the frame pointer's register (the head of the chain of frame
	 * records), -1: none */
	int frame_gpr;
	int sp_gpr; /* the stack pointer's, -1: not a general register */
	/* the link register (a call's return address while the callee keeps
	 * it there), -1: none; and whether the 4-byte instruction w at pc is
	 * a direct call, to *target */
	int link_gpr;
	bool (*direct_call4)(uint32_t w, uint64_t pc, uint64_t *target);
	/* a return address as saved in a frame record -> the code address
	 * (arm64: without its pointer-authentication code) */
	uint64_t (*code_address)(uint64_t saved);
	/* a barrier instruction's operand (arm64 DSB CRm) -> its kind */
	void (*barrier)(unsigned operand, ptw_barrier *out);
	/* user code may pass this entry of a walk: a leaf that grants it
	 * access (arm64 AP[1], EL0; x86 U/S), a table descriptor that does
	 * not take it away below (arm64 APTable[0] clear; x86 U/S set) */
	bool (*user_ok)(uint64_t desc, bool leaf);
	/* a leaf the OS treats as writable (arm64: DBM, Linux's PTE_WRITE,
	 * or AP[2] clear; x86: R/W) */
	bool (*writable)(uint64_t desc);
} ptw_arch_ops;

extern const ptw_arch_ops ptw_arch_arm64_ops, ptw_arch_x86_ops;

/* pages whose watch count fell to 0 that stay watched (engine.c) */
#define WATCH_LINGER	   256
#define LINGER_FILTER_BITS 16

/* one kind of physical page watch (every access, or stores only), its
 * pages counted by why they matter */
typedef struct ptw_watch_set {
	bool stores;	  /* ops.phys_stores, else ops.phys */
	GHashTable *refs; /* watched page pa -> count (tables, records) */
	uint64_t linger[WATCH_LINGER]; /* pages at 0 still watched */
	unsigned linger_next, linger_used;
} ptw_watch_set;

/* Fields that every event writes (the lock, the counters) sit alone on
 * their cache lines, away from what the vCPUs' lock-free filters read on
 * every access (cfg, npending, the filters, the tracked range): sharing a
 * line, each event on one host core took it from the other core's next
 * filter check. The engine is allocated at this alignment. */
#define PTW_CACHELINE  64
#define PTW_LINE_ALONE __attribute__((aligned(PTW_CACHELINE)))

/* Per vCPU: the 4 KiB pages (by VA and PA; loads, stores or both) that no
 * part of the engine wanted an access to, as of a generation of the filters
 * (ptw_engine.interest_gen) and of the vCPU's address-space keys
 * (space_epoch; engine.c, ptw_access_interest()). Direct-mapped by VA
 * page. The slots are read and written only on that vCPU's thread; the
 * counters are atomic because the summary reads them from another, and
 * the epoch because cpus_publish() raises it from any. */
#define INTEREST_CACHE_BITS 8
typedef struct {
	uint64_t va_page, pa_page, space_epoch, gen;
	uint8_t quiet; /* not wanted: 1 loads, 2 stores */
} ptw_interest_slot;
typedef struct ptw_interest_cache {
	ptw_interest_slot slot[1u << INTEREST_CACHE_BITS];
	uint64_t hits, misses;
	uint64_t space_epoch;
} PTW_LINE_ALONE ptw_interest_cache;

struct ptw_engine {
	const ptw_arch_ops *ops; /* the architecture */
	ptw_config cfg;
	/* adaptive: spins briefly before it sleeps (engine.c) */
	pthread_mutex_t lock PTW_LINE_ALONE;
	ptw_cpu cpu[PTW_MAX_CPUS] PTW_LINE_ALONE;
	uint64_t all_cpus;
	void *arch; /* the architecture's state (ops->init) */
	bool lpa2;  /* arm64 TCR_EL1.DS */
	/* log2 of the translation granule, the page size (12; 14 for an
	 * arm64 guest with the 16K granule): a table below the root has
	 * 1 << (page_shift - 3) entries */
	unsigned page_shift;
	unsigned granule_warned; /* arm64: (half * 4 + TG) warned about */

	u64map tables;	  /* pa -> ptw_table* (u64map.h) */
	GPtrArray *roots; /* root tables */
	unsigned nparked; /* of them parked (cold, kept) */
	uint64_t park_serial;
	u64map table_pages;  /* page pa -> first ptw_table* (u64map.h) */
	ptw_watch_ops watch; /* the adapter's page watch (or none) */
	ptw_watch_set watch_all, watch_stores;
	/* the lingering pages (count 0, still watched) of both sets, counted
	 * by a hash of the page: read lock-free by ptw_watch_unwanted() */
	uint16_t *linger_filter;
	uint64_t *bitmap[BITMAP_CHUNKS];
	int high_tables; /* tables above the bitmap range */

	/* the generation of the lock-free filters: raised (ptw_interest_grew())
	 * whenever one may start to want a page it did not, which empties
	 * every vCPU's interest cache at once. Alone on its line: every
	 * access reads it, and it changes rarely. */
	uint64_t interest_gen PTW_LINE_ALONE;
	ptw_interest_cache *interest_cache; /* [cfg.ncpus] */

	uint64_t stats[ST_COUNT] PTW_LINE_ALONE;
	GArray *findings PTW_LINE_ALONE; /* ptw_finding */
	unsigned kind_count[PTW_KIND_COUNT];
	unsigned kind_sev_count[PTW_KIND_COUNT][PTW_SEV_COUNT];
	unsigned sev_count[PTW_SEV_COUNT];
	uint64_t expected[PTW_KIND_COUNT];
	/* expectations by severity (PTW_EXPECT_SEV), set bits: declared */
	uint64_t expected_sev[PTW_KIND_COUNT][PTW_SEV_COUNT];
	unsigned expected_sev_set[PTW_KIND_COUNT];
	bool expect_declared, guest_done;
	uint64_t guest_status;
	GHashTable *warn_keys; /* key -> count */

	/* the detectors' private states (detector.h), by table index */
	void *det[PTW_MAX_DETECTORS];
	/* for the hooks every access or page-table event calls, the
	 * detectors that have them, in table order (detectors.c) */
	struct ptw_det_list {
		const struct ptw_detector *det[PTW_MAX_DETECTORS];
		void *st[PTW_MAX_DETECTORS];
		unsigned n;
	} hot[5];
	ptw_tasks tasks;	  /* task.c */
	const ptw_ctx *event_ctx; /* the event being applied (events.c) */
	uint64_t table_gen;
	uint64_t current_slot; /* x86-64 Linux: &current_task, per CPU */
	uint64_t pvmw_addr;    /* Linux: page_vma_mapped_walk() */
	uint64_t fault_addr;   /* Linux: handle_mm_fault() */
	/* Linux: try_to_unmap_flush(), try_to_unmap_flush_dirty() */
	uint64_t deferred_flush_addr[2];
	/* Linux: the zap with zap_details (6.12 zap_page_range_single(), 7.x
	 * zap_vma_range_batched()) and its start argument's index */
	uint64_t zap_addr;
	unsigned zap_start_arg;
	struct ptw_linux_orc *linux_orc_tables; /* guest_linux_orc.c */
	struct ptw_stacks *stacks;		/* stack.c */
	/* per vCPU: the site of its last call to pvmw_addr (its thread) */
	uint64_t call_site[PTW_MAX_CPUS];
	int stall[PTW_MAX_CPUS]; /* widen requested (lock-free read) */
	/* per vCPU: an entry changed or TLB maintenance issued since its
	 * last maintenance-completing barrier (ptw_barrier_due) */
	int barrier_due[PTW_MAX_CPUS];
	/* per vCPU: upper- to lower-half transitions (returns to user) so
	 * far; written and read only on that vCPU's thread */
	uint64_t lower_entries[PTW_MAX_CPUS];
	/* ... and the PC of the last of them (0: not known), written the
	 * same way, read under the lock when a root is released */
	uint64_t lower_pc[PTW_MAX_CPUS];

	GArray *syms;		   /* kernel text symbols, sorted */
	uint64_t text_va, text_pa; /* kernel image: _text and its PA */
	GHashTable *progs;	   /* space -> program name */
	GArray *rules;		   /* suppressions and known issues */
	unsigned suppressed[PTW_KIND_COUNT];
	unsigned known[PTW_KIND_COUNT]; /* set aside as known upstream issues */
	GHashTable *seen;	/* "sev title" -> report_title (report.c) */
	GHashTable *aside_seen; /* titles of known / suppressed findings */
	GPtrArray *io_errors;	/* log writes that failed (report.c) */
	int64_t summary_at;	/* when summary.json was last rewritten */
	unsigned repeats[PTW_KIND_COUNT];

	FILE *log, *jsonl;
	char *out_dir;
	bool finished;
	struct ptw_trace_writer *trace; /* trace= (trace.c), or NULL */
	/* Linux's mm objects typed by the guest kernel's BTF
	 * (guest_linux_mm.c), NULL until it is needed */
	struct ptw_linux_mm *linux_mm;
};

/* The one way a finding is built (detectors.c): kind, severity and why,
 * where (c, role) and the other side (other, other_role; NULL for none),
 * the entry, the story. Goes to ptw_report_finding() (report.c), which
 * symbolizes, sets aside known and suppressed ones and logs. */
void report2(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	     const ptw_ctx *c, const char *role, const ptw_ctx *other,
	     const char *other_role, uint64_t pte_pa, uint64_t va, int level,
	     uint64_t old, uint64_t new, const char *detail);
/* ... of a variant of kind k, named in its title (a static string) */
void report2_variant(ptw_engine *e, ptw_kind k, const char *variant,
		     ptw_severity sev, const char *sev_why, const ptw_ctx *c,
		     const char *role, const ptw_ctx *other,
		     const char *other_role, uint64_t pte_pa, uint64_t va,
		     int level, uint64_t old, uint64_t new, const char *detail);

/* events applied, the engine lock held (events.c dispatches) */
void ptw_apply_sysreg(ptw_engine *e, const ptw_ctx *c, ptw_reg reg,
		      uint64_t value);
void ptw_apply_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		      unsigned size, unsigned flags, uint64_t value);
void ptw_apply_data(ptw_engine *e, const ptw_ctx *c, uint64_t va, unsigned size,
		    bool is_store, const uint8_t *bytes);
void ptw_apply_inval(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev);
void ptw_apply_barrier(ptw_engine *e, const ptw_ctx *c, unsigned crm);
void ptw_apply_client(ptw_engine *e, const ptw_ctx *c, uint64_t req,
		      uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
void ptw_apply_call(ptw_engine *e, const ptw_ctx *c);
/* Linux: a task zaps [start, end) of one VMA (zap_page_range_single());
 * cows: it must remove private COW pages too (cows_known false: its
 * zap_details could not be read) */
typedef struct {
	uint64_t start, end;
	bool cows, cows_known;
} ptw_linux_zap;
void ptw_apply_zap(ptw_engine *e, const ptw_ctx *c, uint64_t start,
		   uint64_t size, uint64_t details);
void ptw_apply_lower_entry(ptw_engine *e, unsigned cpu, uint64_t pc);
uint64_t ptw_apply_deferred_flush(ptw_engine *e, const ptw_ctx *c);
void ptw_apply_finish(ptw_engine *e);
void ptw_apply_fault(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev);
void ptw_apply_hw_update(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev);
/* every read of guest memory goes through here (a trace records it) */
bool ptw_read_phys(ptw_engine *e, uint64_t pa, void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* The core's queries (engine.c), for the detectors: read-only but for
 * the services at the end (the page watch, the widening stall). */
unsigned ptw_entry_shift(ptw_engine *e, int level);
/* entries in a table below the root (512; 2048 with 16K pages) */
static inline unsigned ptw_table_entries(const ptw_engine *e)
{
	return 1u << (e->page_shift - 3);
}
/* entries in a contiguous group at level (ops->cont_entries) */
unsigned ptw_cont_entries(ptw_engine *e, int level);
uint64_t ptw_entry_va(ptw_engine *e, const ptw_table *t, unsigned idx);
uint64_t ptw_entry_space(ptw_engine *e, const ptw_table *t, uint64_t va);
uint64_t ptw_access_space(ptw_engine *e, unsigned cpu, uint64_t va);
ptw_desc ptw_decode_entry(ptw_engine *e, uint64_t d, int level);
ptw_table *ptw_table_of(ptw_engine *e, uint64_t pa, unsigned *idx);
/* len bytes at kernel VA va (a page at a time, through the shadowed
 * tables and ptw_read_phys()); *bad_va (may be NULL): where it failed */
bool ptw_read_kernel(ptw_engine *e, uint64_t va, void *buf, size_t len,
		     uint64_t *bad_va);
bool ptw_kernel_xlate(ptw_engine *e, uint64_t va, uint64_t *pa);
bool ptw_translate(ptw_engine *e, unsigned cpu, uint64_t va, uint64_t *pa,
		   uint64_t *pte_pa, int *level);
/* CPUs whose TLB may hold a translation of va through table t (its first
 * view), or through a table of address space 'space' */
uint64_t ptw_may_hold(ptw_engine *e, const ptw_table *t, uint64_t va);
uint64_t ptw_may_hold_in(ptw_engine *e, uint64_t space, uint64_t va);
bool ptw_is_last_level(ptw_engine *e, int level);
/* user code may pass every table entry of the walk from t's root down to
 * t (ptw_arch_ops.user_ok; through t's first view): a leaf of t that
 * grants user access is reachable by user code */
bool ptw_table_user_path(ptw_engine *e, const ptw_table *t);
/* desc, at this level, is a leaf that grants user access (decoded in *d);
 * whether user code reaches it also takes ptw_table_user_path() */
bool ptw_user_leaf(ptw_engine *e, int level, uint64_t desc, ptw_desc *d);
/* the context of the event being applied (a table's registration happens
 * inside one) */
const ptw_ctx *ptw_event_ctx(const ptw_engine *e);
/* the ASID/PCID last seen with the root of address space 'space' (0) */
uint16_t ptw_space_asid(ptw_engine *e, uint64_t space);
/* a table's views (0: its first, 1..: aliases), and an entry through one */
unsigned ptw_table_nviews(const ptw_table *t);
ptw_view ptw_table_view(const ptw_table *t, unsigned k);
uint64_t ptw_view_entry_va(ptw_engine *e, const ptw_table *t, const ptw_view *v,
			   unsigned idx);
uint64_t ptw_view_entry_space(ptw_engine *e, const ptw_view *v, uint64_t va);
/* the page watch (ptw_watch_ops), counted: d = +1 the pages of
 * [pa, pa + len) matter once more (stores_only: only their stores), -1
 * once less; by virtual page (a vCPU's cached translations of va); and
 * whether a range of this size is watched by virtual page */
void ptw_watch_phys(ptw_engine *e, bool stores_only, uint64_t pa, uint64_t len,
		    int d);
void ptw_watch_vpages(ptw_engine *e, uint64_t va, uint64_t len, bool on);
bool ptw_watch_by_va(const ptw_engine *e, uint64_t len);
/* widening: hold cpu at its next access (ptw_take_stall) */
void ptw_request_stall(ptw_engine *e, unsigned cpu);

/* task.c: guest tasks and operations */
void ptw_tasks_init(ptw_engine *e);
void ptw_tasks_free(ptw_engine *e);
uint64_t ptw_task_who(const ptw_engine *e, unsigned cpu);
uint64_t ptw_task_returns(ptw_engine *e, uint64_t who);
/* vCPU cpu's returns to user so far, read from any thread (its own writes
 * them without the engine lock: ptw_ev_lower_half_entry()) */
static inline uint64_t ptw_lower_entries(const ptw_engine *e, unsigned cpu)
{
	return __atomic_load_n(&e->lower_entries[cpu], __ATOMIC_RELAXED);
}
uint64_t ptw_task_op(ptw_engine *e, uint64_t who);
uint64_t ptw_task_open_op(ptw_engine *e, uint64_t who);
void ptw_task_switch(ptw_engine *e, unsigned cpu, uint64_t task);
void ptw_task_op_start(ptw_engine *e, unsigned cpu);

/* guest_linux.c: what ptwatch knows of Linux, asked once */
bool ptw_guest_is_linux(const ptw_engine *e);
bool ptw_linux_present_invalid(ptw_arch arch, uint64_t v);
bool ptw_linux_sw_dirty(ptw_arch arch, uint64_t v);
void ptw_linux_describe_swap(ptw_arch arch, uint64_t d, char *buf, size_t n);
bool ptw_linux_fault_retried(bool upper_half);
bool ptw_linux_rechecking_reader(const char *sym);
bool ptw_linux_pfn_entry(ptw_arch arch, uint64_t v, uint64_t *pfn);
bool ptw_linux_swap_device_entry(ptw_arch arch, uint64_t v, unsigned *type,
				 uint64_t *off);
bool ptw_linux_aba_walker(const char *sym);
uint64_t ptw_linux_arm64_task(uint64_t sp_el0);
bool ptw_linux_x86_current_store(ptw_engine *e, const ptw_x86_insn *d,
				 uint64_t pc, unsigned len);
bool ptw_linux_single_page_benign_reader(const char *sym);
bool ptw_linux_entry_getter(const char *sym);
bool ptw_linux_unmapping_walker(const char *sym);
bool ptw_linux_batched_flush_obliged(const char *sym);
bool ptw_linux_batched_flush_changer(const char *sym);
bool ptw_linux_zapper(const char *sym);
bool ptw_linux_fork_copier(const char *sym);
bool ptw_linux_unwinds_without_fp(const ptw_engine *e);
/* guest_linux_orc.c: Linux x86-64's ORC unwind tables */
void ptw_linux_orc_note_symbol(ptw_engine *e, const char *name, uint64_t addr);
bool ptw_linux_orc_kernel(const ptw_engine *e);
/* the return addresses of the frames above the one at ip (its sp, bp),
 * innermost first, at most max; 0: none (tables unreadable: said once) */
unsigned ptw_linux_orc_unwind(ptw_engine *e, uint64_t ip, uint64_t sp,
			      uint64_t bp, uint64_t *ret, unsigned max);
void ptw_linux_orc_free(ptw_engine *e);
const char *ptw_linux_overtaken_why(void);
uint64_t ptw_linux_revalidate(ptw_arch arch, uint64_t v);
/* a kernel symbol as symbols.c reads it: the ones Linux's conventions
 * name (the current task's per-CPU slot, the watched callees) */
void ptw_linux_note_symbol(ptw_engine *e, const char *name, uint64_t addr);
/* a swap entry's type and offset as Linux lays them out */
void ptw_linux_swap_entry(ptw_arch arch, uint64_t v, unsigned *type,
			  uint64_t *off);

/* guest_linux_mm.c: Linux's mm objects read from guest memory, laid out
 * by the guest kernel's own BTF (loaded at the first question; off, and
 * every answer unknown, without it). Answers are read afresh for each
 * event (cached within one event; ptw_linux_mm_forget() drops them
 * sooner). */
/* a member as the BTF places it: byte offset and size; off < 0: absent */
typedef struct {
	int32_t off;
	uint32_t size;
} ptw_linux_field;
typedef struct {
	uint64_t btf_va;     /* __start_BTF */
	uint32_t btf_bytes;  /* __stop_BTF - __start_BTF */
	uint32_t page_size;  /* sizeof(struct page) */
	uint32_t folio_size; /* sizeof(struct folio), 0: none */
	ptw_linux_field page_flags, page_refcount, page_mapcount, page_mapping,
		page_index, page_compound_head;
	ptw_linux_field folio_flags_1, folio_large_mapcount,
		folio_entire_mapcount, folio_nr_pages_mapped, folio_pincount,
		folio_nr_pages;
	ptw_linux_field swap_map, swap_max, swap_type; /* swap_info_struct */
	/* struct swap_cluster_info's table: the swap cache kept in swap
	 * tables (newer kernels), no longer in swap_map's SWAP_HAS_CACHE;
	 * swap_info_struct's cluster_info (the array of them), its element
	 * size, and the slots of a struct swap_table (7.x: a slot's state
	 * is its table entry; 0 when any is missing) */
	ptw_linux_field cluster_table, si_cluster_info;
	uint32_t cluster_info_size, swap_table_slots;
	/* struct zap_details's even_cows (6.12: the zap removes private COW
	 * (anonymous) pages of a file mapping too), or skip_cows (7.x: the
	 * opposite) */
	ptw_linux_field zap_even_cows, zap_skip_cows;
	/* page_compound_head is 7.x's compound_info (which may hold a
	 * mask, ptw_linux_compound_head()) */
	bool compound_info;
	/* enum pageflags: bit numbers in page->flags, -1: absent */
	int pg_locked, pg_head, pg_swapbacked, pg_swapcache, pg_anon_exclusive;
} ptw_linux_mm_layout;
/* where the kernel keeps its struct pages and its linear map:
 * pfn's struct page at vmemmap + pfn * page_size; a linear-map VA's PA
 * is va - page_offset + phys_offset */
typedef struct {
	uint64_t vmemmap, page_offset;
	int64_t phys_offset;
} ptw_linux_kmap;
/* one page frame's struct page and its folio, as the kernel has them now */
typedef struct {
	bool valid;		      /* read: the rest is meaningful */
	uint64_t pfn, page_va, flags; /* its own struct page, flags word */
	bool anon, ksm;		      /* the folio's mapping's low bits */
	bool swapcache, locked;	      /* folio flags */
	bool anon_exclusive;	      /* this page's PG_anon_exclusive */
	bool large, tail;	      /* in a large folio; not its head */
	uint64_t head_pfn;	 /* the folio's first page (pfn if small) */
	unsigned order;		 /* the folio's */
	uint64_t nr_pages;	 /* the folio's */
	int32_t refcount;	 /* the folio's */
	int32_t mapcount;	 /* folio_mapcount() */
	int32_t page_mapcount;	 /* this page's own _mapcount + 1 (0: typed) */
	int32_t entire_mapcount; /* large: PMD mappings, else 0 */
	int32_t pincount;	 /* large: _pincount, else -1 (small folios
				    count pins in the refcount) */
	bool maybe_pinned;	 /* folio_maybe_dma_pinned() */
	uint64_t mapping, index; /* the folio's */
} ptw_linux_page_info;
/* one swap slot's swap_map byte */
typedef struct {
	uint8_t raw;
	unsigned count;	 /* references (SWAP_MAP_MAX at most) */
	bool has_cache;	 /* SWAP_HAS_CACHE: in the swap cache */
	bool continued;	 /* COUNT_CONTINUED: count is the low digits */
	bool bad, shmem; /* SWAP_MAP_BAD, SWAP_MAP_SHMEM */
} ptw_linux_swap_slot;
const ptw_linux_mm_layout *ptw_linux_mm_layout_get(ptw_engine *e);
bool ptw_linux_kmap_get(ptw_engine *e, ptw_linux_kmap *out);
bool ptw_linux_page(ptw_engine *e, uint64_t pfn, ptw_linux_page_info *out);
/* whether the page a user leaf (desc, at level) maps is in a large folio,
 * by its struct page: 1 large, 0 small, -1 unknown (no BTF, not a user
 * leaf). The tables cannot say: a large folio split after it was mapped
 * leaves its entries as they were. */
int ptw_linux_folio_large(ptw_engine *e, int level, uint64_t desc);
/* a tail page's head struct page from its compound_head/compound_info
 * value (guest_linux_mm.c says how) */
uint64_t ptw_linux_compound_head(uint64_t page_va, uint64_t info,
				 uint32_t page_size, bool compound_info);
bool ptw_linux_swap_count(ptw_engine *e, unsigned type, uint64_t offset,
			  ptw_linux_swap_slot *out);
/* the layout gives 7.x's swap tables (a slot's state in its cluster's
 * table, swap_map gone) */
bool ptw_linux_swap_tables(const ptw_linux_mm_layout *l);
/* arm64 6.12's vmemmap from VA_BITS (the kernel's configured), PAGE_SHIFT,
 * sizeof(struct page) and memstart_addr (a pure function) */
uint64_t ptw_linux_arm64_vmemmap(unsigned va_bits, unsigned page_shift,
				 uint64_t page_size, int64_t memstart_addr);
/* whether a zap given details (a struct zap_details *, 0 for none) removes
 * private COW pages too (should_zap_cows(), mm/memory.c); false: unknown
 * (no BTF, or the struct unreadable) */
bool ptw_linux_zap_even_cows(ptw_engine *e, uint64_t details, bool *cows);
/* drop what this event has read (the next question reads again) */
void ptw_linux_mm_forget(ptw_engine *e);
void ptw_linux_mm_note_symbol(ptw_engine *e, const char *name, uint64_t addr);
void ptw_linux_mm_free(ptw_engine *e);

/* stack.c: guest call stacks, taken while their event is applied */
#define PTW_STACK_MAX 24
typedef struct {
	unsigned n;
	uint64_t pc[PTW_STACK_MAX]; /* the PC, then return addresses */
} ptw_stack;
/* c (the event being applied) gets its stack, if it has none yet and the
 * kernel keeps frame records; otherwise nothing changes */
void ptw_stack_capture(ptw_engine *e, ptw_ctx *c);
const ptw_stack *ptw_stack_get(ptw_engine *e, uint32_t id);
/* a return address's symbol+offset (looked up inside its call) */
void ptw_stack_symbolize(ptw_engine *e, unsigned cpu, uint64_t ret, char *buf,
			 size_t n);
/* "caller+off <- its caller+off <- ...", "" for none */
void ptw_stack_format(ptw_engine *e, const ptw_ctx *c, char *buf, size_t n);
void ptw_stacks_summary(ptw_engine *e, FILE *f);
void ptw_stacks_free(ptw_engine *e);

/* symbols.c */
void ptw_symbols_free(ptw_engine *e);
void ptw_symbols_program(ptw_engine *e, uint64_t space, const char *name);
void ptw_symbolize(ptw_engine *e, unsigned cpu, uint64_t pc, char *buf,
		   size_t n);

/* suppress.c */
void ptw_suppressions_free(ptw_engine *e);
const char *ptw_suppressed(ptw_engine *e, const ptw_finding *f, bool *known,
			   const char **fix);

/* detectors.c: the core's notifications, dispatched to every detector of
 * the table in its order (detector.h says what each means) */
struct ptw_detector;
void ptw_det_init(ptw_engine *e);
void ptw_det_free(ptw_engine *e);
void *ptw_det_state(ptw_engine *e, const struct ptw_detector *d);
void ptw_det_table_free(ptw_table *t);
void ptw_det_table_added(ptw_engine *e, ptw_table *t);
void ptw_det_table_dropped(ptw_engine *e, ptw_table *t);
void ptw_det_entry_written(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			   unsigned idx, uint64_t old, uint64_t new);
void ptw_det_entry_changed(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			   unsigned idx, uint64_t old, uint64_t new);
void ptw_det_entry_loaded(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			  unsigned idx, uint64_t value);
void ptw_det_hw_update(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, uint64_t old, uint64_t new, uint64_t va);
void ptw_det_access(ptw_engine *e, const ptw_ctx *c, uint64_t va, uint64_t pa,
		    bool is_store);
/* ptw_access_space() without the lock, on the vCPU's own thread (its
 * roots change only through its own events, or under the lock while the
 * vCPU is stopped in the engine) */
uint64_t ptw_access_space_lockfree(ptw_engine *e, unsigned cpu, uint64_t va);
/* A lock-free filter may now want a page it did not want before (a
 * detector's interest(), the table bitmap): called after the change, it
 * empties the vCPUs' caches of pages nothing wanted
 * (ptw_access_interest()). */
void ptw_interest_grew(ptw_engine *e);
/* the vCPUs' interest-cache counters into stats[] (report.c) */
void ptw_interest_cache_stats(ptw_engine *e);
unsigned ptw_det_interest(ptw_engine *e, unsigned cpu, uint64_t va, uint64_t pa,
			  unsigned size, bool is_store);
void ptw_det_data_access(ptw_engine *e, const ptw_ctx *c, uint64_t va,
			 unsigned size, bool is_store, const uint8_t *bytes);
void ptw_det_invalidate(ptw_engine *e, const ptw_ctx *c, const inval_scope *s,
			uint64_t targets);
void ptw_det_barrier(ptw_engine *e, const ptw_ctx *c, const ptw_barrier *b);
void ptw_det_sync(ptw_engine *e, const ptw_ctx *c);
void ptw_det_space_ended(ptw_engine *e, uint64_t space);
void ptw_det_root_dropped(ptw_engine *e, uint64_t space);
bool ptw_det_client(ptw_engine *e, const ptw_ctx *c, uint64_t req,
		    const uint64_t a[4]);
void ptw_det_fault(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev);
uint64_t ptw_det_deferred_flush(ptw_engine *e, const ptw_ctx *c);
void ptw_det_linux_zap(ptw_engine *e, const ptw_ctx *c, const ptw_linux_zap *z);
void ptw_det_finish(ptw_engine *e);
void ptw_det_summary_stats(ptw_engine *e, FILE *f);
int ptw_det_pending(ptw_engine *e);

void ptw_report_open(ptw_engine *e, char **err);
void ptw_report_finding(ptw_engine *e, const ptw_finding *f);
/* f's title ("KIND in a / b", ptw_finding.title) from its kind, its sides'
 * symbols and PCs (report.c) */
void ptw_report_title(const ptw_finding *f, char *buf, size_t n);
void ptw_report_line(ptw_engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ptw_report_summary(ptw_engine *e, bool final);
void ptw_report_close(ptw_engine *e);

/* Tell the timeline sink (ptw_tl_kind) of a moment, built from the
 * designated initializers given: built and sent only when a sink is set
 * (a replay's --timeline), so a live run pays one untaken branch. */
#define PTW_TL(e, ...)                                                         \
	do {                                                                   \
		const ptw_timeline_sink *tl_ = (e)->cfg.timeline;              \
		if (G_UNLIKELY(tl_))                                           \
			tl_->event(tl_->opaque, &(ptw_tl_event){__VA_ARGS__}); \
	} while (0)

#endif
