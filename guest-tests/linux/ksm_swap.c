// SPDX-License-Identifier: MIT
/*
 * ksm_swap: KSM-merged pages swapped out, then written by one process while
 * another reads them (seed 000: a swap entry reused while a KSM copy is in
 * flight, pte_same() passing on a changed-and-changed-back entry; seed 002:
 * do_wp_page() reusing a page that someone else can still reach).
 *
 * Two processes (fork) each fill their own copy of a MADV_MERGEABLE region
 * with the same per-page contents; ksmd (run=1, a large pages_to_scan, a
 * short sleep) merges them, which the test waits for (bounded) through
 * /sys/kernel/mm/ksm/pages_sharing. The pages are then pushed to swap:
 * MADV_PAGEOUT (which leaves shared pages alone) and memory.reclaim of the
 * scenario's memory cgroup (which does not). Then one process writes new
 * data over every page while the other reads and checks its own copy, or
 * both write different data at once. Each side must see only its own data.
 *
 * One scenario works on present KSM pages in one process: two pages with
 * the same contents are merged into one KSM page, then one of them is
 * written. A KSM page is never reused for writing (do_wp_page() copies
 * it), so the other page keeps its data. Were it reused in place (seed
 * 002), the write would show in the other page: ptwatch sees that page's
 * data change with no store to it (DATA_MISMATCH), and the test's own
 * check fails. A merge is seen as the two pages mapping one page frame
 * with KPF_KSM (/proc/self/pagemap, /proc/kpageflags).
 *
 * Tunables (besides ptw-test.h's): PTW_KSM_PAGES pages per region (16),
 * PTW_KSM_WAIT seconds to wait for merging (20).
 */
#include "ptw-test.h"

#define KSM	 "/sys/kernel/mm/ksm"
#define MAXSTEPS 64

enum mode { CHILD_WRITES, PARENT_WRITES, BOTH_WRITE };

struct ctl {
	int arrived[MAXSTEPS];
	int writer_done;
	long swapped[2];
	long errors[2];
	char msg[2][256];
};

struct side {
	struct ctl *ctl;
	int me; /* 0 parent, 1 child */
	int step;
	char *base;
	size_t len, npages;
};

/* both sides reach step k; false if the other side never came (60 s) */
static bool meet(struct side *s)
{
	int k = s->step++;
	if (k >= MAXSTEPS)
		return false;
	__atomic_add_fetch(&s->ctl->arrived[k], 1, __ATOMIC_SEQ_CST);
	double t0 = ptw_now();
	while (__atomic_load_n(&s->ctl->arrived[k], __ATOMIC_SEQ_CST) < 2) {
		if (ptw_now() - t0 > 60)
			return false;
		sched_yield();
	}
	return true;
}

static void side_error(struct side *s, const char *fmt, ...) PTW_PRINTF(2, 3);
static void side_error(struct side *s, const char *fmt, ...)
{
	if (!s->ctl->errors[s->me]++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->ctl->msg[s->me], sizeof(s->ctl->msg[0]), fmt, ap);
		va_end(ap);
	}
}

static size_t wpp(void)
{
	return ptw_pagesize / 8;
}

/* check every page against seed (every word, or sampled); returns the
 * number of bad pages */
static size_t check_all(struct side *s, uint64_t seed, const char *when,
			bool sampled)
{
	size_t bad = 0;
	for (size_t p = 0; p < s->npages; p++) {
		struct ptw_bad b;
		char *page = s->base + p * ptw_pagesize;
		if ((sampled ? ptw_check_page_sampled(page, seed, p * wpp(), &b)
			     : ptw_check(page, wpp(), seed, p * wpp(), &b)) < 0)
			continue;
		if (!bad++)
			side_error(
				s,
				"%s: %s: page %zu word %zu reads 0x%016" PRIx64
				", want 0x%016" PRIx64 "%s",
				s->me ? "child" : "parent", when, p, b.word,
				b.got, b.want,
				ptw_check_zero(s->base + p * ptw_pagesize,
					       wpp(), NULL) < 0
					? " (page all zero)"
					: "");
	}
	return bad;
}

static void write_all(struct side *s, uint64_t seed)
{
	for (size_t p = 0; p < s->npages; p++)
		ptw_fill(s->base + p * ptw_pagesize, wpp(), seed, p * wpp());
}

