/* SPDX-License-Identifier: MIT */
/*
 * Guest tasks and their operations, for the detectors that pair what one
 * reader did at two moments (PTE_ABA, window reads, the stale-TLB
 * detector's overtaking operation):
 *  - who reads: the task a vCPU runs (a task switch event gives it: on
 *    Linux a kernel address, see guest_linux.c), or the vCPU while none is
 *    known;
 *  - its returns to user mode so far (the adapter reports each vCPU's
 *    upper- to lower-half transitions);
 *  - its current operation: a serial given when it starts one (Linux: a
 *    call to handle_mm_fault(); any guest: the OP_BEGIN client request).
 */
#include "engine_internal.h"

#define MAX_TASKS 262144 /* tasks remembered (the table is cleared past) */

/* who's entry in m, made (zeroed) if absent; a map of MAX_TASKS tasks is
 * cleared first */
static uint64_t *task_entry(u64map *m, uint64_t who)
{
	if (m->len >= MAX_TASKS && !u64map_get(m, who))
		u64map_clear(m);
	return u64map_put(m, who, NULL);
}

void ptw_tasks_init(ptw_engine *e)
{
	u64map_init(&e->tasks.task_lower, sizeof(uint64_t));
	u64map_init(&e->tasks.ops, 2 * sizeof(uint64_t));
}

void ptw_tasks_free(ptw_engine *e)
{
	u64map_free(&e->tasks.task_lower);
	u64map_free(&e->tasks.ops);
}

/* Who reads: the guest task the vCPU runs (a kernel address on Linux) or,
 * while no task is known, the vCPU (1 + its number). */
uint64_t ptw_task_who(const ptw_engine *e, unsigned cpu)
{
	return e->tasks.task[cpu] ? e->tasks.task[cpu] : cpu + 1ULL;
}

/* The reader's returns to user mode so far: a task's own (those of its
 * earlier runs, plus those of its vCPU since it was switched in), or the
 * vCPU's. */
uint64_t ptw_task_returns(ptw_engine *e, uint64_t who)
{
	if (who <= PTW_MAX_CPUS)
		return ptw_lower_entries(e, who - 1);
	uint64_t *n = u64map_get(&e->tasks.task_lower, who);
	uint64_t sum = n ? *n : 0;
	for (unsigned k = 0; k < e->cfg.ncpus; k++)
		if (e->tasks.task[k] == who)
			sum += ptw_lower_entries(e, k) -
			       e->tasks.task_lower_base[k];
	return sum;
}

void ptw_task_switch(ptw_engine *e, unsigned cpu, uint64_t task)
{
	uint64_t old = e->tasks.task[cpu];
	if (old == task)
		return;
	e->stats[ST_TASK_SWITCHES]++;
	if (old) {
		uint64_t ran = ptw_lower_entries(e, cpu) -
			       e->tasks.task_lower_base[cpu];
		*task_entry(&e->tasks.task_lower, old) += ran;
	}
	e->tasks.task[cpu] = task;
	e->tasks.task_lower_base[cpu] = ptw_lower_entries(e, cpu);
	PTW_TL(e, .kind = PTW_TL_TASK, .cpu = cpu, .at = ptw_event_ctx(e),
	       .task = task);
}

/* The reader's current operation: a serial given when its task starts one
 * (ptw_task_op_start), 0 before any. */
uint64_t ptw_task_op(ptw_engine *e, uint64_t who)
{
	uint64_t *op = u64map_get(&e->tasks.ops, who);
	return op ? op[0] : 0;
}

/* The reader's current operation while it is still in it: 0 once its task
 * has returned to user mode since the operation began (a later system
 * call reading the same entries is not that fault), or before any. */
uint64_t ptw_task_open_op(ptw_engine *e, uint64_t who)
{
	uint64_t *op = u64map_get(&e->tasks.ops, who);
	return op && op[1] == ptw_task_returns(e, who) ? op[0] : 0;
}

/* cpu's task starts an operation (on Linux: a page fault's attempt, a call
 * to handle_mm_fault(); a retried fault calls it again): its reads before
 * belong to another operation, and no pte_same() connects them to the
 * reads that follow. */
void ptw_task_op_start(ptw_engine *e, unsigned cpu)
{
	uint64_t who = ptw_task_who(e, cpu);
	uint64_t returns = ptw_task_returns(e, who);
	uint64_t *op = task_entry(&e->tasks.ops, who);
	op[0] = ++e->tasks.op_serial;
	op[1] = returns; /* its returns to user when begun */
	e->stats[ST_OPERATIONS]++;
}
