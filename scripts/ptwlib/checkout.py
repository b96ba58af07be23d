"""Which ptwatch ran: the commit of this checkout (a campaign's tasks may
span commits; run.json and a campaign's task.json record it)."""
import subprocess

from . import ROOT


def checkout_commit():
    """The commit of this checkout, "-dirty" when its tracked files differ
    from it; None outside git. Says which ptwatch judged a run (a campaign
    may span commits)."""
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], text=True,
                              capture_output=True, timeout=30)
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.strip() else "")
