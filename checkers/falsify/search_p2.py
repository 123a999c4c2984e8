"""The falsifier's strategies for P2 (:class:`~latentcheck.theorems.properties.p2.Ordering`).

The search is a pool inversion then projected Adam; T3 (kernel) and T5 (zero
user) give constructions. Each function reads the property's ``delta`` (0 for P2).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ._strategy import constructor, data_finder, round_picker, searcher, steps_cost
from ...theorems.properties.p2 import Ordering
from ._constructions import p2_constructions
from ._rounds import flip_rows, top_points
from ._search import p2_search

__all__ = ["flip_search", "flip_constructions", "flip_data_rows", "flip_round", "three_points"]


@steps_cost(Ordering)
def three_points(prop: Ordering) -> int:
    """A step evaluates the encoder at three points (x, u, v)."""
    return 3


@searcher(Ordering)
def flip_search(prop: Ordering, encoder: Any, domain: Any, *, restarts: int, target: Any = None,
                enc_fn: Callable | None = None, n: int | None = None) -> Any:
    """Pool inversion, then projected Adam on the flip margin with the premise ``delta |x|^2``."""

    return p2_search(encoder, domain, restarts=restarts, enc_fn=enc_fn, n=n, delta=float(prop.delta))


@constructor(Ordering)
def flip_constructions(prop: Ordering, encoder: Any, domain: Any, *, target: Any = None, seed: int = 0,
                       time_limit: float = 0.5) -> Iterator[Any]:
    """T5 (zero user) and T3 (kernel) flip candidates."""

    return p2_constructions(encoder, domain, seed)


@data_finder(Ordering)
def flip_data_rows(prop: Ordering, encoder: Any, domain: Any, enc_fn: Callable, *, target: Any = None,
                   dtype: str = "float32", black: bool = False) -> list[Any]:
    """The best flips among a finite domain's rows by pool inversion."""

    return flip_rows(domain, enc_fn, float(prop.delta))


@round_picker(Ordering)
def flip_round(prop: Ordering, ctx: Any, best: np.ndarray, best_loss: np.ndarray) -> list[tuple[list, str]]:
    """A round's best triples."""

    return top_points(ctx, best, best_loss, "pool inversion + gradient search")
