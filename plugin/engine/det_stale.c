/* SPDX-License-Identifier: MIT */
/*
 * Stale-TLB records (STALE_TLB_ACCESS): when a leaf entry's mapping
 * changes, the old translation stays usable by every CPU that may cache it
 * until each of them has invalidated it (arm64: a TLBI covering it,
 * broadcast or run on that CPU; x86: INVLPG, a CR3 write without NOFLUSH,
 * INVPCID, a CR4.PGE toggle on that CPU). A record per change holds who
 * may still use it; an access through it (QEMU reports the PA of the TLB
 * entry it used) is stale. Most stale accesses are a deferred flush by
 * design (Linux batches): counted, not reported, unless the accessing CPU
 * made the change, the old page was reused meanwhile (a use after free),
 * the changer's own invalidation missed this CPU, or an operation obliged
 * to complete the flush first (asked of guest_linux.c) has returned to
 * user mode.
 *
 * Reuse is judged from the page's lifetime, not from where it is mapped:
 * a page moved to another VA (mremap, move_pages, userfaultfd MOVE) is the
 * same page with the same data, and a stale load of it reads what the new
 * mapping holds. The old page is reused when it was freed and given to
 * other data: on Linux, its struct page (guest_linux_mm.c) no longer
 * matches what it was when the record was made (freed, another mapping or
 * index); on a guest ptwatch does not know, when it is stored to through
 * another address after it lost every mapping made since the record (a
 * move's new mapping counts until it is removed too).
 *
 * The hot path asks this detector, lock-free, whether an access may
 * matter: three counting filters over the records (by old page, by VA,
 * by old page of records not yet reused).
 */
#include "detectors.h"
#include "u64map.h"

#define MAX_ELSEWHERE 4

/* A leaf mapping changed; some CPU may still hold the old translation. */
typedef struct ptw_pending {
	uint64_t space, va, size, old_pa;
	uint16_t asid;
	bool global;
	unsigned changer;
	uint64_t changer_who; /* the changing task (task.c) */
	uint64_t need;	      /* CPUs that have not invalidated since */
	uint64_t reported;    /* CPUs already reported */
	uint64_t deferred;    /* CPUs counted in a deferred-flush window */
	bool reused;	      /* old page freed and given to other data since */
	ptw_ctx reuse;	      /* ... by this access or entry change */
	/* leaf entries (their PAs) made since that map the old page at
	 * another VA: a move's new mapping; overflow: more, not followed */
	uint64_t elsewhere[MAX_ELSEWHERE];
	uint8_t nelsewhere;
	bool elsewhere_overflow;
	/* Linux: the page's identity when the record was made (its folio's
	 * mapping and index), when its struct page could be read */
	bool have_id;
	uint64_t id_mapping, id_index;
	uint64_t reported_uaf; /* CPUs reported for a use after free */
	/* overtaken: an operation that must complete a pending batched
	 * flush first (Linux: mprotect, munmap, mremap, madvise) read the
	 * entry while this record was pending; once its task returned to
	 * user mode, a use of the old translation outlived the operation */
	uint64_t ot_who;   /* the reading task (0: none) */
	uint64_t ot_lower; /* its returns to user at the read */
	ptw_ctx ot_read;
	bool changer_local_inval;
	uint64_t serial; /* the timeline's id */
	ptw_ctx when;
	uint64_t pte_pa;
	int level;
	uint64_t old_desc, new_desc;
	struct ptw_pending *next_key, *next_pa, *next_va; /* hash chains */
	struct ptw_pending *prev, *next;		  /* age list */
} ptw_pending;

typedef struct {
	/* chains of records, each map's value the head (ptw_pending *) */
	u64map pend_by_key; /* hash(space,va) -> chain */
	u64map pend_by_pa;  /* old_pa -> chain */
	u64map pend_by_va;  /* va (any space) -> chain */
	ptw_pending *pend_head, *pend_tail;
	/* The lock-free part, read by the vCPUs on every access: alone on
	 * its cache lines (the records' churn above is written under the
	 * lock). npending and the counting filters over the pending
	 * records' old pages (old_pa, size): they let the hot path skip the
	 * lock for accesses no record can match; written under the lock. */
	int npending PTW_LINE_ALONE;
	uint32_t *pend_filter;
	/* per CPU, the same by the VAs (in their address spaces) of the
	 * records that CPU is in the need of: a CPU that invalidated a
	 * record cannot use it stale */
	uint32_t *need_va_filter[PTW_MAX_CPUS];
	/* by old page, the records not marked reused yet */
	uint32_t *pend_unreused_filter;
	int pend_by_size[7]; /* records per leaf size (leaf_sizes[]) */
	uint64_t serial;     /* records made so far */
} stale_state;

static void need_filter_update(ptw_engine *e, stale_state *s,
			       const ptw_pending *p, unsigned cpu, int d);

