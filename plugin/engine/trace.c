/* SPDX-License-Identifier: MIT */
/*
 * Trace writer and reader (docs/trace-format.md).
 *
 * The writer appends records to one buffer; the engine calls it under its
 * lock, so the buffer's order is the order the engine saw events in and no
 * other lock is taken. A full buffer (1 MiB) is handed to a compressor
 * thread and a fresh one started: the vCPU that filled it never waits for
 * the compressor. The compressor writes each block as it comes; a write
 * error (a full disk) is said at once on stderr and again at close, and
 * later blocks are dropped.
 *
 * Blocks are zlib streams (RFC 1950), made and inflated with libdeflate:
 * zlib's own inflate and checksum were a fifth of a replay.
 */
#include <errno.h>
#include <string.h>
#include <libdeflate.h>

#include <glib.h>

#include "ptw_trace.h"

#define BLOCK_RAW (1u << 20)
#define BLOCK_HDR 16
#define BLOCK_MAX (64u << 20) /* larger raw or compressed length: corrupt */
/* a record starts with its event kind (1 .. PTW_EV_COUNT - 1), REC_READ
 * or REC_GPR */
#define REC_READ 0x80
#define REC_GPR	 0x81
#define READ_MAX (1u << 16) /* the engine reads at most a table page */

/* ------------------------------------------------------------------ */
/* encoding helpers (little-endian hosts: x86-64, arm64) */

static void put(GByteArray *b, const void *p, size_t n)
{
	g_byte_array_append(b, p, (guint)n);
}
static void put8(GByteArray *b, uint8_t v)
{
	put(b, &v, 1);
}
static void put32(GByteArray *b, uint32_t v)
{
	put(b, &v, 4);
}
static void put64(GByteArray *b, uint64_t v)
{
	put(b, &v, 8);
}

