/* SPDX-License-Identifier: MIT */
/*
 * PTE_ABA: one guest task reading the same entry value twice within one
 * operation while the entry referred to something else in between; and the
 * guest tasks themselves (who reads, and their returns to user mode).
 */
#include "detectors.h"

void det_aba_init(ptw_engine *e)
{
	e->aba.reads = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	e->aba.task_lower =
		g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
	e->aba.ops = g_hash_table_new_full(u64_hash, u64_eq, g_free, g_free);
}

void det_aba_free(ptw_engine *e)
{
	g_hash_table_destroy(e->aba.reads);
	g_hash_table_destroy(e->aba.task_lower);
	g_hash_table_destroy(e->aba.ops);
}

/* Who reads, for PTE_ABA: the guest task the vCPU runs (a kernel address
 * on Linux) or, while no task is known, the vCPU (1 + its number). */
uint64_t det_who(const ptw_engine *e, unsigned cpu)
{
	return e->aba.task[cpu] ? e->aba.task[cpu] : cpu + 1ULL;
}

/* e->aba.reads's key: one reader's last read of one entry */
static uint64_t aba_key(uint64_t who, uint64_t pte_pa)
{
	return who * 0x9e3779b97f4a7c15ULL ^ pte_pa;
}

aba_read *aba_lookup(ptw_engine *e, uint64_t who, uint64_t pte_pa)
{
	uint64_t key = aba_key(who, pte_pa);
	aba_read *r = g_hash_table_lookup(e->aba.reads, &key);
	return r && r->who == who && r->pte_pa == pte_pa ? r : NULL;
}

/* The reader's returns to user mode so far: a task's own (those of its
 * earlier runs, plus those of its vCPU since it was switched in), or the
 * vCPU's. */
uint64_t det_who_returns(ptw_engine *e, uint64_t who)
{
	if (who <= PTW_MAX_CPUS)
		return e->lower_entries[who - 1];
	uint64_t *n = g_hash_table_lookup(e->aba.task_lower, &who);
	uint64_t sum = n ? *n : 0;
	for (unsigned k = 0; k < e->cfg.ncpus; k++)
		if (e->aba.task[k] == who)
			sum += e->lower_entries[k] - e->aba.task_lower_base[k];
	return sum;
}

void det_task_switch(ptw_engine *e, unsigned cpu, uint64_t task)
{
	uint64_t old = e->aba.task[cpu];
	if (old == task)
		return;
	e->stats[ST_TASK_SWITCHES]++;
	if (old) {
		uint64_t ran =
			e->lower_entries[cpu] - e->aba.task_lower_base[cpu];
		uint64_t *n = g_hash_table_lookup(e->aba.task_lower, &old);
		if (!n) {
			if (g_hash_table_size(e->aba.task_lower) >= MAX_ABA)
				g_hash_table_remove_all(e->aba.task_lower);
			n = g_new0(uint64_t, 1);
			g_hash_table_insert(e->aba.task_lower,
					    g_memdup2(&old, sizeof(old)), n);
		}
		*n += ran;
	}
	e->aba.task[cpu] = task;
	e->aba.task_lower_base[cpu] = e->lower_entries[cpu];
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

void det_entry_load(ptw_engine *e, const ptw_ctx *c, ptw_table *t, unsigned idx,
		    uint64_t value)
{
	uint64_t pte_pa = t->pa + idx * 8ULL;
	/* another CPU reads the entry inside a break; a reader of a
	 * present-invalid entry (pmdp_invalidate()) still sees the page:
	 * Linux keeps it "present" for exactly those readers */
	ptw_break *b = break_get(e, pte_pa);
	bool in_window =
		b && b->cpu != c->cpu &&
		ptw_decode_entry(e, value, t->level).type == PTW_DESC_INVALID &&
		!ptw_linux_present_invalid(e->cfg.arch, value);
	if (in_window || e->bbm.wr[c->cpu]->len)
		window_reads_load(e, c, t, idx, in_window ? b : NULL);
	if (in_window)
		b->readers |= 1ULL << c->cpu;

	uint64_t who = det_who(e, c->cpu);
	aba_read *r = aba_lookup(e, who, pte_pa);
	uint32_t ver = t->ver[idx], iver = t->iver[idx];
	uint64_t lower = det_who_returns(e, who);
	uint64_t op = det_who_op(e, who);
	e->aba.last_icount[c->cpu] = c->icount;
	/* instructions since the first read, counted on the vCPU that made
	 * it (a task may have moved to another vCPU in between) */
	uint64_t since = r ? e->aba.last_icount[r->cpu] - r->icount : 0;
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
		    r->op == op && !r->ahead && !aba_walker_pair(e, c, r->pc)) {
			/* since the first read the entry went only between
			 * one swap slot and one page (identities: a page's
			 * has bit 0 set, a swap slot's clear): one folio
			 * swapped in and out again keeping its slot, which
			 * Linux's do_swap_page() finds consistent (the
			 * folio is that slot's swap-cache folio, checked
			 * under its lock); a slot freed and given to the
			 * same page again looks the same, so a warning */
			bool round_trip =
				t->pair_since[idx] <= r->iver &&
				((t->last_id[idx] ^ t->prev_id[idx]) & 1);
			char d[320];
			snprintf(
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
			ptw_ctx first = {r->cpu, 0, r->icount};
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
		if (g_hash_table_size(e->aba.reads) >= MAX_ABA)
			g_hash_table_remove_all(e->aba.reads);
		r = g_new0(aba_read, 1);
		uint64_t key = aba_key(who, pte_pa);
		g_hash_table_replace(e->aba.reads, g_memdup2(&key, sizeof(key)),
				     r);
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

/* The reader's current operation: a serial given when its task starts one
 * (det_op_start), 0 before any. */
uint64_t det_who_op(ptw_engine *e, uint64_t who)
{
	uint64_t *op = g_hash_table_lookup(e->aba.ops, &who);
	return op ? *op : 0;
}

/* cpu's task starts an operation (on Linux: a page fault's attempt, a call
 * to handle_mm_fault(); a retried fault calls it again): its reads before
 * belong to another operation, and no pte_same() connects them to the
 * reads that follow. */
void det_op_start(ptw_engine *e, unsigned cpu)
{
	uint64_t who = det_who(e, cpu);
	uint64_t *op = g_hash_table_lookup(e->aba.ops, &who);
	if (!op) {
		if (g_hash_table_size(e->aba.ops) >= MAX_ABA)
			g_hash_table_remove_all(e->aba.ops);
		op = g_new0(uint64_t, 1);
		g_hash_table_insert(e->aba.ops, g_memdup2(&who, sizeof(who)),
				    op);
	}
	*op = ++e->aba.op_serial;
	e->stats[ST_OPERATIONS]++;
}