/* the part both processes run; returns 0 or 1 (failed / lost sync) */
static int side_run(struct side *s, enum mode mode, long rounds, uint64_t seed0,
		    struct ptw_memcg *cg)
{
	bool writer = mode == BOTH_WRITE || (mode == CHILD_WRITES) == s->me;
	*(volatile uint64_t *)s->base = 0; /* mapped before it is tracked */
	ptw_track(s->base, s->len);
	for (long r = 0; r < rounds; r++) {
		uint64_t same = seed0 + 0x100 * r;
		uint64_t mine = same + 1 + s->me; /* what a writer writes */
		ptw_phasef("ksm:fill%ld", r);
		write_all(s, same);
		if (!meet(s)) /* both filled */
			return 1;
		if (s->me == 0) { /* the parent waits for ksmd */
			long sh0 = ptw_read_long(KSM "/pages_sharing", 0);
			long want = (long)s->npages / 2;
			const char *e = getenv("PTW_KSM_WAIT");
			double tmax = (e ? atof(e) : 20) * ptw_scale;
			double t0 = ptw_now();
			long sh = sh0;
			ptw_phase("ksm:wait-merge");
			/* pages_sharing counts the second and later
			 * mappers; sh0 already holds the earlier rounds */
			while (ptw_now() - t0 < tmax) {
				sh = ptw_read_long(KSM "/pages_sharing", 0);
				long mp = ptw_read_long(
					"/proc/self/ksm_merging_pages", -1);
				long got = mp >= 0 ? mp : sh - sh0;
				/* all of them, or half after 2 s */
				if (got >= (long)s->npages ||
				    (got >= want && ptw_now() - t0 > 2.0))
					break;
				ptw_msleep(20);
			}
			long mp = ptw_read_long("/proc/self/ksm_merging_pages",
						-1);
			ptw_diag(
				"round %ld: merged after %.2f s: pages_sharing "
				"%ld (+%ld), this process's merging pages %ld "
				"of %zu",
				r, ptw_now() - t0, sh, sh - sh0, mp, s->npages);
			if (mp >= 0 ? mp < want : sh - sh0 < want) {
				snprintf(s->ctl->msg[0], sizeof(s->ctl->msg[0]),
					 "KSM merged only %ld of %zu pages "
					 "within %.0f s",
					 mp >= 0 ? mp : sh - sh0, s->npages,
					 tmax);
				s->ctl->errors[0] = -1; /* skip */
			}
		}
		if (!meet(s)) /* merged (or gave up) */
			return 1;
		if (s->ctl->errors[0] < 0)
			return 0;
		/* push them out: pageout leaves shared pages alone, the
		 * cgroup's memory.reclaim does not */
		ptw_phase("ksm:pageout");
		madvise(s->base, s->len, MADV_PAGEOUT);
		if (!meet(s))
			return 1;
		if (s->me == 0 && cg->ok) {
			/* a few times the two regions: the reclaim walks
			 * the group's LRU lists, oldest first */
			ptw_phase("ksm:reclaim");
			ptw_memcg_reclaim(cg, 4 * s->len);
		}
		if (!meet(s))
			return 1;
		struct ptw_residency res = ptw_residency(s->base, s->len);
		if ((long)res.swapped > s->ctl->swapped[s->me])
			s->ctl->swapped[s->me] = (long)res.swapped;
		__atomic_store_n(&s->ctl->writer_done, 0, __ATOMIC_SEQ_CST);
		if (!meet(s))
			return 1;
		/* the race */
		if (writer) {
			ptw_phasef("ksm:write%ld", r);
			write_all(s, mine);
			__atomic_add_fetch(&s->ctl->writer_done, 1,
					   __ATOMIC_SEQ_CST);
		} else {
			ptw_phasef("ksm:read%ld", r);
			int writers = 1;
			do {
				if (check_all(s, same,
					      "while the other side writes",
					      true))
					break;
			} while (__atomic_load_n(&s->ctl->writer_done,
						 __ATOMIC_SEQ_CST) < writers);
		}
		if (!meet(s))
			return 1;
		ptw_phasef("ksm:verify%ld", r);
		if (check_all(s, writer ? mine : same, "after the writes",
			      false))
			return 1;
		if (s->ctl->errors[s->me])
			return 1;
		if (!meet(s))
			return 1;
	}
	return 0;
}

/* ksmd running, scanning fast, skipping nothing (and a swap device, when
 * asked): PTW_PASS, or the scenario's skip */
