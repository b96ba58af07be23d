/* SPDX-License-Identifier: MIT */
/* ptwatch engine internals shared by engine.c and report.c */
#ifndef PTW_ENGINE_INTERNAL_H
#define PTW_ENGINE_INTERNAL_H

#include <glib.h>

#include "ptw.h"

#define PTW_KSPACE 1ULL /* x86-64 upper half: shared by every root */

typedef struct ptw_table {
	uint64_t pa;	  /* base of the table (may be smaller than a page) */
	int level;	  /* architecture level of its entries */
	unsigned nent;	  /* number of entries */
	uint64_t va_base; /* VA mapped by entry 0 */
	uint64_t space;	  /* address-space key (root PA or PTW_KSPACE) */
	unsigned refs;	  /* parent entries pointing here */
	bool is_root;
	unsigned cpu_refs; /* roots: CPU root slots holding it */
	uint16_t asid;	   /* roots: last ASID / PCID seen with it */
	uint64_t cached;   /* roots: CPUs whose TLB may hold its entries */
	struct ptw_table *next_in_page;
	uint64_t *shadow;
} ptw_table;

/* A leaf mapping changed; some CPU may still hold the old translation. */
typedef struct ptw_pending {
	uint64_t space, va, size, old_pa;
	uint16_t asid;
	bool global;
	unsigned changer;
	uint64_t need;	   /* CPUs that have not invalidated since */
	uint64_t reported; /* CPUs already reported / counted */
	bool reused;	   /* old page mapped or written elsewhere since */
	bool changer_local_inval;
	ptw_ctx when;
	uint64_t pte_pa;
	int level;
	uint64_t old_desc, new_desc;
	struct ptw_pending *next_key, *next_pa; /* hash chains */
	struct ptw_pending *prev, *next;	/* age list */
} ptw_pending;

typedef struct {
	/* arm64 */
	uint64_t ttbr[2], tcr, sctlr, mair;
	/* x86 */
	uint64_t cr0, cr3, cr4, efer;
	bool mmu_on;
	ptw_table *root[2];
} ptw_cpu;

enum {
	ST_TABLES_REGISTERED,
	ST_TABLES_DROPPED,
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
	ST_PENDING_OVERFLOW,
	ST_PENDING_PEAK,
	ST_CLIENT_REQUESTS,
	ST_WARNINGS,
	ST_COUNT
};
extern const char *const ptw_stat_names[ST_COUNT];

#define BITMAP_CHUNK_SHIFT 30
#define BITMAP_CHUNKS 4096 /* covers PA < 4 TiB */

struct ptw_engine {
	ptw_config cfg;
	GMutex lock;
	ptw_cpu cpu[PTW_MAX_CPUS];
	uint64_t all_cpus;
	bool lpa2;	/* arm64 TCR_EL1.DS */
	uint64_t mair;	/* arm64 MAIR_EL1 */
	int bbm_level;	/* arm64 ID_AA64MMFR2_EL1.BBM, -1 unknown */

	GHashTable *tables;	/* pa -> ptw_table* */
	GPtrArray *roots;	/* root tables */
	GHashTable *table_pages; /* page pa -> first ptw_table* */
	uint64_t *bitmap[BITMAP_CHUNKS];
	int high_tables; /* tables above the bitmap range */

	GHashTable *pend_by_key; /* hash(space,va) -> chain */
	GHashTable *pend_by_pa;	 /* old_pa -> chain */
	ptw_pending *pend_head, *pend_tail;
	int npending; /* read lock-free */

	uint64_t stats[ST_COUNT];
	GArray *findings; /* ptw_finding */
	unsigned kind_count[PTW_KIND_COUNT];
	uint64_t expected[PTW_KIND_COUNT];
	bool expect_declared, guest_done;
	uint64_t guest_status;
	GHashTable *warn_keys; /* key -> count */

	FILE *log, *jsonl;
	char *out_dir;
	bool finished;
};

void ptw_report_open(ptw_engine *e, char **err);
void ptw_report_finding(ptw_engine *e, const ptw_finding *f);
void ptw_report_line(ptw_engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ptw_report_summary(ptw_engine *e, bool final);
void ptw_report_close(ptw_engine *e);

#endif