/* LEB128 unsigned varint; zigzag for signed deltas */
static void putv(GByteArray *b, uint64_t v)
{
	uint8_t buf[10];
	unsigned n = 0;
	do {
		buf[n] = v & 0x7f;
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	put(b, buf, n);
}

static void putz(GByteArray *b, uint64_t delta)
{
	int64_t d = (int64_t)delta;
	putv(b, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

static uint64_t unzig(uint64_t v)
{
	return (v >> 1) ^ (uint64_t) - (int64_t)(v & 1);
}

/* what the encoder and decoder remember per vCPU, so most fields are
 * small deltas: the last PC, icount, access VA and PA - VA */
typedef struct {
	uint64_t pc[PTW_MAX_CPUS], icount[PTW_MAX_CPUS];
	uint64_t va[PTW_MAX_CPUS], off[PTW_MAX_CPUS];
} delta_state;

/* ------------------------------------------------------------------ */
/* writer */

struct ptw_trace_writer {
	FILE *f;
	char *path;
	GByteArray *cur;
	GAsyncQueue *q; /* GByteArray* to compress; a 0-length one ends */
	GThread *thread;
	uint64_t events;
	delta_state ds;
	/* written by the compressor thread, read after joining it */
	int werr;
	uint64_t written;
};

static const uint8_t stop_marker;

static gpointer compressor(gpointer opaque)
{
	ptw_trace_writer *w = opaque;
	/* level 1, as zlib's Z_BEST_SPEED was: libdeflate's is faster and
	 * smaller, and the stream is a zlib stream all the same */
	struct libdeflate_compressor *z = libdeflate_alloc_compressor(1);
	if (!z)
		w->werr = ENOMEM;
	for (;;) {
		GByteArray *b = g_async_queue_pop(w->q);
		if (b == (GByteArray *)&stop_marker)
			break;
		if (!w->werr) {
			size_t bound =
				libdeflate_zlib_compress_bound(z, b->len);
			uint8_t *out = g_malloc(bound + BLOCK_HDR);
			size_t clen = libdeflate_zlib_compress(
				z, b->data, b->len, out + BLOCK_HDR, bound);
			if (!clen) {
				w->werr = ENOMEM;
			} else {
				/* integrity: the zlib stream's own
				 * Adler-32; the last word is reserved */
				uint32_t h[4] = {0x42575450u /* "PTWB" */,
						 b->len, (uint32_t)clen, 0};
				memcpy(out, h, BLOCK_HDR);
				if (fwrite(out, 1, clen + BLOCK_HDR, w->f) !=
					    clen + BLOCK_HDR ||
				    fflush(w->f) != 0) {
					w->werr = errno ? errno : EIO;
					/* said at once: the run may never
					 * end cleanly */
					fprintf(stderr,
						"ptwatch: error: writing trace "
						"'%s' failed: %s; the trace is "
						"truncated at byte %" PRIu64
						"\n",
						w->path, g_strerror(w->werr),
						w->written);
				} else
					w->written += clen + BLOCK_HDR;
			}
			g_free(out);
		}
		g_byte_array_unref(b);
	}
	if (z)
		libdeflate_free_compressor(z);
	return NULL;
}

ptw_trace_writer *ptw_trace_writer_open(const char *path,
					const ptw_trace_meta *m, char **err)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		*err = g_strdup_printf("cannot write trace '%s': %s", path,
				       g_strerror(errno));
		return NULL;
	}
	GByteArray *h = g_byte_array_new();
	put(h, PTW_TRACE_MAGIC, 8);
	put32(h, PTW_TRACE_VERSION);
	put32(h, (uint32_t)m->arch);
	put32(h, m->ncpus);
	put32(h, m->max_pending);
	put64(h, m->widen_ns);
	uint32_t alen = m->args ? (uint32_t)strlen(m->args) : 0;
	put32(h, alen);
	put(h, m->args ? m->args : "", alen);
	uint64_t h_len = h->len;
	bool ok = fwrite(h->data, 1, h->len, f) == h->len && fflush(f) == 0;
	g_byte_array_unref(h);
	if (!ok) {
		*err = g_strdup_printf("cannot write trace '%s': %s", path,
				       g_strerror(errno));
		fclose(f);
		return NULL;
	}
	ptw_trace_writer *w = g_new0(ptw_trace_writer, 1);
	w->f = f;
	w->path = g_strdup(path);
	w->written = h_len; /* the header */
	w->cur = g_byte_array_sized_new(BLOCK_RAW + 4096);
	w->q = g_async_queue_new();
	w->thread = g_thread_new("ptwatch-trace", compressor, w);
	return w;
}

static void hand_off(ptw_trace_writer *w)
{
	if (!w->cur->len)
		return;
	g_async_queue_push(w->q, w->cur);
	w->cur = g_byte_array_sized_new(BLOCK_RAW + 4096);
}

void ptw_trace_write_event(ptw_trace_writer *w, const ptw_event *ev)
{
	if (w->cur->len >= BLOCK_RAW)
		hand_off(w);
	GByteArray *b = w->cur;
	delta_state *d = &w->ds;
	unsigned cpu = ev->ctx.cpu % PTW_MAX_CPUS;
	w->events++;
	put8(b, (uint8_t)ev->kind);
	put8(b, (uint8_t)ev->ctx.cpu);
	putz(b, ev->ctx.pc - d->pc[cpu]);
	putz(b, ev->ctx.icount - d->icount[cpu]);
	d->pc[cpu] = ev->ctx.pc;
	d->icount[cpu] = ev->ctx.icount;
	switch (ev->kind) {
	case PTW_EV_SYSREG:
		put8(b, (uint8_t)ev->sysreg.reg);
		putv(b, ev->sysreg.value);
		break;
	case PTW_EV_ACCESS: {
		uint64_t off = ev->access.pa - ev->access.va;
		putz(b, ev->access.va - d->va[cpu]);
		putz(b, off - d->off[cpu]);
		putv(b, ev->access.value);
		put8(b, ev->access.size);
		put8(b, ev->access.flags);
		d->va[cpu] = ev->access.va;
		d->off[cpu] = off;
		break;
	}
	case PTW_EV_DATA:
		putz(b, ev->data.va - d->va[cpu]);
		d->va[cpu] = ev->data.va;
		put8(b, ev->data.size);
		put8(b, ev->data.store);
		put(b, ev->data.bytes, ev->data.size);
		break;
	case PTW_EV_INVAL: {
		const ptw_inval_scope *sc = &ev->inval.scope;
		put8(b, (uint8_t)(sc->all | sc->nonglobal << 1 |
				  sc->by_asid << 2 | sc->by_va << 3 |
				  sc->scoped << 4 | ev->inval.broadcast << 5 |
				  ev->inval.modelled << 6));
		putv(b, sc->asid);
		putv(b, sc->va_lo);
		putv(b, sc->va_hi - sc->va_lo);
		put8(b, ev->inval.origin);
		put8(b, ev->inval.op1);
		put8(b, ev->inval.crm);
		put8(b, ev->inval.op2);
		break;
	}
	case PTW_EV_BARRIER:
		put8(b, ev->barrier.crm);
		break;
	case PTW_EV_CLIENT:
		putv(b, ev->client.req);
		for (int i = 0; i < 4; i++)
			putv(b, ev->client.a[i]);
		break;
	case PTW_EV_TASK:
		putv(b, ev->task.task);
		break;
	case PTW_EV_FAULT:
		putv(b, ev->fault.va);
		put8(b, (uint8_t)ev->fault.level);
		put8(b,
		     (uint8_t)(ev->fault.type | ev->fault.store << 4 |
			       ev->fault.fetch << 5 | ev->fault.has_desc << 6));
		if (ev->fault.has_desc) {
			putv(b, ev->fault.pte_pa);
			putv(b, ev->fault.desc);
		}
		break;
	case PTW_EV_HW_UPDATE:
		putv(b, ev->hw_update.pte_pa);
		putv(b, ev->hw_update.old);
		putv(b, ev->hw_update.new);
		putv(b, ev->hw_update.va);
		break;
	case PTW_EV_ZAP:
		putv(b, ev->zap.start);
		putv(b, ev->zap.size);
		putv(b, ev->zap.details);
		break;
	default:
		break;
	}
}

void ptw_trace_write_read(ptw_trace_writer *w, uint64_t pa, size_t len,
			  const void *buf)
{
	/* one event may read many tables (a new root): blocks stay near
	 * their size between records of any kind */
	if (w->cur->len >= BLOCK_RAW)
		hand_off(w);
	GByteArray *b = w->cur;
	put8(b, REC_READ);
	putv(b, pa);
	putv(b, len);
	put8(b, buf != NULL);
	if (buf)
		put(b, buf, len);
}

void ptw_trace_write_gpr(ptw_trace_writer *w, unsigned cpu, unsigned n, bool ok,
			 uint64_t value)
{
	if (w->cur->len >= BLOCK_RAW)
		hand_off(w);
	GByteArray *b = w->cur;
	put8(b, REC_GPR);
	put8(b, (uint8_t)cpu);
	put8(b, (uint8_t)n);
	put8(b, ok);
	if (ok)
		putv(b, value);
}

uint64_t ptw_trace_writer_events(ptw_trace_writer *w)
{
	return w->events;
}

bool ptw_trace_writer_close(ptw_trace_writer *w, char **err)
{
	hand_off(w);
	g_async_queue_push(w->q, (gpointer)&stop_marker);
	g_thread_join(w->thread);
	g_async_queue_unref(w->q);
	g_byte_array_unref(w->cur);
	int e = w->werr;
	if (fclose(w->f) != 0 && !e)
		e = errno ? errno : EIO;
	bool ok = !e;
	if (!ok)
		*err = g_strdup_printf("writing '%s' failed: %s; the trace "
				       "is truncated",
				       w->path, g_strerror(e));
	g_free(w->path);
	g_free(w);
	return ok;
}

/* ------------------------------------------------------------------ */
/* reader */

struct ptw_trace_reader {
	FILE *f;
	ptw_trace_meta meta;
	uint8_t *zbuf, *raw;
	size_t zcap, rawcap;
	size_t raw_len, pos;
	uint64_t block_off; /* file offset of the current block */
	uint64_t next_off;  /* file offset of the next block */
	uint64_t events, raw_total;
	char *mismatch;
	delta_state ds;
	struct libdeflate_decompressor *inflater;
};

/* The record decoders run for every event of a replay: always inlined, so
 * that a constant length becomes a move and a one-byte varint a compare. */
#define TRACE_INLINE static inline __attribute__((always_inline))

TRACE_INLINE bool get(ptw_trace_reader *r, void *p, size_t n)
{
	if (r->pos + n > r->raw_len)
		return false;
	memcpy(p, r->raw + r->pos, n);
	r->pos += n;
	return true;
}

TRACE_INLINE bool getv(ptw_trace_reader *r, uint64_t *v)
{
	uint64_t x = 0;
	if (r->raw_len - r->pos >= 10) {
		/* room for the longest varint: no bound checked per byte */
		const uint8_t *q = r->raw + r->pos;
		for (unsigned i = 0; i < 10; i++) {
			x |= (uint64_t)(q[i] & 0x7f) << (7 * i);
			if (!(q[i] & 0x80)) {
				r->pos += i + 1;
				*v = x;
				return true;
			}
		}
		return false; /* longer than 10 bytes: corrupt */
	}
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->pos >= r->raw_len)
			return false;
		uint8_t c = r->raw[r->pos++];
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false; /* longer than 10 bytes: corrupt */
}

