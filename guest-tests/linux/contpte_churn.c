// SPDX-License-Identifier: MIT
/*
 * contpte_churn: 64 KiB anonymous folios that arm64 maps with contiguous
 * PTEs (contpte: 16 entries with PTE_CONT, folded when a whole aligned folio
 * is mapped, unfolded with break-before-make when one entry must change),
 * changed one entry or one block at a time while two threads keep reading
 * and checking every block. The same program runs on x86-64, where it
 * exercises the same kernel paths without the contiguous bit.
 *
 * Blocks of a 64 KiB-aligned MADV_HUGEPAGE region (64 KiB mTHP "always")
 * are filled with a per-page pattern, then a churn thread repeatedly:
 *   - mprotect()s one page of a block read-only and back (unfold/refold),
 *   - mprotect()s a whole block read-only and back,
 *   - MADV_DONTNEEDs one page inside a block (it must read zero, and is then
 *     written again), or a whole block that is then faulted in again
 *     (a fresh fold),
 *   - forks a child that checks every block and exits, while the parent
 *     writes into some blocks (COW of large folios),
 *   - mremap()s a block to another 64 KiB-aligned address and back.
 * Readers skip only the page or block under a destructive change (a
 * handshake makes sure none is inside it). Everything is checked at the end.
 *
 * Tunables (besides ptw-test.h's): PTW_CONT_BLOCKS blocks (4).
 */
#include "ptw-test.h"

#define BLK	 (64u << 10)
#define NREADERS 2

enum op {
	OP_MPROTECT_PAGE,
	OP_MPROTECT_BLOCK,
	OP_DONTNEED_PAGE,
	OP_REFAULT_BLOCK,
	OP_FORK,
	OP_MREMAP,
	OP_COUNT,
	OP_MIXED = OP_COUNT,
};

static const char *const op_names[OP_COUNT] = {
	"mprotect-page", "mprotect-block", "dontneed-page",
	"refault-block", "fork",	   "mremap",
};

struct cc {
	size_t nblocks, ppb; /* pages per block */
	char *area, *spare;  /* home slots, mremap slots */
	char **addr;	     /* where block b is now */
	int *inuse, *moving, *unstable;
	uint64_t seed;
	struct ptw_gate gate;
	pthread_mutex_t lock;
	long errors;
	char msg[320];
	long passes[NREADERS];
	long ops[OP_COUNT];
};

static size_t wpp(void)
{
	return ptw_pagesize / 8;
}

static PTW_PRINTF(2, 3) void cc_error(struct cc *c, const char *fmt, ...)
{
	pthread_mutex_lock(&c->lock);
	if (!c->errors++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&c->lock);
}

static char *block_addr(struct cc *c, size_t b)
{
	return __atomic_load_n(&c->addr[b], __ATOMIC_SEQ_CST);
}

