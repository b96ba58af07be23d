/* SPDX-License-Identifier: MIT */
/*
 * The timeline writer (docs/timeline.md). The engine tells the sink its
 * moments as a replay applies the trace's events; slices are kept open
 * until their end is told, then everything is sorted and written at once,
 * because a slice's lane (below) is known only when its end is.
 *
 * Chrome trace-event JSON, for Perfetto: one process, one thread per vCPU
 * ("vCPU N"), each timestamp that vCPU's guest instruction count. Perfetto
 * drops a complete slice that overlaps another on its thread without
 * nesting in it, and break windows do overlap (a contpte unfold breaks 16
 * entries, then makes them again in the same order): such a slice goes to
 * the vCPU's next lane, a thread of its own ("vCPU N lane K") listed just
 * after it.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "timeline.h"

#define MAX_LANES 99	     /* lanes per vCPU (tid = 1 + cpu * 100 + lane) */
#define CP_MAX	  (1u << 21) /* clock checkpoints kept per vCPU */

typedef struct {
	uint64_t icount, seq;
} tl_checkpoint;

typedef struct {
	char ph; /* 'X' complete slice, 'i' instant */
	unsigned cpu, lane;
	uint64_t ts, dur;
	uint64_t seq;	 /* the trace event during which it was told */
	uint64_t icount; /* its vCPU's instruction count there */
	uint64_t order;	 /* the order it was told in: ties keep it */
	bool open;	 /* a slice whose end is not told yet */
	char *name, *cat;
	GString *args; /* JSON members, without the braces */
} tl_item;

/* a flow arrow from the other side of a finding to the finding */
typedef struct {
	guint src, dst; /* items */
	char *name;
} tl_flow;

struct ptw_tl_writer {
	ptw_timeline_sink sink;
	ptw_arch arch;
	unsigned ncpus;
	char *source;
	GArray *items;	  /* tl_item */
	GArray *flows;	  /* tl_flow */
	GHashTable *open; /* (kind, cpu, id) -> item index + 1 */
	/* "cat cpu icount" -> the latest slice opened there + 1, so that a
	 * finding finds its other side's slice at once (a flood of findings
	 * must not scan every item) */
	GHashTable *opened_at;
	uint64_t now[PTW_MAX_CPUS];
	uint64_t seq; /* trace events so far */
	/* the shared clock (docs/timeline.md "Time"): per vCPU, the last
	 * trace event on it, and checkpoints (icount, seq) of when its
	 * icount advanced, every stride-th kept (the stride doubles when
	 * they grow past CP_MAX, so a long trace costs bounded memory) */
	uint64_t last_seq[PTW_MAX_CPUS];
	GArray *cps[PTW_MAX_CPUS];
	unsigned stride[PTW_MAX_CPUS], skipped[PTW_MAX_CPUS];
	GString *progs[PTW_MAX_CPUS];
};

static void tl_event(void *opaque, const ptw_tl_event *ev);

ptw_tl_writer *ptw_tl_writer_new(ptw_arch arch, unsigned ncpus,
				 const char *source)
{
	ptw_tl_writer *w = g_new0(ptw_tl_writer, 1);
	w->sink.event = tl_event;
	w->sink.opaque = w;
	w->arch = arch;
	w->ncpus = ncpus > PTW_MAX_CPUS ? PTW_MAX_CPUS : ncpus;
	w->source = g_strdup(source);
	w->items = g_array_new(FALSE, TRUE, sizeof(tl_item));
	w->flows = g_array_new(FALSE, TRUE, sizeof(tl_flow));
	w->open = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					NULL);
	w->opened_at =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (unsigned c = 0; c < PTW_MAX_CPUS; c++) {
		w->cps[c] = g_array_new(FALSE, FALSE, sizeof(tl_checkpoint));
		w->stride[c] = 1;
	}
	return w;
}

const ptw_timeline_sink *ptw_tl_writer_sink(ptw_tl_writer *w)
{
	return &w->sink;
}

/* every other checkpoint of cpu dropped, the stride doubled */
static void thin(ptw_tl_writer *w, unsigned cpu)
{
	GArray *a = w->cps[cpu];
	guint k = 0;
	for (guint i = 0; i < a->len; i += 2)
		g_array_index(a, tl_checkpoint, k++) =
			g_array_index(a, tl_checkpoint, i);
	g_array_set_size(a, k);
	w->stride[cpu] *= 2;
}