TRACE_INLINE bool getz(ptw_trace_reader *r, uint64_t *v)
{
	uint64_t z;
	if (!getv(r, &z))
		return false;
	*v = unzig(z);
	return true;
}

ptw_trace_reader *ptw_trace_reader_open(const char *path, char **err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		*err = g_strdup_printf("cannot read trace '%s': %s", path,
				       g_strerror(errno));
		return NULL;
	}
	uint8_t h[36];
	uint32_t v32[4], alen;
	uint64_t widen;
	if (fread(h, 1, sizeof(h), f) != sizeof(h) ||
	    memcmp(h, PTW_TRACE_MAGIC, 8) != 0) {
		*err = g_strdup_printf("'%s' is not a ptwatch trace (byte "
				       "offset 0: no %s header)",
				       path, PTW_TRACE_MAGIC);
		fclose(f);
		return NULL;
	}
	memcpy(v32, h + 8, 16);
	memcpy(&widen, h + 24, 8);
	memcpy(&alen, h + 32, 4);
	if (v32[0] != PTW_TRACE_VERSION) {
		*err = g_strdup_printf("'%s': trace format version %u, this "
				       "ptwatch reads version %u",
				       path, v32[0], PTW_TRACE_VERSION);
		fclose(f);
		return NULL;
	}
	if ((v32[1] != PTW_ARCH_ARM64 && v32[1] != PTW_ARCH_X86_64) ||
	    v32[2] == 0 || v32[2] > PTW_MAX_CPUS || alen > (1u << 20)) {
		*err = g_strdup_printf("'%s': corrupt header (byte offset 12)",
				       path);
		fclose(f);
		return NULL;
	}
	char *args = g_malloc0(alen + 1);
	if (fread(args, 1, alen, f) != alen) {
		*err = g_strdup_printf("'%s': truncated header (byte offset "
				       "36)",
				       path);
		g_free(args);
		fclose(f);
		return NULL;
	}
	ptw_trace_reader *r = g_new0(ptw_trace_reader, 1);
	r->f = f;
	r->meta.version = v32[0];
	r->meta.arch = (ptw_arch)v32[1];
	r->meta.ncpus = v32[2];
	r->meta.max_pending = v32[3];
	r->meta.widen_ns = widen;
	r->meta.args = args;
	r->next_off = 36 + alen;
	return r;
}

