// SPDX-License-Identifier: MIT
/*
 * cow_gup: fork + copy-on-write with pages held by get_user_pages (seed 003:
 * the side holding a GUP reference or pin must keep its data; a COW fault
 * must not hand the page it holds to the other side or reuse it for
 * writing while someone else can still reach it).
 *
 * (a) vmsplice (no SPLICE_F_GIFT) puts a reference to anonymous pages into a
 *     pipe; after fork both sides write, or the splicing child unmaps and the
 *     parent writes (with and without swapping the pages out first, and with
 *     a 64 KiB mTHP buffer): reading the pipe must give the original data.
 * (b) O_DIRECT reads from a block device (/dev/vda, or PTW_DISK) into a
 *     private buffer that is COW-shared with a child while the other side
 *     writes its copy: the reader's buffer must hold the disk's data, the
 *     writer's its own. The disk should hold the ptwatch pattern: the
 *     8-byte little-endian word at byte offset o is 0x5054574400000000 |
 *     (o / 8) (guest-tests/linux/mkdisk.py writes it), so that every word
 *     says where it came from. Another disk is checked against a buffered
 *     read of the non-zero part of its first MiB; the scenarios skip
 *     without a disk.
 *
 * (c) A long-term pin (CONFIG_GUP_TEST's /sys/kernel/debug/gup_test,
 *     PIN_LONGTERM_TEST_START with FOLL_WRITE) on a private anonymous page,
 *     then fork, then the parent writes its page: the pinned page must be
 *     the one the parent maps (fork copies a maybe-pinned page for the
 *     child instead of sharing it), so reading through the pin
 *     (PIN_LONGTERM_TEST_READ) gives what the parent wrote. With the pin
 *     shared, the parent's write copies, and the pin keeps the old data
 *     (seed 003). Skips without gup_test (Debian's kernels lack it).
 *
 * Tunables (besides ptw-test.h's): PTW_DISK block device (/dev/vda),
 * PTW_GUP_KB O_DIRECT buffer size in KiB (32).
 */
#include "ptw-test.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#define DISK_MAGIC 0x5054574400000000ULL

static inline uint64_t disk_word(uint64_t off)
{
	return DISK_MAGIC | (off >> 3);
}

/* A disk without the pattern: what a buffered read (no O_DIRECT) gave,
 * up to disk_data_end (past its last non-zero word). */
static uint64_t *disk_ref;
static uint64_t disk_data_end;

static inline uint64_t disk_want(uint64_t off)
{
	return disk_ref ? disk_ref[off >> 3] : disk_word(off);
}

/* shared between parent and child */
struct ctl {
	int ready, go, stop, done;
	long child_passes;
	char msg[256];
};