void ptw_tl_writer_clock(ptw_tl_writer *w, unsigned cpu, uint64_t icount)
{
	w->seq++;
	if (cpu >= w->ncpus)
		return;
	w->last_seq[cpu] = w->seq;
	/* a vCPU's clock only goes forward (an event without an icount of
	 * its own does not set it back) */
	if (icount <= w->now[cpu])
		return;
	w->now[cpu] = icount;
	if (++w->skipped[cpu] < w->stride[cpu])
		return;
	w->skipped[cpu] = 0;
	tl_checkpoint cp = {icount, w->seq};
	g_array_append_val(w->cps[cpu], cp);
	if (w->cps[cpu]->len >= CP_MAX)
		thin(w, cpu);
}

void ptw_tl_writer_free(ptw_tl_writer *w)
{
	if (!w)
		return;
	for (guint i = 0; i < w->items->len; i++) {
		tl_item *it = &g_array_index(w->items, tl_item, i);
		g_free(it->name);
		g_string_free(it->args, TRUE);
	}
	for (guint i = 0; i < w->flows->len; i++)
		g_free(g_array_index(w->flows, tl_flow, i).name);
	for (unsigned c = 0; c < PTW_MAX_CPUS; c++)
		if (w->progs[c])
			g_string_free(w->progs[c], TRUE);
	g_array_free(w->items, TRUE);
	g_array_free(w->flows, TRUE);
	g_hash_table_destroy(w->open);
	g_hash_table_destroy(w->opened_at);
	for (unsigned c = 0; c < PTW_MAX_CPUS; c++)
		g_array_free(w->cps[c], TRUE);
	g_free(w->source);
	g_free(w);
}

/* ---- JSON ---- */

/* ", \"key\": " before a member (no comma before the first) */
static void arg_key(GString *a, const char *key)
{
	if (a->len)
		g_string_append(a, ", ");
	ptw_json_string(a, key);
	g_string_append(a, ": ");
}

static void arg_str(GString *a, const char *key, const char *v)
{
	arg_key(a, key);
	ptw_json_string(a, v);
}

static void arg_hex(GString *a, const char *key, uint64_t v)
{
	arg_key(a, key);
	g_string_append_printf(a, "\"0x%" PRIx64 "\"", v);
}

static void arg_u64(GString *a, const char *key, uint64_t v)
{
	arg_key(a, key);
	g_string_append_printf(a, "%" PRIu64, v);
}

/* ---- what the engine tells ---- */

/* the instruction ev happened at on its track's vCPU: its own event's
 * icount when that event is the track's vCPU's, else the vCPU's clock now
 * (what a finding's other side names, to find its slice) */
static uint64_t tl_icount(const ptw_tl_writer *w, const ptw_tl_event *ev)
{
	if (ev->at && ev->at->cpu == ev->cpu)
		return ev->at->icount;
	return ev->cpu < w->ncpus ? w->now[ev->cpu] : 0;
}

/* cpu's instruction icount on the shared clock: the trace event during
 * which cpu reached it (its latest checkpoint at or below it: exact while
 * every advance is kept, within the stride after) */
static uint64_t tl_ts(const ptw_tl_writer *w, unsigned cpu, uint64_t icount)
{
	if (cpu >= w->ncpus)
		return w->seq;
	if (icount >= w->now[cpu])
		return w->last_seq[cpu];
	const GArray *a = w->cps[cpu];
	if (!a->len || g_array_index(a, tl_checkpoint, 0).icount > icount)
		return 0;
	guint lo = 0, hi = a->len - 1;
	while (lo < hi) {
		guint mid = lo + (hi - lo + 1) / 2;
		if (g_array_index(a, tl_checkpoint, mid).icount <= icount)
			lo = mid;
		else
			hi = mid - 1;
	}
	return g_array_index(a, tl_checkpoint, lo).seq;
}

/* when ev happened on the shared clock: the event that caused it, or the
 * trace event being applied */
static uint64_t tl_when(const ptw_tl_writer *w, const ptw_tl_event *ev)
{
	return ev->at ? tl_ts(w, ev->at->cpu, ev->at->icount) : w->seq;
}

static guint item_add(ptw_tl_writer *w, char ph, unsigned cpu, uint64_t ts,
		      const char *name, const char *cat)
{
	tl_item it = {
		.ph = ph,
		.cpu = cpu,
		.ts = ts,
		.seq = w->seq,
		.order = w->items->len,
		.name = g_strdup(name),
		.cat = (char *)cat,
		.args = g_string_new(NULL),
	};
	g_array_append_val(w->items, it);
	return w->items->len - 1;
}

