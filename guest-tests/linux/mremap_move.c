// SPDX-License-Identifier: MIT
/*
 * mremap_move: a MAP_SHARED memfd range moved back and forth between two
 * fixed addresses with mremap(MREMAP_MAYMOVE | MREMAP_FIXED) while another
 * thread keeps reading it. A move is not a reuse: move_ptes() clears each
 * old entry, maps the same page at the new address and flushes the old
 * range afterwards, so until that flush a reader on another CPU may still
 * load through its old translation, and it reaches the same page with the
 * same data (a deferred-flush window, no finding). The program checks that
 * every value it reads is the page's own (a page moved to the wrong place,
 * or a stale translation into a freed and reused page, would show).
 *
 * Three parties:
 *  - a mover moves the range (PTW_MREMAP_PAGES pages, 16) from one slot to
 *    the other, publishes the new address (an atomic pointer), reserves
 *    the vacated slot again with a PROT_NONE mapping (nothing else may
 *    land there) and stores word 0 of every page again through the new
 *    address (the same value: a store through the move's new mapping);
 *  - a reader loads sampled words of every page at the address last
 *    published. A load that races with a move faults (SIGSEGV: the old
 *    slot is unmapped or PROT_NONE) or, while the file is truncated,
 *    SIGBUS: a sigsetjmp/siglongjmp handler counts it and the reader
 *    starts over at the address published then. Every value it does read
 *    must be the page's pattern;
 *  - mremap_move_truncate only: a truncator that truncates the memfd to 0
 *    (the pages are unmapped from the moving range and freed while they
 *    move) and back, and refills the pattern through a mapping of its own
 *    that never moves, again and again. Inside that window (a sequence
 *    count, odd while it runs) a load may also read 0, a page not refilled
 *    yet.
 * At the end every word of every page is checked at the final address.
 *
 * mremap_move_swapped moves a page table whole instead: one table's span
 * of private anonymous memory (2 MiB with 4 KiB pages), paged out to swap,
 * moved between two table-aligned addresses, so that move_normal_pmd()
 * takes the PTE table, swap entries and all, from one PMD entry to
 * another. A table unlinked with swap entries and linked again intact is
 * no leak: ptwatch must not report SWAP_ENTRY_LEAKED (its summary counts
 * the table under swap_tables_moved). Every word is checked after the
 * move (swapped in at the new address).
 *
 * The range is not tracked with ptw_track(): it moves, and the program
 * checks what it reads itself. On a correct kernel ptwatch must report no
 * STALE_TLB_ACCESS here (issue 27: before it, every stale load of a moved
 * page was reported as a reuse).
 *
 * Tunables (besides ptw-test.h's): PTW_MREMAP_PAGES pages in the range
 * (16).
 */
#include "ptw-test.h"

#include <setjmp.h>
#include <sys/syscall.h>

#define SLOT_GAP (2u << 20) /* the two slots: 2 MiB apart, other PTE tables */

struct mm {
	bool truncate;
	int fd;
	size_t npages, len;
	char *slot[2];
	char *pub;    /* the address last published by the mover */
	char *view;   /* the truncator's own mapping (never moves) */
	unsigned seq; /* odd while the truncator truncates and refills */
	uint64_t seed;
	struct ptw_gate gate;
	pthread_mutex_t lock;
	long errors;
	char msg[320];
	/* mover */
	long moves, mover_faults;
	/* reader */
	long passes, loads, segv, sigbus, zero_reads;
	/* truncator */
	long truncations;
};

static size_t wpp(void)
{
	return ptw_pagesize / 8;
}

static PTW_PRINTF(2, 3) void mm_error(struct mm *m, const char *fmt, ...)
{
	pthread_mutex_lock(&m->lock);
	if (!m->errors++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&m->lock);
}

static bool stopped(struct mm *m)
{
	return ptw_gate_stopped(&m->gate) ||
	       __atomic_load_n(&m->errors, __ATOMIC_RELAXED);
}

