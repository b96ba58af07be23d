/* SPDX-License-Identifier: MIT */
/* ptwatch engine internals shared by engine.c and report.c */
#ifndef PTW_ENGINE_INTERNAL_H
#define PTW_ENGINE_INTERNAL_H

#include <glib.h>
#include <pthread.h>

#include "ptw.h"

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
	struct ptw_table *next_in_page;
	uint64_t *shadow;
	uint32_t *ver;	   /* per entry: changes so far (PTE_ABA) */
	uint32_t *iver;	   /* per entry: changes of identity (PTE_ABA) */
	uint64_t *last_id; /* per entry: identity of the last non-zero value */
	/* per entry: the identity before last_id, and the iver at which the
	 * entry's current run of values with only those two identities
	 * began (PTE_ABA: a swap round trip of one folio) */
	uint64_t *prev_id;
	uint32_t *pair_since;
	uint64_t gen;	      /* registration serial: versions are per gen */
	uint32_t *made;	      /* last level: pass that made the entry valid */
	uint8_t *uorder;      /* last level: log2 size of its unit, 0 = none */
	uint8_t *cont_writer; /* arm64 last level, per 16 entries: 1 + the CPU
				 that last wrote a contiguous entry there */
} ptw_table;

/* A leaf mapping changed; some CPU may still hold the old translation. */
typedef struct ptw_pending {
	uint64_t space, va, size, old_pa;
	uint16_t asid;
	bool global;
	unsigned changer;
	uint64_t need;	   /* CPUs that have not invalidated since */
	uint64_t reported; /* CPUs already reported */
	uint64_t deferred; /* CPUs counted in a deferred-flush window */
	bool reused;	   /* old page mapped or written elsewhere since */
	/* overtaken: an operation that must complete a pending batched
	 * flush first (Linux: mprotect, munmap, mremap, madvise) read the
	 * entry while this record was pending; once its task returned to
	 * user mode, a use of the old translation outlived the operation */
	uint64_t ot_who;   /* the reading task (0: none) */
	uint64_t ot_lower; /* its returns to user at the read */
	ptw_ctx ot_read;
	bool changer_local_inval;
	ptw_ctx when;
	uint64_t pte_pa;
	int level;
	uint64_t old_desc, new_desc;
	struct ptw_pending *next_key, *next_pa, *next_va; /* hash chains */
	struct ptw_pending *prev, *next;		  /* age list */
} ptw_pending;

typedef ptw_inval_scope inval_scope;

bool ptw_scope_covers(const inval_scope *s, uint64_t va, uint64_t size,
		      bool global, uint16_t asid);

/* arm64 TLBI <op1, CRm, op2> with operand xt -> the scope it invalidates
 * and whether it is broadcast (Inner Shareable). asid16: TCR_EL1.AS; lpa2:
 * TCR_EL1.DS (range operands). False for an encoding not modelled: then
 * *s is everything, broadcast (the caller warns). A pure function. */
bool ptw_arm64_decode_tlbi(unsigned op1, unsigned crm, unsigned op2,
			   uint64_t xt, bool asid16, bool lpa2, inval_scope *s,
			   bool *broadcast);
/* The same for a TLBI cpu issues: with its own TCR_EL1.AS and the
 * engine's descriptor format. Lock-free (the vCPU's own thread). */
bool ptw_arm64_tlbi(const ptw_engine *e, unsigned cpu, unsigned op1,
		    unsigned crm, unsigned op2, uint64_t xt, inval_scope *s,
		    bool *broadcast);

/* The break automaton of one entry (Casemate's valid / invalid-unclean /
 * invalid, with arm64's two steps inside unclean). The state is read from
 * the record's per-CPU masks by break_state() in detectors.c: 'need' (CPUs
 * that may hold the old entry), 'stored' (the breaker's DSB made the
 * invalid entry visible), 'inflight' (covered by TLBIs not yet completed
 * by their DSB). Valid is no record at all. */
typedef enum {
	BREAK_UNSYNCED,	    /* invalid stored, not yet visible to walkers: a
			       TLBI now does not count (the walker may refill
			       the old entry) */
	BREAK_UNCLEAN,	    /* visible; CPUs may hold the old entry and no
			       covering TLBI is in flight */
	BREAK_INVALIDATING, /* covering TLBIs issued, awaiting their DSB */
	BREAK_CLEAN,	    /* no CPU may hold the old entry: it may be made
			       again with anything */
} break_state;

