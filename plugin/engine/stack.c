/* SPDX-License-Identifier: MIT */
/*
 * Guest call stacks: the functions that led a side of a finding to its
 * access, so that a report says which caller of page_vma_mapped_walk()
 * or which path into contpte_convert() it was.
 *
 * A stack is taken while the event it belongs to is applied (its vCPU's
 * registers are that event's): the frame pointer (arm64 x29, x86-64 rbp;
 * ptw_arch_ops.frame_gpr) through ptw_config.read_gpr, then the chain of
 * frame records it heads, each a pair {the caller's frame pointer, the
 * return address} (AAPCS64 6.2.3 "the frame record"; the same pair on
 * x86-64 with frame pointers), read through the kernel's page tables as
 * the engine shadows them and ptw_read_phys(). A trace records the
 * register and the reads, so a replay takes the same stacks. The chain
 * ends at a null or misaligned frame pointer, one outside the kernel's
 * half, a frame that does not lie above the one before (the stack grows
 * down: a chain that loops or goes back is cut), an unreadable record, or
 * PTW_STACK_MAX frames.
 *
 * Taken only where the engine asks (ptw_stack_capture): the changer of a
 * valid entry (a break, a change of a live translation), a side a detector
 * keeps to report later, and both sides of a finding when it is reported
 * (those that are the event being applied). A side in user code walks the
 * program's own frame records through its address space (our guest tests
 * keep frame pointers), staying in the lower half. On Linux x86-64
 * kernels built with ORC instead of frame pointers (Debian's) a kernel
 * side is unwound through the kernel's ORC tables (guest_linux_orc.c).
 *
 * Stacks are interned: one copy of each distinct chain, its id in
 * ptw_ctx.stack (1-based; 0 none), at most PTW_STACKS_KEPT of them.
 */
#include <inttypes.h>
#include <string.h>

#include "engine_internal.h"
#include "ptw_trace.h"

#define PTW_STACKS_KEPT 65536

struct ptw_stacks {
	GHashTable *ids;     /* ptw_stack * -> id */
	GPtrArray *list;     /* id - 1 -> ptw_stack * */
	bool told_off;	     /* the log said why there are none */
	uint64_t taken, cut; /* stacks taken; chains cut by a bad record */
};

static guint stack_hash(gconstpointer p)
{
	const ptw_stack *s = p;
	guint h = s->n;
	for (unsigned i = 0; i < s->n; i++)
		h = h * 31 + (guint)(s->pc[i] ^ s->pc[i] >> 32);
	return h;
}

static gboolean stack_equal(gconstpointer a, gconstpointer b)
{
	const ptw_stack *x = a, *y = b;
	return x->n == y->n && !memcmp(x->pc, y->pc, x->n * sizeof(x->pc[0]));
}

static struct ptw_stacks *stacks_of(ptw_engine *e)
{
	if (!e->stacks) {
		e->stacks = g_new0(struct ptw_stacks, 1);
		e->stacks->ids = g_hash_table_new(stack_hash, stack_equal);
		e->stacks->list = g_ptr_array_new_with_free_func(g_free);
	}
	return e->stacks;
}

void ptw_stacks_free(ptw_engine *e)
{
	if (!e->stacks)
		return;
	g_hash_table_destroy(e->stacks->ids);
	g_ptr_array_free(e->stacks->list, TRUE);
	g_free(e->stacks);
	e->stacks = NULL;
}

static uint32_t intern(ptw_engine *e, const ptw_stack *s)
{
	struct ptw_stacks *st = stacks_of(e);
	gpointer id;
	if (g_hash_table_lookup_extended(st->ids, s, NULL, &id))
		return GPOINTER_TO_UINT(id);
	if (st->list->len >= PTW_STACKS_KEPT)
		return 0;
	ptw_stack *copy = g_memdup2(s, sizeof(*s));
	g_ptr_array_add(st->list, copy);
	uint32_t n = st->list->len;
	g_hash_table_insert(st->ids, copy, GUINT_TO_POINTER(n));
	return n;
}

const ptw_stack *ptw_stack_get(ptw_engine *e, uint32_t id)
{
	if (!id || !e->stacks || id > e->stacks->list->len)
		return NULL;
	return g_ptr_array_index(e->stacks->list, id - 1);
}

/* whether frames can be walked: from this kernel's frame pointer, or
 * through its ORC tables */
static bool walkable(ptw_engine *e)
{
	const char *why = NULL;
	if (!e->cfg.read_gpr)
		return false;
	if (e->ops->frame_gpr < 0)
		why = "this architecture keeps no frame records";
	else if (ptw_linux_unwinds_without_fp(e) && e->ops->sp_gpr < 0)
		why = "the guest kernel keeps no frame pointers";
	if (why) {
		struct ptw_stacks *st = stacks_of(e);
		if (!st->told_off) {
			st->told_off = true;
			ptw_report_line(e, "stacks: none: %s", why);
		}
		return false;
	}
	return true;
}

/* a register of the vCPU whose event is applied (recorded in a trace) */
static bool read_gpr(ptw_engine *e, unsigned cpu, int n, uint64_t *v)
{
	*v = 0;
	bool ok = e->cfg.read_gpr(e->cfg.read_opaque, cpu, (unsigned)n, v);
	if (e->trace)
		ptw_trace_write_gpr(e->trace, cpu, (unsigned)n, ok, *v);
	return ok;
}

