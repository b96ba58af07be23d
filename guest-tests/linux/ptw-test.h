/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the ptwatch Linux guest tests (static, libc + pthread):
 * KTAP output, one forked child per scenario with a watchdog, sysfs knobs
 * (saved and restored), mTHP / swap / memcg set-up, data patterns that are
 * written and checked with plain volatile 64-bit accesses (so the plugin sees
 * every store: no DC ZVA, no MOPS, no library memset on tracked memory),
 * pagemap queries and time budgets.
 *
 * Every test accepts the same options, also as environment variables (the
 * kernel passes unknown name=value parameters of its command line to /init,
 * so PTW_SCALE=2 on the command line reaches the tests):
 *
 *   --scale=F    PTW_SCALE    multiply loop counts and time budgets (1.0)
 *   --budget=MS  PTW_BUDGET   time budget of one scenario's loops, ms (2000)
 *   --timeout=S  PTW_TIMEOUT  watchdog per scenario, seconds (120)
 *   --only=NAME  PTW_ONLY     run only scenarios whose name contains NAME
 *   --verbose    PTW_VERBOSE  print phase markers and extra diagnostics
 *
 * Loops run for their iteration count, but stop early when the budget is
 * spent (after a minimum), so a scenario stays bounded under slow emulation.
 */
#ifndef PTW_TEST_H
#define PTW_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ptwatch-client.h"

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PTW_UNUSED	 __attribute__((unused))
#define PTW_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ------------------------------------------------------------------ */
/* configuration */

static double ptw_scale = 1.0;
static long ptw_budget_ms = 2000;
static long ptw_timeout_s = 120;
static const char *ptw_only;
static bool ptw_verbose;
static const char *ptw_prog = "ptw-test";
static size_t ptw_pagesize = 4096;

static PTW_UNUSED long ptw_iters(long base)
{
	long n = (long)(base * ptw_scale + 0.5);
	return n < 1 ? 1 : n;
}

static PTW_UNUSED double ptw_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Absolute deadline for a scenario's loops: the budget times the scale. */
static PTW_UNUSED double ptw_deadline(void)
{
	return ptw_now() + ptw_budget_ms * ptw_scale / 1000.0;
}

/* Keep looping: below the minimum always, else while under iters and time. */
static PTW_UNUSED bool ptw_more(long i, long min, long iters, double deadline)
{
	if (i < min)
		return true;
	return i < iters && ptw_now() < deadline;
}

static PTW_UNUSED void ptw_msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* diagnostics */

static PTW_UNUSED PTW_PRINTF(1, 2) void ptw_diag(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s\n", buf);
	fflush(stdout);
}

#define ptw_vdiag(...)                                                         \
	do {                                                                   \
		if (ptw_verbose)                                               \
			ptw_diag(__VA_ARGS__);                                 \
	} while (0)

/* Phase marker for the plugin log (16 bytes kept), printed when verbose. */
static PTW_UNUSED PTW_PRINTF(1, 2) void ptw_phasef(const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ptw_phase(buf);
	ptw_vdiag("phase %.16s", buf);
}

/* ------------------------------------------------------------------ */
/* tracked regions, remembered so that a process untracks them all before
 * it exits, also on a failure path: ptwatch keys tracked data by address
 * space, and a dead process's page-table root can be reused by a new one.
 * (The list is inherited by fork; untracking the parent's regions in a
 * child is a no-op for ptwatch.) Not thread-safe: track from one thread. */

#define PTW_MAX_REGIONS 64
static struct {
	const volatile void *va;
	uint64_t len;
} ptw_regions[PTW_MAX_REGIONS];
static int ptw_nregions;

static PTW_UNUSED void ptw_track_reg(const volatile void *va, uint64_t len)
{
	if (ptw_nregions < PTW_MAX_REGIONS) {
		ptw_regions[ptw_nregions].va = va;
		ptw_regions[ptw_nregions].len = len;
		ptw_nregions++;
	}
	ptw_track(va, len);
}

static PTW_UNUSED void ptw_untrack_reg(const volatile void *va, uint64_t len)
{
	for (int i = 0; i < ptw_nregions;) {
		if (ptw_regions[i].va == va && ptw_regions[i].len == len)
			ptw_regions[i] = ptw_regions[--ptw_nregions];
		else
			i++;
	}
	ptw_untrack(va, len);
}

