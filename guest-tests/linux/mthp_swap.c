// SPDX-License-Identifier: MIT
/*
 * mthp_swap: large anonymous folios (mTHP) swapped out while other threads
 * swap them back in (seed 001: a large folio unmapped only in part, two
 * threads swapping in the same entry, one reading zero-filled data).
 *
 * For each mTHP size with a sysfs knob (16, 32, 64 KiB) a region aligned to
 * the size, MADV_HUGEPAGE, is filled with a per-word pattern. One thread
 * loops MADV_PAGEOUT over it (whole region, one folio at a time, and ranges
 * straddling folio boundaries so that the kernel splits them) while two
 * threads fault the same pages back in, in the same order, and check them.
 * A scenario makes the 64 KiB region cold (MADV_COLD) and has a memory
 * hog child push it out by reclaim, in a memory cgroup whose limit bounds the
 * work, while the readers run. The last one works on one 64 KiB folio: a
 * thread faults it in afresh (MADV_DONTNEED, refill), pages it out
 * (MADV_PAGEOUT, under the mmap lock for reading) and reads it back, again
 * and again, while another thread zaps the folio's last page and writes it
 * again (MADV_DONTNEED of one page, also under the read lock: on arm64 that
 * unfolds the contpte block, contpte_convert() clearing all 16 entries from
 * the first, invalidating and writing them again). Reclaim's try_to_unmap()
 * must not see those entries none and unmap the folio from the middle (seed
 * 001: TTU_SYNC). (mprotect() would not race: it takes the mmap lock for
 * writing.) The last page changes by design and is neither tracked nor
 * checked; all other data is checked in every round and at the end.
 * The uffd-wp scenario races the same pageout against a thread that
 * write-protects the whole folio with userfaultfd and unprotects it again
 * (UFFDIO_WRITEPROTECT, also under the mmap read lock, asynchronous mode so
 * that writes resolve themselves): change_protection() replaces every entry
 * with ptep_modify_prot_start() / ptep_modify_prot_commit(), which on
 * x86-64 clears it and writes it again (and on arm64 unfolds the contpte
 * block first). No data changes: every page is tracked and checked. A
 * userfaultfd-armed VMA gets only single-page folios, so this one races
 * reclaim of small folios (whose skipped entry is benign: try_to_unmap()
 * fails and the page stays). The mprotect scenario gives seed 001's race
 * on x86-64 with a large folio: reclaim from a memory hog in the same
 * memory cgroup (direct reclaim, no mmap lock of ours) unmaps the cold
 * 64 KiB folio while a thread flips it read-only and back with mprotect()
 * (change_protection(): each entry cleared and written again on x86-64;
 * the contpte block unfolded on arm64).
 *
 * Tunables (besides ptw-test.h's): PTW_MTHP_KB region size in KiB (256).
 */
#include "ptw-test.h"

#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15) /* Linux 6.7; older uapi headers */
#endif

#define NREADERS 2

struct mthp_arg {
	unsigned kb;
	bool cold;  /* MADV_COLD + memory hog instead of MADV_PAGEOUT */
	bool zap;   /* one folio paged out while a third thread zaps it */
	bool wp;    /* ... or write-protects and unprotects it (uffd-wp) */
	bool mprot; /* cold + hog reclaim of one folio, mprotect() flipping */
};

struct mthp {
	char *base;
	size_t len, unit, npages;
	uint64_t seed;
	struct ptw_gate gate;
	pthread_mutex_t lock;
	long errors;
	size_t bad_page;
	struct ptw_bad bad;
	int bad_thread;
	long passes[NREADERS];
	long pageouts;
	size_t max_swapped;
	long iters;
	double deadline;
	bool zap;	/* one folio, a racing third thread (zap or uffd-wp) */
	bool skip_last; /* its last page changes by design (zap) */
	int uffd;	/* uffd-wp scenario: the userfaultfd */
	size_t hog_bytes;
	int racing, flipping; /* mprotect scenario: Dekker-style handshake */
	long zaps;
	int round; /* zap scenario: refills so far (the zapper waits for one) */
};

