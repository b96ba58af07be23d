/* SPDX-License-Identifier: MIT */
/*
 * Private to the detectors (detectors.c, det_*.c): their limits, shared
 * record types and the calls between them. The engine sees only the det_*
 * hooks of engine_internal.h. Hidden: nothing here leaves the plugin.
 */
#ifndef PTW_DETECTORS_H
#define PTW_DETECTORS_H

#include <string.h>

#include "engine_internal.h"

#pragma GCC visibility push(hidden)

#define ABA_WINDOW 2000000ULL /* guest instructions between the two reads */
/* A CPU that loaded an entry inside another CPU's break re-validates it
 * when it loads the entry again after the make, before it returns to user
 * mode and within this many of its instructions (handle_pte_fault()'s
 * re-check under the PTE lock, contpte_ptep_get_lockless()'s retry). */
#define WR_WINDOW                                                              \
	2000000ULL  /* counted from the reader's first page-table              \
			 load after the make */
#define MAX_WR 1024 /* pending window reads per reader CPU */
/* a reader restarts its walk of a block when it reads again an entry of
 * the block that it read at most this many instructions before its read in
 * the window (contpte_ptep_get_lockless(): 16 loads and a retry) */
#define RESTART_WINDOW 4096ULL
/* A break is a transient window (contpte fold/unfold, mprotect's
 * modify_prot_start/commit, COW's clear-flush-set) while its breaker writes
 * no page-table entry outside the entry's group (its unit, or the aligned 16
 * entries around it) before making it again. A break followed by writes
 * elsewhere is an unmap; a later map of the same VA is unrelated. */
#define MAX_CAND	    256
#define MAX_BREAKS	    65536
#define MAX_ABA		    262144
#define CLIENT_TRACK	    0x50570004
#define CLIENT_UNTRACK	    0x50570005
#define CLIENT_EXPECT_WRITE 0x50570006

typedef struct {
	uint64_t who, pte_pa; /* the key's parts (the key is a hash) */
	uint64_t value;
	uint32_t ver, iver;
	uint64_t gen; /* table registration the version belongs to */
	uint64_t icount, pc;
	unsigned cpu;		/* the vCPU that read */
	uint64_t lower_entries; /* the reader's returns to user so far */
	uint64_t op;		/* the reader's operation (det_op_start) */
	bool ahead;		/* read a value the shadow did not hold yet */
} aba_read;

/* why the last TLBI of a break did not count (ptw_break.miss_why) */
enum {
	MISS_NONE,
	MISS_BEFORE_DSB,
	MISS_ASID,
	MISS_VA,
	MISS_LOCAL,
};

/* A CPU's load of an entry inside another CPU's break. Its severity waits
 * for the reader's next moves and for the break to close (window_read_*). */
typedef struct {
	ptw_finding f; /* ctx: the read; other: the break */
	uint64_t pte_pa, tpa;
	unsigned gbase, gn;   /* the break's group in table tpa */
	uint64_t seq;	      /* the break's serial */
	uint64_t alive_at;    /* the break was there at this bbm.breaks_gone */
	uint64_t lower;	      /* the reader's returns to user at its read */
	bool made;	      /* the breaker made the entry again (transient) */
	uint64_t after;	      /* the reader's icount at its first page-table
				 load after the make (0: none yet) */
	ptw_severity decided; /* known before the make, or PTW_SEV_NONE */
	char how[256];
} window_read;

/* A pass that took down part of a unit while other entries of it were in
 * another CPU's break window: a finding once such an entry comes back. */
typedef struct {
	uint64_t id;
	uint64_t pte_pa, va;
	int level;
	char detail[400];
	ptw_ctx pass_ctx;
	unsigned pending; /* break records pointing here */
} suspect;

typedef struct {
	uint64_t space, va8;
	uint8_t val[8];
	uint8_t known;
	unsigned cpu;
	uint64_t pc, icount; /* the last store */
} data_slot;

typedef struct {
	uint64_t space, lo, hi; /* [lo, hi) */
} region;

/* detectors.c: findings, dispatch */
void describe_nonpresent(ptw_engine *e, uint64_t d, int level, char *buf,
			 size_t n);
void report(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	    const ptw_ctx *c, uint64_t pte_pa, uint64_t va, int level,
	    uint64_t old, uint64_t new, const char *detail);
guint u64_hash(gconstpointer p);
gboolean u64_eq(gconstpointer a, gconstpointer b);
const char *bbm_change_reason(ptw_engine *e, uint64_t old, uint64_t new,
			      int level);

/* det_bbm.c: break windows, window reads, invalidation */
ptw_break *break_get(ptw_engine *e, uint64_t pte_pa);
void break_open(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		uint64_t old);
void break_remove(ptw_engine *e, ptw_break *b);
break_state break_state_of(const ptw_break *b);
void cand_drop(ptw_engine *e, ptw_break *b);
void cand_moved(ptw_engine *e, unsigned cpu, ptw_table *t, unsigned idx);
void miss_describe(const ptw_break *b, char *buf, size_t n);
void unclean_drop(ptw_engine *e, ptw_break *b);
bool window_read_decide(ptw_engine *e, window_read *w, ptw_severity sev,
			const char *how);
void window_reads_close(ptw_engine *e, const ptw_break *b, bool made,
			uint64_t new, uint64_t dur);
void window_reads_load(ptw_engine *e, const ptw_ctx *c, ptw_table *t,
		       unsigned idx, const ptw_break *b);

/* det_walk.c: walks in break windows (patched QEMU) */
void det_walk_init(ptw_engine *e);
void det_walk_free(ptw_engine *e);
/* det_dirty.c: lost dirty state (patched QEMU) */
void det_dirty_init(ptw_engine *e);
void det_dirty_free(ptw_engine *e);
void window_walks_close(ptw_engine *e, const ptw_break *b, bool made,
			uint64_t new, uint64_t dur);

/* det_units.c: multi-page units and unmap passes */
void pass_end(ptw_engine *e, unsigned cpu, const ptw_ctx *c);
void pass_track(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		bool unmapped);
void suspect_release(ptw_engine *e, ptw_break *b, const ptw_ctx *c,
		     bool came_back);
uint64_t unit_attr_mask(ptw_engine *e);
void unit_detect(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx);
void units_count(ptw_engine *e, unsigned cpu);
GHashTable *suspects_of(ptw_engine *e);
bool bit_get(const uint64_t *m, unsigned i);
void bit_set(uint64_t *m, unsigned i);
void fmt_bits(const uint64_t *m, unsigned base, unsigned n, char *buf,
	      size_t len);

/* det_contig.c: arm64 contiguous groups */
void cont_flush(ptw_engine *e, const ptw_ctx *c);
void cont_mark(ptw_engine *e, unsigned cpu, ptw_table *t, unsigned idx);

/* det_aba.c: PTE_ABA and guest tasks */
aba_read *aba_lookup(ptw_engine *e, uint64_t who, uint64_t pte_pa);

/* each family's state, set up and torn down (detectors.c: families[]) */
void det_bbm_init(ptw_engine *e);
void det_bbm_free(ptw_engine *e);
void det_units_init(ptw_engine *e);
void det_units_free(ptw_engine *e);
void det_contig_init(ptw_engine *e);
void det_contig_free(ptw_engine *e);
void det_aba_init(ptw_engine *e);
void det_aba_free(ptw_engine *e);
void det_data_init(ptw_engine *e);
void det_data_free(ptw_engine *e);

#pragma GCC visibility pop

#endif