static PTW_UNUSED void ptw_untrack_all(void)
{
	while (ptw_nregions > 0) {
		ptw_nregions--;
		ptw_untrack(ptw_regions[ptw_nregions].va,
			    ptw_regions[ptw_nregions].len);
	}
}

/* the tests call these names. ptwatch ignores (with a warning) a TRACK whose
 * start address is not mapped yet: touch the first page before tracking. */
#define ptw_track(va, len)   ptw_track_reg(va, len)
#define ptw_untrack(va, len) ptw_untrack_reg(va, len)

/* _exit() of a process that may have tracked memory */
static PTW_UNUSED __attribute__((noreturn)) void ptw_exit(int code)
{
	ptw_untrack_all();
	fflush(stdout);
	_exit(code);
}

/* ------------------------------------------------------------------ */
/* scenarios: KTAP, one forked child each, watchdog */

enum ptw_result { PTW_PASS = 0, PTW_FAIL = 1, PTW_SKIP = 4 };

struct ptw_scenario {
	const char *name;
	int (*fn)(const void *arg);
	const void *arg;
};

/* shared with the scenario child: the skip reason */
static char *ptw_shared_reason;

static PTW_UNUSED PTW_PRINTF(1, 2) int ptw_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (ptw_shared_reason)
		vsnprintf(ptw_shared_reason, 240, fmt, ap);
	va_end(ap);
	return PTW_SKIP;
}

static PTW_UNUSED PTW_PRINTF(1, 2) int ptw_fail(const char *fmt, ...)
{
	char buf[480];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# FAIL: %s\n", buf);
	fflush(stdout);
	return PTW_FAIL;
}

/* Name this address space in ptwatch findings ("prog" or "prog:role"). */
static PTW_UNUSED void ptw_name_self(const char *role)
{
	char buf[40];
	if (role)
		snprintf(buf, sizeof(buf), "%s:%s", ptw_prog, role);
	else
		snprintf(buf, sizeof(buf), "%s", ptw_prog);
	ptw_program(buf);
}

/* A helper child of a scenario: dies with its parent. */
static PTW_UNUSED void ptw_child_setup(const char *role)
{
	ptw_nregions = 0; /* the parent's registrations, not ours */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ptw_name_self(role);
}

static void ptw_parse_args(int argc, char **argv)
{
	const char *e;
	long ps = sysconf(_SC_PAGESIZE);
	if (ps > 0)
		ptw_pagesize = (size_t)ps;
	if ((e = getenv("PTW_SCALE")))
		ptw_scale = atof(e);
	if ((e = getenv("PTW_BUDGET")))
		ptw_budget_ms = atol(e);
	if ((e = getenv("PTW_TIMEOUT")))
		ptw_timeout_s = atol(e);
	if ((e = getenv("PTW_ONLY")) && *e)
		ptw_only = e;
	if ((e = getenv("PTW_VERBOSE")) && *e && strcmp(e, "0"))
		ptw_verbose = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "--scale=", 8))
			ptw_scale = atof(a + 8);
		else if (!strncmp(a, "--budget=", 9))
			ptw_budget_ms = atol(a + 9);
		else if (!strncmp(a, "--timeout=", 10))
			ptw_timeout_s = atol(a + 10);
		else if (!strncmp(a, "--only=", 7))
			ptw_only = a + 7;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			ptw_verbose = true;
		else {
			fprintf(stderr,
				"usage: %s [--scale=F] [--budget=MS] "
				"[--timeout=S] [--only=NAME] [--verbose]\n",
				argv[0]);
			exit(2);
		}
	}
	if (ptw_scale <= 0)
		ptw_scale = 1.0;
	if (ptw_budget_ms < 1)
		ptw_budget_ms = 1;
	if (ptw_timeout_s < 1)
		ptw_timeout_s = 1;
}

static void ptw_restore_knobs(void);
static void ptw_knobs_init(void);

