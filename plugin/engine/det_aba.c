/* SPDX-License-Identifier: MIT */
/*
 * PTE_ABA: one guest task reading the same entry value twice within one
 * operation while the entry referred to something else in between (who
 * reads and its operations: task.c). Publishes each reader's last load of
 * an entry (last_load), which the break-window detector asks.
 */
#include "detectors.h"
#include "u64map.h"

#define ABA_WINDOW 2000000ULL /* guest instructions between the two reads */
#define MAX_ABA	   262144     /* reads remembered (cleared past) */

typedef struct {
	uint64_t who, pte_pa; /* the key's parts (the key is a hash) */
	uint64_t value;
	uint32_t ver, iver;
	uint64_t gen; /* table registration the version belongs to */
	uint64_t icount, pc;
	unsigned cpu;		/* the vCPU that read */
	uint64_t lower_entries; /* the reader's returns to user so far */
	uint64_t op;		/* the reader's operation (task.c) */
	bool ahead;		/* read a value the shadow did not hold yet */
} aba_read;

/* per table, per entry: changes so far, changes of identity, the identity
 * of the last non-zero value, the identity before it, and the iver at
 * which the entry's current run of values with only those two identities
 * began (a swap round trip of one folio) */
/* the last changes of every entry, for the report (who wrote what
 * between the two reads): one ring for all entries, not a history per
 * entry (most entries change, few are ever reported: a history per entry
 * was most of the plugin's memory, 43 MB on an arm64 boot). 2^16 changes
 * is far more than a window's (ABA_WINDOW); the report says when the
 * ring no longer holds some of them. */
#define HIST	  4
#define RING_BITS 16
typedef struct {
	uint64_t pte_pa, gen; /* the entry, and its table's registration */
	uint64_t value;
	uint32_t ver; /* the entry's change count after it */
	ptw_ctx by;
} aba_change;

typedef struct {
	uint32_t *ver, *iver;
	uint64_t *last_id, *prev_id;
	uint32_t *pair_since;
	unsigned nent;
} aba_table;

typedef struct {
	unsigned id;
	u64map reads; /* aba_key(task or vCPU, pte_pa) -> last read
			 (aba_read, inline) */
	uint64_t last_icount[PTW_MAX_CPUS]; /* at its last page-table load */
	aba_change *ring; /* 1 << RING_BITS, made at the first change */
	uint64_t ring_n;  /* changes recorded */
} aba_state;

static void *aba_init(ptw_engine *e, unsigned id)
{
	(void)e;
	aba_state *s = g_new0(aba_state, 1);
	s->id = id;
	u64map_init(&s->reads, sizeof(aba_read));
	return s;
}

static void aba_free(ptw_engine *e, void *st)
{
	(void)e;
	aba_state *s = st;
	u64map_free(&s->reads);
	g_free(s->ring);
	g_free(s);
}

/* What an entry refers to, for PTE_ABA: the output address of a present
 * (or present-invalid) entry, whatever its permissions and A/D state; the
 * whole value of a swap or migration entry. */
static uint64_t entry_identity(ptw_engine *e, uint64_t v, int level)
{
	ptw_desc d = ptw_decode_entry(e, v, level);
	if (d.type != PTW_DESC_INVALID)
		return d.oa | 1;
	if (ptw_linux_present_invalid(e->cfg.arch, v))
		return ptw_decode_entry(e, ptw_linux_revalidate(e->cfg.arch, v),
					level)
			       .oa |
		       1;
	uint64_t pfn;
	if (ptw_linux_pfn_entry(e->cfg.arch, v, &pfn))
		return pfn << e->page_shift | 1; /* migration: that page */
	if (ptw_guest_is_linux(e)) {
		/* a swap entry refers to its slot: its software bits
		 * (arm64 PTE_SWP_EXCLUSIVE and PTE_SWP_UFFD_WP, x86
		 * _PAGE_SWP_EXCLUSIVE, _PAGE_SWP_SOFT_DIRTY, _PAGE_SWP_UFFD_WP)
		 * change, the slot and its data do not (a fork clears the
		 * exclusive bit, a swap-out of the same folio sets it again) */
		unsigned type;
		uint64_t off;
		ptw_linux_swap_entry(e->cfg.arch, v, &type, &off);
		return (off << 6 | type) << 1;
	}
	return v & ~1ULL;
}

static void aba_table_added(ptw_engine *e, void *st, ptw_table *t)
{
	aba_state *s = st;
	aba_table *a = g_new(aba_table, 1);
	a->ver = g_new0(uint32_t, t->nent);
	a->iver = g_new0(uint32_t, t->nent);
	a->last_id = g_new0(uint64_t, t->nent);
	a->prev_id = g_new0(uint64_t, t->nent);
	a->pair_since = g_new0(uint32_t, t->nent);
	a->nent = t->nent;
	for (unsigned i = 0; i < t->nent; i++)
		a->last_id[i] = entry_identity(e, t->shadow[i], t->level);
	*ptw_table_slot(t, s->id) = a;
}