/* A function that keeps no frame record of its own (a leaf, such as
 * arm64's contpte_ptep_get() under page_vma_mapped_walk()) has its
 * caller's return address only in the link register: the frame records
 * start at its caller's caller. The link register is that return address
 * when the instruction before it is a direct call to the function the PC
 * is in; then it is the first caller. */
static void leaf_caller(ptw_engine *e, const ptw_ctx *c, ptw_stack *s,
			bool kernel)
{
	uint64_t lr, pa, to;
	uint32_t w;
	char sym[96];
	if (e->ops->link_gpr < 0 || !e->ops->direct_call4 ||
	    !read_gpr(e, c->cpu, e->ops->link_gpr, &lr))
		return;
	lr = e->ops->code_address(lr);
	ptw_symbolize(e, c->cpu, c->pc, sym, sizeof(sym));
	const char *plus = strstr(sym, "+0x");
	if (lr < 4 || e->ops->upper_half(lr) != kernel || !plus ||
	    !ptw_translate(e, c->cpu, lr - 4, &pa, NULL, NULL) ||
	    !ptw_read_phys(e, pa, &w, sizeof(w)) ||
	    !e->ops->direct_call4(w, lr - 4, &to) ||
	    to != c->pc - g_ascii_strtoull(plus + 3, NULL, 16))
		return;
	s->pc[s->n++] = lr;
}

void ptw_stack_capture(ptw_engine *e, ptw_ctx *c)
{
	const ptw_ctx *now = e->event_ctx;
	/* the end of the run is applied on no vCPU's thread: no registers
	 * are this event's (QEMU reads only the calling vCPU's) */
	if (e->finished || c->stack || !now || now->cpu != c->cpu ||
	    now->icount != c->icount || now->pc != c->pc || !walkable(e))
		return;
	/* the half the chain stays in: the kernel's, or the program's */
	bool kernel = e->ops->upper_half(c->pc);
	uint64_t fp, sp = 0;
	bool orc = kernel && ptw_linux_unwinds_without_fp(e);
	if (!read_gpr(e, c->cpu, e->ops->frame_gpr, &fp) ||
	    (orc && !read_gpr(e, c->cpu, e->ops->sp_gpr, &sp)))
		return;
	ptw_stack s;
	memset(&s, 0, sizeof(s));
	s.pc[s.n++] = c->pc;
	if (orc) {
		s.n += ptw_linux_orc_unwind(e, c->pc, sp, fp, s.pc + 1,
					    PTW_STACK_MAX - 1);
		fp = 0; /* the frame-record walk below does nothing */
	} else {
		leaf_caller(e, c, &s, kernel);
	}
	while (s.n < PTW_STACK_MAX) {
		uint64_t rec[2], pa;
		if (!fp || (fp & 7) || e->ops->upper_half(fp) != kernel)
			break;
		/* a record lies within one page (16-byte aligned) */
		if (!ptw_translate(e, c->cpu, fp, &pa, NULL, NULL) ||
		    !ptw_read_phys(e, pa, rec, sizeof(rec))) {
			stacks_of(e)->cut++;
			break;
		}
		uint64_t ret = e->ops->code_address(rec[1]);
		if (!ret || e->ops->upper_half(ret) != kernel)
			break;
		/* a function with a record of its own, the link register
		 * still its return address: taken once */
		if (!(s.n == 2 && s.pc[1] == ret))
			s.pc[s.n++] = ret;
		if (rec[0] <= fp)
			break;
		fp = rec[0];
	}
	stacks_of(e)->taken++;
	if (s.n > 1) /* callers known */
		c->stack = intern(e, &s);
}

/* A return address named as Linux's %pB names it (sprint_backtrace()):
 * looked up one byte back, inside the call, so that a call that never
 * returns (at the end of its function) names its caller, not the next
 * function; the offset is the return address's own. */
void ptw_stack_symbolize(ptw_engine *e, unsigned cpu, uint64_t ret, char *buf,
			 size_t n)
{
	ptw_symbolize(e, cpu, ret - 1, buf, n);
	if (!e->ops->upper_half(ret)) {
		/* a program's: "[name] 0xaddr" (its own symbols are not
		 * the engine's; scripts/ptw_lines.py resolves them) */
		char prog[64];
		g_strlcpy(prog, buf[0] ? buf : "[user]", sizeof(prog));
		snprintf(buf, n, "%s 0x%" PRIx64, prog, ret);
		return;
	}
	char *plus = strstr(buf, "+0x");
	if (!plus)
		return;
	uint64_t off = g_ascii_strtoull(plus + 3, NULL, 16) + 1;
	snprintf(plus, n - (size_t)(plus - buf), "+0x%" PRIx64, off);
}

void ptw_stack_format(ptw_engine *e, const ptw_ctx *c, char *buf, size_t n)
{
	buf[0] = 0;
	const ptw_stack *s = ptw_stack_get(e, c->stack);
	if (!s)
		return;
	size_t used = 0;
	for (unsigned i = 1; i < s->n && used + 1 < n; i++) {
		char sym[96];
		ptw_stack_symbolize(e, c->cpu, s->pc[i], sym, sizeof(sym));
		int w = snprintf(buf + used, n - used, "%s%s",
				 i > 1 ? " <- " : "", sym[0] ? sym : "?");
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void ptw_stacks_summary(ptw_engine *e, FILE *f)
{
	fprintf(f,
		",\n    \"stacks_taken\": %" PRIu64
		", \"stacks_distinct\": %u, \"stacks_cut\": %" PRIu64,
		e->stacks ? e->stacks->taken : 0,
		e->stacks ? e->stacks->list->len : 0,
		e->stacks ? e->stacks->cut : 0);
}
