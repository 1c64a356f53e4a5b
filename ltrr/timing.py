"""Wall-clock laps of a job's steps, for its summary line (never written into artifacts)."""

from __future__ import annotations

import time


class StepTimer:
    """Times consecutive steps: each :meth:`lap` records the seconds since the previous one.

    Attributes:
        timings: step name -> seconds (rounded to 0.01).
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, name: str) -> None:
        """Record the time since the previous lap (or since construction) under ``name``."""
        now = time.perf_counter()
        self.timings[name] = round(now - self._clock, 2)
        self._clock = now