static void aba_table_free(void *slot)
{
	aba_table *a = slot;
	g_free(a->ver);
	g_free(a->iver);
	g_free(a->last_id);
	g_free(a->prev_id);
	g_free(a->pair_since);
	g_free(a);
}

/* an entry changed: count it, and its identity when it refers to
 * something else */
static void aba_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t old,
			      uint64_t new)
{
	(void)old;
	aba_state *s = st;
	aba_table *a = *ptw_table_slot(t, s->id);
	a->ver[idx]++;
	if (!s->ring)
		s->ring = g_new(aba_change, 1u << RING_BITS);
	s->ring[s->ring_n++ & ((1u << RING_BITS) - 1)] = (aba_change){
		.pte_pa = t->pa + idx * 8ULL,
		.gen = t->gen,
		.value = new,
		.ver = a->ver[idx],
		.by = *c,
	};
	if (!new)
		return;
	uint64_t id = entry_identity(e, new, t->level);
	if (id != a->last_id[idx]) {
		/* a third identity: the run of two begins with last_id's */
		if (id != a->prev_id[idx])
			a->pair_since[idx] = a->iver[idx];
		a->prev_id[idx] = a->last_id[idx];
		a->iver[idx]++;
		a->last_id[idx] = id;
	}
}

/* s->reads's key: one reader's last read of one entry */
static uint64_t aba_key(uint64_t who, uint64_t pte_pa)
{
	return who * 0x9e3779b97f4a7c15ULL ^ pte_pa;
}

static aba_read *aba_lookup(aba_state *s, uint64_t who, uint64_t pte_pa)
{
	uint64_t key = aba_key(who, pte_pa);
	aba_read *r = u64map_get(&s->reads, key);
	return r && r->who == who && r->pte_pa == pte_pa ? r : NULL;
}

static bool aba_last_load(ptw_engine *e, void *st, uint64_t who,
			  uint64_t pte_pa, unsigned *cpu, uint64_t *icount)
{
	(void)e;
	aba_read *r = aba_lookup(st, who, pte_pa);
	if (r) {
		*cpu = r->cpu;
		*icount = r->icount;
	}
	return r != NULL;
}

/* Either read of a would-be PTE_ABA pair is by a Linux walker that never
 * re-checks a value it read in an earlier walk (ptw_linux_aba_walker()):
 * the pair spans two walks, not one operation. A stopgap until reads are
 * paired by guest task rather than by vCPU (a kernel thread never returns
 * to user mode, so nothing else ends its pairs). */
static bool aba_walker_pair(ptw_engine *e, const ptw_ctx *c, uint64_t first_pc)
{
	char a[96], b[96];
	ptw_symbolize(e, c->cpu, c->pc, a, sizeof(a));
	ptw_symbolize(e, c->cpu, first_pc, b, sizeof(b));
	return (a[0] && ptw_linux_aba_walker(a)) ||
	       (b[0] && ptw_linux_aba_walker(b));
}

/* the entry's changes between the two reads (the first read saw change
 * count from, the second sees to): each value and who wrote it, the last
 * HIST of them that the ring still holds, appended to d at o */
static void history(ptw_engine *e, const aba_state *s, const ptw_table *t,
		    unsigned idx, uint32_t from, uint32_t to, char *d, size_t n,
		    int o)
{
	if (!s->ring || o < 0 || (size_t)o >= n || to == from)
		return;
	uint64_t pte_pa = t->pa + idx * 8ULL;
	const aba_change *found[HIST];
	uint32_t k = 0;
	uint64_t held =
		s->ring_n < (1u << RING_BITS) ? s->ring_n : 1u << RING_BITS;
	/* newest first, until HIST are found or the first read is reached */
	for (uint64_t i = 0; i < held && k < HIST; i++) {
		const aba_change *ch =
			&s->ring[(s->ring_n - 1 - i) & ((1u << RING_BITS) - 1)];
		if (ch->pte_pa != pte_pa || ch->gen != t->gen)
			continue;
		if (ch->ver - from - 1 >= to - from)
			break; /* at or before the first read */
		found[k++] = ch;
	}
	uint32_t changes = to - from;
	if (k < changes)
		o += snprintf(
			d + o, n - o,
			"; the last %u of its %u changes since that read:", k,
			changes);
	else
		o += snprintf(d + o, n - o, "; its changes since that read:");
	while (k-- > 0 && (size_t)o < n) {
		char sym[96];
		const ptw_ctx *by = &found[k]->by;
		ptw_symbolize(e, by->cpu, by->pc, sym, sizeof(sym));
		o += snprintf(d + o, n - o,
			      " 0x%" PRIx64 " (vcpu %u pc 0x%" PRIx64
			      "%s%s icount %" PRIu64 ")",
			      found[k]->value, by->cpu, by->pc,
			      sym[0] ? " " : "", sym, by->icount);
	}
}