static tl_item *item(ptw_tl_writer *w, guint i)
{
	return &g_array_index(w->items, tl_item, i);
}

static gint64 open_key(ptw_tl_kind kind, unsigned cpu, uint64_t id)
{
	return (gint64)((id << 10) | ((uint64_t)cpu << 4) | (unsigned)kind);
}

/* a slice begins: kept open under (its OPEN kind, cpu, id) */
static guint slice_open(ptw_tl_writer *w, const ptw_tl_event *ev,
			const char *name, const char *cat)
{
	guint i = item_add(w, 'X', ev->cpu, tl_when(w, ev), name, cat);
	item(w, i)->icount = tl_icount(w, ev);
	item(w, i)->open = true;
	gint64 k = open_key(ev->kind, ev->cpu, ev->id);
	g_hash_table_replace(w->open, g_memdup2(&k, sizeof(k)),
			     GUINT_TO_POINTER(i + 1));
	g_hash_table_replace(w->opened_at,
			     g_strdup_printf("%s %u %" PRIu64, cat, ev->cpu,
					     tl_icount(w, ev)),
			     GUINT_TO_POINTER(i + 1));
	return i;
}

/* the slice OPEN (ev's kind less one) of ev's cpu and id ends; NULL when
 * none is open (its begin was before the sink was set) */
static tl_item *slice_close(ptw_tl_writer *w, const ptw_tl_event *ev)
{
	gint64 k = open_key(ev->kind - 1, ev->cpu, ev->id);
	gpointer v = g_hash_table_lookup(w->open, &k);
	if (!v)
		return NULL;
	g_hash_table_remove(w->open, &k);
	tl_item *it = item(w, GPOINTER_TO_UINT(v) - 1);
	uint64_t end = tl_when(w, ev);
	it->dur = end > it->ts ? end - it->ts : 0;
	it->open = false;
	return it;
}

static void entry_args(GString *a, const ptw_tl_event *ev)
{
	arg_hex(a, "pte_pa", ev->pte_pa);
	arg_hex(a, "va", ev->va);
	arg_key(a, "level");
	g_string_append_printf(a, "%d", ev->level);
}

static void break_closed(ptw_tl_writer *w, const ptw_tl_event *ev)
{
	tl_item *it = slice_close(w, ev);
	if (!it)
		return;
	char end[64];
	if (ev->made) {
		/* a transient window: what BBM_WINDOW_READ is about */
		g_free(it->name);
		it->name = g_strdup("break window");
		snprintf(end, sizeof(end), "made again by its breaker");
	} else if (!ev->at) {
		snprintf(end, sizeof(end), "forgotten: an unmap");
	} else {
		snprintf(end, sizeof(end), "made again by vcpu %u, later",
			 ev->at->cpu);
	}
	arg_str(it->args, "end", end);
}

static void pending_closed(ptw_tl_writer *w, const ptw_tl_event *ev)
{
	tl_item *it = slice_close(w, ev);
	if (it && ev->at)
		arg_u64(it->args, "retired_by_vcpu", ev->at->cpu);
}

/* the slice of cat that cpu opened at icount, the latest told; or -1 */
static gint slice_at(ptw_tl_writer *w, const char *cat, unsigned cpu,
		     uint64_t icount)
{
	g_autofree char *k =
		g_strdup_printf("%s %u %" PRIu64, cat, cpu, icount);
	return (gint)GPOINTER_TO_UINT(g_hash_table_lookup(w->opened_at, k)) - 1;
}

/* the item to start a finding's flow from: what its other side opened at
 * that very instruction (the break a window read was in, the pending
 * record a stale access used), else an instant there */
static guint flow_source(ptw_tl_writer *w, const ptw_finding *f)
{
	bool stale = f->kind == PTW_KIND_STALE_TLB_ACCESS;
	const char *first = stale ? "stale" : "break";
	const char *second = stale ? "break" : "stale";
	gint s = slice_at(w, first, f->other.cpu, f->other.icount);
	if (s < 0)
		s = slice_at(w, second, f->other.cpu, f->other.icount);
	if (s >= 0)
		return (guint)s;
	guint i = item_add(
		w, 'i', f->other.cpu, tl_ts(w, f->other.cpu, f->other.icount),
		f->other_role ? f->other_role : "other side", "other side");
	item(w, i)->icount = f->other.icount;
	arg_hex(item(w, i)->args, "pc", f->other.pc);
	if (f->other_sym[0])
		arg_str(item(w, i)->args, "pc_sym", f->other_sym);
	return i;
}