ptw_trace_reader *ptw_trace_reader_open_raw(const void *raw, size_t len,
					    const ptw_trace_meta *m)
{
	ptw_trace_reader *r = g_new0(ptw_trace_reader, 1);
	r->meta = *m;
	r->meta.args = g_strdup(m->args ? m->args : "");
	r->raw = g_memdup2(raw, len);
	r->raw_len = len;
	r->raw_total = len;
	return r;
}

const ptw_trace_meta *ptw_trace_reader_meta(ptw_trace_reader *r)
{
	return &r->meta;
}

/* 1: a block loaded; 0: clean end of file; -1: corrupt */
static int next_block(ptw_trace_reader *r, char **err)
{
	uint32_t h[4];
	if (!r->f) /* a raw reader: one buffer, no blocks */
		return 0;
	r->block_off = r->next_off;
	size_t n = fread(h, 1, BLOCK_HDR, r->f);
	if (n == 0 && feof(r->f))
		return 0;
	if (n != BLOCK_HDR) {
		*err = g_strdup_printf("truncated block header at byte offset "
				       "%" PRIu64,
				       r->block_off);
		return -1;
	}
	if (h[0] != 0x42575450u || h[1] == 0 || h[1] > BLOCK_MAX || h[2] == 0 ||
	    h[2] > BLOCK_MAX) {
		*err = g_strdup_printf("corrupt block header at byte offset "
				       "%" PRIu64,
				       r->block_off);
		return -1;
	}
	/* the buffers only grow: no allocation per block */
	if (h[2] > r->zcap) {
		g_free(r->zbuf);
		r->zbuf = g_malloc(r->zcap = h[2]);
	}
	if (h[1] > r->rawcap) {
		g_free(r->raw);
		r->raw = g_malloc(r->rawcap = h[1]);
	}
	r->raw_len = r->pos = 0;
	if (fread(r->zbuf, 1, h[2], r->f) != h[2]) {
		*err = g_strdup_printf("truncated block at byte offset "
				       "%" PRIu64 " (%u compressed bytes "
				       "expected)",
				       r->block_off, h[2]);
		return -1;
	}
	if (!r->inflater && !(r->inflater = libdeflate_alloc_decompressor())) {
		*err = g_strdup("out of memory for the trace's decompressor");
		return -1;
	}
	/* the exact length: a block that inflates to more or less fails */
	if (libdeflate_zlib_decompress(r->inflater, r->zbuf, h[2], r->raw, h[1],
				       NULL) != LIBDEFLATE_SUCCESS) {
		*err = g_strdup_printf("corrupt block at byte offset %" PRIu64
				       " (does not inflate, or fails its "
				       "checksum)",
				       r->block_off);
		return -1;
	}
	r->raw_len = h[1];
	r->raw_total += h[1];
	r->next_off = r->block_off + BLOCK_HDR + h[2];
	return 1;
}