/* Run the scenarios; KTAP on stdout; returns the exit status (0/1). */
static PTW_UNUSED int ptw_run(const char *prog, int argc, char **argv,
			      const struct ptw_scenario *sc, int n)
{
	int pass = 0, fail = 0, skip = 0;
	ptw_prog = prog;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ptw_parse_args(argc, argv);
	ptw_name_self(NULL);
	ptw_knobs_init(); /* before the scenarios fork: shared with them */
	ptw_shared_reason = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ptw_shared_reason == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	printf("TAP version 13\n1..%d\n", n);
	ptw_diag("%s: scale %.2f, budget %ld ms, timeout %ld s, page %zu", prog,
		 ptw_scale, ptw_budget_ms, ptw_timeout_s, ptw_pagesize);
	double t_all = ptw_now();
	for (int i = 0; i < n; i++) {
		const char *name = sc[i].name;
		if (ptw_only && !strstr(name, ptw_only)) {
			printf("ok %d %s # SKIP not selected (--only=%s)\n",
			       i + 1, name, ptw_only);
			skip++;
			continue;
		}
		memset(ptw_shared_reason, 0, 256);
		fflush(stdout);
		double t0 = ptw_now();
		pid_t pid = fork();
		if (pid < 0) {
			printf("not ok %d %s\n# fork: %s\n", i + 1, name,
			       strerror(errno));
			fail++;
			continue;
		}
		if (pid == 0) {
			setpgid(0, 0);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			ptw_name_self(NULL);
			char lab[17];
			snprintf(lab, sizeof(lab), "%.16s", name);
			ptw_phase(lab);
			ptw_exit(sc[i].fn(sc[i].arg));
		}
		setpgid(pid, pid);
		int st = 0;
		bool timed_out = false;
		for (;;) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				break;
			if (w < 0 && errno != EINTR) {
				st = 0xff00;
				break;
			}
			if (ptw_now() - t0 > ptw_timeout_s) {
				timed_out = true;
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				break;
			}
			ptw_msleep(20);
		}
		/* helpers left behind (their pgid is the scenario's) */
		kill(-pid, SIGKILL);
		while (waitpid(-pid, NULL, WNOHANG) > 0)
			;
		double secs = ptw_now() - t0;
		if (timed_out) {
			printf("# %s: watchdog: no result after %ld s, "
			       "killed\n",
			       name, ptw_timeout_s);
			printf("not ok %d %s\n", i + 1, name);
			fail++;
		} else if (WIFSIGNALED(st)) {
			printf("# %s: killed by signal %d (%s)\n", name,
			       WTERMSIG(st), strsignal(WTERMSIG(st)));
			printf("not ok %d %s\n", i + 1, name);
			fail++;
		} else if (WEXITSTATUS(st) == PTW_PASS) {
			printf("# %s: %.2f s\n", name, secs);
			printf("ok %d %s\n", i + 1, name);
			pass++;
		} else if (WEXITSTATUS(st) == PTW_SKIP) {
			printf("ok %d %s # SKIP %s\n", i + 1, name,
			       ptw_shared_reason[0] ? ptw_shared_reason
						    : "(no reason given)");
			skip++;
		} else {
			printf("# %s: %.2f s, exit status %d\n", name, secs,
			       WEXITSTATUS(st));
			printf("not ok %d %s\n", i + 1, name);
			fail++;
		}
		fflush(stdout);
	}
	ptw_restore_knobs();
	ptw_diag("%s: %.2f s in all", prog, ptw_now() - t_all);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       pass, fail, skip);
	fflush(stdout);
	return fail ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* files and sysfs knobs */

static PTW_UNUSED int ptw_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return (int)n;
}

static PTW_UNUSED int ptw_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int err = errno;
	close(fd);
	return n < 0 ? -err : 0;
}

static PTW_UNUSED long ptw_read_long(const char *path, long def)
{
	char buf[64];
	if (ptw_read_file(path, buf, sizeof(buf)) <= 0)
		return def;
	return atol(buf);
}

static PTW_UNUSED bool ptw_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* "always [madvise] never" -> "madvise"; a plain value stays as it is */
static PTW_UNUSED void ptw_knob_current(const char *raw, char *out, size_t len)
{
	const char *l = strchr(raw, '['), *r = l ? strchr(l, ']') : NULL;
	if (l && r) {
		size_t n = (size_t)(r - l - 1);
		if (n >= len)
			n = len - 1;
		memcpy(out, l + 1, n);
		out[n] = 0;
	} else {
		size_t n = strlen(raw);
		if (n >= len)
			n = len - 1;
		memcpy(out, raw, n);
		out[n] = 0;
	}
}

