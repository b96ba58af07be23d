// SPDX-License-Identifier: MIT
/*
 * mprotect_reclaim: once mprotect(PROT_READ) has returned, no thread may
 * write the range any more, even while reclaim is unmapping its pages and
 * has deferred the TLB flush (TTU_BATCH_FLUSH). Linux guarantees it with
 * flush_tlb_batched_pending() in change_pte_range() (3ea277194daa): an
 * mprotect that finds an entry reclaim already replaced by a swap entry
 * has nothing to change and nothing to flush itself, so it must complete
 * reclaim's pending flush before it returns.
 *
 * Three parties:
 *  - a reclaimer, a child process in the test's memory cgroup, writes
 *    memory.reclaim in a loop: its reclaim unmaps the region's pages from
 *    another mm, so nothing it does flushes this mm's TLBs until its
 *    batched flush;
 *  - a flipper thread makes one page at a time read-only and back, at once
 *    when pagemap shows a page swapped out (only then does mprotect find
 *    nothing to change, and reclaim's flush may still be pending);
 *  - a writer thread stores to every page in turn. A store to the page the
 *    flipper holds read-only (mprotect has returned) must fault: its
 *    SIGSEGV handler waits until the page is writable again. A store that
 *    completes without a fault there went through a stale TLB entry: the
 *    bug, seen by the guest.
 *
 * With the bug put back (guest-tests/kernel-bugs/mprotect_no_batched_flush)
 * ptwatch reports the stale store (STALE_TLB_ACCESS, error: the reader of
 * the entry, mprotect, returned to user before reclaim's flush); it
 * usually does so before the guest's own check can see one.
 *
 * Tunables (besides ptw-test.h's): PTW_MPR_PAGES pages in the region (32).
 */
#include "ptw-test.h"

#include <setjmp.h>

struct mpr {
	char *base;
	size_t npages, len;
	struct ptw_gate gate;
	int ro_page; /* the page held read-only (mprotect returned) */
	long ro_gen; /* +1 as the flipper lets a page go (before its
			mprotect back to read-write starts) */
	long flips, swapped_flips, stores, faults, violations, reclaims;
	long bad_page;
};

static struct mpr *g_mpr;
static __thread volatile int in_store, faulted;

/* a store to a read-only page: wait until it is writable, then retry */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char *a = si->si_addr;
	if (!in_store || a < g_mpr->base || a >= g_mpr->base + g_mpr->len) {
		signal(SIGSEGV, SIG_DFL);
		return; /* a real crash: the default action on return */
	}
	faulted = 1;
	int page = (int)((a - g_mpr->base) / ptw_pagesize);
	while (__atomic_load_n(&g_mpr->ro_page, __ATOMIC_SEQ_CST) == page)
		sched_yield();
}

static void *writer(void *arg)
{
	struct mpr *m = arg;
	uint64_t n = 0;
	ptw_gate_wait(&m->gate);
	while (!ptw_gate_stopped(&m->gate)) {
		for (size_t i = 0; i < m->npages; i++) {
			/* the page the flipper holds read-only first: a store
			 * right after its mprotect returned is the test */
			int hold =
				__atomic_load_n(&m->ro_page, __ATOMIC_SEQ_CST);
			size_t p = hold >= 0 ? (size_t)hold : i;
			volatile uint64_t *w =
				(volatile uint64_t *)(m->base +
						      p * ptw_pagesize);
			long gen =
				__atomic_load_n(&m->ro_gen, __ATOMIC_SEQ_CST);
			int ro = __atomic_load_n(&m->ro_page, __ATOMIC_SEQ_CST);
			faulted = 0;
			in_store = 1;
			*w = ++n;
			in_store = 0;
			m->stores++;
			/* read-only before the store and still after it: the
			 * flipper had not started making it writable */
			bool held = ro == (int)p &&
				    __atomic_load_n(&m->ro_gen,
						    __ATOMIC_SEQ_CST) == gen;
			if (faulted)
				m->faults++;
			else if (held && !m->violations++)
				m->bad_page = (long)p;
		}
		/* after each pass: the flipper, on the same vCPU when reclaim
		 * holds the other, must be scanning when a page goes */
		sched_yield();
	}
	return NULL;
}

/* pagemap: the first page of the region, from page `from` on, whose entry
 * is a swap entry now (one read for the whole region), or -1 */
static int first_swapped(int pm, struct mpr *m, uint64_t *ents, size_t from)
{
	off_t off = (off_t)((uintptr_t)m->base / ptw_pagesize * 8);
	ssize_t want = (ssize_t)(m->npages * 8);
	if (pread(pm, ents, (size_t)want, off) != want)
		return -1;
	for (size_t i = 0; i < m->npages; i++) {
		size_t p = (from + i) % m->npages;
		if (ents[p] >> 62 & 1)
			return (int)p;
	}
	return -1;
}

/* One page at a time: read-only, let the writer try, read-write. It flips
 * a page it finds swapped out at once (reclaim has just replaced its entry
 * by a swap entry: the race), and every page in turn now and then (so that
 * the writer meets read-only pages in any case). */
