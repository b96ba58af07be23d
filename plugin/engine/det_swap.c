/* SPDX-License-Identifier: MIT */
/*
 * SWAP_SLOT_UNCLAIMED (Linux, seed 000): a fault maps a page in place of a
 * swap entry whose slot it never held.
 *
 * A fault reads a swap entry without the PTE lock (handle_pte_fault()'s
 * ptep_get_lockless()), reads the slot's data, and maps it after a
 * pte_same() check under the lock. The check proves the entry's value is
 * the same, not that the slot is: a slot freed after the first read and
 * given to other data comes back as the same value (the swap entry's
 * ABA). Linux closes that by holding the slot from before the check to
 * the map: a swap-cache folio (the slot's SWAP_HAS_CACHE), or, where a
 * synchronous device (zram) skips the swap cache, swapcache_prepare(),
 * which sets SWAP_HAS_CACHE on the slot without a folio (13ddaf26be32
 * "mm/swap: fix race when skipping swapcache"). A second fault on the
 * same entry then fails its own claim and backs off; the slot cannot be
 * freed and reused under either. Seed 000 puts back the skip without the
 * claim: two threads fault on one entry, the first maps and frees the
 * slot (swap_free_nr()) while the second still holds its unclaimed read.
 *
 * The rule: a user entry that held a swap entry is made to map a page by
 * a task that read that entry in the same fault (its operation, task.c,
 * with no return to user mode since it began)
 * and never saw the slot held (swap_map's SWAP_HAS_CACHE) at any of its
 * reads of it there. Correct kernels always hold it at the pte_same()
 * read before the map (do_swap_page() on both paths, unuse_pte() through
 * the swap cache); the slot may be freed before the store itself
 * (folio_free_swap() of a write fault), which is why the reads count, not
 * the store. Found at the store, whether or not the slot comes back with
 * the same value; the report names another fault still holding an
 * unclaimed read of the same entry when there is one (the slot freed
 * under a reader), else the task's own first read.
 *
 * On 7.x there is no swap_map: a slot's state is its entry in its
 * cluster's swap table (mm/swap_table.h), and "held" is a cached folio's
 * PFN there. 7.x's do_swap_page() puts the folio in the swap cache
 * (swapin_sync() too: swapcache_prepare() is gone) before its pte_same()
 * and, for a large folio, swap_pte_batch() reads under the PTE lock, and
 * frees the swap cache only after set_ptes(); so the same rule holds
 * there, read from the tables. Off (said once) without BTF or swap_info,
 * and on a kernel with both swap_map and swap tables (the versions in
 * between), whose SWAP_HAS_CACHE no longer says what the cache holds.
 */
#include "detectors.h"

#define MAX_ENTRIES 65536 /* entries remembered (cleared past) */
#define READERS	    4	  /* tasks remembered per entry */

typedef struct {
	uint64_t who, op; /* the reading task and its operation */
	uint64_t slot;	  /* (type, offset) of the swap entry it read */
	bool claimed;	  /* a read of it in the op saw SWAP_HAS_CACHE */
	bool known;	  /* every read's swap_map byte was readable */
	uint8_t first_raw;
	ptw_ctx first; /* the op's first read of the entry */
} swap_read;

typedef struct {
	swap_read r[READERS];
	unsigned next;
} swap_reads;

typedef struct {
	GHashTable *reads; /* pte_pa -> swap_reads */
	int on;		   /* -1 not decided yet, 0 off, 1 on */
	uint64_t swapins, unjudged, unclaimed;
} swap_state;

static void *swap_init(ptw_engine *e, unsigned id)
{
	(void)e;
	(void)id;
	swap_state *s = g_new0(swap_state, 1);
	s->reads = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	s->on = -1;
	return s;
}

static void swap_free(ptw_engine *e, void *st)
{
	(void)e;
	swap_state *s = st;
	g_hash_table_destroy(s->reads);
	g_free(s);
}

/* on for a Linux guest whose BTF gives swap_map; said once when not */
static bool swap_on(ptw_engine *e, swap_state *s)
{
	if (s->on >= 0)
		return s->on;
	if (!ptw_guest_is_linux(e))
		return false;
	const ptw_linux_mm_layout *l = ptw_linux_mm_layout_get(e);
	if (!l)
		return false; /* not decided yet, or off (said by BTF) */
	const char *why = NULL;
	if (l->swap_map.off < 0 && !ptw_linux_swap_tables(l))
		why = "the BTF gives neither swap_info_struct's swap_map nor "
		      "the swap tables (swap_info_struct.cluster_info, "
		      "swap_cluster_info.table, struct swap_table)";
	else if (l->swap_map.off >= 0 && l->cluster_table.off >= 0)
		why = "this kernel keeps its swap cache in swap tables "
		      "(swap_cluster_info.table) beside swap_map, whose "
		      "SWAP_HAS_CACHE no longer says it";
	s->on = why == NULL;
	if (why)
		ptw_report_line(e, "linux mm: SWAP_SLOT_UNCLAIMED is off: %s",
				why);
	return s->on;
}

/* a swap device's entry in a last-level table (guest_linux.c says which
 * values are) */
static bool swap_slot(ptw_engine *e, const ptw_table *t, uint64_t v,
		      unsigned *type, uint64_t *off)
{
	return ptw_linux_swap_device_entry(e->cfg.arch, v, type, off) &&
	       ptw_is_last_level(e, t->level);
}

static uint64_t slot_id(unsigned type, uint64_t off)
{
	return off << 6 | type;
}

/* who's record of this entry (its op 0 once used up), NULL for none */
static swap_read *reader(swap_reads *rs, uint64_t who)
{
	for (unsigned i = 0; i < READERS; i++)
		if (rs->r[i].who == who)
			return &rs->r[i];
	return NULL;
}

