// SPDX-License-Identifier: MIT
/*
 * punch_hole_private: punching a hole in a file mapped MAP_PRIVATE must not
 * zap the private (COWed) pages of the mapping, whether they are present,
 * swapped out or under migration, and must zap the rest (seed 004: zapping
 * a range must neither skip nor wrongly zap swap/migration entries of
 * private COWed pages).
 *
 * A memfd (or a tmpfs file) is filled with a pattern and mapped MAP_PRIVATE;
 * every page is read, every third page is written with private data (COW).
 * Optionally MADV_PAGEOUT swaps the COWed pages out (and the file's own
 * pages to shmem swap), then fallocate(PUNCH_HOLE | KEEP_SIZE) over the
 * whole file or its middle half. Afterwards COWed pages must hold their
 * private data, the other pages in the hole zeros, the others the file's
 * data; the file itself must read zeros in the hole. The race scenarios
 * punch while another thread keeps paging the mapping out, or compacts
 * memory (migration entries), and a reader checks the private pages.
 *
 * truncate_memfd_cow_swapped shrinks the file instead (ftruncate to half)
 * after the COWed pages were swapped out: truncation zaps private COWed
 * pages too (unmap_mapping_range() with even_cows), swap entries
 * included, so every page past the new end must raise SIGBUS. That is
 * the case the seed thread names (a zap that skips swap entries whenever
 * zap_details is given leaves the private pages past EOF readable).
 *
 * The untouched pages change by design (the hole): they are declared to
 * ptwatch with ptw_expect_write before the punch.
 *
 * Tunables (besides ptw-test.h's): PTW_PUNCH_PAGES pages per file (32).
 */
#include "ptw-test.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

enum ph_kind {
	PH_PRESENT,	    /* COWed pages present */
	PH_SWAPPED,	    /* COWed pages swapped out */
	PH_PARTIAL_SWAPPED, /* hole over the middle half only */
	PH_TMPFS_SWAPPED,   /* a tmpfs file instead of a memfd */
	PH_RACE_PAGEOUT,    /* punch while a thread pages out */
	PH_RACE_COMPACT,    /* punch while memory is compacted */
	PH_TRUNCATE_SWAPPED /* COWed pages swapped out, then ftruncate */
};

struct ph {
	enum ph_kind kind;
	int fd;
	char *map;
	size_t len, npages;
	uint64_t fseed, cseed;
	bool *cow;
	struct ptw_gate gate;
	long errors, passes, churns;
	char msg[300];
};

static size_t wpp(void)
{
	return ptw_pagesize / 8;
}

static int open_file(enum ph_kind kind, char *why, size_t wlen)
{
	if (kind == PH_TMPFS_SWAPPED) {
		char path[64];
		snprintf(path, sizeof(path), "/tmp/ptw-punch-%d",
			 (int)getpid());
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);
		if (fd < 0)
			snprintf(why, wlen, "open %s: %s", path,
				 strerror(errno));
		else
			unlink(path);
		return fd;
	}
	int fd = (int)syscall(SYS_memfd_create, "ptw-punch", 1u /* CLOEXEC */);
	if (fd < 0)
		snprintf(why, wlen, "memfd_create: %s", strerror(errno));
	return fd;
}

/* the file's contents through write(), page by page */
static bool fill_file(int fd, size_t npages, uint64_t seed)
{
	uint64_t *page = malloc(ptw_pagesize);
	if (!page)
		return false;
	for (size_t p = 0; p < npages; p++) {
		for (size_t i = 0; i < wpp(); i++)
			page[i] = ptw_pat(seed, p * wpp() + i);
		if (pwrite(fd, page, ptw_pagesize, (off_t)(p * ptw_pagesize)) !=
		    (ssize_t)ptw_pagesize) {
			free(page);
			return false;
		}
	}
	free(page);
	return true;
}