/* Knobs changed by this process, restored by ptw_restore_knobs() (called by
 * ptw_run after the last scenario; scenarios run in children, so they record
 * through shared memory). */
#define PTW_MAX_KNOBS 32
struct ptw_knob {
	char path[160];
	char old[64];
};
static struct ptw_knob *ptw_knobs;
static int *ptw_nknobs;

static void ptw_knobs_init(void)
{
	if (ptw_knobs)
		return;
	void *m =
		mmap(NULL, sizeof(struct ptw_knob) * PTW_MAX_KNOBS + 64,
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	ptw_nknobs = m;
	ptw_knobs = (struct ptw_knob *)((char *)m + 64);
}

/* Set a knob, remembering its first value; 0 or -errno. */
static PTW_UNUSED int ptw_set_knob(const char *path, const char *val)
{
	char raw[256], cur[64];
	int r = ptw_read_file(path, raw, sizeof(raw));
	if (r < 0)
		return r;
	ptw_knob_current(raw, cur, sizeof(cur));
	if (!strcmp(cur, val))
		return 0;
	if (ptw_knobs && *ptw_nknobs < PTW_MAX_KNOBS) {
		bool seen = false;
		for (int i = 0; i < *ptw_nknobs; i++)
			seen |= !strcmp(ptw_knobs[i].path, path);
		if (!seen) {
			struct ptw_knob *k = &ptw_knobs[*ptw_nknobs];
			snprintf(k->path, sizeof(k->path), "%s", path);
			snprintf(k->old, sizeof(k->old), "%s", cur);
			__atomic_add_fetch(ptw_nknobs, 1, __ATOMIC_SEQ_CST);
		}
	}
	r = ptw_write_file(path, val);
	if (r < 0)
		ptw_diag("cannot set %s to %s: %s", path, val, strerror(-r));
	return r;
}

static void ptw_restore_knobs(void)
{
	if (!ptw_knobs)
		return;
	for (int i = *ptw_nknobs - 1; i >= 0; i--) {
		int r = ptw_write_file(ptw_knobs[i].path, ptw_knobs[i].old);
		if (r < 0 || ptw_verbose)
			ptw_diag("restoring %s to %s: %s", ptw_knobs[i].path,
				 ptw_knobs[i].old, r < 0 ? strerror(-r) : "ok");
	}
	*ptw_nknobs = 0;
}

/* ------------------------------------------------------------------ */
/* THP / mTHP */

#define PTW_THP "/sys/kernel/mm/transparent_hugepage"

/* Enable THP for MADV_HUGEPAGE regions (top level "madvise" unless it is
 * already "always") and mTHP of size_kb ("always"), every other size
 * "never" (restored with the other knobs). Returns 0, or -ENOENT
 * if the size has no knob (reason in why), or another -errno. */
static PTW_UNUSED int ptw_mthp_enable(unsigned size_kb, char *why, size_t len)
{
	char path[160], raw[128], cur[32];
	ptw_knobs_init();
	if (ptw_read_file(PTW_THP "/enabled", raw, sizeof(raw)) < 0) {
		snprintf(why, len, "no %s/enabled (THP not built in)", PTW_THP);
		return -ENOENT;
	}
	ptw_knob_current(raw, cur, sizeof(cur));
	if (strcmp(cur, "always") && strcmp(cur, "madvise") &&
	    ptw_set_knob(PTW_THP "/enabled", "madvise") < 0) {
		snprintf(why, len, "cannot set %s/enabled", PTW_THP);
		return -EPERM;
	}
	snprintf(path, sizeof(path), PTW_THP "/hugepages-%ukB/enabled",
		 size_kb);
	if (!ptw_exists(path)) {
		snprintf(why, len, "no %s (kernel without mTHP of %u KiB)",
			 path, size_kb);
		return -ENOENT;
	}
	int r = ptw_set_knob(path, "always");
	if (r < 0) {
		snprintf(why, len, "cannot write %s: %s", path, strerror(-r));
		return r;
	}
	/* only this size: a fault takes the largest enabled size that fits
	 * (our /init turns 16, 32 and 64 KiB on), so with the others left on
	 * a 16 KiB scenario would mostly get 64 KiB folios */
	DIR *d = opendir(PTW_THP);
	struct dirent *de;
	unsigned kb;
	while (d && (de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "hugepages-%ukB", &kb) != 1 ||
		    kb == size_kb)
			continue;
		snprintf(path, sizeof(path), PTW_THP "/hugepages-%ukB/enabled",
			 kb);
		ptw_set_knob(path, "never");
	}
	if (d)
		closedir(d);
	return 0;
}