/* An open break window on one entry (valid -> invalid, not yet made). */
typedef struct {
	uint64_t pte_pa, space, va;
	int level;
	uint16_t asid;
	bool global;
	uint64_t old_desc;
	unsigned cpu; /* the breaker */
	ptw_ctx when;
	uint64_t need;		/* CPUs that may still hold the old entry */
	uint64_t breaker_lower; /* the breaker's returns to user at the break */
	bool stored;		/* the breaker ran a DSB since the break: the
				   invalid entry is visible, a TLBI can count */
	uint8_t miss_why;	/* the last TLBI that did not count, and why */
	uint64_t miss_pc;
	uint16_t miss_asid; /* MISS_ASID: the ASID that TLBI named */
	uint64_t inflight;  /* invalidated by TLBIs not yet completed */
	uint64_t issuers;   /* CPUs that issued those TLBIs */
	bool local_inflight;
	uint64_t readers; /* other CPUs that loaded the entry meanwhile */
	uint64_t seq;
	uint64_t suspect;    /* a partial-unit pass skipped this entry */
	bool unclean_listed; /* in ptw_engine.unclean */
	/* transient window: the breaker has written nothing outside the
	 * entry's group (its unit, or 16 entries) since the break */
	uint64_t tpa;
	unsigned group_base, group_n;
	bool moved_on, in_cand;
} ptw_break;

/* One CPU's run of writes to one large mapping unit. */
typedef struct {
	bool open;
	uint64_t tpa;	      /* leaf table */
	unsigned base, n;     /* unit entries [base, base + n) */
	uint64_t unmapped[8]; /* entries this pass took down */
	uint64_t windowed[8]; /* entries in another CPU's open break */
	unsigned window_cpu;
	ptw_ctx start;
} ptw_pass;

typedef struct {
	uint64_t tpa;
	unsigned group;
} ptw_cont_group;

/* A CPU's translation state as the core keeps it; its registers are the
 * architecture's (ptw_engine.arch) */
typedef struct {
	bool mmu_on;
	ptw_table *root[2];
} ptw_cpu;

enum {
	ST_TABLES_REGISTERED,
	ST_TABLES_DROPPED,
	ST_TABLE_ALIASES,
	ST_ROOTS,
	ST_ROOTS_COLD,
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
	ST_WINDOW_READS_UNCHECKED,
	ST_FAULTS,	 /* patched QEMU: translation faults it delivered */
	ST_WINDOW_WALKS, /* ... of which on an entry in another CPU's break */
	ST_HW_UPDATES,	 /* patched QEMU: access/dirty updates by the MMU */
	ST_HW_DIRTIED,	 /* ... that made a tracked entry dirty */
	ST_HW_DIRTY_UNTRACKED, /* ... not checked: MAX_HW_DIRTY reached */
	/* accesses checked against pending stale-TLB records (their PA in
	 * the old page of one) */
	ST_PENDING_CHECKS,
	ST_COUNT
};
extern const char *const ptw_stat_names[ST_COUNT];

#define BITMAP_CHUNK_SHIFT 30
#define BITMAP_CHUNKS	   4096 /* covers PA < 4 TiB */

/* Each detector family's state (detectors.c dispatches to them). */
typedef struct {
	GHashTable *breaks; /* pte_pa -> ptw_break* */
	GPtrArray *unclean; /* breaks some CPU may still cache (need != 0) */
	GPtrArray *cand[PTW_MAX_CPUS]; /* breaks still transient, per breaker */
	unsigned breaks_since_trim;
	uint64_t break_seq;
	uint64_t breaks_gone; /* breaks removed so far (window_reads_load) */
	/* per reader CPU: window reads whose severity waits for whether the
	 * reader loads the entry again */
	GArray *wr[PTW_MAX_CPUS];
} det_bbm_state;

typedef struct {
	GHashTable *suspects; /* id -> partial-unit suspect */
	ptw_pass pass[PTW_MAX_CPUS];
	uint32_t pass_id[PTW_MAX_CPUS];
	GArray *new_units[PTW_MAX_CPUS]; /* units made in the current run */
	uint64_t by_size[10];
} det_units_state;