/* ---- faults: a thread arms its own jump buffer around its loads ---- */

/* volatile: nothing but the signal handler reads it, so to the compiler
 * the store that arms it is dead (the one that disarms it follows) */
static __thread sigjmp_buf *volatile tl_jmp;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	sigjmp_buf *j = tl_jmp;
	if (j) {
		tl_jmp = NULL;
		siglongjmp(*j, sig);
	}
	signal(sig, SIG_DFL); /* a real crash: the default action on return */
}

/* ---- the reader ---- */

/* The words of a page the reader samples: 0, 1, 64, 128, ..., 448, 511. */
static size_t next_word(size_t i)
{
	return i == 0 ? 1 : i == 1 ? 64 : i + 64 >= wpp() ? wpp() - 1 : i + 64;
}

/* One pass over every page at base; seq0 is the truncator's count before
 * it. A fault leaves through on_fault's siglongjmp. */
static void read_pass(struct mm *m, const char *base, unsigned seq0)
{
	for (size_t pg = 0; pg < m->npages; pg++) {
		const volatile uint64_t *w =
			(const volatile uint64_t *)(base + pg * ptw_pagesize);
		for (size_t i = 0;; i = next_word(i)) {
			uint64_t v = w[i],
				 want = ptw_pat(m->seed, pg * wpp() + i);
			/* counted in memory at once: a fault may leave */
			__atomic_add_fetch(&m->loads, 1, __ATOMIC_RELAXED);
			if (v != want) {
				__atomic_thread_fence(__ATOMIC_ACQUIRE);
				unsigned seq1 = __atomic_load_n(
					&m->seq, __ATOMIC_RELAXED);
				/* 0: a page the truncator has not refilled
				 * yet, only while it runs */
				if (v == 0 && ((seq0 & 1) || seq1 != seq0))
					__atomic_add_fetch(&m->zero_reads, 1,
							   __ATOMIC_RELAXED);
				else
					mm_error(m,
						 "reader: page %zu word %zu "
						 "at %p reads 0x%016" PRIx64
						 ", want 0x%016" PRIx64,
						 pg, i, (const void *)&w[i], v,
						 want);
			}
			if (i == wpp() - 1)
				break;
		}
	}
}

static void *reader(void *arg)
{
	struct mm *m = arg;
	sigjmp_buf jb;
	ptw_gate_wait(&m->gate);
	while (!stopped(m)) {
		const char *base = __atomic_load_n(&m->pub, __ATOMIC_SEQ_CST);
		unsigned seq0 = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
		int sig = sigsetjmp(jb, 1);
		if (sig) {
			/* raced with a move (SIGSEGV) or a truncation
			 * (SIGBUS): start over where the range is now */
			if (sig == SIGBUS)
				m->sigbus++;
			else
				m->segv++;
			continue;
		}
		tl_jmp = &jb;
		read_pass(m, base, seq0);
		tl_jmp = NULL;
		m->passes++;
	}
	return NULL;
}

/* ---- the truncator ---- */

static void *truncator(void *arg)
{
	struct mm *m = arg;
	ptw_gate_wait(&m->gate);
	while (!stopped(m)) {
		__atomic_add_fetch(&m->seq, 1, __ATOMIC_SEQ_CST); /* odd */
		if (ftruncate(m->fd, 0) < 0 ||
		    ftruncate(m->fd, (off_t)m->len) < 0) {
			mm_error(m, "ftruncate: %s", strerror(errno));
			break;
		}
		/* plain 64-bit stores through the view that never moves */
		ptw_fill(m->view, m->len / 8, m->seed, 0);
		__atomic_add_fetch(&m->seq, 1, __ATOMIC_SEQ_CST); /* even */
		m->truncations++;
		ptw_msleep(1); /* a quiet window: 0 is wrong there */
	}
	return NULL;
}

/* ---- the mover ---- */

/* Word 0 of every page again, through the move's new mapping (the same
 * value); SIGBUS while the file is truncated. */
