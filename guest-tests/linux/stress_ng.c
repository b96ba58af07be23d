/* SPDX-License-Identifier: MIT */
/*
 * stress_ng: Debian's stress-ng memory stressors as a guest load beside the
 * selftests (issue 26), one scenario per stressor group. stress-ng is
 * Debian's own binary with its libraries and loader, which the launcher
 * puts in /tests/stress-ng.d (scripts/ptwlib/stressng.py); this program
 * runs it through that loader, so the guest needs nothing else.
 *
 * Each scenario runs its stressors for the time budget (PTW_BUDGET, at
 * least 2 s) with --verify, where the stressor checks the data it wrote:
 * a stressor that reads back other data than it wrote fails the scenario.
 * stress-ng's exit status decides: 0 passed, 3 (no resources) and 4 (not
 * implemented here, such as NUMA on a one-node guest) are skips that say
 * so, anything else a failure (126: privileges could not be dropped). The
 * issue's list: vm, mmap, madvise, mremap, KSM (vm over MADV_MERGEABLE:
 * stress-ng 0.15 has no --ksm), NUMA; with mprotect and userfaultfd beside
 * them. Not mmapfork: each of its rounds maps and touches nearly all free
 * memory in 32 children, 8 s a round on the host, far past the budget.
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ptw-test.h"

#define BUNDLE "/tests/stress-ng.d"

/* the arguments of one scenario, before the common ones */
struct sng_arg {
	const char *const *argv;
	bool unprivileged; /* run as nobody (see madvise below) */
};

static int run(const void *argp)
{
	const struct sng_arg *a = argp;
	char timeout[32];
	long secs = (ptw_budget_ms + 999) / 1000;
	if (secs < 2)
		secs = 2;
	if (secs > ptw_timeout_s / 2)
		secs = ptw_timeout_s / 2 > 0 ? ptw_timeout_s / 2 : 1;
	snprintf(timeout, sizeof(timeout), "%lds", secs);
	if (access(BUNDLE "/stress-ng", R_OK) < 0)
		return ptw_skip("%s/stress-ng missing (the launcher adds it "
				"with the stress_ng test)",
				BUNDLE);
	const char *argv[48];
	unsigned n = 0;
	argv[n++] = BUNDLE "/ld.so";
	argv[n++] = "--library-path";
	argv[n++] = BUNDLE "/lib";
	argv[n++] = BUNDLE "/stress-ng";
	for (unsigned i = 0; a->argv[i] && n < 40; i++)
		argv[n++] = a->argv[i];
	argv[n++] = "--timeout";
	argv[n++] = timeout;
	argv[n++] = "--verify";
	argv[n++] = "--metrics-brief";
	argv[n++] = "--temp-path";
	argv[n++] = "/tmp/stress-ng";
	mkdir("/tmp/stress-ng", 01777);
	chmod("/tmp/stress-ng", 01777); /* for an unprivileged stressor */
	argv[n] = NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return ptw_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (a->unprivileged &&
		    (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		     setuid(65534) < 0)) {
			printf("# dropping privileges: %s\n", strerror(errno));
			_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return ptw_fail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st))
		return ptw_fail("stress-ng killed by signal %d", WTERMSIG(st));
	switch (WEXITSTATUS(st)) {
	case 0:
		return PTW_PASS;
	case 3:
		return ptw_skip("stress-ng: a stressor lacked resources "
				"(exit 3)");
	case 4:
		return ptw_skip("stress-ng: a stressor is not implemented "
				"on this system (exit 4)");
	case 127:
		return ptw_fail("could not execute %s", argv[0]);
	default:
		return ptw_fail("stress-ng exited %d (2: a stressor failed, "
				"its data check included)",
				WEXITSTATUS(st));
	}
}

#define SNG(name, unpriv, ...)                                                 \
	static const char *const name##_argv[] = {__VA_ARGS__, NULL};          \
	static const struct sng_arg name = {name##_argv, unpriv}

/* anonymous memory written, read back and checked, in many patterns */
SNG(sng_vm, false, "--vm", "2", "--vm-bytes", "32M");
/* the same over pages KSM may merge (MADV_MERGEABLE: stress-ng 0.15 has no
 * --ksm) */
SNG(sng_vm_ksm, false, "--vm", "2", "--vm-bytes", "16M", "--vm-madvise",
    "mergeable");
/* mmap/munmap of anonymous and file pages (without --mmap-mprotect, whose
 * mprotect() calls all failed stress-ng 0.15's check on arm64 6.12; the
 * mprotect stressor below does that) */
SNG(sng_mmap, false, "--mmap", "2", "--mmap-bytes", "16M");
/* madvise() with every advice, on anonymous and file mappings; as nobody,
 * since as root it adds MADV_HWPOISON, which takes the guest's pages
 * offline for good (and its SIGBUS then fails the stressor) */
SNG(sng_madvise, true, "--madvise", "2");
/* mremap() growing, shrinking and moving mappings */
SNG(sng_mremap, false, "--mremap", "2", "--mremap-bytes", "16M");
/* mprotect() over a mapping, page by page */
SNG(sng_mprotect, false, "--mprotect", "2");
/* page faults handled in user space */
SNG(sng_userfaultfd, false, "--userfaultfd", "1");
/* page migration between NUMA nodes (one node here: it exercises the
 * calls) */
SNG(sng_numa, false, "--numa", "1");

int main(int argc, char **argv)
{
	static const struct ptw_scenario sc[] = {
		{"stress_ng_vm", run, &sng_vm},
		{"stress_ng_vm_ksm", run, &sng_vm_ksm},
		{"stress_ng_mmap", run, &sng_mmap},
		{"stress_ng_madvise", run, &sng_madvise},
		{"stress_ng_mremap", run, &sng_mremap},
		{"stress_ng_mprotect", run, &sng_mprotect},
		{"stress_ng_userfaultfd", run, &sng_userfaultfd},
		{"stress_ng_numa", run, &sng_numa},
	};
	return ptw_run("stress_ng", argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