static int ksm_start(bool need_swap)
{
	if (!ptw_exists(KSM "/run"))
		return ptw_skip("no " KSM "/run (kernel without CONFIG_KSM)");
	if (need_swap && ptw_swap_devices() < 1)
		return ptw_skip("no swap device (zram module missing?)");
	ptw_knobs_init();
	if (ptw_set_knob(KSM "/run", "1") < 0)
		return ptw_skip("cannot start ksmd (" KSM "/run)");
	ptw_set_knob(KSM "/pages_to_scan", "4096");
	ptw_set_knob(KSM "/sleep_millisecs", "10");
	if (ptw_exists(KSM "/smart_scan")) /* do not skip unmerged pages */
		ptw_set_knob(KSM "/smart_scan", "0");
	return PTW_PASS;
}

static int run(const void *argp)
{
	enum mode mode = (enum mode)(intptr_t)argp;
	char why[256];
	struct ptw_memcg cg = {.ok = false};
	int rc0 = ksm_start(true);
	if (rc0 != PTW_PASS)
		return rc0;
	if (!ptw_memcg_enter(&cg, "ksm", 0, why, sizeof(why)))
		ptw_diag("%s; only MADV_PAGEOUT, which leaves KSM pages in "
			 "memory",
			 why);

	const char *e = getenv("PTW_KSM_PAGES");
	size_t npages = e ? (size_t)atol(e) : 16;
	if (npages < 2)
		npages = 2;
	size_t len = npages * ptw_pagesize;
	long rounds = ptw_iters(2);
	uint64_t seed0 =
		0x6b736d00ULL ^ (uint64_t)getpid() << 24 ^ (uint64_t)mode << 40;
	struct ctl *ctl = mmap(NULL, sizeof(struct ctl), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *base = ptw_map_aligned(len, ptw_pagesize, PROT_READ | PROT_WRITE);
	if (ctl == MAP_FAILED || !base)
		return ptw_fail("mmap: %s", strerror(errno));
	memset(ctl, 0, sizeof(*ctl));
	/* no transparent huge pages here: KSM merges base pages */
	madvise(base, len, MADV_NOHUGEPAGE);
	if (madvise(base, len, MADV_MERGEABLE) < 0)
		return ptw_skip("MADV_MERGEABLE: %s", strerror(errno));

	long pswpout0 = ptw_vmstat("pswpout"), pswpin0 = ptw_vmstat("pswpin");
	long ksm_swpin0 = ptw_vmstat("ksm_swpin_copy");
	long cow_ksm0 = ptw_vmstat("cow_ksm");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return ptw_fail("fork: %s", strerror(errno));
	struct side s = {ctl, pid == 0, 0, base, len, npages};
	if (pid == 0) {
		ptw_child_setup("child");
		int r = side_run(&s, mode, rounds, seed0, &cg);
		ptw_untrack(base, len);
		ptw_exit(r);
	}
	int r = side_run(&s, mode, rounds, seed0, &cg);
	ptw_untrack(base, len);
	int st = 0;
	double t0 = ptw_now();
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (ptw_now() - t0 > 60) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		ptw_msleep(10);
	}
	bool child_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	ptw_diag("most pages seen swapped: parent %ld, child %ld of %zu; "
		 "pswpout +%ld pswpin +%ld ksm_swpin_copy +%ld cow_ksm +%ld",
		 ctl->swapped[0], ctl->swapped[1], npages,
		 ptw_vmstat("pswpout") - pswpout0,
		 ptw_vmstat("pswpin") - pswpin0,
		 ptw_vmstat("ksm_swpin_copy") - ksm_swpin0,
		 ptw_vmstat("cow_ksm") - cow_ksm0);
	munmap(base, len);
	ptw_memcg_leave(&cg);
	if (ctl->errors[0] < 0)
		return ptw_skip("%s", ctl->msg[0]);
	int rc = PTW_PASS;
	for (int i = 0; i < 2; i++)
		if (ctl->errors[i])
			rc = ptw_fail("%s", ctl->msg[i]);
	if (!child_ok && rc == PTW_PASS)
		rc = ptw_fail("child %s %d",
			      WIFSIGNALED(st) ? "killed by signal" : "exited",
			      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (r && rc == PTW_PASS)
		rc = ptw_fail("the two processes lost step (step %d)", s.step);
	if (rc == PTW_PASS && ctl->swapped[0] + ctl->swapped[1] == 0)
		ptw_diag("note: no page was seen swapped out");
	return rc;
}

/* The page frame and kpageflags of the page at va: 1 present, 0 not
 * present, -1 cannot tell (no pagemap, PFNs hidden, no kpageflags) */
static int page_info(const void *va, uint64_t *pfn, uint64_t *flags)
{
	uint64_t pm = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	off_t off = (off_t)((uintptr_t)va / ptw_pagesize) * 8;
	ssize_t n = pread(fd, &pm, 8, off);
	close(fd);
	if (n != 8)
		return -1;
	if (!(pm >> 63 & 1))
		return 0;
	*pfn = pm & ((1ULL << 55) - 1);
	if (!*pfn)
		return -1;
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, flags, 8, (off_t)(*pfn * 8));
	close(fd);
	return n == 8 ? 1 : -1;
}

