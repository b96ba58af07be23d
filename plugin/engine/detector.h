/* SPDX-License-Identifier: MIT */
/*
 * The detector interface: what the core (engine.c, task.c) tells the
 * detectors, and what a detector may publish to the others.
 *
 * A detector is one det_*.c file exporting one const ptw_detector. The
 * table of detectors (detectors.c) is the only place that names them; the
 * core calls the hooks through that table, in its order, and knows no
 * detector. Each detector's state is private (the `st` every hook gets,
 * returned by its init); so is what it keeps per page table (a slot of
 * ptw_table.det, which the core frees with the detector's table_free).
 * A detector that needs another's fact asks the core, or through this
 * interface (ptw_det_break_find()), or subscribes to a notification a
 * detector publishes here (the break_* hooks); it never reads another's
 * fields. Every hook is optional (NULL: not interested).
 */
#ifndef PTW_DETECTOR_H
#define PTW_DETECTOR_H

#include "engine_internal.h"

/* An entry broken (valid -> invalid) and not yet made again, as the
 * break-window detector (det_bbm.c) publishes it. */
typedef struct {
	uint64_t pte_pa, va, tpa; /* the entry, its VA and its table */
	int level;
	uint64_t old_desc;
	unsigned cpu; /* the breaker */
	ptw_ctx when; /* the break */
	uint64_t seq; /* serial: a break of the same entry later is another */
	/* the breaker has written nothing outside the entry's group (its
	 * unit, or the aligned 16 entries around it) since the break */
	bool transient;
	unsigned group_base, group_n;
} ptw_break_info;