static void finding(ptw_tl_writer *w, const ptw_tl_event *ev)
{
	const ptw_finding *f = ev->finding;
	guint i = item_add(w, 'i', ev->cpu, tl_ts(w, f->ctx.cpu, f->ctx.icount),
			   f->title, "finding");
	item(w, i)->icount = f->ctx.icount;
	GString *a = item(w, i)->args;
	if (ev->number)
		arg_u64(a, "number", ev->number);
	else
		arg_str(a, "repeat", "a repeat of its title: not logged");
	arg_str(a, "kind", ptw_kind_name(f->kind));
	arg_str(a, "severity", ptw_severity_name(f->severity));
	if (f->role)
		arg_str(a, "role", f->role);
	arg_hex(a, "pc", f->ctx.pc);
	if (f->sym[0])
		arg_str(a, "pc_sym", f->sym);
	arg_hex(a, "pte_pa", f->pte_pa);
	arg_hex(a, "va", f->va);
	/* a repeat is drawn where it happened, lightly: a flood of them
	 * (hostile guests) would otherwise make a file of gigabytes */
	if (!ev->number)
		return;
	arg_str(a, "detail", f->detail);
	if (!f->has_other)
		return;
	tl_flow fl = {
		.dst = i,
		.name = g_strdup(f->other_role ? f->other_role : "other side")};
	fl.src = flow_source(w, f);
	g_array_append_val(w->flows, fl);
}

static void instant(ptw_tl_writer *w, const ptw_tl_event *ev, const char *name,
		    const char *cat)
{
	guint i = item_add(w, 'i', ev->cpu, tl_when(w, ev), name, cat);
	item(w, i)->icount = tl_icount(w, ev);
}

static void tl_event(void *opaque, const ptw_tl_event *ev)
{
	ptw_tl_writer *w = opaque;
	char name[80];
	if (ev->cpu >= w->ncpus)
		return;
	switch (ev->kind) {
	case PTW_TL_BREAK_OPEN:
		entry_args(item(w, slice_open(w, ev, "break", "break"))->args,
			   ev);
		break;
	case PTW_TL_BREAK_CLOSE:
		break_closed(w, ev);
		break;
	case PTW_TL_PASS_OPEN:
		snprintf(name, sizeof(name), "unit pass (%u entries)", ev->n);
		entry_args(item(w, slice_open(w, ev, name, "unit"))->args, ev);
		break;
	case PTW_TL_PENDING_OPEN:
		entry_args(item(w, slice_open(w, ev, "pending flush", "stale"))
				   ->args,
			   ev);
		break;
	case PTW_TL_PASS_CLOSE:
		slice_close(w, ev);
		break;
	case PTW_TL_PENDING_CLOSE:
		pending_closed(w, ev);
		break;
	case PTW_TL_FINDING:
		finding(w, ev);
		break;
	case PTW_TL_TASK:
		snprintf(name, sizeof(name), "task 0x%" PRIx64, ev->task);
		instant(w, ev, name, "task");
		break;
	case PTW_TL_PROGRAM:
		snprintf(name, sizeof(name), "program %s", ev->text);
		instant(w, ev, name, "task");
		/* the vCPU's thread is named after the programs it ran */
		if (!w->progs[ev->cpu])
			w->progs[ev->cpu] = g_string_new(NULL);
		if (!strstr(w->progs[ev->cpu]->str, ev->text))
			g_string_append_printf(
				w->progs[ev->cpu], "%s%s",
				w->progs[ev->cpu]->len ? ", " : "", ev->text);
		break;
	case PTW_TL_PHASE:
		snprintf(name, sizeof(name), "phase %s", ev->text);
		instant(w, ev, name, "phase");
		break;
	}
}

/* ---- writing ---- */

/* the file's order: by time, a vCPU's before the next's, a slice before
 * what it encloses (the longer first) and before instants, then told */
static gint item_cmp(gconstpointer pa, gconstpointer pb, gpointer data)
{
	const tl_item *a = item(data, *(const guint *)pa);
	const tl_item *b = item(data, *(const guint *)pb);
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->cpu != b->cpu)
		return a->cpu < b->cpu ? -1 : 1;
	if (a->ph != b->ph)
		return a->ph == 'X' ? -1 : 1;
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Lanes, in the file's order: a slice goes to the first lane of its vCPU
 * where it nests in what is still open (Perfetto's rule: a slice that
 * ends where the next begins has ended), instants to lane 0. */