/* p->need becomes need, the per-CPU filters following */
static void need_set(ptw_engine *e, stale_state *s, ptw_pending *p,
		     uint64_t need)
{
	for (uint64_t m = p->need ^ need; m; m &= m - 1) {
		unsigned cpu = (unsigned)__builtin_ctzll(m);
		need_filter_update(e, s, p, cpu, (need >> cpu & 1) ? 1 : -1);
	}
	p->need = need;
}

static uint64_t stale_deferred_flush(ptw_engine *e, void *st, const ptw_ctx *c)
{
	stale_state *s = st;
	/* widening: the changer is about to complete a batched flush it
	 * deferred past the PTE lock; hold it there, where the entries are
	 * gone, the old translations live and the lock is free */
	(void)c;
	if (!e->cfg.widen_ns ||
	    !__atomic_load_n(&s->npending, __ATOMIC_RELAXED))
		return 0;
	__atomic_fetch_add(&e->stats[ST_STALLS], 1, __ATOMIC_RELAXED);
	return e->cfg.widen_ns;
}

static bool has_pending(const stale_state *s)
{
	return __atomic_load_n(&s->npending, __ATOMIC_RELAXED) > 0;
}

#define PEND_FILTER_BITS 20
/* the leaves of the 4K granule (both arches), then arm64's 16K granule's
 * (16K, 32M, 64G) */
static const uint64_t leaf_sizes[] = {4096ULL,	    2ULL << 20, 1ULL << 30,
				      512ULL << 30, 16384ULL,	32ULL << 20,
				      64ULL << 30};

static unsigned pend_filter_slot(uint64_t old_pa, uint64_t size)
{
	uint64_t h = (old_pa ^ (size << 1)) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h >> (64 - PEND_FILTER_BITS));
}

/* the key of the VA filter: a record's VA in its address space (the
 * access's, as stale_check() looks records up) */
static uint64_t va_filter_key(uint64_t space, uint64_t va)
{
	return va ^ space * 0xc2b2ae3d27d4eb4fULL;
}

/* ------------------------------------------------------------------ */
/* the page watch: the pages the filters can pass, counted */

/* A pending record of this size is watched through its virtual pages and
 * its old page's stores (ptw_watch_ops), else through its old page. */
/* a record not (-1: no longer) marked reused, counted by its old page */
static void unreused_update(ptw_engine *e, stale_state *s, const ptw_pending *p,
			    int d)
{
	/* a store to the old page matters while some record does not count
	 * it reused */
	if (ptw_watch_by_va(e, p->size))
		ptw_watch_phys(e, true, p->old_pa, p->size, d);
	__atomic_fetch_add(
		&s->pend_unreused_filter[pend_filter_slot(p->old_pa, p->size)],
		(uint32_t)d, __ATOMIC_RELAXED);
	if (d > 0)
		ptw_interest_grew(e);
}

#define NEED_FILTER_BITS 18

/* the slot of a need_va_filter for a record of this size at va in space */
static unsigned need_filter_slot(uint64_t space, uint64_t va, uint64_t size)
{
	return pend_filter_slot(va_filter_key(space, va), size) >>
	       (PEND_FILTER_BITS - NEED_FILTER_BITS);
}

/* record p in (+1) or out (-1) of cpu's need_va_filter */
static void need_filter_update(ptw_engine *e, stale_state *s,
			       const ptw_pending *p, unsigned cpu, int d)
{
	if (!s->need_va_filter[cpu])
		return;
	__atomic_fetch_add(&s->need_va_filter[cpu][need_filter_slot(
				   p->space, p->va, p->size)],
			   (uint32_t)d, __ATOMIC_RELAXED);
	if (d > 0)
		ptw_interest_grew(e);
}

/* count a record of this size in (+1) or out (-1) of the filters by its
 * old page (its VA: need_va_filter, need_set()) */
static void pend_filter_update(ptw_engine *e, stale_state *s, uint64_t old_pa,
			       uint64_t va, uint64_t size, int d)
{
	if (!ptw_watch_by_va(e, size))
		ptw_watch_phys(e, false, old_pa, size, d);
	else
		ptw_watch_vpages(e, va, size, d > 0);
	__atomic_fetch_add(&s->pend_filter[pend_filter_slot(old_pa, size)],
			   (uint32_t)d, __ATOMIC_RELAXED);
	for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++)
		if (leaf_sizes[z] == size)
			__atomic_fetch_add(&s->pend_by_size[z], d,
					   __ATOMIC_RELAXED);
	if (d > 0)
		ptw_interest_grew(e);
}

/* whether filter (one of the counting filters of pending records) may
 * count a record of some leaf size that contains addr */