static void record_error(struct mthp *m, int thread, size_t page,
			 const struct ptw_bad *b)
{
	pthread_mutex_lock(&m->lock);
	if (!m->errors++) {
		m->bad_page = page;
		m->bad = *b;
		m->bad_thread = thread;
	}
	pthread_mutex_unlock(&m->lock);
}

/* the end of a round: how much of the region is swapped out now */
static void note_swapped(struct mthp *m)
{
	struct ptw_residency r = ptw_residency(m->base, m->len);
	if (r.swapped > m->max_swapped)
		m->max_swapped = r.swapped;
}

/* the one-folio scenarios: check every page (but a last page that changes
 * by design) after a round; the round counts */
static void check_round(struct mthp *m, const char *phase)
{
	size_t wpp = ptw_pagesize / 8;
	ptw_phase(phase);
	for (size_t p = 0; p + (m->skip_last ? 1 : 0) < m->npages; p++) {
		struct ptw_bad b;
		if (ptw_check(m->base + p * ptw_pagesize, wpp, m->seed, p * wpp,
			      &b) >= 0)
			record_error(m, 0, p, &b);
	}
	m->pageouts++;
}

static void *reader(void *arg)
{
	struct mthp *m = ((void **)arg)[0];
	int idx = (int)(intptr_t)((void **)arg)[1];
	size_t wpp = ptw_pagesize / 8;
	ptw_gate_wait(&m->gate);
	if (m->zap)
		return NULL; /* the pageout thread refills and checks */
	while (!ptw_gate_stopped(&m->gate)) {
		for (size_t k = 0; k < m->npages; k++) {
			/* readers 0 and 1 walk the same way, so they fault
			 * the same entries at about the same time */
			size_t p = idx < 2 ? k : m->npages - 1 - k;
			char *page = m->base + p * ptw_pagesize;
			struct ptw_bad b;
			if (ptw_check_page_sampled(page, m->seed, p * wpp,
						   &b) >= 0)
				record_error(m, idx, p, &b);
			/* reader 0 also stores the value it expects into the
			 * first word of every 5th page: write faults on swap
			 * entries, data unchanged */
			if (idx == 0 && p % 5 == 0 && !m->zap)
				*(volatile uint64_t *)page =
					ptw_pat(m->seed, p * wpp);
		}
		__atomic_add_fetch(&m->passes[idx], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* the zap scenario's pageout thread: a fresh 64 KiB folio (contpte-folded
 * on arm64), paged out while the zapper unfolds it, read back */
static void *pageout_vs_zap(void *arg)
{
	struct mthp *m = arg;
	ptw_gate_wait(&m->gate);
	for (long it = 0; ptw_more(it, 3, m->iters, m->deadline); it++) {
		ptw_phase("pageout:refill");
		madvise(m->base, m->len, MADV_DONTNEED);
		ptw_fill(m->base, m->len / 8, m->seed, 0);
		__atomic_add_fetch(&m->round, 1, __ATOMIC_RELEASE);
		ptw_phase("pageout:race");
		madvise(m->base, m->len, MADV_PAGEOUT);
		note_swapped(m);
		check_round(m, "pageout:check");
	}
	return NULL;
}

static void *pageout(void *arg)
{
	struct mthp *m = arg;
	size_t nunits = m->len / m->unit;
	ptw_gate_wait(&m->gate);
	for (long it = 0; ptw_more(it, 3, m->iters, m->deadline); it++) {
		switch (it % 3) {
		case 0: /* the whole region */
			ptw_phase("pageout:all");
			madvise(m->base, m->len, MADV_PAGEOUT);
			break;
		case 1: /* folio by folio */
			ptw_phase("pageout:unit");
			for (size_t u = 0; u < nunits; u++)
				madvise(m->base + u * m->unit, m->unit,
					MADV_PAGEOUT);
			break;
		case 2: /* ranges straddling two folios: split them */
			ptw_phase("pageout:split");
			for (size_t u = 0; u + 1 < nunits; u += 2)
				madvise(m->base + u * m->unit + m->unit / 2,
					m->unit, MADV_PAGEOUT);
			break;
		}
		note_swapped(m);
		m->pageouts++;
	}
	return NULL;
}

/* a random delay of up to 4096 spins (xorshift) */
static void random_spin(uint64_t *rnd)
{
	*rnd ^= *rnd << 13;
	*rnd ^= *rnd >> 7;
	*rnd ^= *rnd << 17;
	for (volatile unsigned spin = (unsigned)(*rnd % 4096); spin; spin--)
		;
}

/* mprotect scenario, the owner: a fresh folio made cold and reclaimed by
 * a hog while the flipper runs, then checked */
static void *reclaim_vs_mprotect(void *arg)
{
	struct mthp *m = arg;
	ptw_gate_wait(&m->gate);
	for (long it = 0; ptw_more(it, 3, m->iters, m->deadline); it++) {
		ptw_phase("reclaim:refill");
		madvise(m->base, m->len, MADV_DONTNEED);
		ptw_fill(m->base, m->len / 8, m->seed, 0);
		madvise(m->base, m->len, MADV_COLD);
		ptw_phase("reclaim:race");
		__atomic_store_n(&m->racing, 1, __ATOMIC_SEQ_CST);
		int hr = ptw_hog_wait(ptw_hog_start(m->hog_bytes));
		__atomic_store_n(&m->racing, 0, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&m->flipping, __ATOMIC_SEQ_CST))
			sched_yield();
		if (hr)
			ptw_diag("hog %s", hr > 0 ? "killed (OOM?)" : "failed");
		note_swapped(m);
		check_round(m, "reclaim:check");
	}
	return NULL;
}

/* mprotect scenario, the flipper: read-only and back, while racing */
static void *mprotect_flipper(void *arg)
{
	struct mthp *m = arg;
	ptw_gate_wait(&m->gate);
	while (!ptw_gate_stopped(&m->gate)) {
		if (!__atomic_load_n(&m->racing, __ATOMIC_SEQ_CST)) {
			sched_yield();
			continue;
		}
		__atomic_store_n(&m->flipping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&m->racing, __ATOMIC_SEQ_CST)) {
			if (mprotect(m->base, m->len, PROT_READ) < 0 ||
			    mprotect(m->base, m->len, PROT_READ | PROT_WRITE) <
				    0) {
				ptw_diag("mprotect: %s", strerror(errno));
				__atomic_store_n(&m->flipping, 0,
						 __ATOMIC_SEQ_CST);
				return NULL;
			}
			m->zaps++;
		}
		__atomic_store_n(&m->flipping, 0, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* after each refill, zap the folio's last page and write it again, until
 * the pageout thread is done */
static void *zapper(void *arg)
{
	struct mthp *m = arg;
	char *last = m->base + m->len - ptw_pagesize;
	int seen = 0;
	uint64_t rnd = m->seed | 1;
	ptw_gate_wait(&m->gate);
	while (!ptw_gate_stopped(&m->gate)) {
		/* once per fresh folio (the refill folded it; a zap unfolds
		 * it once), after a random delay so that over the rounds the
		 * unfold meets every stage of the pageout thread's reclaim */
		int r = __atomic_load_n(&m->round, __ATOMIC_ACQUIRE);
		if (r == seen) {
			sched_yield();
			continue;
		}
		seen = r;
		random_spin(&rnd);
		if (madvise(last, ptw_pagesize, MADV_DONTNEED) < 0) {
			ptw_diag("MADV_DONTNEED: %s", strerror(errno));
			return NULL;
		}
		*(volatile uint64_t *)last = 1;
		m->zaps++;
	}
	return NULL;
}

static bool uffd_wp(struct mthp *m, bool on)
{
	struct uffdio_writeprotect wp = {
		.range = {(uint64_t)(uintptr_t)m->base, m->len},
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	if (ioctl(m->uffd, UFFDIO_WRITEPROTECT, &wp) == 0)
		return true;
	ptw_diag("UFFDIO_WRITEPROTECT %s: %s", on ? "on" : "off",
		 strerror(errno));
	return false;
}

/* after each refill, write-protect the folio and unprotect it again,
 * until the pageout thread is done */
static void *wp_toggler(void *arg)
{
	struct mthp *m = arg;
	int seen = 0;
	uint64_t rnd = m->seed | 1;
	ptw_gate_wait(&m->gate);
	while (!ptw_gate_stopped(&m->gate)) {
		int r = __atomic_load_n(&m->round, __ATOMIC_ACQUIRE);
		if (r == seen) {
			sched_yield();
			continue;
		}
		seen = r;
		random_spin(&rnd);
		if (!uffd_wp(m, true) || !uffd_wp(m, false))
			return NULL;
		m->zaps++;
	}
	return NULL;
}

/* userfaultfd, asynchronous write-protect mode, over the folio */
static int uffd_setup(struct mthp *m, char *why, size_t n)
{
	m->uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (m->uffd < 0) {
		snprintf(why, n, "userfaultfd: %s", strerror(errno));
		return -1;
	}
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_WP_ASYNC};
	if (ioctl(m->uffd, UFFDIO_API, &api) < 0) {
		snprintf(why, n, "UFFDIO_API with WP_ASYNC: %s",
			 strerror(errno));
		return -1;
	}
	struct uffdio_register reg = {
		.range = {(uint64_t)(uintptr_t)m->base, m->len},
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(m->uffd, UFFDIO_REGISTER, &reg) < 0) {
		snprintf(why, n, "UFFDIO_REGISTER (write-protect): %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int verify_all(struct mthp *m, const char *when)
{
	size_t wpp = ptw_pagesize / 8, bad_pages = 0, zero_pages = 0, first = 0;
	struct ptw_bad b0 = {0, 0, 0};
	for (size_t p = 0; p < m->npages - (m->skip_last ? 1 : 0); p++) {
		struct ptw_bad b;
		char *page = m->base + p * ptw_pagesize;
		if (ptw_check(page, wpp, m->seed, p * wpp, &b) < 0)
			continue;
		if (!bad_pages++) {
			first = p;
			b0 = b;
		}
		if (ptw_check_zero(page, wpp, NULL) < 0)
			zero_pages++;
	}
	if (!bad_pages)
		return PTW_PASS;
	return ptw_fail("%s: %zu of %zu pages differ (%zu all zero); first: "
			"page %zu word %zu reads 0x%016" PRIx64
			", want 0x%016" PRIx64,
			when, bad_pages, m->npages, zero_pages, first, b0.word,
			b0.got, b0.want);
}

static int run(const void *argp)
{
	const struct mthp_arg *a = argp;
	char why[256];
	struct mthp m;
	struct ptw_memcg cg = {.ok = false};
	memset(&m, 0, sizeof(m));
	m.uffd = -1;
	pthread_mutex_init(&m.lock, NULL);

	if (ptw_swap_devices() < 1)
		return ptw_skip("no swap device (zram module missing?)");
	if (ptw_mthp_enable(a->kb, why, sizeof(why)) < 0)
		return ptw_skip("%s", why);
	const char *e = getenv("PTW_MTHP_KB");
	m.unit = (size_t)a->kb << 10;
	m.len = (size_t)(e ? atol(e) : 256) << 10;
	if (m.len < 2 * m.unit)
		m.len = 2 * m.unit;
	if (a->zap || a->wp || a->mprot)
		m.len = m.unit; /* one folio */
	m.len &= ~(m.unit - 1);
	m.npages = m.len / ptw_pagesize;
	m.seed = 0x6d746870ULL ^ a->kb ^ (uint64_t)getpid() << 20;
	/* the zap race wants many rounds: bounded by the budget */
	m.zap = a->zap || a->wp || a->mprot;
	m.skip_last = a->zap;
	m.iters = ptw_iters(m.zap ? 1000 : a->cold ? 4 : 24);
	if (a->cold && !ptw_memcg_enter(&cg, "mthp", 0, why, sizeof(why)))
		ptw_diag("%s; the hog runs without a memory cgroup", why);

	struct ptw_mthp_stats st0;
	long pswpout0 = ptw_vmstat("pswpout"), pswpin0 = ptw_vmstat("pswpin");
	ptw_mthp_stats_get(a->kb, &st0);
	m.base = ptw_map_aligned(m.len, m.unit, PROT_READ | PROT_WRITE);
	if (!m.base)
		return ptw_fail("mmap %zu bytes: %s", m.len, strerror(errno));
	if (madvise(m.base, m.len, MADV_HUGEPAGE) < 0)
		return ptw_skip("MADV_HUGEPAGE: %s", strerror(errno));
	if (a->wp && uffd_setup(&m, why, sizeof(why)) < 0) {
		if (m.uffd >= 0)
			close(m.uffd);
		munmap(m.base, m.len);
		return ptw_skip("%s", why);
	}
	/* mapped (the first folio) before it is tracked */
	*(volatile uint64_t *)m.base = ptw_pat(m.seed, 0);
	/* the zapper's page changes by design: not tracked */
	size_t tracked = m.len - (m.skip_last ? ptw_pagesize : 0);
	ptw_track(m.base, tracked);
	ptw_phasef("fill:%uk", a->kb);
	ptw_fill(m.base, m.len / 8, m.seed, 0);
	ptw_mthp_stats_diag(a->kb, "after fill", &st0);

	int rc = verify_all(&m, "after fill");
	if (rc != PTW_PASS)
		goto out;

	size_t hog_bytes = 0;
	if (a->cold) {
		if (cg.ok) {
			/* a high mark just above what we use: the hog's
			 * demand beyond it is reclaimed from this group, by
			 * the charging task on its way back to user mode.
			 * memory.high, not memory.max: with the readers
			 * faulting the region back in, reclaim can fall
			 * behind a hard limit for a moment, and the OOM
			 * killer then killed the test on correct kernels
			 * (6.12 arm64 cold_hog_reclaim, 7.2 x86-64
			 * reclaim_vs_mprotect); over the high mark the
			 * kernel throttles instead */
			long cur = ptw_memcg_long(&cg, "memory.current");
			char p[192], v[32];
			snprintf(p, sizeof(p), "%s/memory.high", cg.path);
			snprintf(v, sizeof(v), "%ld", cur + (256L << 10));
			ptw_write_file(p, v);
			hog_bytes = m.len + (512u << 10);
			ptw_diag("memory cgroup: usage %ld KiB, high %ld KiB, "
				 "hog %zu KiB",
				 cur >> 10, (cur >> 10) + 256, hog_bytes >> 10);
		} else {
			long avail = ptw_meminfo_kb("MemAvailable");
			const char *h = getenv("PTW_HOG_MAX_MB");
			size_t cap = (size_t)(h ? atol(h) : 128) << 20;
			hog_bytes = avail > 65536
					    ? (size_t)(avail - 49152) << 10
					    : 8u << 20;
			if (hog_bytes > cap)
				hog_bytes = cap;
			ptw_diag("hog of %zu MiB (MemAvailable %ld MiB, cap "
				 "%zu MiB)",
				 hog_bytes >> 20, avail >> 10, cap >> 20);
		}
	}

	m.hog_bytes = hog_bytes;
	pthread_t th[NREADERS + 2];
	void *args[NREADERS][2];
	ptw_gate_init(&m.gate, NREADERS + 1 + (m.zap ? 1 : 0));
	m.deadline = ptw_deadline();
	for (int i = 0; i < NREADERS; i++) {
		args[i][0] = &m;
		args[i][1] = (void *)(intptr_t)i;
		pthread_create(&th[i], NULL, reader, args[i]);
	}
	if (a->mprot) {
		pthread_create(&th[NREADERS + 1], NULL, mprotect_flipper, &m);
		pthread_create(&th[NREADERS], NULL, reclaim_vs_mprotect, &m);
		pthread_join(th[NREADERS], NULL);
	} else if (m.zap) {
		pthread_create(&th[NREADERS + 1], NULL,
			       a->wp ? wp_toggler : zapper, &m);
		pthread_create(&th[NREADERS], NULL, pageout_vs_zap, &m);
		pthread_join(th[NREADERS], NULL);
	} else if (!a->cold) {
		pthread_create(&th[NREADERS], NULL, pageout, &m);
		pthread_join(th[NREADERS], NULL);
	} else {
		ptw_gate_wait(&m.gate);
		for (long it = 0; ptw_more(it, 1, m.iters, m.deadline); it++) {
			ptw_phase("cold+hog");
			madvise(m.base, m.len, MADV_COLD);
			pid_t hog = ptw_hog_start(hog_bytes);
			int hr = ptw_hog_wait(hog);
			if (hr)
				ptw_diag("hog %s",
					 hr > 0 ? "killed (OOM?)" : "failed");
			note_swapped(&m);
			m.pageouts++;
		}
	}
	ptw_gate_stop(&m.gate);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	if (m.zap) {
		pthread_join(th[NREADERS + 1], NULL);
		ptw_diag("%s %ld",
			 a->mprot ? "mprotect round trips"
			 : a->wp  ? "write-protect round trips"
				  : "last-page zaps",
			 m.zaps);
	}
	ptw_phase("verify");
	ptw_diag("%s rounds %ld, reader passes %ld/%ld, most pages seen "
		 "swapped %zu of %zu, pswpout +%ld pswpin +%ld",
		 a->cold ? "cold+hog" : "pageout", m.pageouts, m.passes[0],
		 m.passes[1], m.max_swapped, m.npages,
		 ptw_vmstat("pswpout") - pswpout0,
		 ptw_vmstat("pswpin") - pswpin0);
	ptw_mthp_stats_diag(a->kb, "at the end", &st0);
	if (m.errors)
		rc = ptw_fail("readers saw %ld bad pages; first: thread %d "
			      "page %zu word %zu reads 0x%016" PRIx64
			      ", want 0x%016" PRIx64,
			      m.errors, m.bad_thread, m.bad_page, m.bad.word,
			      m.bad.got, m.bad.want);
	int rc2 = verify_all(&m, "at the end");
	if (rc == PTW_PASS)
		rc = rc2;
	if (rc == PTW_PASS && ptw_vmstat("pswpout") == pswpout0)
		ptw_diag("note: nothing was swapped out (pswpout unchanged)");
out:
	ptw_untrack(m.base, tracked);
	munmap(m.base, m.len);
	if (m.uffd >= 0)
		close(m.uffd);
	ptw_memcg_leave(&cg);
	return rc;
}

static const struct mthp_arg a16 = {16, false, false, false, false},
			     a32 = {32, false, false, false, false},
			     a64 = {64, false, false, false, false},
			     a64cold = {64, true, false, false, false},
			     a64zap = {64, false, true, false, false},
			     a64wp = {64, false, false, true, false},
			     a64mprot = {64, true, false, false, true};

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"mthp_16k_pageout_vs_swapin", run, &a16},
		{"mthp_32k_pageout_vs_swapin", run, &a32},
		{"mthp_64k_pageout_vs_swapin", run, &a64},
		{"mthp_64k_cold_hog_reclaim", run, &a64cold},
		{"mthp_64k_pageout_vs_zap", run, &a64zap},
		{"mthp_64k_pageout_vs_uffd_wp", run, &a64wp},
		{"mthp_64k_reclaim_vs_mprotect", run, &a64mprot},
	};
	return ptw_run("mthp_swap", argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