/* an mTHP statistics counter of size_kb, -1 if the kernel has none */
static PTW_UNUSED long ptw_mthp_stat(unsigned size_kb, const char *stat)
{
	char path[160];
	snprintf(path, sizeof(path), PTW_THP "/hugepages-%ukB/stats/%s",
		 size_kb, stat);
	return ptw_read_long(path, -1);
}

struct ptw_mthp_stats {
	long v[8];
};
static const char *const ptw_mthp_stat_names[8] = {
	"anon_fault_alloc",
	"anon_fault_fallback",
	"swpout",
	"swpout_fallback",
	"swpin",
	"split",
	"split_failed",
	"split_deferred",
};

static PTW_UNUSED void ptw_mthp_stats_get(unsigned size_kb,
					  struct ptw_mthp_stats *s)
{
	for (int i = 0; i < 8; i++)
		s->v[i] = ptw_mthp_stat(size_kb, ptw_mthp_stat_names[i]);
}

/* one diagnostic line: the counters that moved since *before */
static PTW_UNUSED void ptw_mthp_stats_diag(unsigned size_kb, const char *what,
					   const struct ptw_mthp_stats *before)
{
	struct ptw_mthp_stats now;
	char line[400];
	int o = 0;
	ptw_mthp_stats_get(size_kb, &now);
	for (int i = 0; i < 8; i++) {
		if (before->v[i] < 0 || now.v[i] < 0)
			continue;
		o += snprintf(line + o, sizeof(line) - o, " %s +%ld",
			      ptw_mthp_stat_names[i], now.v[i] - before->v[i]);
		if (o >= (int)sizeof(line))
			break;
	}
	ptw_diag("%s: mTHP %u KiB stats:%s", what, size_kb,
		 o ? line : " (none available)");
}

/* ------------------------------------------------------------------ */
/* swap, memory */

/* swap devices in /proc/swaps (the header line not counted) */
static PTW_UNUSED int ptw_swap_devices(void)
{
	char buf[1024];
	if (ptw_read_file("/proc/swaps", buf, sizeof(buf)) <= 0)
		return 0;
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	return lines; /* header + n lines, the last without '\n' */
}