static void store_again(struct mm *m, char *base)
{
	sigjmp_buf jb;
	if (sigsetjmp(jb, 1)) {
		m->mover_faults++;
		return;
	}
	tl_jmp = &jb;
	for (size_t pg = 0; pg < m->npages; pg++)
		*(volatile uint64_t *)(base + pg * ptw_pagesize) =
			ptw_pat(m->seed, pg * wpp());
	tl_jmp = NULL;
}

static void move_loop(struct mm *m)
{
	long iters = ptw_iters(1000000);
	double deadline = ptw_deadline();
	char *cur = m->slot[0];
	for (long it = 0; !m->errors && ptw_more(it, 16, iters, deadline);
	     it++) {
		char *to = cur == m->slot[0] ? m->slot[1] : m->slot[0];
		void *r = mremap(cur, m->len, m->len,
				 MREMAP_MAYMOVE | MREMAP_FIXED, to);
		if (r != to) {
			mm_error(m, "mremap %p -> %p: %s", (void *)cur,
				 (void *)to,
				 r == MAP_FAILED ? strerror(errno)
						 : "moved elsewhere");
			break;
		}
		__atomic_store_n(&m->pub, to, __ATOMIC_SEQ_CST);
		/* keep the vacated slot reserved: nothing else may be mapped
		 * where the reader may still look */
		if (mmap(cur, m->len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				 MAP_NORESERVE,
			 -1, 0) == MAP_FAILED) {
			mm_error(m, "mmap PROT_NONE at %p: %s", (void *)cur,
				 strerror(errno));
			break;
		}
		cur = to;
		store_again(m, cur);
		m->moves++;
	}
}

static int run(const void *arg)
{
	struct mm m;
	memset(&m, 0, sizeof(m));
	pthread_mutex_init(&m.lock, NULL);
	m.truncate = arg != NULL;
	const char *e = getenv("PTW_MREMAP_PAGES");
	m.npages = e ? (size_t)atol(e) : 16;
	if (m.npages < 1)
		m.npages = 1;
	m.len = m.npages * ptw_pagesize;
	if (m.len > SLOT_GAP)
		return ptw_fail("PTW_MREMAP_PAGES=%zu: more than 2 MiB",
				m.npages);
	m.seed = 0x6d72656dULL ^ (uint64_t)m.truncate << 31 ^
		 (uint64_t)getpid() << 32;
	m.fd = (int)syscall(SYS_memfd_create, "ptw-mremap", 1u /* CLOEXEC */);
	if (m.fd < 0)
		return ptw_skip("memfd_create: %s", strerror(errno));
	if (ftruncate(m.fd, (off_t)m.len) < 0)
		return ptw_fail("ftruncate: %s", strerror(errno));
	/* both slots inside one reservation, 2 MiB aligned */
	char *res = ptw_map_aligned(2 * SLOT_GAP, SLOT_GAP, PROT_NONE);
	if (!res)
		return ptw_fail("mmap: %s", strerror(errno));
	m.slot[0] = res;
	m.slot[1] = res + SLOT_GAP;
	if (mmap(m.slot[0], m.len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, m.fd, 0) == MAP_FAILED)
		return ptw_fail("mmap the memfd: %s", strerror(errno));
	m.pub = m.slot[0];
	ptw_phase("mremap:fill");
	ptw_fill(m.slot[0], m.len / 8, m.seed, 0);
	if (m.truncate) {
		m.view = mmap(NULL, m.len, PROT_READ | PROT_WRITE, MAP_SHARED,
			      m.fd, 0);
		if (m.view == MAP_FAILED)
			return ptw_fail("mmap the view: %s", strerror(errno));
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	ptw_phase(m.truncate ? "mremap:truncate" : "mremap:move");
	pthread_t th[2];
	int nth = m.truncate ? 2 : 1;
	ptw_gate_init(&m.gate, nth + 1);
	pthread_create(&th[0], NULL, reader, &m);
	if (m.truncate)
		pthread_create(&th[1], NULL, truncator, &m);
	ptw_gate_wait(&m.gate);
	move_loop(&m);
	ptw_gate_stop(&m.gate);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);

	ptw_phase("mremap:verify");
	char *fin = __atomic_load_n(&m.pub, __ATOMIC_SEQ_CST);
	for (size_t pg = 0; !m.errors && pg < m.npages; pg++) {
		struct ptw_bad bad;
		if (ptw_check(fin + pg * ptw_pagesize, wpp(), m.seed,
			      pg * wpp(), &bad) >= 0)
			mm_error(&m,
				 "at the end: page %zu word %zu reads "
				 "0x%016" PRIx64 ", want 0x%016" PRIx64,
				 pg, bad.word, bad.got, bad.want);
	}
	ptw_diag("%ld moves (%ld stores after a move faulted), reader: %ld "
		 "passes, %ld loads, %ld SIGSEGV, %ld SIGBUS, %ld zero "
		 "reads; %ld truncations",
		 m.moves, m.mover_faults, m.passes, m.loads, m.segv, m.sigbus,
		 m.zero_reads, m.truncations);
	if (m.view)
		munmap(m.view, m.len);
	munmap(res, 2 * SLOT_GAP);
	close(m.fd);
	if (m.errors)
		return ptw_fail("%ld errors; first: %s", m.errors, m.msg);
	if (!m.passes && !m.segv && !m.sigbus)
		return ptw_skip("the reader never ran while the range moved");
	return PTW_PASS;
}