typedef struct ptw_detector {
	const char *name;
	/* set up (returns the private state) and tear down */
	void *(*init)(ptw_engine *e, unsigned id);
	void (*free)(ptw_engine *e, void *st);
	/* a detector's slot of a table (ptw_table.det[id]), freed with it */
	void (*table_free)(void *slot);

	/* -- the core's notifications, under the engine lock -- */
	/* a table was registered (read from guest memory, before its
	 * children) and dropped (unlinked, or its root went cold) */
	void (*table_added)(ptw_engine *e, void *st, ptw_table *t);
	void (*table_dropped)(ptw_engine *e, void *st, ptw_table *t);
	/* a software store changed entry idx (old -> new, any bits) */
	void (*entry_written)(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new);
	/* ... in more than the bits the MMU manages itself (access, dirty) */
	void (*entry_changed)(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new);
	/* a CPU loaded entry idx (value: what it read) */
	void (*entry_loaded)(ptw_engine *e, void *st, const ptw_ctx *c,
			     ptw_table *t, unsigned idx, uint64_t value);
	/* the MMU updated entry idx's access/dirty state (a patched QEMU) */
	void (*hw_update)(ptw_engine *e, void *st, const ptw_ctx *c,
			  ptw_table *t, unsigned idx, uint64_t old,
			  uint64_t new, uint64_t va);
	/* an access some detector's interest() asked for (PTW_ACC_PENDING) */
	void (*access)(ptw_engine *e, void *st, const ptw_ctx *c, uint64_t va,
		       uint64_t pa, bool is_store);
	/* lock-free, on the hot path: which of PTW_ACC_PENDING and
	 * PTW_INTEREST_DATA this detector wants for an access. Asked for a
	 * whole 4 KiB page (va and pa page-aligned, size 4096), it wants at
	 * least what it wants of any access within that page; the core
	 * remembers pages it wants nothing of, so a detector whose answer
	 * for a page may turn from 0 to something calls ptw_interest_grew()
	 * after its state changed. */
	unsigned (*interest)(ptw_engine *e, void *st, unsigned cpu, uint64_t va,
			     uint64_t pa, unsigned size, bool is_store);
	/* the bytes of an access to tracked data (PTW_EV_DATA) */
	void (*data)(ptw_engine *e, void *st, const ptw_ctx *c, uint64_t va,
		     unsigned size, bool is_store, const uint8_t *bytes);
	/* TLB invalidation on the CPUs in targets */
	void (*invalidate)(ptw_engine *e, void *st, const ptw_ctx *c,
			   const ptw_inval_scope *s, uint64_t targets);
	/* a barrier (arm64 DSB: its kind from the architecture) */
	void (*barrier)(ptw_engine *e, void *st, const ptw_ctx *c,
			const ptw_barrier *b);
	/* the CPU completed its page-table writes: the end of a run of
	 * writes (arm64 a DSB that completes TLB maintenance, x86 a flush
	 * of its own TLB) */
	void (*sync)(ptw_engine *e, void *st, const ptw_ctx *c);
	/* an address space ended (its root emptied of user entries) */
	void (*space_ended)(ptw_engine *e, void *st, uint64_t space);
	/* a root no CPU holds was dropped: no TLB uses its translations */
	void (*root_dropped)(ptw_engine *e, void *st, uint64_t space);
	/* a client request not the core's: true if taken */
	bool (*client)(ptw_engine *e, void *st, const ptw_ctx *c, uint64_t req,
		       const uint64_t a[4]);
	/* a translation fault (a patched QEMU) */
	void (*fault)(ptw_engine *e, void *st, const ptw_ctx *c,
		      const ptw_event *ev);
	/* Linux: the vCPU's task zaps a VMA's range (zap_page_range_single())
	 */
	void (*zap)(ptw_engine *e, void *st, const ptw_ctx *c,
		    const ptw_linux_zap *z);
	/* a changer is about to complete a deferred flush: nanoseconds to
	 * hold it there (widening), 0 for none */
	uint64_t (*deferred_flush)(ptw_engine *e, void *st, const ptw_ctx *c);
	/* the run ends: decide what waits */
	void (*finish)(ptw_engine *e, void *st);
	/* summary.json: this detector's own statistics, each written as
	 * ",\n    \"name\": value" into the "stats" object */
	void (*summary_stats)(ptw_engine *e, void *st, FILE *f);
	/* how many records are pending at exit (summary.json) */
	int (*pending)(ptw_engine *e, void *st);

	/* -- published by the break-window detector -- */
	/* the break ended: made again by c (made: a transient window of its
	 * breaker, new: the entry made), or gone without a make (made false;
	 * c NULL when it was not a store that ended it: its table dropped,
	 * forgotten) */
	void (*break_closed)(ptw_engine *e, void *st, const ptw_break_info *b,
			     const ptw_ctx *c, bool made, uint64_t new,
			     uint64_t dur);
	/* the one detector that keeps breaks answers this */
	bool (*break_find)(ptw_engine *e, void *st, uint64_t pte_pa,
			   ptw_break_info *out);
	/* -- published by the PTE_ABA detector -- */
	/* reader who's last load of the entry at pte_pa: its vCPU and
	 * icount */
	bool (*last_load)(ptw_engine *e, void *st, uint64_t who,
			  uint64_t pte_pa, unsigned *cpu, uint64_t *icount);
	/* -- published by the unit detector -- */
	/* log2 of the entries of the multi-page unit entry idx of a
	 * last-level table belongs to, 0: none */
	unsigned (*unit_order)(ptw_engine *e, void *st, ptw_table *t,
			       unsigned idx);
} ptw_detector;

/* the table (detectors.c) */
extern const ptw_detector *const ptw_detectors[];
extern const unsigned ptw_ndetectors;

/* a detector's slot of table t */
static inline void **ptw_table_slot(ptw_table *t, unsigned id)
{
	return &t->det[id];
}

/* through the interface: the open break of the entry at pte_pa; the unit
 * order of an entry (0 when no detector keeps units) */
bool ptw_det_break_find(ptw_engine *e, uint64_t pte_pa, ptw_break_info *out);
unsigned ptw_det_unit_order(ptw_engine *e, ptw_table *t, unsigned idx);
bool ptw_det_last_load(ptw_engine *e, uint64_t who, uint64_t pte_pa,
		       unsigned *cpu, uint64_t *icount);
/* publish to every other detector (from: the publisher's id) */
void ptw_det_break_closed(ptw_engine *e, unsigned from, const ptw_break_info *b,
			  const ptw_ctx *c, bool made, uint64_t new,
			  uint64_t dur);

#endif