/* make sure a record starts here: load the next block at a block's end */
static int need_record(ptw_trace_reader *r, char **err)
{
	while (r->pos >= r->raw_len) {
		int k = next_block(r, err);
		if (k <= 0)
			return k;
	}
	return 1;
}

static int bad_record(ptw_trace_reader *r, char **err, const char *what)
{
	*err = g_strdup_printf("corrupt record (%s) in the block at byte "
			       "offset %" PRIu64 ", %zu bytes into it",
			       what, r->block_off, r->pos);
	return -1;
}

int ptw_trace_next_event(ptw_trace_reader *r, ptw_event *ev, char **err)
{
	int k = need_record(r, err);
	if (k <= 0)
		return k;
	/* cleared up to the data bytes (a small constant length the compiler
	 * stores inline; the whole event was a `rep stos`, 3 % of a replay):
	 * a data record clears its bytes itself */
	memset(ev, 0, offsetof(ptw_event, data.bytes));
	uint8_t kind = 0, cpu = 0;
	uint64_t dpc, dic;
	if (!get(r, &kind, 1))
		return bad_record(r, err, "short event");
	if (kind == REC_READ || kind == REC_GPR)
		return bad_record(r, err, "a read no event made");
	if (kind == 0 || kind >= PTW_EV_COUNT)
		return bad_record(r, err, "unknown record type");
	if (!get(r, &cpu, 1) || !getz(r, &dpc) || !getz(r, &dic))
		return bad_record(r, err, "short event");
	if (cpu >= PTW_MAX_CPUS)
		return bad_record(r, err, "vCPU out of range");
	delta_state *d = &r->ds;
	ev->kind = (ptw_ev_kind)kind;
	ev->ctx.cpu = cpu;
	ev->ctx.pc = d->pc[cpu] += dpc;
	ev->ctx.icount = d->icount[cpu] += dic;
	bool ok = true;
	switch (ev->kind) {
	case PTW_EV_SYSREG: {
		uint8_t reg = 0;
		ok = get(r, &reg, 1) && getv(r, &ev->sysreg.value);
		ev->sysreg.reg = (ptw_reg)reg;
		break;
	}
	case PTW_EV_ACCESS: {
		uint64_t dva, doff;
		ok = getz(r, &dva) && getz(r, &doff) &&
		     getv(r, &ev->access.value) &&
		     get(r, &ev->access.size, 1) &&
		     get(r, &ev->access.flags, 1);
		if (ok) {
			ev->access.va = d->va[cpu] += dva;
			d->off[cpu] += doff;
			ev->access.pa = ev->access.va + d->off[cpu];
		}
		break;
	}
	case PTW_EV_DATA: {
		uint8_t st = 0;
		uint64_t dva;
		memset(ev->data.bytes, 0, sizeof(ev->data.bytes));
		ok = getz(r, &dva) && get(r, &ev->data.size, 1) &&
		     get(r, &st, 1) && ev->data.size >= 1 &&
		     ev->data.size <= 64 &&
		     get(r, ev->data.bytes, ev->data.size);
		if (ok)
			ev->data.va = d->va[cpu] += dva;
		ev->data.store = st != 0;
		break;
	}
	case PTW_EV_INVAL: {
		uint8_t fl = 0;
		uint64_t asid = 0, span = 0;
		ptw_inval_scope *sc = &ev->inval.scope;
		ok = get(r, &fl, 1) && getv(r, &asid) && getv(r, &sc->va_lo) &&
		     getv(r, &span) && get(r, &ev->inval.origin, 1) &&
		     get(r, &ev->inval.op1, 1) && get(r, &ev->inval.crm, 1) &&
		     get(r, &ev->inval.op2, 1);
		sc->asid = (uint16_t)asid;
		sc->va_hi = sc->va_lo + span;
		sc->all = fl & 1;
		sc->nonglobal = fl >> 1 & 1;
		sc->by_asid = fl >> 2 & 1;
		sc->by_va = fl >> 3 & 1;
		sc->scoped = fl >> 4 & 1;
		ev->inval.broadcast = fl >> 5 & 1;
		ev->inval.modelled = fl >> 6 & 1;
		break;
	}
	case PTW_EV_BARRIER:
		ok = get(r, &ev->barrier.crm, 1);
		break;
	case PTW_EV_CLIENT:
		ok = getv(r, &ev->client.req);
		for (int i = 0; i < 4 && ok; i++)
			ok = getv(r, &ev->client.a[i]);
		break;
	case PTW_EV_TASK:
		ok = getv(r, &ev->task.task);
		break;
	case PTW_EV_FAULT: {
		uint8_t lv = 0, fl = 0;
		ok = getv(r, &ev->fault.va) && get(r, &lv, 1) && get(r, &fl, 1);
		ev->fault.level = (int8_t)lv;
		ev->fault.type = fl & 0xf;
		ev->fault.store = fl >> 4 & 1;
		ev->fault.fetch = fl >> 5 & 1;
		ev->fault.has_desc = fl >> 6 & 1;
		ev->fault.pte_pa = ev->fault.desc = 0;
		if (ok && ev->fault.has_desc)
			ok = getv(r, &ev->fault.pte_pa) &&
			     getv(r, &ev->fault.desc);
		break;
	}
	case PTW_EV_HW_UPDATE:
		ok = getv(r, &ev->hw_update.pte_pa) &&
		     getv(r, &ev->hw_update.old) &&
		     getv(r, &ev->hw_update.new) && getv(r, &ev->hw_update.va);
		break;
	case PTW_EV_ZAP:
		ok = getv(r, &ev->zap.start) && getv(r, &ev->zap.size) &&
		     getv(r, &ev->zap.details);
		break;
	default:
		break;
	}
	if (!ok)
		return bad_record(r, err, "short event");
	r->events++;
	return 1;
}