typedef struct {
	GArray *dirty[PTW_MAX_CPUS]; /* groups written since the last DSB */
} det_contig_state;

typedef struct {
	GHashTable *reads; /* (task or vCPU, pte_pa) -> last read */
	/* the task each vCPU runs (0: not known, pair per vCPU), its
	 * lower_entries when it was switched in, and each task's returns to
	 * user before its current run (task -> count) */
	uint64_t task[PTW_MAX_CPUS];
	uint64_t task_lower_base[PTW_MAX_CPUS];
	uint64_t last_icount[PTW_MAX_CPUS]; /* at its last page-table load */
	GHashTable *task_lower;
	GHashTable *ops; /* task -> its current operation's serial */
	uint64_t op_serial;
} det_aba_state;

/* Walks in break windows (det_walk.c; a patched QEMU's fault events): each
 * vCPU's faults on entries in another CPU's break, waiting for the break
 * to close. */
typedef struct {
	GArray *pending[PTW_MAX_CPUS]; /* window_walk */
} det_walk_state;

/* Lost dirty state (det_dirty.c; a patched QEMU's access/dirty updates):
 * entries the MMU made dirty (pte_pa -> record), and each vCPU's last
 * RECENT_LOADS page-table loads (pa, value) */
#define RECENT_LOADS 16
typedef struct {
	GHashTable *hw;
	struct {
		uint64_t pa, value;
	} recent[PTW_MAX_CPUS][RECENT_LOADS];
	unsigned recent_next[PTW_MAX_CPUS];
} det_dirty_state;

typedef struct {
	GArray *regions;	     /* tracked data regions */
	GHashTable *slots;	     /* (space, va/8) -> remembered bytes */
	GHashTable *reported;	     /* (space, page) already reported */
	uint64_t track_lo, track_hi; /* lock-free filter */
} det_data_state;

/* What a CPU's translation registers say (ptw_arch_ops.roots): whether
 * translation is on, and each root's table (arm64 TTBR0/TTBR1, x86 CR3). */
typedef struct {
	bool on;
	const char *off_why; /* why it is off, for the warning */
	bool lpa2;	     /* arm64 TCR_EL1.DS: the descriptor format */
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
	unsigned (*entry_shift)(
		int level); /* log2 of the bytes an entry maps */
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
	/* the contiguous bit of 16-entry groups (arm64 bit 52), 0: none */
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
} ptw_arch_ops;

extern const ptw_arch_ops ptw_arch_arm64_ops, ptw_arch_x86_ops;

/* What an arm64 DSB does to the TLB maintenance its CPU issued before it
 * (ptw_arm64_barrier, from the option in CRm) */
typedef struct {
	bool completes_tlbi; /* it completes earlier TLBIs (the full kinds:
				SY, ISH, OSH, NSH; not the LD/ST ones) */
	bool local;	     /* NSH: only for this CPU's own TLB, not those
				the TLBIs broadcast to */
} ptw_barrier_kind;
/* A pure function of the DSB's CRm (Arm ARM DDI 0487, the DSB option
 * table); det_dsb's rule. */
ptw_barrier_kind ptw_arm64_barrier(unsigned crm);

/* pages whose watch count fell to 0 that stay watched (engine.c) */
#define WATCH_LINGER 256

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

struct ptw_engine {
	const ptw_arch_ops *ops; /* the architecture */
	ptw_config cfg;
	/* adaptive: spins briefly before it sleeps (engine.c) */
	pthread_mutex_t lock PTW_LINE_ALONE;
	ptw_cpu cpu[PTW_MAX_CPUS] PTW_LINE_ALONE;
	uint64_t all_cpus;
	void *arch;		 /* the architecture's state (ops->init) */
	bool lpa2;		 /* arm64 TCR_EL1.DS */
	unsigned granule_warned; /* arm64: (half * 4 + TG) warned about */

	GHashTable *tables;	 /* pa -> ptw_table* */
	GPtrArray *roots;	 /* root tables */
	GHashTable *table_pages; /* page pa -> first ptw_table* */
	ptw_watch_ops watch;	 /* the adapter's page watch (or none) */
	ptw_watch_set watch_all, watch_stores;
	uint64_t *bitmap[BITMAP_CHUNKS];
	int high_tables; /* tables above the bitmap range */