static struct ctl *ctl_new(void)
{
	struct ctl *c = mmap(NULL, sizeof(struct ctl), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	memset(c, 0, sizeof(*c));
	return c;
}

static bool wait_flag(int *f, int val, double secs)
{
	double t0 = ptw_now();
	while (__atomic_load_n(f, __ATOMIC_SEQ_CST) < val) {
		if (ptw_now() - t0 > secs)
			return false;
		sched_yield();
	}
	return true;
}

static void set_flag(int *f, int val)
{
	__atomic_store_n(f, val, __ATOMIC_SEQ_CST);
}

static int child_status(pid_t pid, struct ctl *c, const char *who)
{
	int st = 0;
	double t0 = ptw_now();
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (ptw_now() - t0 > 60) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return ptw_fail("%s: no exit after 60 s", who);
		}
		ptw_msleep(5);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return PTW_PASS;
	if (c && c->msg[0])
		return ptw_fail("%s: %s", who, c->msg);
	return ptw_fail("%s %s %d", who,
			WIFSIGNALED(st) ? "killed by signal" : "exited",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static PTW_PRINTF(2, 3) int cfail(struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return 1;
}

/* first word of buf that differs from the pattern, described in out */
static bool check_pat(const void *buf, size_t len, uint64_t seed, char *out,
		      size_t olen, const char *what)
{
	struct ptw_bad b;
	if (ptw_check(buf, len / 8, seed, 0, &b) < 0)
		return true;
	snprintf(out, olen,
		 "%s: word %zu (page %zu) reads 0x%016" PRIx64
		 ", want 0x%016" PRIx64,
		 what, b.word, b.word * 8 / ptw_pagesize, b.got, b.want);
	return false;
}

/* ------------------------------------------------------------------ */
/* (a) vmsplice */

enum vs_kind {
	VS_BEFORE_FORK,
	VS_IN_CHILD,
	VS_IN_CHILD_PAGEOUT,
	VS_IN_CHILD_MTHP
};

/* read exactly len bytes from the pipe into out */
static bool read_pipe(int fd, char *out, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, out + got, len - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static bool splice_all(int fd, char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		struct iovec iov = {buf + done, len - done};
		ssize_t n = vmsplice(fd, &iov, 1, 0);
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static int vs_once(enum vs_kind kind, char *buf, size_t len, char *out,
		   uint64_t seed, long it)
{
	uint64_t p_seed = seed + 3 * it, q_seed = p_seed + 1,
		 r_seed = p_seed + 2;
	int pfd[2];
	char msg[300];
	struct ctl *c = ctl_new();
	if (!c)
		return ptw_fail("mmap: %s", strerror(errno));
	if (pipe(pfd) < 0)
		return ptw_fail("pipe: %s", strerror(errno));
	fcntl(pfd[1], F_SETPIPE_SZ, (int)(len > 65536 ? len : 65536));
	ptw_phasef("vs:fill%ld", it);
	ptw_fill(buf, len / 8, p_seed, 0);
	if (kind == VS_BEFORE_FORK) {
		ptw_phase("vs:splice");
		if (!splice_all(pfd[1], buf, len))
			return ptw_fail("vmsplice: %s", strerror(errno));
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return ptw_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		ptw_child_setup("child");
		ptw_track(buf, len);
		if (kind == VS_BEFORE_FORK) {
			/* both sides write at once */
			set_flag(&c->ready, 1);
			wait_flag(&c->go, 1, 60);
			ptw_phase("vs:child-write");
			ptw_fill(buf, len / 8, r_seed, 0);
			int ok = check_pat(buf, len, r_seed, msg, sizeof(msg),
					   "child's buffer after its write");
			ptw_untrack(buf, len);
			ptw_exit(ok ? 0 : cfail(c, "%s", msg));
		}
		/* cow.c's "vmsplice() + unmap in child" */
		ptw_phase("vs:child-splice");
		if (!splice_all(pfd[1], buf, len))
			ptw_exit(cfail(c, "vmsplice: %s", strerror(errno)));
		ptw_untrack(buf, len);
		if (munmap(buf, len) < 0)
			ptw_exit(cfail(c, "munmap: %s", strerror(errno)));
		set_flag(&c->ready, 1);
		if (!wait_flag(&c->done, 1, 60))
			ptw_exit(cfail(c, "parent never wrote"));
		ptw_track(out, len);
		ptw_phase("vs:child-read");
		if (!read_pipe(pfd[0], out, len))
			ptw_exit(cfail(c, "read from the pipe: %s",
				       strerror(errno)));
		int ok = check_pat(out, len, p_seed, msg, sizeof(msg),
				   "pipe (spliced in the child, parent "
				   "wrote its copy)");
		ptw_untrack(out, len);
		ptw_exit(ok ? 0 : cfail(c, "%s", msg));
	}
	int rc = PTW_PASS;
	if (!wait_flag(&c->ready, 1, 60)) {
		kill(pid, SIGKILL);
		return child_status(pid, c, "child");
	}
	if (kind == VS_IN_CHILD_PAGEOUT) {
		ptw_phase("vs:pageout");
		madvise(buf, len, MADV_PAGEOUT);
		struct ptw_residency r = ptw_residency(buf, len);
		if (it == 0)
			ptw_diag("after MADV_PAGEOUT: %zu of %zu pages "
				 "swapped, %zu present",
				 r.swapped, len / ptw_pagesize, r.present);
	}
	set_flag(&c->go, 1);
	ptw_phase("vs:parent-write");
	ptw_fill(buf, len / 8, q_seed, 0);
	set_flag(&c->done, 1);
	if (!check_pat(buf, len, q_seed, msg, sizeof(msg),
		       "parent's buffer after its write"))
		rc = ptw_fail("%s", msg);
	int crc = child_status(pid, c, "child");
	if (rc == PTW_PASS)
		rc = crc;
	if (kind == VS_BEFORE_FORK && rc == PTW_PASS) {
		ptw_phase("vs:read-pipe");
		if (!read_pipe(pfd[0], out, len))
			rc = ptw_fail("read from the pipe: %s",
				      strerror(errno));
		else if (!check_pat(out, len, p_seed, msg, sizeof(msg),
				    "pipe (spliced before fork, both "
				    "wrote)"))
			rc = ptw_fail("%s", msg);
	}
	close(pfd[0]);
	close(pfd[1]);
	munmap(c, sizeof(*c));
	return rc;
}

static int vmsplice_test(const void *arg)
{
	enum vs_kind kind = (enum vs_kind)(intptr_t)arg;
	size_t len = 4 * ptw_pagesize, align = ptw_pagesize;
	char why[256];
	if (kind == VS_IN_CHILD_PAGEOUT && ptw_swap_devices() < 1)
		return ptw_skip("no swap device (zram module missing?)");
	if (kind == VS_IN_CHILD_MTHP) {
		if (ptw_mthp_enable(64, why, sizeof(why)) < 0)
			return ptw_skip("%s", why);
		len = align = 64 << 10;
	}
	char *buf = ptw_map_aligned(len, align, PROT_READ | PROT_WRITE);
	char *out = ptw_map_aligned(len, ptw_pagesize, PROT_READ | PROT_WRITE);
	if (!buf || !out)
		return ptw_fail("mmap: %s", strerror(errno));
	struct ptw_mthp_stats st0;
	if (kind == VS_IN_CHILD_MTHP) {
		madvise(buf, len, MADV_HUGEPAGE);
		ptw_mthp_stats_get(64, &st0);
	}
	/* mapped before they are tracked */
	*(volatile uint64_t *)buf = 0;
	*(volatile uint64_t *)out = 0;
	ptw_track(buf, len);
	ptw_track(out, len);
	uint64_t seed =
		0x76730000ULL ^ (uint64_t)kind << 32 ^ (uint64_t)getpid() << 40;
	long iters = ptw_iters(kind == VS_BEFORE_FORK ? 8 : 4);
	double deadline = ptw_deadline();
	int rc = PTW_PASS;
	long it;
	for (it = 0; rc == PTW_PASS && ptw_more(it, 1, iters, deadline); it++)
		rc = vs_once(kind, buf, len, out, seed, it);
	if (kind == VS_IN_CHILD_MTHP)
		ptw_mthp_stats_diag(64, "vmsplice buffer", &st0);
	ptw_vdiag("%ld rounds", it);
	ptw_untrack(buf, len);
	ptw_untrack(out, len);
	return rc;
}

/* ------------------------------------------------------------------ */
/* (b) O_DIRECT */

enum od_kind { OD_PARENT_READS, OD_CHILD_READS, OD_SWAPPED };

static int open_disk(int *fd, uint64_t *size)
{
	const char *path = getenv("PTW_DISK");
	if (!path || !*path)
		path = "/dev/vda";
	if (!ptw_exists(path) && !strcmp(path, "/dev/vda") &&
	    !ptw_exists("/sys/module/virtio_blk")) {
		/* the driver may be a module the launcher put in /lib */
		pid_t pid = fork();
		if (pid == 0) {
			int nul = open("/dev/null", O_WRONLY);
			if (nul >= 0) {
				dup2(nul, 1);
				dup2(nul, 2);
			}
			execl("/sbin/modprobe", "modprobe", "virtio_blk",
			      (char *)NULL);
			execl("/bin/modprobe", "modprobe", "virtio_blk",
			      (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		for (int i = 0; i < 100 && !ptw_exists(path); i++)
			ptw_msleep(20);
	}
	if (!ptw_exists(path))
		return ptw_skip("no %s (the launcher attaches a 4 MiB "
				"virtio-blk disk with the ptwatch pattern; "
				"virtio_blk must be loaded)",
				path);
	*fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (*fd < 0)
		return ptw_skip("open %s with O_DIRECT: %s", path,
				strerror(errno));
	if (ioctl(*fd, BLKGETSIZE64, size) < 0)
		return ptw_skip("BLKGETSIZE64 on %s: %s", path,
				strerror(errno));
	char *probe = ptw_map_aligned(ptw_pagesize, ptw_pagesize,
				      PROT_READ | PROT_WRITE);
	if (!probe)
		return ptw_fail("mmap: %s", strerror(errno));
	ssize_t n = pread(*fd, probe, ptw_pagesize, 0);
	uint64_t w0 = n > 0 ? ((uint64_t *)probe)[0] : 0,
		 w1 = n > 0 ? ((uint64_t *)probe)[ptw_pagesize / 8 - 1] : 0;
	munmap(probe, ptw_pagesize);
	if (n != (ssize_t)ptw_pagesize)
		return ptw_skip("O_DIRECT read of %s: %s", path,
				n < 0 ? strerror(errno) : "short read");
	disk_data_end = *size;
	if (w0 == disk_word(0) && w1 == disk_word(ptw_pagesize - 8))
		return PTW_PASS;
	/* Not our pattern (mkdisk.py): check against a buffered read of
	 * the part of the disk that holds data. */
	uint64_t cap = *size < (1u << 20) ? *size : (1u << 20);
	int bfd = open(path, O_RDONLY | O_CLOEXEC);
	disk_ref = malloc(cap);
	if (bfd < 0 || !disk_ref ||
	    pread(bfd, disk_ref, cap, 0) != (ssize_t)cap)
		return ptw_skip("%s does not hold the ptwatch pattern and a "
				"buffered read of it failed",
				path);
	close(bfd);
	uint64_t end = cap / 8;
	while (end && !disk_ref[end - 1])
		end--;
	disk_data_end =
		(end * 8 + ptw_pagesize - 1) & ~(uint64_t)(ptw_pagesize - 1);
	if (disk_data_end < 2 * ptw_pagesize)
		return ptw_skip("%s holds no data (all zero)", path);
	ptw_diag("%s does not hold the ptwatch pattern (word 0 is "
		 "0x%016" PRIx64 "): checking against a buffered read of "
		 "its first %" PRIu64 " KiB (the rest of the first MiB is "
		 "zero)",
		 path, w0, disk_data_end >> 10);
	return PTW_PASS;
}

static bool check_disk(const char *buf, size_t len, uint64_t off, char *out,
		       size_t olen, const char *what)
{
	const volatile uint64_t *w = (const void *)buf;
	for (size_t i = 0; i < len / 8; i++) {
		uint64_t want = disk_want(off + i * 8);
		if (w[i] != want) {
			snprintf(out, olen,
				 "%s: word %zu (page %zu) reads 0x%016" PRIx64
				 ", want disk data 0x%016" PRIx64 "%s",
				 what, i, i * 8 / ptw_pagesize, w[i], want,
				 !disk_ref && (w[i] & ~0xffffffffULL) ==
							 DISK_MAGIC
					 ? " (disk data from another offset)"
					 : "");
			return false;
		}
	}
	return true;
}

/* Read len bytes at off into buf with O_DIRECT. The device's DMA is
 * invisible to ptwatch, so the buffer is declared changed by other means
 * (ptw_expect_write) after the read and before this thread loads from it:
 * by then the pages are mapped (ptwatch ignores requests on unmapped
 * memory, e.g. a buffer that was swapped out before the read). */
static ssize_t dio_read(int fd, char *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t r = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n <= 0) {
			r = n < 0 ? -1 : 0;
			break;
		}
		got += (size_t)n;
	}
	ptw_expect_write(buf, len);
	return r < 0 ? -1 : (ssize_t)got;
}

/* the writing side: rewrite its copy until told to stop, then check it */
static bool writer_loop(struct ctl *c, char *buf, size_t len, uint64_t seed,
			char *msg, size_t mlen, const char *who, bool track)
{
	long passes = 0;
	size_t wpp = ptw_pagesize / 8;
	ptw_fill(buf, len / 8, seed, 0); /* the COW faults */
	if (track) /* now mapped (it may have been swapped out) */
		ptw_track(buf, len);
	/* then keep storing into every page (same values) until the other
	 * side's read is done */
	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST) && passes < 2000) {
		for (size_t w = (size_t)passes % wpp; w < len / 8; w += wpp)
			((volatile uint64_t *)buf)[w] = ptw_pat(seed, w);
		passes++;
	}
	__atomic_store_n(&c->child_passes, passes, __ATOMIC_RELAXED);
	return check_pat(buf, len, seed, msg, mlen, who);
}

static int od_once(enum od_kind kind, int fd, char *buf, size_t len,
		   uint64_t off, uint64_t seed, long it)
{
	uint64_t p_seed = seed + 2 * it, c_seed = p_seed + 1;
	char msg[300];
	struct ctl *c = ctl_new();
	if (!c)
		return ptw_fail("mmap: %s", strerror(errno));
	ptw_phasef("od:fill%ld", it);
	ptw_fill(buf, len / 8, p_seed, 0);
	if (kind == OD_SWAPPED) {
		/* out to swap before fork: both sides share swap entries */
		madvise(buf, len, MADV_PAGEOUT);
		if (it == 0) {
			struct ptw_residency r = ptw_residency(buf, len);
			ptw_diag("after MADV_PAGEOUT: %zu of %zu pages "
				 "swapped",
				 r.swapped, len / ptw_pagesize);
		}
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return ptw_fail("fork: %s", strerror(errno));
	bool parent_reads = kind != OD_CHILD_READS;
	if (pid == 0) {
		ptw_child_setup("child");
		if (!parent_reads) /* (a swapped-out buffer is tracked later) */
			ptw_track(buf, len);
		set_flag(&c->ready, 1);
		wait_flag(&c->go, 1, 60);
		bool ok;
		if (parent_reads) {
			ptw_phase("od:child-write");
			ok = writer_loop(c, buf, len, c_seed, msg, sizeof(msg),
					 "child's buffer (it wrote while the "
					 "parent read the disk into its copy)",
					 true);
		} else {
			ptw_phase("od:child-read");
			ssize_t n = dio_read(fd, buf, len, off);
			set_flag(&c->stop, 1);
			if (n != (ssize_t)len)
				ptw_exit(cfail(c, "O_DIRECT read: %s",
					       n < 0 ? strerror(errno)
						     : "short read"));
			ok = check_disk(buf, len, off, msg, sizeof(msg),
					"child's buffer (it read the disk "
					"while the parent wrote its copy)");
		}
		ptw_untrack(buf, len);
		ptw_exit(ok ? 0 : cfail(c, "%s", msg));
	}
	int rc = PTW_PASS;
	if (!wait_flag(&c->ready, 1, 60)) {
		kill(pid, SIGKILL);
		return child_status(pid, c, "child");
	}
	set_flag(&c->go, 1);
	if (parent_reads) {
		ptw_phase("od:parent-read");
		ssize_t n = dio_read(fd, buf, len, off);
		set_flag(&c->stop, 1);
		if (n != (ssize_t)len)
			rc = ptw_fail("O_DIRECT read: %s",
				      n < 0 ? strerror(errno) : "short read");
		else if (!check_disk(buf, len, off, msg, sizeof(msg),
				     "parent's buffer (it read the disk while "
				     "the child wrote its copy)"))
			rc = ptw_fail("%s", msg);
	} else {
		ptw_phase("od:parent-write");
		if (!writer_loop(c, buf, len, p_seed + 7, msg, sizeof(msg),
				 "parent's buffer (it wrote while the child "
				 "read the disk into its copy)",
				 false))
			rc = ptw_fail("%s", msg);
	}
	int crc = child_status(pid, c, "child");
	if (rc == PTW_PASS)
		rc = crc;
	munmap(c, sizeof(*c));
	return rc;
}

static int odirect_test(const void *arg)
{
	enum od_kind kind = (enum od_kind)(intptr_t)arg;
	int fd = -1;
	uint64_t dsize = 0;
	if (kind == OD_SWAPPED && ptw_swap_devices() < 1)
		return ptw_skip("no swap device (zram module missing?)");
	int r = open_disk(&fd, &dsize);
	if (r != PTW_PASS)
		return r;
	const char *e = getenv("PTW_GUP_KB");
	size_t len = (size_t)(e ? atol(e) : 32) << 10;
	len = (len + ptw_pagesize - 1) & ~(ptw_pagesize - 1);
	if (len > disk_data_end / 2)
		len = (size_t)disk_data_end / 2 & ~(ptw_pagesize - 1);
	if (len < ptw_pagesize)
		return ptw_skip("disk too small (%" PRIu64 " bytes of data)",
				disk_data_end);
	char *buf = ptw_map_aligned(len, ptw_pagesize, PROT_READ | PROT_WRITE);
	if (!buf)
		return ptw_fail("mmap: %s", strerror(errno));
	madvise(buf, len, MADV_NOHUGEPAGE);
	*(volatile uint64_t *)buf = 0; /* mapped before it is tracked */
	ptw_track(buf, len);
	uint64_t seed =
		0x6f640000ULL ^ (uint64_t)kind << 32 ^ (uint64_t)getpid() << 40;
	long iters = ptw_iters(3);
	double deadline = ptw_deadline();
	uint64_t span = (disk_data_end - len) / ptw_pagesize;
	int rc = PTW_PASS;
	long it;
	for (it = 0; rc == PTW_PASS && ptw_more(it, 1, iters, deadline); it++) {
		uint64_t off =
			((uint64_t)it * 37 + 5) % (span + 1) * ptw_pagesize;
		rc = od_once(kind, fd, buf, len, off, seed, it);
	}
	ptw_vdiag("%ld rounds", it);
	ptw_untrack(buf, len);
	close(fd);
	return rc;
}

/* (c): gup_test's long-term pin interface (mm/gup_test.h, 6.12) */
struct pin_longterm_test {
	uint64_t addr;
	uint64_t size;
	uint32_t flags;
};
#define PIN_LONGTERM_TEST_START		 _IOW('g', 7, struct pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP		 _IO('g', 8)
#define PIN_LONGTERM_TEST_READ		 _IOW('g', 9, uint64_t)
#define PIN_LONGTERM_TEST_FLAG_USE_WRITE 1

static int pin_fork_once(int gup, char *buf, uint64_t *back, size_t len,
			 uint64_t seed, struct ctl *c)
{
	size_t words = len / 8;
	for (size_t i = 0; i < words; i++)
		((volatile uint64_t *)buf)[i] = ptw_pat(seed, i);
	struct pin_longterm_test pin = {(uint64_t)(uintptr_t)buf, len,
					PIN_LONGTERM_TEST_FLAG_USE_WRITE};
	if (ioctl(gup, PIN_LONGTERM_TEST_START, &pin) < 0)
		return ptw_fail("PIN_LONGTERM_TEST_START: %s", strerror(errno));
	memset(c, 0, sizeof(*c));
	pid_t pid = fork();
	if (pid == 0) {
		/* the child keeps its mapping until the parent is done */
		set_flag(&c->ready, 1);
		wait_flag(&c->stop, 1, 60);
		_exit(PTW_PASS);
	}
	int rc = PTW_PASS;
	if (pid < 0) {
		rc = ptw_fail("fork: %s", strerror(errno));
		goto stop;
	}
	wait_flag(&c->ready, 1, 60);
	/* the parent writes its page: it must still be the pinned one */
	for (size_t i = 0; i < words; i++)
		((volatile uint64_t *)buf)[i] = ptw_pat(seed + 1, i);
	uint64_t dst = (uint64_t)(uintptr_t)back;
	if (ioctl(gup, PIN_LONGTERM_TEST_READ, &dst) < 0) {
		rc = ptw_fail("PIN_LONGTERM_TEST_READ: %s", strerror(errno));
	} else {
		for (size_t i = 0; i < words; i++) {
			if (back[i] == ptw_pat(seed + 1, i))
				continue;
			rc = ptw_fail("the long-term pin reads word %zu as "
				      "0x%016" PRIx64 " (%s), the parent wrote "
				      "0x%016" PRIx64
				      ": fork shared the pinned "
				      "page and the parent's write copied it "
				      "(seed 003)",
				      i, back[i],
				      back[i] == ptw_pat(seed, i)
					      ? "its value before fork"
					      : "neither value",
				      ptw_pat(seed + 1, i));
			break;
		}
	}
	set_flag(&c->stop, 1);
	int crc = child_status(pid, c, "child");
	if (rc == PTW_PASS)
		rc = crc;
stop:
	ioctl(gup, PIN_LONGTERM_TEST_STOP);
	return rc;
}

static int pin_fork_test(const void *arg)
{
	(void)arg;
	int gup = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup < 0)
		return ptw_skip(
			"no /sys/kernel/debug/gup_test (a kernel without "
			"CONFIG_GUP_TEST, or debugfs not mounted): %s",
			strerror(errno));
	size_t len = 4 * ptw_pagesize;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *back = malloc(len);
	struct ctl *c = ctl_new();
	int rc = PTW_PASS;
	if (buf == MAP_FAILED || !back || !c) {
		rc = ptw_fail("out of memory");
		goto out;
	}
	ptw_track(buf, len);
	double deadline = ptw_deadline();
	long it = 0;
	for (; rc == PTW_PASS && ptw_more(it, 3, ptw_iters(200), deadline);
	     it++) {
		ptw_phase("pin:fork");
		rc = pin_fork_once(gup, buf, back, len,
				   0x70696e00ULL ^ (uint64_t)it << 16, c);
	}
	ptw_vdiag("%ld rounds", it);
	ptw_untrack(buf, len);
out:
	if (buf != MAP_FAILED)
		munmap(buf, len);
	free(back);
	close(gup);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"vmsplice_before_fork_both_write", vmsplice_test,
		 (void *)(intptr_t)VS_BEFORE_FORK},
		{"vmsplice_in_child_unmap_parent_writes", vmsplice_test,
		 (void *)(intptr_t)VS_IN_CHILD},
		{"vmsplice_in_child_parent_pageout_writes", vmsplice_test,
		 (void *)(intptr_t)VS_IN_CHILD_PAGEOUT},
		{"vmsplice_in_child_mthp64k", vmsplice_test,
		 (void *)(intptr_t)VS_IN_CHILD_MTHP},
		{"odirect_parent_reads_child_writes", odirect_test,
		 (void *)(intptr_t)OD_PARENT_READS},
		{"odirect_child_reads_parent_writes", odirect_test,
		 (void *)(intptr_t)OD_CHILD_READS},
		{"odirect_swapped_parent_reads_child_writes", odirect_test,
		 (void *)(intptr_t)OD_SWAPPED},
		{"gup_pin_longterm_then_fork_parent_writes", pin_fork_test,
		 NULL},
	};
	return ptw_run("cow_gup", argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