static void aba_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			     ptw_table *t, unsigned idx, uint64_t value)
{
	aba_state *s = st;
	aba_table *a = *ptw_table_slot(t, s->id);
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t who = ptw_task_who(e, c->cpu);
	aba_read *r = aba_lookup(s, who, pte_pa);
	uint32_t ver = a->ver[idx], iver = a->iver[idx];
	uint64_t lower = ptw_task_returns(e, who);
	uint64_t op = ptw_task_op(e, who);
	/* Pairs are of reads within one operation. Linux's tasks give the
	 * reader (task switches, returns to user) and its operations
	 * (handle_mm_fault()); on a guest that is not Linux, only an
	 * operation the guest marks (the OP_BEGIN client request) connects
	 * two reads: its setup code's read and a later one are unrelated. */
	bool is_linux = ptw_guest_is_linux(e);
	s->last_icount[c->cpu] = c->icount;
	/* instructions since the first read, counted on the vCPU that made
	 * it (a task may have moved to another vCPU in between) */
	uint64_t since = r ? s->last_icount[r->cpu] - r->icount : 0;
	/* another CPU's store reached memory but its callback has not run
	 * yet (it waits for the engine lock): the versions do not yet count
	 * the change this value came from, so this read cannot be the first
	 * of a pair */
	uint64_t sh = t->shadow[idx];
	bool ahead = ((value ^ sh) & ~e->ops->hw_managed(sh, value)) != 0;
	if (r) {
		/* the entry referred to something else in between (another
		 * page, another swap slot), and back: a transient clear, or a
		 * permission or A/D change (fork's wrprotect, a write fault's
		 * reuse), changes no identity */
		uint32_t nonzero = iver - r->iver;
		/* an empty entry has no identity to confuse: only a present
		 * entry or a swap/migration entry can be ABA'd */
		if (value != 0 && r->value == value && r->gen == t->gen &&
		    r->ver != ver && nonzero > 0 && nonzero < (1u << 31) &&
		    since <= ABA_WINDOW && r->lower_entries == lower &&
		    r->op == op && !r->ahead && (op || is_linux) &&
		    !aba_walker_pair(e, c, r->pc)) {
			/* since the first read the entry went only between
			 * one swap slot and one page (identities: a page's
			 * has bit 0 set, a swap slot's clear): one folio
			 * swapped in and out again keeping its slot, which
			 * Linux's do_swap_page() finds consistent (the
			 * folio is that slot's swap-cache folio, checked
			 * under its lock); a slot freed and given to the
			 * same page again looks the same, so a warning */
			bool round_trip =
				a->pair_since[idx] <= r->iver &&
				((a->last_id[idx] ^ a->prev_id[idx]) & 1);
			char d[sizeof(((ptw_finding *)0)->detail)];
			int o = snprintf(
				d, sizeof(d),
				"vcpu %u read 0x%016" PRIx64
				" from this entry at icount %" PRIu64
				"; it changed %u time(s)%s",
				r->cpu, value, r->icount, ver - r->ver,
				round_trip
					? " in between, only between one swap "
					  "slot and one page: a folio swapped "
					  "in and out again with its slot "
					  "(consistent if the reader's folio "
					  "is that slot's swap-cache folio), "
					  "or the slot reused by the same page"
					: ", referring to another page or swap "
					  "slot in between, and came back to "
					  "the same value before this read: a "
					  "pte_same() check here passes on a "
					  "changed entry");
			history(e, s, t, idx, r->ver, ver, d, sizeof(d), o);
			ptw_ctx first = {
				.cpu = r->cpu, .pc = 0, .icount = r->icount};
			first.pc = r->pc;
			report2(e, PTW_KIND_PTE_ABA,
				round_trip ? PTW_SEV_WARNING : PTW_SEV_ERROR,
				round_trip ? "a swap round trip between two "
					     "reads of the entry"
					   : "a pte_same() check would pass on "
					     "a changed entry",
				c, "second read", &first, "first read", pte_pa,
				ptw_entry_va(e, t, idx), t->level, value, value,
				d);
		}
	} else {
		if (s->reads.len >= MAX_ABA)
			u64map_clear(&s->reads);
		/* a new read, or another reader's whose key collided with
		 * this one's: its record, overwritten below */
		r = u64map_put(&s->reads, aba_key(who, pte_pa), NULL);
	}
	r->who = who;
	r->pte_pa = pte_pa;
	r->cpu = c->cpu;
	r->value = value;
	r->ver = ver;
	r->iver = iver;
	r->gen = t->gen;
	r->icount = c->icount;
	r->pc = c->pc;
	r->lower_entries = lower;
	r->op = op;
	r->ahead = ahead;
}

const ptw_detector ptw_det_aba = {
	.name = "aba",
	.init = aba_init,
	.free = aba_free,
	.table_free = aba_table_free,
	.table_added = aba_table_added,
	.entry_changed = aba_entry_changed,
	.entry_loaded = aba_entry_loaded,
	.last_load = aba_last_load,
};