/* The writer may hand a block off between an event and the reads it
 * caused (memory, registers): a run killed there leaves a trace that ends
 * inside the event, which is a cut, not a divergence. */
static bool ends_inside_event(ptw_trace_reader *r)
{
	if (!r->mismatch)
		r->mismatch = g_strdup_printf(
			"the trace ends before the run did, inside an event "
			"whose reads are missing (the file ends at byte "
			"offset %" PRIu64 "): the live run was killed, or the "
			"file was cut short",
			r->block_off);
	return false;
}

bool ptw_trace_read_phys(void *opaque, uint64_t pa, void *buf, size_t len)
{
	ptw_trace_reader *r = opaque;
	char *err = NULL;
	int k = need_record(r, &err);
	uint8_t type = 0, ok = 0;
	uint64_t rpa = 0, rlen = 0;
	if (k == 0)
		return ends_inside_event(r);
	if (k < 0 || !get(r, &type, 1) || type != REC_READ || !getv(r, &rpa) ||
	    !getv(r, &rlen) || !get(r, &ok, 1) || rpa != pa || rlen != len ||
	    rlen > READ_MAX || (ok && !get(r, buf, len))) {
		if (!r->mismatch)
			r->mismatch = err ? err
					  : g_strdup_printf(
						    "replay diverged in the "
						    "block at byte offset "
						    "%" PRIu64 ": the engine "
						    "read %zu bytes at PA "
						    "0x%" PRIx64 ", the trace "
						    "has %s",
						    r->block_off, len, pa,
						    type == REC_READ
							    ? "another read"
							    : "no read there");
		else
			g_free(err);
		return false;
	}
	return ok != 0;
}