	GHashTable *pend_by_key; /* hash(space,va) -> chain */
	GHashTable *pend_by_pa;	 /* old_pa -> chain */
	GHashTable *pend_by_va;	 /* va (any space) -> chain */
	ptw_pending *pend_head, *pend_tail;
	int npending; /* read lock-free */
	/* counting filter over the pending records' old pages (old_pa, size):
	 * lets the hot path skip the lock for accesses no record can match;
	 * written under the lock, read lock-free */
	uint32_t *pend_filter;
	uint32_t *pend_va_filter; /* the same, by the records' VAs */
	/* by old page, the records not marked reused yet */
	uint32_t *pend_unreused_filter;
	int pend_by_size[4]; /* records per leaf size (4K, 2M, 1G, 512G) */

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

	/* detectors: each family's own state (det_*.c) */
	det_bbm_state bbm;
	det_units_state units;
	det_contig_state contig;
	det_aba_state aba;
	det_walk_state walk;
	det_dirty_state dirty;
	uint64_t table_gen;
	uint64_t current_slot; /* x86-64 Linux: &current_task, per CPU */
	uint64_t pvmw_addr;    /* Linux: page_vma_mapped_walk() */
	uint64_t fault_addr;   /* Linux: handle_mm_fault() */
	/* Linux: try_to_unmap_flush(), try_to_unmap_flush_dirty() */
	uint64_t deferred_flush_addr[2];
	/* per vCPU: the site of its last call to pvmw_addr (its thread) */
	uint64_t call_site[PTW_MAX_CPUS];
	/* per reader CPU: window reads whose severity waits for whether the
	 * reader loads the entry again (detectors.c, window_read) */
	GArray *wr[PTW_MAX_CPUS];
	det_data_state data;
	int stall[PTW_MAX_CPUS]; /* widen requested (lock-free read) */
	/* per vCPU: upper- to lower-half transitions (returns to user) so
	 * far; written and read only on that vCPU's thread */
	uint64_t lower_entries[PTW_MAX_CPUS];

	GArray *syms;		   /* kernel text symbols, sorted */
	uint64_t text_va, text_pa; /* kernel image: _text and its PA */
	GHashTable *progs;	   /* space -> program name */
	GArray *rules;		   /* suppressions and known issues */
	unsigned suppressed[PTW_KIND_COUNT];
	unsigned known[PTW_KIND_COUNT]; /* set aside as known upstream issues */
	GHashTable *seen;		/* site key -> report_site (report.c) */
	GHashTable *aside_seen; /* sites of known / suppressed findings */
	GPtrArray *io_errors;	/* log writes that failed (report.c) */
	int64_t summary_at;	/* when summary.json was last rewritten */
	unsigned repeats[PTW_KIND_COUNT];

	FILE *log, *jsonl;
	char *out_dir;
	bool finished;
	struct ptw_trace_writer *trace; /* trace= (trace.c), or NULL */
};

/* The one way a finding is built (detectors.c): kind, severity and why,
 * where (c, role) and the other side (other, other_role; NULL for none),
 * the entry, the story. Goes to ptw_report_finding() (report.c), which
 * symbolizes, sets aside known and suppressed ones and logs. */
void report2(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	     const ptw_ctx *c, const char *role, const ptw_ctx *other,
	     const char *other_role, uint64_t pte_pa, uint64_t va, int level,
	     uint64_t old, uint64_t new, const char *detail);

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
void ptw_apply_lower_entry(ptw_engine *e, unsigned cpu);
uint64_t ptw_apply_deferred_flush(ptw_engine *e, const ptw_ctx *c);
void ptw_apply_finish(ptw_engine *e);
void ptw_apply_fault(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev);
void ptw_apply_hw_update(ptw_engine *e, const ptw_ctx *c, const ptw_event *ev);
/* every read of guest memory goes through here (a trace records it) */
bool ptw_read_phys(ptw_engine *e, uint64_t pa, void *buf, size_t len);