static void swap_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			      ptw_table *t, unsigned idx, uint64_t value)
{
	swap_state *s = st;
	unsigned type;
	uint64_t off;
	if (!swap_slot(e, t, value, &type, &off) || !swap_on(e, s))
		return;
	uint64_t who = ptw_task_who(e, c->cpu), op = ptw_task_open_op(e, who);
	if (!op)
		return; /* not in a fault */
	uint64_t pte_pa = t->pa + idx * 8ULL;
	swap_reads *rs = g_hash_table_lookup(s->reads, &pte_pa);
	if (!rs) {
		if (g_hash_table_size(s->reads) >= MAX_ENTRIES)
			g_hash_table_remove_all(s->reads);
		rs = g_new0(swap_reads, 1);
		g_hash_table_insert(s->reads, g_memdup2(&pte_pa, 8), rs);
	}
	ptw_linux_swap_slot sl;
	bool known = ptw_linux_swap_count(e, type, off, &sl);
	swap_read *r = reader(rs, who);
	uint64_t id = slot_id(type, off);
	if (!r || r->op != op || r->slot != id) {
		if (!r) {
			r = &rs->r[rs->next];
			rs->next = (rs->next + 1) % READERS;
		}
		*r = (swap_read){.who = who,
				 .op = op,
				 .slot = id,
				 .known = true,
				 .first_raw = sl.raw,
				 .first = *c};
	}
	r->known &= known;
	r->claimed |= known && sl.has_cache;
}

/* another task's fault still holding an unclaimed read of slot id */
static const swap_read *other_reader(ptw_engine *e, swap_reads *rs,
				     uint64_t who, uint64_t id)
{
	for (unsigned i = 0; i < READERS; i++) {
		const swap_read *r = &rs->r[i];
		char sym[96];
		if (!r->op || r->who == who || r->slot != id || r->claimed ||
		    ptw_task_open_op(e, r->who) != r->op)
			continue;
		/* a walker reading it as a hint (swap readahead's
		 * neighbours) holds nothing to map */
		ptw_symbolize(e, r->first.cpu, r->first.pc, sym, sizeof(sym));
		if (!sym[0] || !ptw_linux_aba_walker(sym))
			return r;
	}
	return NULL;
}

static void swap_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
			       ptw_table *t, unsigned idx, uint64_t old,
			       uint64_t new)
{
	swap_state *s = st;
	unsigned type;
	uint64_t off;
	ptw_desc d;
	if (!swap_slot(e, t, old, &type, &off) || s->on != 1 ||
	    !ptw_user_leaf(e, t->level, new, &d))
		return;
	uint64_t pte_pa = t->pa + idx * 8ULL;
	swap_reads *rs = g_hash_table_lookup(s->reads, &pte_pa);
	uint64_t who = ptw_task_who(e, c->cpu), op = ptw_task_open_op(e, who);
	uint64_t id = slot_id(type, off);
	swap_read *r = rs ? reader(rs, who) : NULL;
	s->swapins++;
	if (!r || !op || r->op != op || r->slot != id || !r->known) {
		s->unjudged++; /* not read in this fault, or unreadable */
		return;
	}
	bool claimed = r->claimed;
	swap_read mine = *r;
	r->op = 0; /* this read is used up */
	if (claimed)
		return;
	s->unclaimed++;
	ptw_linux_swap_slot now;
	char slot_now[64] = "unreadable";
	if (ptw_linux_swap_count(e, type, off, &now))
		snprintf(slot_now, sizeof(slot_now),
			 now.raw ? "0x%02x (count %u%s)" : "0x%02x (free)",
			 now.raw, now.count, now.has_cache ? ", cached" : "");
	const swap_read *o = other_reader(e, rs, who, id);
	char under[200] = "";
	if (o)
		snprintf(
			under, sizeof(under),
			"; another fault (vcpu %u) read the same entry and has "
			"not finished: the slot is freed under it, and its "
			"pte_same() passes if the slot comes back with the "
			"same value (seed 000)",
			o->first.cpu);
	char d1[sizeof(((ptw_finding *)0)->detail)];
	snprintf(d1, sizeof(d1),
		 "the entry held swap slot %u:0x%" PRIx64
		 " (swap_map 0x%02x at this fault's first read of it, icount "
		 "%" PRIu64 ") and now maps PA 0x%" PRIx64
		 "; none of this fault's reads of it saw the slot held "
		 "(SWAP_HAS_CACHE: a swap-cache folio or swapcache_prepare()), "
		 "so nothing kept the slot from being freed and reused between "
		 "its read and this store (swap_map now %s)%s",
		 type, off, mine.first_raw, mine.first.icount, d.oa, slot_now,
		 under);
	report2(e, PTW_KIND_SWAP_SLOT_UNCLAIMED, PTW_SEV_ERROR,
		"a swap-in mapped a slot it never held: the slot can be freed "
		"and reused under a concurrent fault's pte_same()",
		c, "swapped in", o ? &o->first : &mine.first,
		o ? "other fault's read" : "first read", pte_pa,
		ptw_entry_va(e, t, idx), t->level, old, new, d1);
}

static void swap_summary_stats(ptw_engine *e, void *st, FILE *f)
{
	(void)e;
	swap_state *s = st;
	fprintf(f,
		",\n    \"swapins_seen\": %" PRIu64
		", \"swapins_unjudged\": %" PRIu64
		", \"swapins_unclaimed\": %" PRIu64,
		s->swapins, s->unjudged, s->unclaimed);
}

const ptw_detector ptw_det_swap = {
	.name = "swap",
	.init = swap_init,
	.free = swap_free,
	.entry_changed = swap_entry_changed,
	.entry_loaded = swap_entry_loaded,
	.summary_stats = swap_summary_stats,
};