static void *reader(void *arg)
{
	struct cc *c = ((void **)arg)[0];
	int idx = (int)(intptr_t)((void **)arg)[1];
	ptw_gate_wait(&c->gate);
	while (!ptw_gate_stopped(&c->gate)) {
		for (size_t k = 0; k < c->nblocks; k++) {
			size_t b = idx ? c->nblocks - 1 - k : k;
			__atomic_add_fetch(&c->inuse[b], 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->moving[b], __ATOMIC_SEQ_CST)) {
				__atomic_sub_fetch(&c->inuse[b], 1,
						   __ATOMIC_SEQ_CST);
				continue;
			}
			char *base = block_addr(c, b);
			for (size_t pg = 0; pg < c->ppb; pg++) {
				size_t lp = b * c->ppb + pg;
				if (__atomic_load_n(&c->unstable[lp],
						    __ATOMIC_SEQ_CST))
					continue;
				struct ptw_bad bad;
				if (ptw_check_page_sampled(
					    base + pg * ptw_pagesize, c->seed,
					    lp * wpp(), &bad) >= 0)
					cc_error(c,
						 "reader %d: block %zu page "
						 "%zu word %zu reads "
						 "0x%016" PRIx64
						 ", want 0x%016" PRIx64,
						 idx, b, pg, bad.word, bad.got,
						 bad.want);
			}
			__atomic_sub_fetch(&c->inuse[b], 1, __ATOMIC_SEQ_CST);
		}
		__atomic_add_fetch(&c->passes[idx], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* wait until no reader is inside block b */
static void quiesce(struct cc *c, size_t b)
{
	while (__atomic_load_n(&c->inuse[b], __ATOMIC_SEQ_CST))
		sched_yield();
}

/* store again the words readers check, same values (re-arms ptwatch's
 * tracking at a new address, and write-faults read-only entries) */
static void restore_sampled(struct cc *c, char *page, size_t lp)
{
	volatile uint64_t *w = (void *)page;
	size_t n = wpp();
	for (size_t i = 0; i < n; i = i ? (i == 1 ? 64 : i + 64) : 1)
		w[i] = ptw_pat(c->seed, lp * n + i);
	w[n - 1] = ptw_pat(c->seed, lp * n + n - 1);
}

static void fill_block(struct cc *c, size_t b)
{
	ptw_fill(block_addr(c, b), BLK / 8, c->seed, b * c->ppb * wpp());
}

static bool check_block_full(struct cc *c, size_t b, const char *when)
{
	char *base = block_addr(c, b);
	for (size_t pg = 0; pg < c->ppb; pg++) {
		size_t lp = b * c->ppb + pg;
		struct ptw_bad bad;
		if (ptw_check(base + pg * ptw_pagesize, wpp(), c->seed,
			      lp * wpp(), &bad) >= 0) {
			cc_error(c,
				 "%s: block %zu page %zu word %zu reads "
				 "0x%016" PRIx64 ", want 0x%016" PRIx64 "%s",
				 when, b, pg, bad.word, bad.got, bad.want,
				 ptw_check_zero(base + pg * ptw_pagesize, wpp(),
						NULL) < 0
					 ? " (page all zero)"
					 : "");
			return false;
		}
	}
	return true;
}

static void do_op(struct cc *c, enum op op, long it)
{
	size_t b = (size_t)(it * 5 + 1) % c->nblocks;
	size_t pg = (size_t)(it * 7 + 3) % c->ppb;
	size_t lp = b * c->ppb + pg;
	char *base = block_addr(c, b);
	char *page = base + pg * ptw_pagesize;
	c->ops[op]++;
	ptw_phasef("cc:%s", op_names[op]);
	switch (op) {
	case OP_MPROTECT_PAGE:
		if (mprotect(page, ptw_pagesize, PROT_READ) < 0)
			cc_error(c, "mprotect page: %s", strerror(errno));
		sched_yield();
		if (mprotect(page, ptw_pagesize, PROT_READ | PROT_WRITE) < 0)
			cc_error(c, "mprotect page back: %s", strerror(errno));
		restore_sampled(c, page, lp);
		break;
	case OP_MPROTECT_BLOCK:
		if (mprotect(base, BLK, PROT_READ) < 0)
			cc_error(c, "mprotect block: %s", strerror(errno));
		sched_yield();
		if (mprotect(base, BLK, PROT_READ | PROT_WRITE) < 0)
			cc_error(c, "mprotect block back: %s", strerror(errno));
		for (size_t i = 0; i < c->ppb; i++)
			*(volatile uint64_t *)(base + i * ptw_pagesize) =
				ptw_pat(c->seed, (b * c->ppb + i) * wpp());
		break;
	case OP_DONTNEED_PAGE: {
		__atomic_store_n(&c->unstable[lp], 1, __ATOMIC_SEQ_CST);
		quiesce(c, b);
		ptw_expect_write(page, ptw_pagesize);
		if (madvise(page, ptw_pagesize, MADV_DONTNEED) < 0)
			cc_error(c, "MADV_DONTNEED: %s", strerror(errno));
		struct ptw_bad bad;
		if (ptw_check_zero(page, wpp(), &bad) >= 0)
			cc_error(c,
				 "block %zu page %zu after MADV_DONTNEED: word "
				 "%zu reads 0x%016" PRIx64 ", want 0",
				 b, pg, bad.word, bad.got);
		ptw_fill(page, wpp(), c->seed, lp * wpp());
		__atomic_store_n(&c->unstable[lp], 0, __ATOMIC_SEQ_CST);
		break;
	}
	case OP_REFAULT_BLOCK:
		__atomic_store_n(&c->moving[b], 1, __ATOMIC_SEQ_CST);
		quiesce(c, b);
		ptw_expect_write(base, BLK);
		if (madvise(base, BLK, MADV_DONTNEED) < 0)
			cc_error(c, "MADV_DONTNEED block: %s", strerror(errno));
		fill_block(c, b);
		__atomic_store_n(&c->moving[b], 0, __ATOMIC_SEQ_CST);
		break;
	case OP_FORK: {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			cc_error(c, "fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			ptw_child_setup("child");
			/* one thread here: the lock may have been held by a
			 * reader at fork time */
			pthread_mutex_init(&c->lock, NULL);
			for (size_t k = 0; k < c->nblocks; k++)
				if (!check_block_full(c, k, "child after fork"))
					break;
			if (c->errors)
				printf("# %s\n", c->msg);
			ptw_exit(c->errors ? 1 : 0);
		}
		/* COW the large folios of two blocks while the child runs */
		for (size_t k = 0; k < 2; k++) {
			size_t bb = (b + k) % c->nblocks;
			char *bbase = block_addr(c, bb);
			for (size_t i = 0; i < c->ppb; i += 3)
				restore_sampled(c, bbase + i * ptw_pagesize,
						bb * c->ppb + i);
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			cc_error(c, "fork child found bad data (status 0x%x)",
				 st);
		break;
	}
	case OP_MREMAP: {
		char *home = c->area + b * BLK, *away = c->spare + b * BLK;
		char *to = base == home ? away : home;
		__atomic_store_n(&c->moving[b], 1, __ATOMIC_SEQ_CST);
		quiesce(c, b);
		ptw_untrack(base, BLK);
		void *r = mremap(base, BLK, BLK, MREMAP_MAYMOVE | MREMAP_FIXED,
				 to);
		if (r == MAP_FAILED) {
			cc_error(c, "mremap: %s", strerror(errno));
			ptw_track(base, BLK);
			__atomic_store_n(&c->moving[b], 0, __ATOMIC_SEQ_CST);
			break;
		}
		/* keep the vacated slot reserved */
		mmap(base, BLK, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		     -1, 0);
		__atomic_store_n(&c->addr[b], to, __ATOMIC_SEQ_CST);
		ptw_track(to, BLK);
		check_block_full(c, b, "after mremap");
		for (size_t i = 0; i < c->ppb; i++)
			restore_sampled(c, to + i * ptw_pagesize,
					b * c->ppb + i);
		__atomic_store_n(&c->moving[b], 0, __ATOMIC_SEQ_CST);
		break;
	}
	default:
		break;
	}
}

static int run(const void *arg)
{
	enum op mode = (enum op)(intptr_t)arg;
	char why[256];
	struct cc c;
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.lock, NULL);
	if (ptw_mthp_enable(64, why, sizeof(why)) < 0) {
		/* still meaningful (base pages), but say so */
		ptw_diag("%s; running on base pages", why);
	}
	const char *e = getenv("PTW_CONT_BLOCKS");
	c.nblocks = e ? (size_t)atol(e) : 4;
	if (c.nblocks < 2)
		c.nblocks = 2;
	c.ppb = BLK / ptw_pagesize;
	size_t len = c.nblocks * BLK;
	c.area = ptw_map_aligned(len, BLK, PROT_READ | PROT_WRITE);
	c.spare = ptw_map_aligned(len, BLK, PROT_NONE);
	c.addr = calloc(c.nblocks, sizeof(char *));
	c.inuse = calloc(c.nblocks, sizeof(int));
	c.moving = calloc(c.nblocks, sizeof(int));
	c.unstable = calloc(c.nblocks * c.ppb, sizeof(int));
	if (!c.area || !c.spare || !c.addr || !c.inuse || !c.moving ||
	    !c.unstable)
		return ptw_fail("allocation failed: %s", strerror(errno));
	if (madvise(c.area, len, MADV_HUGEPAGE) < 0)
		ptw_diag("MADV_HUGEPAGE: %s", strerror(errno));
	c.seed =
		0x636f6e74ULL ^ (uint64_t)mode << 32 ^ (uint64_t)getpid() << 40;
	struct ptw_mthp_stats st0;
	ptw_mthp_stats_get(64, &st0);
	for (size_t b = 0; b < c.nblocks; b++) {
		c.addr[b] = c.area + b * BLK;
		/* mapped before it is tracked (the fault maps the folio) */
		*(volatile uint64_t *)c.addr[b] =
			ptw_pat(c.seed, b * c.ppb * wpp());
		ptw_track(c.addr[b], BLK);
	}
	ptw_phase("cc:fill");
	for (size_t b = 0; b < c.nblocks; b++)
		fill_block(&c, b);
	for (size_t b = 0; b < c.nblocks; b++)
		check_block_full(&c, b, "after fill");
	ptw_mthp_stats_diag(64, "after fill", &st0);

	pthread_t th[NREADERS];
	void *args[NREADERS][2];
	ptw_gate_init(&c.gate, NREADERS + 1);
	for (int i = 0; i < NREADERS; i++) {
		args[i][0] = &c;
		args[i][1] = (void *)(intptr_t)i;
		pthread_create(&th[i], NULL, reader, args[i]);
	}
	ptw_gate_wait(&c.gate);
	/* whole-block refills and forks cost the most under the plugin */
	long iters =
		ptw_iters(mode == OP_MIXED				? 24
			  : mode == OP_REFAULT_BLOCK || mode == OP_FORK ? 8
									: 16);
	double deadline = ptw_deadline();
	long it;
	for (it = 0; !c.errors && ptw_more(it, 2, iters, deadline); it++) {
		enum op op = mode;
		if (mode == OP_MIXED)
			op = (enum op)((it * 7 + it / 6) % OP_COUNT);
		do_op(&c, op, it);
	}
	ptw_gate_stop(&c.gate);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	ptw_phase("cc:verify");
	for (size_t b = 0; b < c.nblocks; b++)
		check_block_full(&c, b, "at the end");
	char ops[256];
	int o = 0;
	for (int i = 0; i < OP_COUNT; i++)
		if (c.ops[i])
			o += snprintf(ops + o, sizeof(ops) - (size_t)o,
				      " %s %ld", op_names[i], c.ops[i]);
	ptw_diag("ops:%s; reader passes %ld/%ld", o ? ops : " none",
		 c.passes[0], c.passes[1]);
	ptw_mthp_stats_diag(64, "at the end", &st0);
	for (size_t b = 0; b < c.nblocks; b++)
		ptw_untrack(c.addr[b], BLK);
	if (c.errors)
		return ptw_fail("%ld errors; first: %s", c.errors, c.msg);
	return PTW_PASS;
}

/*
 * contpte_refold_by_mprotect: a block unfolded by an mprotect() of one page
 * and back, and left unfolded (arm64 folds a block again only when its
 * last entry is set on its own, contpte_try_fold()), is then mprotect()ed
 * whole. Linux 7.x batches that (change_present_ptes():
 * modify_prot_start_ptes() clears the 16 entries, modify_prot_commit_ptes()
 * sets them again with set_ptes(), which on arm64 writes a whole aligned
 * block with PTE_CONT) and invalidates the TLB only after the PTE lock is
 * dropped: the entries come back contiguous while the TLBs may still hold
 * them as 16 non-contiguous ones, which break-before-make forbids on CPUs
 * without BBML2_NOABORT (contpte_convert() breaks with a TLBI there;
 * docs/hunt.md). 6.12 changes the entries one at a time and folds through
 * contpte_convert(). The data stays right under TCG either way: ptwatch's
 * finding is the evidence (BBM_MAKE_BEFORE_INVALIDATE in __set_ptes_anysz
 * / contpte_get_and_clear_full_ptes).
 */
static int refold_by_mprotect(const void *arg)
{
	(void)arg;
	char why[256];
	if (ptw_mthp_enable(64, why, sizeof(why)) < 0)
		ptw_diag("%s; running on base pages", why);
	const size_t nblocks = 4, ppb = BLK / ptw_pagesize;
	const size_t len = nblocks * BLK;
	char *area = ptw_map_aligned(len, BLK, PROT_READ | PROT_WRITE);
	if (!area)
		return ptw_fail("allocation failed: %s", strerror(errno));
	if (madvise(area, len, MADV_HUGEPAGE) < 0)
		ptw_diag("MADV_HUGEPAGE: %s", strerror(errno));
	const uint64_t seed = 0x7265666fULL ^ (uint64_t)getpid() << 40;
	const size_t words = len / 8;
	/* mapped before it is tracked (the faults map the folios) */
	for (size_t b = 0; b < nblocks; b++)
		*(volatile uint64_t *)(area + b * BLK) =
			ptw_pat(seed, b * (BLK / 8));
	ptw_track(area, len);
	ptw_phase("rf:fill");
	ptw_fill(area, words, seed, 0);
	int rc = PTW_PASS;
	long it;
	double deadline = ptw_deadline();
	for (it = 0; rc == PTW_PASS && ptw_more(it, 4, ptw_iters(16), deadline);
	     it++) {
		size_t b = (size_t)it % nblocks;
		char *base = area + b * BLK;
		/* not the last page: the block is not folded again */
		char *page = base + (ppb > 2 ? ppb - 2 : 0) * ptw_pagesize;
		ptw_phase("rf:unfold");
		if (mprotect(page, ptw_pagesize, PROT_READ) < 0 ||
		    mprotect(page, ptw_pagesize, PROT_READ | PROT_WRITE) < 0) {
			rc = ptw_fail("mprotect page: %s", strerror(errno));
			break;
		}
		struct ptw_bad bad;
		ptw_phase("rf:read");
		if (ptw_check(base, BLK / 8, seed, b * (BLK / 8), &bad) >= 0) {
			rc = ptw_fail("block %zu before the block's mprotect: "
				      "word %zu reads 0x%016" PRIx64,
				      b, bad.word, bad.got);
			break;
		}
		ptw_phase("rf:block-ro");
		if (mprotect(base, BLK, PROT_READ) < 0) {
			rc = ptw_fail("mprotect block: %s", strerror(errno));
			break;
		}
		if (ptw_check(base, BLK / 8, seed, b * (BLK / 8), &bad) >= 0) {
			rc = ptw_fail("block %zu read-only: word %zu reads "
				      "0x%016" PRIx64,
				      b, bad.word, bad.got);
			break;
		}
		ptw_phase("rf:block-rw");
		if (mprotect(base, BLK, PROT_READ | PROT_WRITE) < 0) {
			rc = ptw_fail("mprotect block back: %s",
				      strerror(errno));
			break;
		}
		ptw_fill(base, BLK / 8, seed, b * (BLK / 8));
	}
	ptw_phase("rf:verify");
	struct ptw_bad bad;
	if (rc == PTW_PASS && ptw_check(area, words, seed, 0, &bad) >= 0)
		rc = ptw_fail("at the end: word %zu reads 0x%016" PRIx64,
			      bad.word, bad.got);
	ptw_diag("%ld rounds", it);
	ptw_untrack(area, len);
	munmap(area, len);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"contpte_mprotect_page", run,
		 (void *)(intptr_t)OP_MPROTECT_PAGE},
		{"contpte_mprotect_block", run,
		 (void *)(intptr_t)OP_MPROTECT_BLOCK},
		{"contpte_dontneed_page", run,
		 (void *)(intptr_t)OP_DONTNEED_PAGE},
		{"contpte_refault_block", run,
		 (void *)(intptr_t)OP_REFAULT_BLOCK},
		{"contpte_fork_child_reads", run, (void *)(intptr_t)OP_FORK},
		{"contpte_mremap_block", run, (void *)(intptr_t)OP_MREMAP},
		{"contpte_mixed", run, (void *)(intptr_t)OP_MIXED},
		{"contpte_refold_by_mprotect", refold_by_mprotect, NULL},
	};
	return ptw_run("contpte_churn", argc, argv, sc,
		       sizeof(sc) / sizeof(sc[0]));
}