static void *flipper(void *arg)
{
	struct mpr *m = arg;
	uint64_t *ents = calloc(m->npages, 8);
	int pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0)
		ptw_diag("no pagemap (%s): flipping every page in turn",
			 strerror(errno));
	ptw_gate_wait(&m->gate);
	for (size_t scan = 0, next = 0; !ptw_gate_stopped(&m->gate); scan++) {
		int sp =
			pm >= 0 && ents ? first_swapped(pm, m, ents, next) : -1;
		size_t p;
		if (sp >= 0)
			p = (size_t)sp;
		else if (pm < 0 || scan % 64 == 0)
			p = (scan / 64) % m->npages;
		else
			continue;
		next = p + 1;
		char *page = m->base + p * ptw_pagesize;
		if (mprotect(page, ptw_pagesize, PROT_READ) < 0) {
			ptw_diag("mprotect: %s", strerror(errno));
			break;
		}
		__atomic_store_n(&m->ro_page, (int)p, __ATOMIC_SEQ_CST);
		sched_yield(); /* let the writer try the page */
		__atomic_store_n(&m->ro_page, -1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&m->ro_gen, 1, __ATOMIC_SEQ_CST);
		if (mprotect(page, ptw_pagesize, PROT_READ | PROT_WRITE) < 0) {
			ptw_diag("mprotect: %s", strerror(errno));
			break;
		}
		m->flips++;
		if (sp >= 0)
			m->swapped_flips++;
	}
	if (pm >= 0)
		close(pm);
	free(ents);
	return NULL;
}

/* a process in the same memory cgroup: its reclaim is another mm's */
static pid_t reclaimer_start(struct ptw_memcg *cg, size_t bytes, long *count)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	ptw_child_setup("reclaimer");
	for (;;) {
		ptw_memcg_reclaim(cg, bytes);
		__atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
	}
}

static int ro_vs_reclaim(const void *arg)
{
	(void)arg;
	struct mpr m;
	memset(&m, 0, sizeof(m));
	g_mpr = &m;
	if (ptw_swap_devices() < 1)
		return ptw_skip("no swap device (zram module missing?)");
	char why[256];
	struct ptw_memcg cg;
	if (!ptw_memcg_enter(&cg, "mprotect", 0, why, sizeof(why)))
		return ptw_skip("%s", why);
	const char *e = getenv("PTW_MPR_PAGES");
	m.npages = e ? (size_t)atol(e) : 32;
	if (m.npages < 2)
		m.npages = 2;
	m.len = m.npages * ptw_pagesize;
	m.ro_page = -1;
	int rc = PTW_PASS;
	m.base = mmap(NULL, m.len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m.base == MAP_FAILED) {
		ptw_memcg_leave(&cg);
		return ptw_fail("mmap: %s", strerror(errno));
	}
	madvise(m.base, m.len, MADV_NOHUGEPAGE);
	memset(m.base, 1, m.len);
	long *count = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (count == MAP_FAILED) {
		rc = ptw_fail("mmap: %s", strerror(errno));
		goto out;
	}
	*count = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	long pswpout0 = ptw_vmstat("pswpout");
	ptw_phase("mprotect:race");
	ptw_gate_init(&m.gate, 3);
	pthread_t th[2];
	pthread_create(&th[0], NULL, writer, &m);
	pthread_create(&th[1], NULL, flipper, &m);
	ptw_gate_wait(&m.gate);
	pid_t rec = reclaimer_start(&cg, m.len, count);
	double deadline = ptw_deadline();
	while (ptw_now() < deadline && !m.violations)
		ptw_msleep(20);
	if (rec > 0) {
		kill(rec, SIGKILL);
		waitpid(rec, NULL, 0);
	}
	ptw_gate_stop(&m.gate);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	signal(SIGSEGV, SIG_DFL);
	m.reclaims = *count;
	ptw_phase("mprotect:verify");
	ptw_diag(
		"%ld read-only flips (%ld of a page seen swapped out), %ld "
		"stores (%ld faulted), %ld memory.reclaim writes, pswpout +%ld",
		m.flips, m.swapped_flips, m.stores, m.faults, m.reclaims,
		ptw_vmstat("pswpout") - pswpout0);
	if (m.violations)
		rc = ptw_fail(
			"%ld store(s) completed without a fault to a page "
			"that mprotect(PROT_READ) had made read-only "
			"(first: page %ld): a stale TLB entry outlived "
			"mprotect",
			m.violations, m.bad_page);
	else if (!m.faults)
		rc = ptw_skip("no store ever met a read-only page: the race "
			      "was not exercised");
	else if (ptw_vmstat("pswpout") == pswpout0)
		ptw_diag("note: nothing was swapped out (pswpout unchanged)");
	munmap(count, sizeof(long));
out:
	munmap(m.base, m.len);
	ptw_memcg_leave(&cg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"mprotect_ro_vs_reclaim", ro_vs_reclaim, NULL},
	};
	return ptw_run("mprotect_reclaim", argc, argv, sc,
		       sizeof(sc) / sizeof(sc[0]));
}