static void assign_lanes(ptw_tl_writer *w, const guint *order, guint n,
			 unsigned *lanes_used)
{
	GArray *lane[PTW_MAX_CPUS][MAX_LANES] = {{0}};
	for (guint k = 0; k < n; k++) {
		tl_item *it = item(w, order[k]);
		it->lane = 0;
		if (it->ph != 'X')
			continue;
		for (unsigned l = 0; l < MAX_LANES; l++) {
			GArray **st = &lane[it->cpu][l];
			if (!*st)
				*st = g_array_new(FALSE, FALSE,
						  sizeof(uint64_t));
			while ((*st)->len &&
			       g_array_index(*st, uint64_t, (*st)->len - 1) <=
				       it->ts)
				g_array_set_size(*st, (*st)->len - 1);
			bool fits =
				!(*st)->len ||
				g_array_index(*st, uint64_t, (*st)->len - 1) >=
					it->ts + it->dur;
			if (!fits && l + 1 < MAX_LANES)
				continue;
			it->lane = l;
			if (it->dur) {
				uint64_t end = it->ts + it->dur;
				g_array_append_val(*st, end);
			}
			break;
		}
		if (it->lane + 1 > lanes_used[it->cpu])
			lanes_used[it->cpu] = it->lane + 1;
	}
	for (unsigned c = 0; c < PTW_MAX_CPUS; c++)
		for (unsigned l = 0; l < MAX_LANES; l++)
			if (lane[c][l])
				g_array_free(lane[c][l], TRUE);
}

static unsigned tid_of(unsigned cpu, unsigned lane)
{
	return 1 + cpu * 100 + lane;
}

static void write_metadata(ptw_tl_writer *w, GString *o,
			   const unsigned *lanes_used)
{
	const char *arch = w->arch == PTW_ARCH_ARM64 ? "arm64" : "x86_64";
	g_string_append_printf(o,
			       "{\"ph\": \"M\", \"name\": \"process_name\", "
			       "\"pid\": 1, \"args\": {\"name\": \"ptwatch "
			       "%s, %u vCPUs (ts: trace events, one clock)\"}}",
			       arch, w->ncpus);
	for (unsigned c = 0; c < w->ncpus; c++)
		for (unsigned l = 0; l < MAX_LANES && l < lanes_used[c]; l++) {
			GString *name = g_string_new(NULL);
			g_string_append_printf(name, "vCPU %u", c);
			if (l)
				g_string_append_printf(name, " lane %u", l);
			else if (w->progs[c])
				g_string_append_printf(name, " (%s)",
						       w->progs[c]->str);
			g_string_append_printf(
				o,
				",\n{\"ph\": \"M\", \"name\": \"thread_name\", "
				"\"pid\": 1, \"tid\": %u, \"args\": "
				"{\"name\": ",
				tid_of(c, l));
			ptw_json_string(o, name->str);
			g_string_append_printf(
				o,
				"}},\n{\"ph\": \"M\", \"name\": "
				"\"thread_sort_index\", \"pid\": 1, \"tid\": "
				"%u, "
				"\"args\": {\"sort_index\": %u}}",
				tid_of(c, l), tid_of(c, l));
			g_string_free(name, TRUE);
		}
}

static void write_item(GString *o, const tl_item *it)
{
	g_string_append(o, ",\n{\"ph\": ");
	g_string_append_printf(o, "\"%c\", \"name\": ", it->ph);
	ptw_json_string(o, it->name);
	g_string_append_printf(o,
			       ", \"cat\": \"%s\", \"pid\": 1, \"tid\": %u, "
			       "\"ts\": %" PRIu64,
			       it->cat, tid_of(it->cpu, it->lane), it->ts);
	if (it->ph == 'X')
		g_string_append_printf(o, ", \"dur\": %" PRIu64, it->dur);
	else
		g_string_append(o, ", \"s\": \"t\"");
	g_string_append_printf(
		o, ", \"args\": {\"seq\": %" PRIu64 ", \"icount\": %" PRIu64,
		it->seq, it->icount);
	if (it->args->len)
		g_string_append_printf(o, ", %s", it->args->str);
	g_string_append(o, "}}");
}