/* Wait until a and b map one KSM page: 1 yes, 0 not within secs, -1
 * cannot tell */
static int wait_merged(const void *a, const void *b, double secs)
{
	double t0 = ptw_now();
	do {
		uint64_t pa = 0, pb = 0, fa = 0, fb = 0;
		int ra = page_info(a, &pa, &fa), rb = page_info(b, &pb, &fb);
		if (ra < 0 || rb < 0)
			return -1;
		if (ra && rb && pa == pb && (fa >> 21 & 1)) /* KPF_KSM */
			return 1;
		ptw_msleep(10);
	} while (ptw_now() - t0 < secs);
	return 0;
}

static void fill_page(char *p, uint64_t seed)
{
	for (size_t i = 0; i < wpp(); i++)
		((volatile uint64_t *)p)[i] = ptw_pat(seed, i);
}

static int pair_run(const void *arg)
{
	(void)arg;
	int rc0 = ksm_start(false);
	if (rc0 != PTW_PASS)
		return rc0;
	const char *e = getenv("PTW_KSM_WAIT");
	double wait = e ? atof(e) : 10;
	size_t len = 2 * ptw_pagesize;
	char *base = ptw_map_aligned(len, ptw_pagesize, PROT_READ | PROT_WRITE);
	if (!base)
		return ptw_fail("mmap: %s", strerror(errno));
	madvise(base, len, MADV_NOHUGEPAGE);
	if (madvise(base, len, MADV_MERGEABLE) < 0)
		return ptw_skip("MADV_MERGEABLE: %s", strerror(errno));
	char *p0 = base, *p1 = base + ptw_pagesize;
	ptw_track(base, len);
	int rc = PTW_PASS;
	long it = 0, merged = 0;
	double deadline = ptw_deadline();
	for (; rc == PTW_PASS && ptw_more(it, 1, ptw_iters(20), deadline);
	     it++) {
		uint64_t x = 0x6b73000000ULL ^ (uint64_t)it << 8 ^
			     (uint64_t)getpid() << 32,
			 y = x ^ 0x5959;
		ptw_phase("ksm:merge");
		fill_page(p0, x);
		fill_page(p1, x);
		int k = wait_merged(p0, p1, wait);
		if (k < 0) {
			rc = ptw_skip("cannot tell KSM pages (pagemap or "
				      "kpageflags unreadable)");
			break;
		}
		if (!k) {
			ptw_diag("round %ld: not merged within %.0f s", it,
				 wait);
			break;
		}
		merged++;
		ptw_phase("ksm:write-one");
		fill_page(p0, y);
		struct ptw_bad b;
		if (ptw_check(p1, wpp(), x, 0, &b) >= 0)
			rc = ptw_fail("round %ld: the other page of the merged "
				      "pair reads word %zu as 0x%016" PRIx64
				      ", want 0x%016" PRIx64
				      "%s: the KSM page was written in place "
				      "(seed 002)",
				      it, b.word, b.got, b.want,
				      b.got == ptw_pat(y, b.word)
					      ? " (the written page's new data)"
					      : "");
		madvise(base, len, MADV_DONTNEED);
	}
	ptw_diag("%ld rounds, %ld merged", it, merged);
	ptw_untrack(base, len);
	munmap(base, len);
	if (rc == PTW_PASS && !merged)
		return ptw_skip("ksmd merged nothing within %.0f s", wait);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"ksm_swapped_child_writes_parent_reads", run,
		 (void *)(intptr_t)CHILD_WRITES},
		{"ksm_swapped_parent_writes_child_reads", run,
		 (void *)(intptr_t)PARENT_WRITES},
		{"ksm_swapped_both_write", run, (void *)(intptr_t)BOTH_WRITE},
		{"ksm_merged_pair_one_written", pair_run, NULL},
	};
	return ptw_run("ksm_swap", argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