/* a /proc/meminfo field in KiB, -1 if absent */
static PTW_UNUSED long ptw_meminfo_kb(const char *field)
{
	char buf[4096];
	if (ptw_read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	size_t fl = strlen(field);
	for (char *p = buf; *p;) {
		if (!strncmp(p, field, fl) && p[fl] == ':')
			return atol(p + fl + 1);
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

/* a /proc/vmstat counter, -1 if absent */
static PTW_UNUSED long ptw_vmstat(const char *field)
{
	char buf[16384];
	if (ptw_read_file("/proc/vmstat", buf, sizeof(buf)) <= 0)
		return -1;
	size_t fl = strlen(field);
	for (char *p = buf; *p;) {
		if (!strncmp(p, field, fl) && p[fl] == ' ')
			return atol(p + fl + 1);
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

/* len bytes of anonymous private memory aligned to align, or NULL */
static PTW_UNUSED void *ptw_map_aligned(size_t len, size_t align, int prot)
{
	size_t total = len + align;
	char *p = mmap(NULL, total, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	uintptr_t end = (uintptr_t)p + total, aend = a + len;
	if (end > aend)
		munmap((void *)aend, end - aend);
	return (void *)a;
}

/* /proc/self/pagemap: present / swapped pages of a range */
struct ptw_residency {
	size_t present, swapped, none;
};

static PTW_UNUSED struct ptw_residency ptw_residency(const void *va, size_t len)
{
	struct ptw_residency r = {0, 0, 0};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return r;
	size_t n = len / ptw_pagesize;
	uint64_t ent[64];
	for (size_t i = 0; i < n;) {
		size_t k = n - i < 64 ? n - i : 64;
		off_t off = (off_t)(((uintptr_t)va / ptw_pagesize + i) * 8);
		ssize_t got = pread(fd, ent, k * 8, off);
		if (got <= 0)
			break;
		for (size_t j = 0; j < (size_t)got / 8; j++) {
			if (ent[j] >> 63 & 1)
				r.present++;
			else if (ent[j] >> 62 & 1)
				r.swapped++;
			else
				r.none++;
		}
		i += (size_t)got / 8;
	}
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* memory cgroup (v2): a group for this scenario, for reclaim pressure that
 * stays bounded (memory.max, memory.reclaim) */

#define PTW_CGROOT "/sys/fs/cgroup"

struct ptw_memcg {
	char path[128];
	bool ok;
};

/* Create PTW_CGROOT/ptw-<name>-<pid> and move this process into it.
 * max_bytes 0 means no limit. Returns false (reason in why) if cgroup v2
 * with the memory controller is not available. */
static PTW_UNUSED bool ptw_memcg_enter(struct ptw_memcg *cg, const char *name,
				       size_t max_bytes, char *why, size_t len)
{
	char p[192], buf[256];
	memset(cg, 0, sizeof(*cg));
	if (!ptw_exists(PTW_CGROOT "/cgroup.controllers")) {
		mkdir(PTW_CGROOT, 0755);
		if (mount("none", PTW_CGROOT, "cgroup2", 0, NULL) < 0) {
			snprintf(why, len, "cannot mount cgroup2 on %s: %s",
				 PTW_CGROOT, strerror(errno));
			return false;
		}
	}
	if (ptw_read_file(PTW_CGROOT "/cgroup.controllers", buf, sizeof(buf)) <
		    0 ||
	    !strstr(buf, "memory")) {
		snprintf(why, len, "no memory controller in cgroup v2");
		return false;
	}
	if (ptw_read_file(PTW_CGROOT "/cgroup.subtree_control", buf,
			  sizeof(buf)) >= 0 &&
	    !strstr(buf, "memory"))
		ptw_write_file(PTW_CGROOT "/cgroup.subtree_control", "+memory");
	snprintf(cg->path, sizeof(cg->path), PTW_CGROOT "/ptw-%s-%d", name,
		 (int)getpid());
	if (mkdir(cg->path, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "mkdir %s: %s", cg->path, strerror(errno));
		return false;
	}
	if (max_bytes) {
		snprintf(p, sizeof(p), "%s/memory.max", cg->path);
		snprintf(buf, sizeof(buf), "%zu", max_bytes);
		if (ptw_write_file(p, buf) < 0) {
			snprintf(why, len, "cannot set %s", p);
			rmdir(cg->path);
			return false;
		}
	}
	snprintf(p, sizeof(p), "%s/cgroup.procs", cg->path);
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	if (ptw_write_file(p, buf) < 0) {
		snprintf(why, len, "cannot join %s: %s", cg->path,
			 strerror(errno));
		rmdir(cg->path);
		return false;
	}
	cg->ok = true;
	return true;
}

static PTW_UNUSED long ptw_memcg_long(struct ptw_memcg *cg, const char *file)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", cg->path, file);
	return ptw_read_long(p, -1);
}

/* memory.reclaim: ask for bytes; anon preferred where the kernel takes a
 * swappiness argument. Returns 0 if all was reclaimed, else -errno. */
static PTW_UNUSED int ptw_memcg_reclaim(struct ptw_memcg *cg, size_t bytes)
{
	char p[192], v[64];
	if (!cg->ok)
		return -ENOENT;
	snprintf(p, sizeof(p), "%s/memory.reclaim", cg->path);
	snprintf(v, sizeof(v), "%zu swappiness=200", bytes);
	int r = ptw_write_file(p, v);
	if (r == -EINVAL) {
		snprintf(v, sizeof(v), "%zu", bytes);
		r = ptw_write_file(p, v);
	}
	return r;
}

/* Leave the group (back to the root) and remove it. */
static PTW_UNUSED void ptw_memcg_leave(struct ptw_memcg *cg)
{
	char buf[32];
	if (!cg->ok)
		return;
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	ptw_write_file(PTW_CGROOT "/cgroup.procs", buf);
	for (int i = 0; i < 50 && rmdir(cg->path) < 0 && errno == EBUSY; i++)
		ptw_msleep(20);
	cg->ok = false;
}

/* Memory hog: a child that allocates and touches bytes (one store per page)
 * and exits; returns its pid (reap with ptw_hog_wait). */
static PTW_UNUSED pid_t ptw_hog_start(size_t bytes)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	ptw_child_setup("hog");
	char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		_exit(3);
	for (size_t o = 0; o < bytes; o += ptw_pagesize)
		((volatile char *)m)[o] = (char)(o >> 12 | 1);
	_exit(0);
}

/* 0 if the hog finished, 1 if the OOM killer (or another signal) took it */
static PTW_UNUSED int ptw_hog_wait(pid_t pid)
{
	int st;
	if (pid <= 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1;
	return WEXITSTATUS(st) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* data patterns: 64-bit words, never zero, a function of (seed, index) */

static inline uint64_t ptw_pat(uint64_t seed, uint64_t idx)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + idx * 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	return x | 1;
}

/* Store the pattern into words [0, nwords) of p, index base..; plain volatile
 * stores the plugin sees one by one. */
static PTW_UNUSED void ptw_fill(void *p, size_t nwords, uint64_t seed,
				uint64_t base)
{
	volatile uint64_t *w = p;
	for (size_t i = 0; i < nwords; i++)
		w[i] = ptw_pat(seed, base + i);
}

struct ptw_bad {
	size_t word; /* index within the checked range */
	uint64_t got, want;
};

/* First mismatching word of the range, or -1. */
static PTW_UNUSED long ptw_check(const void *p, size_t nwords, uint64_t seed,
				 uint64_t base, struct ptw_bad *bad)
{
	const volatile uint64_t *w = p;
	for (size_t i = 0; i < nwords; i++) {
		uint64_t v = w[i], want = ptw_pat(seed, base + i);
		if (v != want) {
			if (bad) {
				bad->word = i;
				bad->got = v;
				bad->want = want;
			}
			return (long)i;
		}
	}
	return -1;
}

/* Sampled check of one page: first, second and last word, and every 64th. */
static PTW_UNUSED long ptw_check_page_sampled(const void *page, uint64_t seed,
					      uint64_t base,
					      struct ptw_bad *bad)
{
	const volatile uint64_t *w = page;
	size_t n = ptw_pagesize / 8;
	/* words 0, 1, 64, 128, ... */
	for (size_t i = 0; i < n; i = i ? (i == 1 ? 64 : i + 64) : 1) {
		uint64_t v = w[i], want = ptw_pat(seed, base + i);
		if (v != want) {
			if (bad) {
				bad->word = i;
				bad->got = v;
				bad->want = want;
			}
			return (long)i;
		}
	}
	uint64_t v = w[n - 1], want = ptw_pat(seed, base + n - 1);
	if (v != want) {
		if (bad) {
			bad->word = n - 1;
			bad->got = v;
			bad->want = want;
		}
		return (long)(n - 1);
	}
	return -1;
}

/* all words zero? -1 if so, else the first non-zero word */
static PTW_UNUSED long ptw_check_zero(const void *p, size_t nwords,
				      struct ptw_bad *bad)
{
	const volatile uint64_t *w = p;
	for (size_t i = 0; i < nwords; i++)
		if (w[i]) {
			if (bad) {
				bad->word = i;
				bad->got = w[i];
				bad->want = 0;
			}
			return (long)i;
		}
	return -1;
}

/* ------------------------------------------------------------------ */
/* a start barrier and a stop flag for worker threads */

struct ptw_gate {
	int waiting, total, go, stop;
};

static PTW_UNUSED void ptw_gate_init(struct ptw_gate *g, int total)
{
	memset(g, 0, sizeof(*g));
	g->total = total;
}

static PTW_UNUSED void ptw_gate_wait(struct ptw_gate *g)
{
	if (__atomic_add_fetch(&g->waiting, 1, __ATOMIC_SEQ_CST) == g->total)
		__atomic_store_n(&g->go, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&g->go, __ATOMIC_SEQ_CST))
		sched_yield();
}

static PTW_UNUSED bool ptw_gate_stopped(struct ptw_gate *g)
{
	return __atomic_load_n(&g->stop, __ATOMIC_RELAXED);
}

static PTW_UNUSED void ptw_gate_stop(struct ptw_gate *g)
{
	__atomic_store_n(&g->stop, 1, __ATOMIC_SEQ_CST);
}

#endif