bool ptw_trace_read_gpr(void *opaque, unsigned cpu, unsigned n, uint64_t *value)
{
	ptw_trace_reader *r = opaque;
	char *err = NULL;
	int k = need_record(r, &err);
	uint8_t type = 0, rcpu = 0, rn = 0, ok = 0;
	*value = 0;
	if (k == 0)
		return ends_inside_event(r);
	if (k < 0 || !get(r, &type, 1) || type != REC_GPR ||
	    !get(r, &rcpu, 1) || !get(r, &rn, 1) || !get(r, &ok, 1) ||
	    rcpu != cpu || rn != n || (ok && !getv(r, value))) {
		if (!r->mismatch)
			r->mismatch =
				err ? err
				    : g_strdup_printf(
					      "replay diverged in the block at "
					      "byte offset %" PRIu64
					      ": the engine read vCPU %u's "
					      "register %u, the trace has %s",
					      r->block_off, cpu, n,
					      type == REC_GPR ? "another"
							      : "no register "
								"read there");
		else
			g_free(err);
		return false;
	}
	return ok != 0;
}

const char *ptw_trace_reader_error(ptw_trace_reader *r)
{
	return r->mismatch;
}

uint64_t ptw_trace_reader_events(ptw_trace_reader *r)
{
	return r->events;
}

uint64_t ptw_trace_reader_raw_bytes(ptw_trace_reader *r)
{
	return r->raw_total;
}

void ptw_trace_reader_close(ptw_trace_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	if (r->inflater)
		libdeflate_free_decompressor(r->inflater);
	g_free(r->zbuf);
	g_free(r->raw);
	g_free(r->meta.args);
	g_free(r->mismatch);
	g_free(r);
}

void ptw_trace_meta_free(ptw_trace_meta *m)
{
	g_free(m->args);
	m->args = NULL;
}