static bool pend_filter_may_hit(stale_state *s, const uint32_t *filter,
				uint64_t addr)
{
	for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
		if (!__atomic_load_n(&s->pend_by_size[z], __ATOMIC_RELAXED))
			continue;
		unsigned i = pend_filter_slot(addr & ~(leaf_sizes[z] - 1),
					      leaf_sizes[z]);
		if (__atomic_load_n(&filter[i], __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static bool may_hit(stale_state *s, uint64_t pa)
{
	return has_pending(s) && pend_filter_may_hit(s, s->pend_filter, pa);
}

/* whether cpu's VA filter may count a record of some leaf size at va in
 * space */
static bool va_filter_may_hit(stale_state *s, unsigned cpu, uint64_t space,
			      uint64_t va)
{
	const uint32_t *f = s->need_va_filter[cpu];
	for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
		if (!__atomic_load_n(&s->pend_by_size[z], __ATOMIC_RELAXED))
			continue;
		unsigned i = need_filter_slot(space, va & ~(leaf_sizes[z] - 1),
					      leaf_sizes[z]);
		if (__atomic_load_n(&f[i], __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static bool may_matter(ptw_engine *e, stale_state *s, unsigned cpu, uint64_t va,
		       uint64_t pa, bool is_store)
{
	if (!may_hit(s, pa))
		return false;
	/* pend_unreused_filter: every record whose old page may contain pa
	 * is marked reused already */
	if (is_store && pend_filter_may_hit(s, s->pend_unreused_filter, pa))
		return true;
	/* no record for va's page in the address space the vCPU translates
	 * it in that this vCPU has not invalidated (need_va_filter): the
	 * access cannot be stale */
	uint64_t space = ptw_access_space_lockfree(e, cpu, va);
	return space && va_filter_may_hit(s, cpu, space, va);
}

static void pend_free(ptw_engine *e, stale_state *s, ptw_pending *p);

/* A root no CPU holds is dropped: its records go. No CPU can use its
 * translations until one loads it again, and then only what its TLB still
 * holds; a root is dropped only when every CPU that used it invalidated
 * everything since (cold), or when it is empty (the process exited: Linux
 * flushes a PCID or ASID before giving it to another mm). Keeping them
 * would let a later process whose root reuses the page inherit them. */
static void pend_space_gone(ptw_engine *e, stale_state *s, uint64_t space)
{
	for (ptw_pending *p = s->pend_head, *next; p; p = next) {
		next = p->next;
		if (p->space == space) {
			e->stats[ST_PENDING_SPACE_GONE]++;
			pend_free(e, s, p);
		}
	}
}

/* pending-change records (stale TLB) */

static guint64 pend_key(uint64_t space, uint64_t va)
{
	return space * 0x9e3779b97f4a7c15ULL ^ va;
}

/* the first record of key's chain in m, or NULL */
static ptw_pending *chain_head(const u64map *m, uint64_t key)
{
	ptw_pending **head = u64map_get(m, key);
	return head ? *head : NULL;
}

/* key's chain now begins at head (NULL: the chain is gone) */
static void chain_set(u64map *m, uint64_t key, ptw_pending *head)
{
	if (head)
		*(ptw_pending **)u64map_put(m, key, NULL) = head;
	else
		u64map_remove(m, key);
}

/* the three chains a record is on */
typedef enum { BY_KEY, BY_PA, BY_VA } chain_kind;

static ptw_pending **chain_next(ptw_pending *q, chain_kind k)
{
	return k == BY_KEY  ? &q->next_key
	       : k == BY_PA ? &q->next_pa
			    : &q->next_va;
}

/* p off key's chain of kind k in m */
static void chain_remove(u64map *m, uint64_t key, ptw_pending *p, chain_kind k)
{
	ptw_pending *head = chain_head(m, key);
	ptw_pending **link = &head;
	while (*link && *link != p)
		link = chain_next(*link, k);
	if (*link)
		*link = *chain_next(p, k);
	chain_set(m, key, head);
}

static void pend_free(ptw_engine *e, stale_state *s, ptw_pending *p)
{
	chain_remove(&s->pend_by_key, pend_key(p->space, p->va), p, BY_KEY);
	chain_remove(&s->pend_by_pa, p->old_pa, p, BY_PA);
	pend_filter_update(e, s, p->old_pa, p->va, p->size, -1);
	if (!p->reused)
		unreused_update(e, s, p, -1);
	chain_remove(&s->pend_by_va, p->va, p, BY_VA);
	need_set(e, s, p, 0);
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pend_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		s->pend_tail = p->prev;
	__atomic_store_n(&s->npending, s->npending - 1, __ATOMIC_RELAXED);
	/* retired by the event being applied, usually another CPU's flush */
	PTW_TL(e, .kind = PTW_TL_PENDING_CLOSE, .cpu = p->changer,
	       .at = ptw_event_ctx(e), .id = p->serial);
	g_free(p);
}

#define PEND_PER_VA 64

static void page_identity(ptw_engine *e, ptw_pending *p);

static void pend_add(ptw_engine *e, stale_state *s, const ptw_ctx *c,
		     ptw_table *t, const ptw_view *view, unsigned idx,
		     uint64_t va, const ptw_desc *dold, uint64_t old,
		     uint64_t new)
{
	/* only CPUs that may cache the old translation can use it stale: the
	 * record is retired when each of them has invalidated (on x86, every
	 * CPU of a shootdown flushes itself: INVLPG, a CR3 write without
	 * NOFLUSH, INVPCID, a CR4.PGE toggle). A CPU that never loaded the
	 * root cannot hold it: with every CPU in 'need', a process that ran on
	 * one CPU left records no other CPU ever retired, until evicted. */
	uint64_t need = ptw_may_hold_in(e, view->space, va);
	if (!need)
		return;
	/* The same translation left stale again by the same changer (an
	 * entry rewritten over and over without invalidation): one record,
	 * its CPUs the union (a CPU that invalidated may have loaded it
	 * again since). And at most PEND_PER_VA records per (space, VA), the
	 * oldest evicted: a flood of changes to one entry costs neither
	 * memory nor time per access. */
	uint64_t sp0 = ptw_view_entry_space(e, view, va);
	uint64_t base = va & ~(dold->size - 1);
	guint64 k0 = pend_key(sp0, base);
	unsigned chain = 0;
	ptw_pending *oldest = NULL;
	for (ptw_pending *q = chain_head(&s->pend_by_key, k0); q;
	     q = q->next_key) {
		if (q->space != sp0 || q->va != base || q->size != dold->size)
			continue;
		if (q->old_desc == old && q->changer == c->cpu &&
		    q->pte_pa == t->pa + idx * 8ULL) {
			/* CPUs added again (they had invalidated): theirs is
			 * a new stale window, from this change */
			uint64_t again = need & ~q->need;
			if (again) {
				q->reported &= ~again;
				q->deferred &= ~again;
				q->when = *c;
				q->changer_who = ptw_task_who(e, c->cpu);
			}
			need_set(e, s, q, q->need | need);
			q->new_desc = new;
			e->stats[ST_PENDING_MERGED]++;
			return;
		}
		chain++;
		oldest = q;
	}
	if (chain >= PEND_PER_VA && oldest) {
		if (!e->stats[ST_PENDING_VA_EVICTED]++)
			ptw_warn(e, "pending-va-evicted",
				 "more than %u stale-TLB records pending for "
				 "one VA (entry PA 0x%" PRIx64
				 "): the oldest are evicted (counted in "
				 "pending_records_evicted_per_va)",
				 PEND_PER_VA, (uint64_t)(t->pa + idx * 8ULL));
		pend_free(e, s, oldest);
	}
	if ((unsigned)s->npending >= e->cfg.max_pending) {
		e->stats[ST_PENDING_OVERFLOW]++;
		if (e->stats[ST_PENDING_OVERFLOW] == 1)
			ptw_warn(e, "pending-evicted",
				 "more than %u stale-TLB records pending: the "
				 "oldest are evicted (counted in "
				 "pending_records_evicted); a stale access "
				 "through an evicted record is missed",
				 e->cfg.max_pending);
		pend_free(e, s, s->pend_head);
	}
	ptw_pending *p = g_new0(ptw_pending, 1);
	p->space = ptw_view_entry_space(e, view, va);
	p->va = va & ~(dold->size - 1);
	p->size = dold->size;
	p->old_pa = dold->oa;
	p->asid = ptw_space_asid(e, view->space);
	p->global = e->ops->global(e, c->cpu, old);
	p->changer = c->cpu;
	p->changer_who = ptw_task_who(e, c->cpu);
	need_set(e, s, p, need);
	p->when = *c;
	p->pte_pa = t->pa + idx * 8;
	p->level = t->level;
	p->old_desc = old;
	p->new_desc = new;
	p->serial = ++s->serial;
	PTW_TL(e, .kind = PTW_TL_PENDING_OPEN, .cpu = c->cpu, .at = c,
	       .id = p->serial, .pte_pa = p->pte_pa, .va = p->va,
	       .level = p->level);
	page_identity(e, p);
	guint64 k = pend_key(p->space, p->va);
	p->next_key = chain_head(&s->pend_by_key, k);
	chain_set(&s->pend_by_key, k, p);
	p->next_pa = chain_head(&s->pend_by_pa, p->old_pa);
	chain_set(&s->pend_by_pa, p->old_pa, p);
	pend_filter_update(e, s, p->old_pa, p->va, p->size, 1);
	unreused_update(e, s, p, 1);
	p->next_va = chain_head(&s->pend_by_va, p->va);
	chain_set(&s->pend_by_va, p->va, p);
	p->prev = s->pend_tail;
	if (s->pend_tail)
		s->pend_tail->next = p;
	else
		s->pend_head = p;
	s->pend_tail = p;
	__atomic_store_n(&s->npending, s->npending + 1, __ATOMIC_RELAXED);
	ptw_interest_grew(e); /* has_pending() */
	if ((uint64_t)s->npending > e->stats[ST_PENDING_PEAK])
		e->stats[ST_PENDING_PEAK] = s->npending;
}

/* Each record whose old page (of its size) holds pa, but for the one at
 * (space, va) itself */
#define EACH_RECORD_OF_PAGE(s, pa, p)                                          \
	for (unsigned z_ = 0; z_ < G_N_ELEMENTS(leaf_sizes); z_++)             \
		if ((s)->pend_by_size[z_])                                     \
			for (ptw_pending *p =                                  \
				     chain_head(&(s)->pend_by_pa,              \
						(pa) & ~(leaf_sizes[z_] - 1)); \
			     p; p = p->next_pa)                                \
				if (p->old_pa ==                               \
					    ((pa) & ~(leaf_sizes[z_] - 1)) &&  \
				    p->size == leaf_sizes[z_])

static void mark_reused(ptw_engine *e, stale_state *s, ptw_pending *p,
			const ptw_ctx *c)
{
	if (p->reused)
		return;
	unreused_update(e, s, p, -1);
	p->reused = true;
	p->reuse = *c;
}

/* Linux: the identity of the old page's folio now (what a reuse changes) */
static bool folio_id(ptw_engine *e, uint64_t pa, uint64_t *mapping,
		     uint64_t *index, bool *freed)
{
	ptw_linux_page_info pi;
	if (!ptw_guest_is_linux(e) ||
	    !ptw_linux_page(e, pa >> e->page_shift, &pi) || !pi.valid)
		return false;
	*mapping = pi.mapping;
	*index = pi.index;
	*freed = pi.refcount <= 0;
	return true;
}

static void page_identity(ptw_engine *e, ptw_pending *p)
{
	bool freed;
	p->have_id =
		folio_id(e, p->old_pa, &p->id_mapping, &p->id_index, &freed) &&
		!freed;
}

/* The old page of record p is known to hold other data than when p was
 * made: its folio freed or given another mapping or index (Linux); on a
 * guest ptwatch does not know, 'unknown' (the caller decides from the
 * mappings it saw) */
static int page_changed(ptw_engine *e, const ptw_pending *p)
{
	uint64_t mapping, index;
	bool freed;
	if (!p->have_id || !folio_id(e, p->old_pa, &mapping, &index, &freed))
		return -1;
	return freed || mapping != p->id_mapping || index != p->id_index;
}

/* A leaf (entry pte_pa, at space/va) now maps pa: for the records whose
 * old page it is, a move's new mapping (same page, same data) unless the
 * page's lifetime says it was given to other data */
static void pend_mapped_elsewhere(ptw_engine *e, stale_state *s,
				  const ptw_ctx *c, uint64_t pa, uint64_t space,
				  uint64_t va, uint64_t pte_pa)
{
	EACH_RECORD_OF_PAGE(s, pa, p)
	{
		if (p->reused ||
		    (p->space == space && p->va == (va & ~(p->size - 1))))
			continue;
		if (page_changed(e, p) == 1) {
			mark_reused(e, s, p, c);
			continue;
		}
		bool have = false;
		for (unsigned i = 0; i < p->nelsewhere; i++)
			have |= p->elsewhere[i] == pte_pa;
		if (have)
			continue;
		if (p->nelsewhere < MAX_ELSEWHERE)
			p->elsewhere[p->nelsewhere++] = pte_pa;
		else
			p->elsewhere_overflow = true;
	}
}

/* The leaf at pte_pa no longer maps pa: a mapping made since of a record's
 * old page is gone */
static void pend_unmapped_elsewhere(stale_state *s, uint64_t pa,
				    uint64_t pte_pa)
{
	EACH_RECORD_OF_PAGE(s, pa, p)
	{
		for (unsigned i = 0; i < p->nelsewhere; i++)
			if (p->elsewhere[i] == pte_pa) {
				p->elsewhere[i] = p->elsewhere[--p->nelsewhere];
				break;
			}
	}
}

/* A store through another address than a record's own to its old page:
 * the page was reused if its lifetime says so (Linux), or, on a guest
 * ptwatch does not know, if every mapping of it made since is gone (the
 * first write of its next owner) */
static void pend_stored(ptw_engine *e, stale_state *s, const ptw_ctx *c,
			uint64_t pa, uint64_t space, uint64_t va)
{
	EACH_RECORD_OF_PAGE(s, pa, p)
	{
		if (p->reused ||
		    (p->space == space && p->va == (va & ~(p->size - 1))))
			continue;
		int changed = page_changed(e, p);
		if (changed == 1 ||
		    (changed < 0 && !p->nelsewhere && !p->elsewhere_overflow))
			mark_reused(e, s, p, c);
	}
}

static bool pc_is_kernel(ptw_engine *e, uint64_t pc)
{
	return e->ops->upper_half(pc);
}

/* A stale access through record p, an error: why, the record's other
 * side (other, other_role) and how the detail ends (how). */
static void stale_report(ptw_engine *e, const ptw_ctx *c, const ptw_pending *p,
			 uint64_t va, uint64_t pa, bool is_store,
			 const char *why, const ptw_ctx *other,
			 const char *other_role, const char *how)
{
	char detail[512];
	snprintf(detail, sizeof(detail),
		 "%s through a translation the page tables no longer hold: "
		 "old PA 0x%" PRIx64 " used (access PA 0x%" PRIx64
		 "); entry changed by vcpu %u at pc 0x%" PRIx64
		 " icount %" PRIu64 " %s",
		 is_store ? "store" : "load", p->old_pa, pa, p->changer,
		 p->when.pc, p->when.icount, how);
	report2(e, PTW_KIND_STALE_TLB_ACCESS, PTW_SEV_ERROR, why, c,
		is_store ? "stale store" : "stale load", other, other_role,
		p->pte_pa, va, p->level, p->old_desc, p->new_desc, detail);
}

/* A stale access through record p after its old page was given to other
 * data: a use after free. The other side is what reused the page (its
 * next owner's first store, or the new mapping whose struct page says
 * so); the change of the entry is in the detail. */
static void report_uaf(ptw_engine *e, const ptw_ctx *c, const ptw_pending *p,
		       uint64_t va, uint64_t pa, bool is_store)
{
	char detail[640], changer[96];
	ptw_symbolize(e, p->changer, p->when.pc, changer, sizeof(changer));
	snprintf(
		detail, sizeof(detail),
		"use after free: %s through a translation the page tables no "
		"longer hold, to old PA 0x%" PRIx64 " (access PA 0x%" PRIx64
		"), which was given to other data since: reused by vcpu %u at "
		"pc 0x%" PRIx64 " icount %" PRIu64
		"; freed after the entry that mapped it was changed by vcpu %u "
		"at pc 0x%" PRIx64 "%s%s icount %" PRIu64
		", and no invalidation covering it reached this vcpu since",
		is_store ? "store" : "load", p->old_pa, pa, p->reuse.cpu,
		p->reuse.pc, p->reuse.icount, p->changer, p->when.pc,
		changer[0] ? " " : "", changer, p->when.icount);
	report2_variant(
		e, PTW_KIND_STALE_TLB_ACCESS, "use-after-free", PTW_SEV_ERROR,
		"use after free: the old page was freed and given to other "
		"data while a stale translation could still reach it",
		c, is_store ? "stale store" : "stale load", &p->reuse,
		"old page reused by", p->pte_pa, va, p->level, p->old_desc,
		p->new_desc, detail);
}

static void stale_check(ptw_engine *e, stale_state *s, const ptw_ctx *c,
			uint64_t va, uint64_t pa, bool is_store)
{
	uint64_t space = ptw_access_space(e, c->cpu, va);
	if (!space)
		return;
	uint64_t bit = 1ULL << c->cpu;
	for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
		if (!s->pend_by_size[z]) /* no record of this size */
			continue;
		uint64_t sz = leaf_sizes[z];
		uint64_t base = va & ~(sz - 1);
		guint64 k = pend_key(space, base);
		for (ptw_pending *p = chain_head(&s->pend_by_key, k); p;
		     p = p->next_key) {
			if (p->space != space || p->va != base ||
			    p->size != sz || !(p->need & bit))
				continue;
			if ((pa & ~(sz - 1)) != p->old_pa)
				continue;
			/* the current tables may map this page to the same PA
			 * (e.g. a block split into a table of the same pages)
			 */
			uint64_t cur;
			if (ptw_translate(e, c->cpu, va, &cur, NULL, NULL) &&
			    (cur & ~0xfffULL) == (pa & ~0xfffULL))
				continue;
			e->stats[ST_STALE_ACCESSES]++;
			/* the old page holds other data now: a use after
			 * free, reported on its own (once per CPU) whatever
			 * this record gave before */
			if (p->reused) {
				if (!(p->reported_uaf & bit)) {
					p->reported_uaf |= bit;
					report_uaf(e, c, p, va, pa, is_store);
				}
				continue;
			}
			if (p->reported & bit)
				continue;
			/* the changer's own CPU, in the changer's own context
			 * (its task, its mode): another task on that CPU, or a
			 * user-mode access after a kernel-mode change, may
			 * follow a switch while the changer's batched flush
			 * (TTU_BATCH_FLUSH) is pending, which is a
			 * deferred-flush window (a migration that sleeps on a
			 * folio lock between its unmap and its flush, and a
			 * thread of the same mm reads the page in a system
			 * call meanwhile) */
			bool own = c->cpu == p->changer &&
				   ptw_task_who(e, c->cpu) == p->changer_who &&
				   pc_is_kernel(e, c->pc) ==
					   pc_is_kernel(e, p->when.pc);
			/* an operation that depended on the entry's removal
			 * read it meanwhile and has returned to user mode */
			bool overtaken =
				p->ot_who && !own && !p->changer_local_inval &&
				ptw_task_returns(e, p->ot_who) != p->ot_lower;
			if (!(own || p->changer_local_inval || overtaken)) {
				if (!(p->deferred & bit))
					e->stats[ST_STALE_DEFERRED]++;
				p->deferred |= bit;
				continue;
			}
			p->reported |= bit;
			char how[320];
			if (overtaken) {
				snprintf(how, sizeof(how),
					 "with its invalidation deferred; vcpu "
					 "%u read the entry at pc 0x%" PRIx64
					 " icount %" PRIu64
					 " meanwhile and its task has since "
					 "returned to user mode, with no "
					 "covering invalidation on this vcpu",
					 p->ot_read.cpu, p->ot_read.pc,
					 p->ot_read.icount);
				stale_report(
					e, c, p, va, pa, is_store,
					ptw_linux_overtaken_why(), &p->ot_read,
					"entry read during the pending flush "
					"by",
					how);
				continue;
			}
			snprintf(how, sizeof(how),
				 "with no covering invalidation on this vcpu "
				 "since; %s",
				 own ? "the accessing vcpu made the change"
				     : "the changer invalidated only "
				       "locally (non-broadcast)");
			stale_report(e, c, p, va, pa, is_store,
				     own ? "the changing vcpu itself used the "
					   "old translation"
					 : "the changer's invalidation did "
					   "not reach this vcpu",
				     &p->when, "entry changed by", how);
		}
	}
}

/* Invalidation on the CPUs in 'targets' of records matching a scope. */

static bool scope_matches(const inval_scope *sc, const ptw_pending *p)
{
	return ptw_scope_covers(sc, p->va, p->size, p->global, p->asid);
}

static void invalidate_one(ptw_engine *e, stale_state *s, const ptw_ctx *c,
			   const inval_scope *sc, uint64_t targets,
			   ptw_pending *p)
{
	if (!scope_matches(sc, p))
		return;
	if (sc->scoped && c->cpu == p->changer &&
	    (p->need & ~targets & e->all_cpus))
		p->changer_local_inval = true;
	need_set(e, s, p, p->need & ~targets);
	if (!p->need)
		pend_free(e, s, p);
}

static void stale_invalidate(ptw_engine *e, void *st, const ptw_ctx *c,
			     const inval_scope *sc, uint64_t targets)
{
	stale_state *s = st;
	ptw_pending *next;
	uint64_t pages = sc->by_va ? ((sc->va_hi - sc->va_lo) >> 12) + 1 : 0;
	if (sc->by_va && !sc->all && pages <= 64) {
		/* by VA: only records whose base VA lies at one of the
		 * aligned bases covering the range */
		for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
			if (!s->pend_by_size[z]) /* no record of this size */
				continue;
			uint64_t sz = leaf_sizes[z];
			uint64_t lo = sc->va_lo & ~(sz - 1), hi = sc->va_hi;
			for (uint64_t b = lo; b <= hi && b >= lo; b += sz) {
				ptw_pending *p = chain_head(&s->pend_by_va, b);
				for (; p; p = next) {
					next = p->next_va;
					if (p->size == sz)
						invalidate_one(e, s, c, sc,
							       targets, p);
				}
				if (sz > hi - lo)
					break;
			}
		}
		return;
	}
	for (ptw_pending *p = s->pend_head; p; p = next) {
		next = p->next;
		invalidate_one(e, s, c, sc, targets, p);
	}
}

/* ------------------------------------------------------------------ */

/* cpu c loaded entry idx of t: if the entry has a pending stale record
 * (another CPU may still use its old translation) and the reader is an
 * operation obliged to complete such a flush first (on Linux: mprotect,
 * munmap, mremap, madvise; a guest without symbols: any reader), remember
 * the reading task: once it has returned to user mode, a use of the old
 * translation outlived an operation that depended on its removal. */
static void pend_overtake(ptw_engine *e, stale_state *s, const ptw_ctx *c,
			  ptw_table *t, unsigned idx)
{
	uint64_t pte_pa = t->pa + idx * 8ULL;
	uint64_t va = ptw_entry_va(e, t, idx);
	bool is_linux = ptw_guest_is_linux(e), asked = false;
	for (unsigned z = 0; z < G_N_ELEMENTS(leaf_sizes); z++) {
		if (!s->pend_by_size[z]) /* no record of this size */
			continue;
		uint64_t k = va & ~(leaf_sizes[z] - 1);
		for (ptw_pending *p = chain_head(&s->pend_by_va, k); p;
		     p = p->next_va) {
			if (p->pte_pa != pte_pa || p->changer == c->cpu ||
			    p->ot_who)
				continue;
			char sym[96];
			if (!asked && is_linux) {
				ptw_symbolize(e, c->cpu, c->pc, sym,
					      sizeof(sym));
				if (!sym[0] ||
				    !ptw_linux_batched_flush_obliged(sym))
					return;
			}
			asked = true;
			if (is_linux) {
				ptw_symbolize(e, p->changer, p->when.pc, sym,
					      sizeof(sym));
				if (!ptw_linux_batched_flush_changer(sym))
					continue;
			}
			p->ot_who = ptw_task_who(e, c->cpu);
			p->ot_lower = ptw_task_returns(e, p->ot_who);
			p->ot_read = *c;
			ptw_stack_capture(e, &p->ot_read);
		}
	}
}

/* ------------------------------------------------------------------ */
/* hooks */

static void *stale_init(ptw_engine *e, unsigned id)
{
	(void)id;
	stale_state *s = g_aligned_alloc0(1, sizeof(*s), PTW_CACHELINE);
	for (unsigned i = 0; i < e->cfg.ncpus && i < PTW_MAX_CPUS; i++)
		s->need_va_filter[i] = g_new0(uint32_t, 1u << NEED_FILTER_BITS);
	u64map_init(&s->pend_by_key, sizeof(ptw_pending *));
	u64map_init(&s->pend_by_pa, sizeof(ptw_pending *));
	u64map_init(&s->pend_by_va, sizeof(ptw_pending *));
	s->pend_filter = g_new0(uint32_t, 1u << PEND_FILTER_BITS);
	s->pend_unreused_filter = g_new0(uint32_t, 1u << PEND_FILTER_BITS);
	return s;
}

static void stale_free(ptw_engine *e, void *st)
{
	(void)e;
	stale_state *s = st;
	for (ptw_pending *p = s->pend_head, *n; p; p = n) {
		n = p->next;
		g_free(p);
	}
	u64map_free(&s->pend_by_key);
	u64map_free(&s->pend_by_pa);
	u64map_free(&s->pend_by_va);
	g_free(s->pend_filter);
	for (unsigned i = 0; i < PTW_MAX_CPUS; i++)
		g_free(s->need_va_filter[i]);
	g_free(s->pend_unreused_filter);
	g_aligned_free(s);
}

static bool is_leaf(const ptw_desc *d)
{
	return d->type == PTW_DESC_PAGE || d->type == PTW_DESC_BLOCK;
}

/* leaf mapping changed: remember the old translation, through every view
 * of the table; a new leaf to a record's old page reuses it */
static void stale_entry_changed(ptw_engine *e, void *st, const ptw_ctx *c,
				ptw_table *t, unsigned idx, uint64_t old,
				uint64_t new)
{
	stale_state *s = st;
	ptw_desc dold = ptw_decode_entry(e, old, t->level);
	ptw_desc dnew = ptw_decode_entry(e, new, t->level);
	bool leaf_changed =
		is_leaf(&dold) && !(is_leaf(&dnew) && dnew.oa == dold.oa &&
				    dnew.size == dold.size);
	uint64_t pte_pa = t->pa + idx * 8ULL;
	/* a leaf that mapped a record's old page and no longer does */
	if (leaf_changed && has_pending(s))
		pend_unmapped_elsewhere(s, dold.oa, pte_pa);
	for (unsigned k = 0; k < ptw_table_nviews(t); k++) {
		ptw_view v = ptw_table_view(t, k);
		uint64_t va = ptw_view_entry_va(e, t, &v, idx);
		if (leaf_changed)
			pend_add(e, s, c, t, &v, idx, va, &dold, old, new);
		if (is_leaf(&dnew) && has_pending(s) &&
		    !(is_leaf(&dold) && dold.oa == dnew.oa))
			pend_mapped_elsewhere(e, s, c, dnew.oa,
					      ptw_view_entry_space(e, &v, va),
					      va, pte_pa);
	}
}

static void stale_entry_loaded(ptw_engine *e, void *st, const ptw_ctx *c,
			       ptw_table *t, unsigned idx, uint64_t value)
{
	(void)value;
	stale_state *s = st;
	if (s->npending)
		pend_overtake(e, s, c, t, idx);
}

static void stale_access(ptw_engine *e, void *st, const ptw_ctx *c, uint64_t va,
			 uint64_t pa, bool is_store)
{
	stale_state *s = st;
	e->stats[ST_PENDING_CHECKS]++;
	stale_check(e, s, c, va, pa, is_store);
	if (is_store && s->npending) {
		uint64_t sp = ptw_access_space(e, c->cpu, va);
		pend_stored(e, s, c, pa, sp, va);
	}
}

static unsigned stale_interest(ptw_engine *e, void *st, unsigned cpu,
			       uint64_t va, uint64_t pa, unsigned size,
			       bool is_store)
{
	(void)size;
	return may_matter(e, st, cpu, va, pa, is_store) ? PTW_ACC_PENDING : 0;
}

static void stale_root_dropped(ptw_engine *e, void *st, uint64_t space)
{
	stale_state *s = st;
	if (s->npending)
		pend_space_gone(e, s, space);
}

static int stale_pending(ptw_engine *e, void *st)
{
	(void)e;
	return ((stale_state *)st)->npending;
}

const ptw_detector ptw_det_stale = {
	.name = "stale",
	.init = stale_init,
	.free = stale_free,
	.entry_changed = stale_entry_changed,
	.entry_loaded = stale_entry_loaded,
	.access = stale_access,
	.interest = stale_interest,
	.invalidate = stale_invalidate,
	.root_dropped = stale_root_dropped,
	.deferred_flush = stale_deferred_flush,
	.pending = stale_pending,
};

/* the lock-free questions, for the adapter and the tests */
bool ptw_has_pending(ptw_engine *e)
{
	return has_pending(ptw_det_state(e, &ptw_det_stale));
}

bool ptw_pending_may_hit(ptw_engine *e, uint64_t pa)
{
	return may_hit(ptw_det_state(e, &ptw_det_stale), pa);
}

bool ptw_pending_may_matter(ptw_engine *e, unsigned cpu, uint64_t va,
			    uint64_t pa, bool is_store)
{
	return cpu < e->cfg.ncpus &&
	       may_matter(e, ptw_det_state(e, &ptw_det_stale), cpu, va, pa,
			  is_store);
}