/* mremap_move_swapped: a swapped-out table's span moved whole */
static int run_swapped(const void *arg)
{
	(void)arg;
	size_t span = ptw_pagesize / 8 * ptw_pagesize; /* one PTE table */
	if (span > (64u << 20))
		return ptw_skip("a PTE table spans %zu MiB with this page "
				"size: too much memory to page out",
				span >> 20);
	char *res = ptw_map_aligned(2 * span, span, PROT_NONE);
	if (!res)
		return ptw_fail("mmap: %s", strerror(errno));
	char *src = res, *dst = res + span;
	if (mmap(src, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return ptw_fail("mmap the range: %s", strerror(errno));
	madvise(src, span, MADV_NOHUGEPAGE); /* a PTE table, not a THP */
	uint64_t seed = 0x73776170ULL ^ (uint64_t)getpid() << 32;
	ptw_phase("mremap:swapped:fill");
	ptw_fill(src, span / 8, seed, 0);
	ptw_phase("mremap:swapped:pageout");
	madvise(src, span, MADV_PAGEOUT);
	struct ptw_residency r = ptw_residency(src, span);
	if (!r.swapped) {
		munmap(res, 2 * span);
		return ptw_skip(
			"MADV_PAGEOUT swapped nothing out (%zu present): "
			"no swap device?",
			r.present);
	}
	ptw_phase("mremap:swapped:move");
	void *to = mremap(src, span, span, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (to != dst)
		return ptw_fail("mremap %p -> %p: %s", (void *)src, (void *)dst,
				to == MAP_FAILED ? strerror(errno)
						 : "moved elsewhere");
	struct ptw_residency after = ptw_residency(dst, span);
	ptw_phase("mremap:swapped:verify");
	struct ptw_bad bad;
	long at = ptw_check(dst, span / 8, seed, 0, &bad);
	ptw_diag("%zu of %zu pages swapped before the move, %zu after it",
		 r.swapped, span / ptw_pagesize, after.swapped);
	munmap(res, 2 * span);
	if (at >= 0)
		return ptw_fail("after the move: word %zu reads 0x%016" PRIx64
				", want 0x%016" PRIx64,
				bad.word, bad.got, bad.want);
	return PTW_PASS;
}

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"mremap_move_reader", run, NULL},
		{"mremap_move_truncate", run, (void *)1},
		{"mremap_move_swapped", run_swapped, NULL},
	};
	return ptw_run("mremap_move", argc, argv, sc,
		       sizeof(sc) / sizeof(sc[0]));
}
