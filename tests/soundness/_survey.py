"""Run a Hypothesis search that records every problem class instead of stopping at the first.

Used by the long campaign: it reports how many cases ran, how long they took,
which problem classes appeared (with one example each), and then asserts that
there were none.
"""

from __future__ import annotations

import collections
import json
import os
import time
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import _fuzz

__all__ = ["survey", "format_survey"]


def survey(strategy: st.SearchStrategy[Any], run: Callable[[Any], list], examples: int, name: str) -> dict:
    """Draw ``examples`` inputs (derandomized), call ``run(value) -> problems`` on each, tally the problems."""
    kinds: collections.Counter = collections.Counter()
    first: dict[str, str] = {}
    count = [0]

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(strategy)
    def prop(value: Any) -> None:
        count[0] += 1
        for p in run(value):
            kinds[p.kind] += 1
            seen = first.setdefault(p.kind, [])
            if len(seen) < 3:
                seen.append(f"{p}\n    input: {getattr(value, 'describe', lambda: repr(value))()}"[:1500])

    t0 = time.perf_counter()
    prop()
    out = {"name": name, "cases": count[0], "seconds": round(time.perf_counter() - t0, 1),
           "problems": dict(kinds), "examples": first, "tally": dict(_fuzz.TALLY)}
    path = os.environ.get("SOUNDNESS_OUT")
    if path:
        with open(os.path.join(path, f"{name}.json"), "w") as fh:
            json.dump(out, fh, indent=1)
    print(format_survey(out))
    return out


def format_survey(out: dict) -> str:
    lines = [f"soundness survey {out['name']}: {out['cases']} cases in {out['seconds']} s; "
             f"problems: {out['problems'] or 'none'}"]
    for kind, texts in out["examples"].items():
        lines += [f"  {text}" for text in texts]
    return "\n".join(lines)