static void *cow_reader(void *arg)
{
	struct ph *h = arg;
	ptw_gate_wait(&h->gate);
	while (!ptw_gate_stopped(&h->gate)) {
		for (size_t p = 0; p < h->npages; p++) {
			if (!h->cow[p])
				continue;
			struct ptw_bad b;
			if (ptw_check_page_sampled(h->map + p * ptw_pagesize,
						   h->cseed, p * wpp(),
						   &b) >= 0 &&
			    !h->errors++)
				snprintf(h->msg, sizeof(h->msg),
					 "during the punch, COWed page %zu "
					 "word %zu reads 0x%016" PRIx64
					 ", want 0x%016" PRIx64,
					 p, b.word, b.got, b.want);
		}
		h->passes++;
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct ph *h = arg;
	ptw_gate_wait(&h->gate);
	while (!ptw_gate_stopped(&h->gate)) {
		if (h->kind == PH_RACE_COMPACT)
			ptw_write_file("/proc/sys/vm/compact_memory", "1");
		else
			madvise(h->map, h->len, MADV_PAGEOUT);
		h->churns++;
	}
	return NULL;
}

static int check_result(struct ph *h, size_t hole_lo, size_t hole_hi)
{
	size_t bad = 0;
	char first[300] = "";
	for (size_t p = 0; p < h->npages; p++) {
		char *page = h->map + p * ptw_pagesize;
		bool in_hole = p >= hole_lo && p < hole_hi;
		struct ptw_bad b;
		long w;
		const char *what;
		if (h->cow[p]) {
			w = ptw_check(page, wpp(), h->cseed, p * wpp(), &b);
			what = "COWed page lost its private data";
		} else if (in_hole) {
			w = ptw_check_zero(page, wpp(), &b);
			what = "untouched page in the hole is not zero";
		} else {
			w = ptw_check(page, wpp(), h->fseed, p * wpp(), &b);
			what = "untouched page outside the hole lost the "
			       "file's data";
		}
		if (w < 0)
			continue;
		if (!bad++)
			snprintf(first, sizeof(first),
				 "page %zu: %s: word %zu reads 0x%016" PRIx64
				 ", want 0x%016" PRIx64 "%s",
				 p, what, b.word, b.got, b.want,
				 h->cow[p] && ptw_check_zero(page, wpp(),
							     NULL) < 0
					 ? " (page all zero: zapped)"
					 : "");
	}
	if (bad)
		return ptw_fail("%zu of %zu pages wrong after the punch; first "
				"%s",
				bad, h->npages, first);
	/* the file itself */
	uint64_t *page = malloc(ptw_pagesize);
	for (size_t p = 0; page && p < h->npages; p++) {
		if (pread(h->fd, page, ptw_pagesize,
			  (off_t)(p * ptw_pagesize)) != (ssize_t)ptw_pagesize) {
			free(page);
			return ptw_fail("pread of page %zu: %s", p,
					strerror(errno));
		}
		bool in_hole = p >= hole_lo && p < hole_hi;
		struct ptw_bad b;
		long w = in_hole ? ptw_check_zero(page, wpp(), &b)
				 : ptw_check(page, wpp(), h->fseed, p * wpp(),
					     &b);
		if (w >= 0) {
			free(page);
			return ptw_fail("file page %zu (%s the hole) word %zu "
					"reads 0x%016" PRIx64,
					p, in_hole ? "in" : "outside", b.word,
					b.got);
		}
	}
	free(page);
	return PTW_PASS;
}

static sigjmp_buf probe_jb;

static void probe_bus(int sig)
{
	siglongjmp(probe_jb, sig);
}

/* reading the first word of va raises SIGBUS */
static bool raises_sigbus(const char *va)
{
	struct sigaction sa = {.sa_handler = probe_bus}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	bool bus = false;
	if (sigsetjmp(probe_jb, 1))
		bus = true;
	else
		(void)*(volatile const uint64_t *)va;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/* after the truncation to half: the first half as before, every page of
 * the second half (COWed or not) gone: SIGBUS */
static int check_truncated(struct ph *h)
{
	size_t half = h->npages / 2;
	for (size_t p = 0; p < h->npages; p++) {
		char *page = h->map + p * ptw_pagesize;
		if (p >= half) {
			if (!raises_sigbus(page))
				return ptw_fail(
					"page %zu (%s) past the new end of the "
					"file is still readable after "
					"ftruncate "
					"(first word 0x%016" PRIx64 "): the "
					"truncation left its entry",
					p, h->cow[p] ? "COWed" : "untouched",
					*(const uint64_t *)page);
			continue;
		}
		struct ptw_bad b;
		long w = h->cow[p] ? ptw_check(page, wpp(), h->cseed, p * wpp(),
					       &b)
				   : ptw_check(page, wpp(), h->fseed, p * wpp(),
					       &b);
		if (w >= 0)
			return ptw_fail("page %zu before the new end: word %zu "
					"reads 0x%016" PRIx64
					", want 0x%016" PRIx64,
					p, b.word, b.got, b.want);
	}
	return PTW_PASS;
}

static int one_round(struct ph *h, long r)
{
	char why[256];
	int rc = PTW_PASS;
	h->fd = open_file(h->kind, why, sizeof(why));
	if (h->fd < 0)
		return ptw_skip("%s", why);
	h->fseed =
		0x70756e6368ULL ^ (uint64_t)getpid() << 40 ^ (uint64_t)r << 8;
	h->cseed = h->fseed ^ 0x5a5a5a5a00000000ULL;
	if (ftruncate(h->fd, (off_t)h->len) < 0 ||
	    !fill_file(h->fd, h->npages, h->fseed))
		return ptw_fail("cannot fill the file: %s", strerror(errno));
	h->map = mmap(NULL, h->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, h->fd,
		      0);
	if (h->map == MAP_FAILED)
		return ptw_fail("mmap MAP_PRIVATE: %s", strerror(errno));
	ptw_phasef("punch:map%ld", r);
	for (size_t p = 0; p < h->npages; p++) {
		/* every page read (file pages mapped), every third written */
		struct ptw_bad b;
		if (ptw_check_page_sampled(h->map + p * ptw_pagesize, h->fseed,
					   p * wpp(), &b) >= 0) {
			rc = ptw_fail("page %zu reads 0x%016" PRIx64
				      " before the punch, want the file's "
				      "0x%016" PRIx64,
				      p, b.got, b.want);
			goto out;
		}
	}
	/* tracked once mapped (ptwatch ignores a region not mapped yet) */
	ptw_track(h->map, h->len);
	for (size_t p = 0; p < h->npages; p++) {
		h->cow[p] = (p + (size_t)r) % 3 == 0;
		if (h->cow[p])
			ptw_fill(h->map + p * ptw_pagesize, wpp(), h->cseed,
				 p * wpp());
	}
	size_t hole_lo = 0, hole_hi = h->npages;
	if (h->kind == PH_PARTIAL_SWAPPED) {
		hole_lo = h->npages / 4;
		hole_hi = h->npages * 3 / 4;
	}
	if (h->kind == PH_SWAPPED || h->kind == PH_PARTIAL_SWAPPED ||
	    h->kind == PH_TMPFS_SWAPPED || h->kind == PH_TRUNCATE_SWAPPED) {
		ptw_phase("punch:pageout");
		madvise(h->map, h->len, MADV_PAGEOUT);
		struct ptw_residency res = ptw_residency(h->map, h->len);
		if (r == 0)
			ptw_diag(
				"after MADV_PAGEOUT: %zu swapped, %zu present, "
				"%zu not mapped of %zu pages",
				res.swapped, res.present, res.none, h->npages);
	}
	if (h->kind == PH_TRUNCATE_SWAPPED) {
		/* the second half goes, private pages too */
		ptw_expect_write(h->map + h->npages / 2 * ptw_pagesize,
				 h->len - h->npages / 2 * ptw_pagesize);
		ptw_phasef("punch:truncate%ld", r);
		if (ftruncate(h->fd, (off_t)(h->npages / 2 * ptw_pagesize)) <
		    0) {
			rc = ptw_fail("ftruncate: %s", strerror(errno));
			goto out;
		}
		ptw_phasef("punch:verify%ld", r);
		rc = check_truncated(h);
		goto out;
	}
	/* The hole changes the untouched pages by design. (ptwatch ignores
	 * requests on unmapped pages: pages paged out above are skipped; this
	 * address space never stored to them, so it remembers nothing.) */
	for (size_t p = hole_lo; p < hole_hi; p++)
		if (!h->cow[p] &&
		    ptw_residency(h->map + p * ptw_pagesize, ptw_pagesize)
			    .present)
			ptw_expect_write(h->map + p * ptw_pagesize,
					 ptw_pagesize);
	pthread_t th[2];
	bool race = h->kind == PH_RACE_PAGEOUT || h->kind == PH_RACE_COMPACT;
	if (race) {
		ptw_gate_init(&h->gate, 3);
		pthread_create(&th[0], NULL, cow_reader, h);
		pthread_create(&th[1], NULL, churner, h);
		ptw_gate_wait(&h->gate);
		/* let the churner get going (a compaction pass blocks in
		 * the kernel: punch during the first one) */
		if (h->kind == PH_RACE_COMPACT)
			ptw_msleep(2);
		else
			while (!__atomic_load_n(&h->churns, __ATOMIC_RELAXED))
				sched_yield();
	}
	ptw_phasef("punch:punch%ld", r);
	if (fallocate(h->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(hole_lo * ptw_pagesize),
		      (off_t)((hole_hi - hole_lo) * ptw_pagesize)) < 0) {
		int err = errno;
		if (race) {
			ptw_gate_stop(&h->gate);
			pthread_join(th[0], NULL);
			pthread_join(th[1], NULL);
		}
		rc = ptw_skip("fallocate(PUNCH_HOLE): %s", strerror(err));
		goto out;
	}
	if (race) {
		ptw_msleep(20);
		ptw_gate_stop(&h->gate);
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		if (h->errors) {
			rc = ptw_fail("%s", h->msg);
			goto out;
		}
	}
	ptw_phasef("punch:verify%ld", r);
	rc = check_result(h, hole_lo, hole_hi);
out:
	ptw_untrack(h->map, h->len);
	munmap(h->map, h->len);
	close(h->fd);
	return rc;
}

static int run(const void *arg)
{
	struct ph h;
	memset(&h, 0, sizeof(h));
	h.kind = (enum ph_kind)(intptr_t)arg;
	if (h.kind != PH_PRESENT && h.kind != PH_RACE_COMPACT &&
	    ptw_swap_devices() < 1)
		return ptw_skip("no swap device (zram module missing?)");
	if (h.kind == PH_RACE_COMPACT &&
	    !ptw_exists("/proc/sys/vm/compact_memory"))
		return ptw_skip("no /proc/sys/vm/compact_memory "
				"(CONFIG_COMPACTION off)");
	const char *e = getenv("PTW_PUNCH_PAGES");
	h.npages = e ? (size_t)atol(e) : 32;
	if (h.npages < 8)
		h.npages = 8;
	h.len = h.npages * ptw_pagesize;
	h.cow = calloc(h.npages, sizeof(bool));
	long pswpout0 = ptw_vmstat("pswpout");
	long mig0 = ptw_vmstat("pgmigrate_success");
	long rounds = ptw_iters(
		h.kind == PH_RACE_PAGEOUT || h.kind == PH_RACE_COMPACT ? 4 : 3);
	double deadline = ptw_deadline();
	int rc = PTW_PASS;
	long r;
	for (r = 0; rc == PTW_PASS && ptw_more(r, 1, rounds, deadline); r++)
		rc = one_round(&h, r);
	if (h.kind == PH_RACE_PAGEOUT || h.kind == PH_RACE_COMPACT)
		ptw_diag("%ld rounds, %ld %s, %ld reader passes", r, h.churns,
			 h.kind == PH_RACE_COMPACT ? "compactions" : "pageouts",
			 h.passes);
	ptw_diag("pswpout +%ld, pgmigrate_success +%ld",
		 ptw_vmstat("pswpout") - pswpout0,
		 ptw_vmstat("pgmigrate_success") - mig0);
	free(h.cow);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"punch_memfd_cow_present", run, (void *)(intptr_t)PH_PRESENT},
		{"punch_memfd_cow_swapped", run, (void *)(intptr_t)PH_SWAPPED},
		{"punch_memfd_partial_cow_swapped", run,
		 (void *)(intptr_t)PH_PARTIAL_SWAPPED},
		{"punch_tmpfs_cow_swapped", run,
		 (void *)(intptr_t)PH_TMPFS_SWAPPED},
		{"punch_memfd_vs_pageout", run,
		 (void *)(intptr_t)PH_RACE_PAGEOUT},
		{"punch_memfd_vs_compaction", run,
		 (void *)(intptr_t)PH_RACE_COMPACT},
		{"truncate_memfd_cow_swapped", run,
		 (void *)(intptr_t)PH_TRUNCATE_SWAPPED},
	};
	return ptw_run("punch_hole_private", argc, argv, sc,
		       sizeof(sc) / sizeof(sc[0]));
}