/* a flow's end right after the item it binds to, so that it is the
 * innermost slice open there (Perfetto binds "s" and "f" with "bp": "e"
 * to the enclosing slice; the id, cat and name pair them) */
static void write_flow(GString *o, const tl_flow *fl, guint id, char ph,
		       const tl_item *at)
{
	g_string_append_printf(
		o, ",\n{\"ph\": \"%c\", \"id\": %u, \"name\": ", ph, id);
	ptw_json_string(o, fl->name);
	g_string_append_printf(o,
			       ", \"cat\": \"flow\", \"pid\": 1, \"tid\": %u, "
			       "\"ts\": %" PRIu64 "%s}",
			       tid_of(at->cpu, at->lane), at->ts,
			       ph == 'f' ? ", \"bp\": \"e\"" : "");
}

/* a flow's end at an item: by item, so that writing is one pass */
typedef struct {
	guint item, flow;
	char ph;
} flow_end;

static gint flow_end_cmp(gconstpointer pa, gconstpointer pb)
{
	const flow_end *a = pa, *b = pb;
	if (a->item != b->item)
		return a->item < b->item ? -1 : 1;
	return a->flow < b->flow ? -1 : a->flow > b->flow;
}

/* the index of the first end at item i (ends sorted by item) */
static guint flow_ends_at(const GArray *ends, guint i)
{
	guint lo = 0, hi = ends->len;
	while (lo < hi) {
		guint mid = (lo + hi) / 2;
		if (g_array_index(ends, flow_end, mid).item < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void write_events(ptw_tl_writer *w, GString *o, const guint *order,
			 guint n)
{
	GArray *ends = g_array_new(FALSE, FALSE, sizeof(flow_end));
	for (guint f = 0; f < w->flows->len; f++) {
		const tl_flow *fl = &g_array_index(w->flows, tl_flow, f);
		flow_end s = {fl->src, f, 's'}, d = {fl->dst, f, 'f'};
		g_array_append_val(ends, s);
		g_array_append_val(ends, d);
	}
	g_array_sort(ends, flow_end_cmp);
	for (guint k = 0; k < n; k++) {
		const tl_item *it = item(w, order[k]);
		write_item(o, it);
		for (guint j = flow_ends_at(ends, order[k]);
		     j < ends->len &&
		     g_array_index(ends, flow_end, j).item == order[k];
		     j++) {
			const flow_end *fe = &g_array_index(ends, flow_end, j);
			write_flow(o,
				   &g_array_index(w->flows, tl_flow, fe->flow),
				   fe->flow + 1, fe->ph, it);
		}
	}
	g_array_free(ends, TRUE);
}

bool ptw_tl_writer_write(ptw_tl_writer *w, const char *path, bool complete,
			 char **err)
{
	/* what is still open ends with the run, at its vCPU's last clock */
	for (guint i = 0; i < w->items->len; i++) {
		tl_item *it = item(w, i);
		if (!it->open)
			continue;
		it->dur = w->seq > it->ts ? w->seq - it->ts : 0;
		it->open = false;
		arg_str(it->args, "end", "still open when the trace ended");
	}
	guint n = w->items->len;
	guint *order = g_new(guint, n ? n : 1);
	for (guint i = 0; i < n; i++)
		order[i] = i;
	g_qsort_with_data(order, n, sizeof(guint), item_cmp, w);
	unsigned lanes_used[PTW_MAX_CPUS];
	for (unsigned c = 0; c < PTW_MAX_CPUS; c++)
		lanes_used[c] = 1;
	assign_lanes(w, order, n, lanes_used);

	GString *o =
		g_string_new("{\"displayTimeUnit\": \"ns\",\n"
			     "\"otherData\": {\"ts_unit\": \"trace "
			     "events: the order in which the engine saw "
			     "them, one clock for every vCPU (args.icount: "
			     "the vCPU's own instruction count)\", "
			     "\"source\": ");
	ptw_json_string(o, w->source ? w->source : "");
	g_string_append_printf(o,
			       ", \"complete\": %s, \"trace_events\": %" PRIu64
			       "},\n\"traceEvents\": [\n",
			       complete ? "true" : "false", w->seq);
	write_metadata(w, o, lanes_used);
	write_events(w, o, order, n);
	g_string_append(o, "\n]}\n");
	g_free(order);

	bool ok = g_file_set_contents(path, o->str, (gssize)o->len, NULL);
	if (!ok)
		*err = g_strdup_printf("cannot write %s", path);
	g_string_free(o, TRUE);
	return ok;
}
