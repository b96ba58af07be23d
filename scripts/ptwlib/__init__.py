"""ptwatch's Python helpers: paths, exit codes, the test lists, QEMU command
lines (ptwlib.qemu), guest images and builds (ptwlib.guest), and reading a
run's logs (ptwlib.logs). Standard library only."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BUILD = os.environ.get("PTWATCH_BUILD", os.path.join(ROOT, "build"))
CACHE = os.environ.get("PTWATCH_CACHE",
                       os.path.join(os.path.expanduser("~"), ".cache",
                                    "ptwatch"))
ARCHES = ("arm64", "x86_64")

# the CLI's exit codes (scripts/ptwatch --help)
EX_CLEAN = 0         # no finding of severity --fail-on or worse
EX_FINDINGS = 1      # findings of severity --fail-on or worse
EX_GUEST_FAILED = 2  # the guest tests' own checks failed
EX_RUN_FAILED = 3    # the run did not complete (timeout, panic, QEMU error)
EX_USAGE = 64        # bad command line (sysexits' EX_USAGE)

# The Linux seed scenarios (guest-tests/linux): the default of `ptwatch run
# --tests`, `suite`, `demo`, the smoke test and `bench/overhead --tests seed`.
SEED_TESTS = ("mthp_swap", "ksm_swap", "cow_gup", "punch_hole_private",
              "contpte_churn", "mprotect_reclaim")
# the kernel's own mm selftests `bench/overhead --tests selftests` runs
SELFTESTS = ("cow", "ksm_functional_tests", "madv_populate", "mkdirty")

# finding kinds a correct kernel must never produce, at any severity
NEVER_ON_CORRECT = ("BBM_VALID_TO_VALID", "STALE_TLB_ACCESS",
                    "CONTIG_MISPROGRAMMED", "DATA_MISMATCH", "DIRTY_LOST",
                    "PT_PAGE_MAPPED", "COW_SHARED_WRITABLE",
                    "PINNED_PAGE_DIVERGED", "SWAP_SLOT_UNCLAIMED",
                    "SWAP_ENTRY_LEAKED", "ZAP_LEFT_ENTRY")