/* engine.c helpers used by detectors.c */
unsigned ptw_entry_shift(ptw_engine *e, int level);
uint64_t ptw_entry_va(ptw_engine *e, const ptw_table *t, unsigned idx);
uint64_t ptw_entry_space(ptw_engine *e, const ptw_table *t, uint64_t va);
uint64_t ptw_access_space(ptw_engine *e, unsigned cpu, uint64_t va);
ptw_desc ptw_decode_entry(ptw_engine *e, uint64_t d, int level);
bool ptw_linux_present_invalid(ptw_arch arch, uint64_t v);
bool ptw_linux_sw_dirty(ptw_arch arch, uint64_t v);
void ptw_linux_describe_swap(ptw_arch arch, uint64_t d, char *buf, size_t n);
bool ptw_linux_fault_retried(bool upper_half);
bool ptw_linux_rechecking_reader(const char *sym);
bool ptw_linux_pfn_entry(ptw_arch arch, uint64_t v, uint64_t *pfn);
bool ptw_linux_aba_walker(const char *sym);
uint64_t ptw_linux_arm64_task(uint64_t sp_el0);
bool ptw_linux_x86_current_store(ptw_engine *e, const ptw_x86_insn *d,
				 uint64_t pc, unsigned len);
bool ptw_linux_single_page_benign_reader(const char *sym);
bool ptw_linux_unmapping_walker(const char *sym);
bool ptw_linux_batched_flush_obliged(const char *sym);
bool ptw_linux_batched_flush_changer(const char *sym);
uint64_t ptw_linux_revalidate(ptw_arch arch, uint64_t v);
ptw_table *ptw_table_of(ptw_engine *e, uint64_t pa, unsigned *idx);
bool ptw_translate(ptw_engine *e, unsigned cpu, uint64_t va, uint64_t *pa,
		   uint64_t *pte_pa, int *level);
uint64_t ptw_may_hold(ptw_engine *e, const ptw_table *t, uint64_t va);
bool ptw_is_last_level(ptw_engine *e, int level);

/* symbols.c */
void ptw_symbols_free(ptw_engine *e);
void ptw_symbols_program(ptw_engine *e, uint64_t space, const char *name);
void ptw_symbolize(ptw_engine *e, unsigned cpu, uint64_t pc, char *buf,
		   size_t n);

/* suppress.c */
void ptw_suppressions_free(ptw_engine *e);
const char *ptw_suppressed(ptw_engine *e, const ptw_finding *f, bool *known,
			   const char **fix);

/* detectors.c */
void det_init(ptw_engine *e);
void det_free(ptw_engine *e);
void det_entry_changed(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, uint64_t old, uint64_t new);
void det_entry_load(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		    uint64_t value);
void det_invalidate(ptw_engine *e, const ptw_ctx *c, const inval_scope *s,
		    uint64_t targets);
void det_dsb(ptw_engine *e, const ptw_ctx *c, unsigned crm);
void det_x86_flush(ptw_engine *e, const ptw_ctx *c);
void det_table_dropped(ptw_engine *e, ptw_table *t);
/* det_dirty.c: the MMU made entry idx dirty (old -> new, for an access to
 * va); a page-table load; a store that changes the entry (old -> new) */
void det_dirty_hw_update(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
			 unsigned idx, uint64_t old, uint64_t new, uint64_t va);
void det_dirty_load(ptw_engine *e, const ptw_ctx *c, uint64_t pa,
		    uint64_t value);
void det_dirty_store(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		     unsigned idx, uint64_t old, uint64_t new);
void det_finish(ptw_engine *e);
void det_space_gone(ptw_engine *e, uint64_t space);
void det_task_switch(ptw_engine *e, unsigned cpu, uint64_t task);
/* who reads: the guest task a vCPU runs (or the vCPU while none is known),
 * and that reader's returns to user mode so far */
uint64_t det_who(const ptw_engine *e, unsigned cpu);
uint64_t det_who_returns(ptw_engine *e, uint64_t who);
uint64_t det_who_op(ptw_engine *e, uint64_t who);
void det_op_start(ptw_engine *e, unsigned cpu);
bool det_client(ptw_engine *e, const ptw_ctx *c, uint64_t req, uint64_t va,
		uint64_t len);

void ptw_report_open(ptw_engine *e, char **err);
void ptw_report_finding(ptw_engine *e, const ptw_finding *f);
void ptw_report_line(ptw_engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ptw_report_summary(ptw_engine *e, bool final);
void ptw_report_close(ptw_engine *e);

#endif
