"""Plain progress lines for a study: one line per finished task (what, metric, time, ETA).

A task is one activation x split x setting, trained for its seeds; the
metric is the mean over those seeds.

Used when stderr is not a terminal (CI logs, pipes) instead of the live
progress bars, and always for ``--log FILE``. A line reads::

    [3/12] tanh final split 98765 seeds 0-2: test NDCG@100 0.4123 (12.3 s; elapsed 40.1 s; ETA 2 min 0 s)

The ETA is the mean time per finished run times the runs left. The clock is
injectable so that tests can check the arithmetic without timing anything.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional, TextIO

from .experiment import StudyProgress

__all__ = ["LineProgress", "TeeProgress", "format_seconds", "run_line"]


def format_seconds(s: float) -> str:
    """``42.0 s``, ``3 min 5 s``, ``1 h 2 min``."""
    if not s >= 0:  # NaN or negative: unknown
        return "?"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60)} s"
    return f"{int(s // 3600)} h {int((s % 3600) // 60)} min"


def _metric(result: dict) -> str:
    """The run's headline number: test NDCG@100 (or RMSE), else its validation value."""
    for part in ("test", "val"):
        vals = result.get(part) or {}
        for k in ("NDCG@100", "RMSE"):
            if isinstance(vals.get(k), (int, float)):
                return f"{part} {k} {vals[k]:.4f}"
    return "no metric"


def run_line(done: int, total: Optional[int], label: str, result: dict, run_s: float, elapsed_s: float) -> str:
    """One progress line for the ``done``-th finished run of ``total``."""
    left = (total - done) if total is not None else None
    eta = format_seconds(elapsed_s / done * left) if (left is not None and done > 0) else "?"
    count = f"[{done}/{total}]" if total is not None else f"[{done}]"
    return f"{count} {label}: {_metric(result)} ({format_seconds(run_s)}; elapsed {format_seconds(elapsed_s)}; ETA {eta})"


class LineProgress(StudyProgress):
    """Writes one line per finished run, and every message, to each of ``streams`` (flushed at once)."""

    def __init__(self, streams: list[TextIO], clock: Callable[[], float] = time.perf_counter) -> None:
        self.streams = streams
        self.clock = clock
        self.total: Optional[int] = None
        self.done = 0
        self.t0 = clock()
        self.last = self.t0

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def _write(self, text: str) -> None:
        for s in self.streams:
            s.write(text + "\n")
            s.flush()

    def start(self, total_runs: int, description: str) -> None:
        self.total = int(total_runs)
        self.done = 0
        self.t0 = self.last = self.clock()
        self._write(f"study: {description} ({total_runs} tasks)")

    def run_end(self, label: str, result: dict) -> None:
        now = self.clock()
        self.done += 1
        self._write(run_line(self.done, self.total, label, result, now - self.last, now - self.t0))
        self.last = now

    def add_total(self, runs: int) -> None:
        self.total = (self.total or 0) + int(runs)

    def message(self, text: str) -> None:
        self._write(text)


class TeeProgress(StudyProgress):
    """Forwards every hook to each of ``parts`` (e.g. the live bars and a ``--log`` file)."""

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts

    def __enter__(self) -> "TeeProgress":
        for p in self.parts:
            p.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in reversed(self.parts):
            p.__exit__(*exc)

    def start(self, total_runs: int, description: str) -> None:
        for p in self.parts:
            p.start(total_runs, description)

    def run_start(self, label: str, epochs: int) -> None:
        for p in self.parts:
            p.run_start(label, epochs)

    def epoch(self, epoch: int, info: dict) -> None:
        for p in self.parts:
            p.epoch(epoch, info)

    def run_end(self, label: str, result: dict) -> None:
        for p in self.parts:
            p.run_end(label, result)

    def add_total(self, runs: int) -> None:
        for p in self.parts:
            p.add_total(runs)

    def message(self, text: str) -> None:
        for p in self.parts:
            p.message(text)
