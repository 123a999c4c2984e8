"""The falsifier's strategies for P3 (:class:`~latentcheck.theorems.properties.p3.NonZero`).

The search aims the latent pre-activations at the activation's zero set
(``ZeroTarget``); T1 gives constructions for vanishing activations and T2
(with an empty sound float zero set) settles ``none-exists`` before any search.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ._strategy import (certify_options, constructor, data_finder, none_decider,
                                                      round_picker, searcher, uses_zero_target)
from ...theorems.properties.p3 import NonZero
from ..float_vanishing import none_exists
from ._constructions import p3_constructions
from ._rounds import zero_round, zero_rows
from ._search import p3_search

__all__: list[str] = []


@uses_zero_target(NonZero)
def _aims_at_zero(prop: NonZero) -> bool:
    return True


@certify_options(NonZero)
def _options(prop: NonZero, nonvanishing: bool) -> dict[str, Any]:
    """``certify_zero`` moves the witness to the dtype's grid, and knows whether T2 rules out real zeros."""
    return {"move_to_dtype": True, "nonvanishing": nonvanishing}


@searcher(NonZero)
def _search(prop: NonZero, encoder: Any, domain: Any, *, restarts: int, target: Any = None,
            enc_fn: Callable | None = None, n: int | None = None) -> Any:

    if encoder is None:
        return p3_search(n, target, domain, restarts=restarts, pre_fn=enc_fn, act_fn=lambda z: z)
    return p3_search(encoder, target, domain, restarts=restarts)


@constructor(NonZero)
def _constructions(prop: NonZero, encoder: Any, domain: Any, *, target: Any = None, seed: int = 0,
                   time_limit: float = 0.5) -> Iterator[Any]:

    return iter(p3_constructions(encoder, target, domain, time_limit=time_limit))


@data_finder(NonZero)
def _data_rows(prop: NonZero, encoder: Any, domain: Any, enc_fn: Callable, *, target: Any = None,
               dtype: str = "float32", black: bool = False) -> list[Any]:

    return zero_rows(encoder, domain, target, dtype, black)


@round_picker(NonZero)
def _round(prop: NonZero, ctx: Any, best: np.ndarray, best_loss: np.ndarray) -> list[tuple[list, str]]:

    return zero_round(ctx, best, best_loss)


@none_decider(NonZero)
def _none(prop: NonZero, cls: Any, target: Any, activation: Any, dtype: str) -> str | None:
    if target is None or target.kind != "none":
        return None

    return "none-exists" if none_exists(cls, activation, dtype, "xla") else "none-found"
