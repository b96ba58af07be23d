"""TAP for the project's Python test scripts: numbered checks, the plan
at the end, the exit status."""


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what):
        """Print check `what` as ok or not ok; returns cond."""
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {what}")
        if not cond:
            self.failed += 1
        return cond

    def done(self):
        """Print the plan; the exit status (1 if any check failed)."""
        print(f"1..{self.n}")
        return 1 if self.failed else 0
