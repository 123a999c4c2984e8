"""Bracketing hyperparameter search: widen any axis whose best value sits at the edge of what was tried.

Start from the initial trials (a grid or seeded random draws). Then, in
rounds, take the incumbent (the best validation score so far; ties: the
first tried) and look along each searched axis through it (the trials equal
to the incumbent on every other axis). When the incumbent's value is the
largest on that line and below the axis's upper limit, propose the next
value up (times the axis's factor, clamped to the limit); when it is the
smallest and above the lower limit, the next value down. Stop when no axis
proposes anything (every axis bracketed: interior, or at a stated limit) or
after ``max_rounds`` rounds (an axis then still at an edge is reported as
``edge``: not bracketed).

The axes and their limits (stated in the report):

=========  =======================  ====================
axis       step                     limits
=========  =======================  ====================
lr         x3 / /3                  [1e-4, 3e-2]
lam        x10 / /10 (below 1e-5: 0) [0, 1]
dropout    +-0.2                    [0, 0.8]
width      x3 / /3 (integer)        [16, 1200]
=========  =======================  ====================

Pure Python: the caller evaluates the proposed trials (as study tasks) and
records their scores, so the search runs in lock step for many activations
and splits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

__all__ = ["Axis", "AXES", "Bracket", "step"]


@dataclass(frozen=True)
class Axis:
    """One searched hyperparameter: multiplicative (``factor > 1``) or additive (``add > 0``) steps within ``[lo, hi]``."""

    name: str
    lo: float
    hi: float
    factor: float = 0.0
    add: float = 0.0
    zero_below: float = 0.0  # multiplicative axes: a step down below this goes to 0 (weight decay)
    integer: bool = False

    def describe(self) -> dict:
        how = f"x{self.factor:g} per step" if self.factor else f"+-{self.add:g} per step"
        return {"step": how, "limits": [self.lo, self.hi]} | ({"below": f"{self.zero_below:g} goes to 0"} if self.zero_below else {})


AXES: dict[str, Axis] = {
    "lr": Axis("lr", 1e-4, 3e-2, factor=3.0),
    "lam": Axis("lam", 0.0, 1.0, factor=10.0, zero_below=1e-5),
    "dropout": Axis("dropout", 0.0, 0.8, add=0.2),
    "width": Axis("width", 16, 1200, factor=3.0, integer=True),
}


def _round(ax: Axis, v: float) -> float:
    if ax.integer:
        return float(int(round(v)))
    return float(f"{v:.3g}") if v else 0.0


def step(ax: Axis, v: float, up: bool) -> Optional[float]:
    """The next value beyond ``v`` on ``ax`` (clamped to its limits), or None at the limit."""
    if (up and v >= ax.hi) or (not up and v <= ax.lo):
        return None
    if ax.factor:
        if v == 0:
            nxt = ax.zero_below if up else ax.lo
        else:
            nxt = v * ax.factor if up else v / ax.factor
            if not up and ax.zero_below and nxt < ax.zero_below:
                nxt = 0.0
    else:
        nxt = v + ax.add if up else v - ax.add
    nxt = _round(ax, min(ax.hi, max(ax.lo, nxt)))
    return None if nxt == v else nxt


def _key(h: dict) -> tuple:
    return tuple(sorted((k, float(v)) for k, v in h.items()))


class Bracket:
    """The state of one bracketing search: call :meth:`pending`, evaluate, :meth:`record` each score, repeat until empty."""

    def __init__(self, initial: Sequence[dict], axes: Sequence[str], max_rounds: int, axis_table: Optional[dict] = None) -> None:
        self.axes = {a: (axis_table or AXES)[a] for a in axes}
        self.max_rounds = int(max_rounds)
        self.trials: list[dict] = []  # {"hyper", "score", "round", **details}
        self.queue: list[dict] = [dict(h) for h in initial]
        self.rounds = 0
        self.waiting = 0

    def pending(self) -> list[dict]:
        """The trials to evaluate next (empty when the search is over)."""
        if self.waiting:
            raise RuntimeError("record every pending trial before asking for more")
        if not self.queue and self.trials and self.rounds < self.max_rounds:
            self.queue = self._proposals()
            self.rounds += bool(self.queue)
        out, self.queue = self.queue, []
        self.waiting = len(out)
        return out

    def record(self, hyper: dict, score: float, **details: Any) -> None:
        self.trials.append({"hyper": dict(hyper), "score": float(score), "round": self.rounds, **details})
        self.waiting -= 1

    def best(self) -> dict:
        scores = [t["score"] if math.isfinite(t["score"]) else -math.inf for t in self.trials]
        return self.trials[scores.index(max(scores))]

    def line(self, axis: str) -> list[dict]:
        """The trials equal to the incumbent on every other axis, sorted by ``axis``."""
        inc = self.best()["hyper"]
        same = [t for t in self.trials if all(t["hyper"][k] == inc[k] for k in inc if k != axis)]
        return sorted(same, key=lambda t: t["hyper"][axis])

    def _proposals(self) -> list[dict]:
        inc = self.best()["hyper"]
        seen = {_key(t["hyper"]) for t in self.trials}
        out = []
        for name, ax in self.axes.items():
            values = [t["hyper"][name] for t in self.line(name)]
            for up, edge in ((True, max(values)), (False, min(values))):
                nxt = step(ax, inc[name], up) if inc[name] == edge else None
                if nxt is not None and _key(h := {**inc, name: nxt}) not in seen:
                    seen.add(_key(h))
                    out.append(h)
        return out

    def report(self) -> dict:
        """Per axis the validation curve through the chosen trial and whether its value is interior, at a limit, or at an edge."""
        inc = self.best()
        axes = {}
        for name, ax in self.axes.items():
            line = self.line(name)
            values = [t["hyper"][name] for t in line]
            v = inc["hyper"][name]
            if min(values) < v < max(values):
                status = "interior"
            elif (v == max(values) and v >= ax.hi) or (v == min(values) and v <= ax.lo):
                status = f"at the {'upper' if v >= ax.hi else 'lower'} limit {v:g}"
            else:
                status = "edge (rounds exhausted: not bracketed)"
            axes[name] = {"curve": [[t["hyper"][name], t["score"]] for t in line], "chosen": v, "status": status, **ax.describe()}
        return {"chosen": inc["hyper"], "chosen_score": inc["score"], "rounds": self.rounds, "max_rounds": self.max_rounds,
                "n_trials": len(self.trials), "axes": axes, "bracketed": all(not a["status"].startswith("edge") for a in axes.values())}
