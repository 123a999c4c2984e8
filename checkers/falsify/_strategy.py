"""The falsifier's strategies, in registries keyed by property class.

A :class:`~latentcheck.theorems.properties.Property` is mathematics only; how
the falsifier searches for its witnesses lives here, the way auto_LiRPA's
``bound_op_map`` keys bounds by operator. Each hook is registered for a
property class with a decorator and found along the class's MRO (a subclass
gets its parent's strategy unless it registers its own)::

    @searcher(SmallLatent)
    def _search(prop, encoder, domain, *, restarts, target=None, enc_fn=None, n=None): ...

Hooks (and their defaults, used when nothing is registered for the class):

* :func:`objective` ``(prop) -> f(points, latents) -> (loss, best, hist)``: the JAX search objective (none).
* :func:`searcher`: the jitted search (default: projected Adam on the objective).
* :func:`constructor`: candidates from the theorems (default: none).
* :func:`data_finder`: candidates among a finite domain's rows (default: the best rows by the objective).
* :func:`round_picker`: ``(vectors, origin)`` to certify from a round's best points (default: the top points).
* :func:`none_decider`: a status settled before any search (default: ``None``).
* :func:`uses_zero_target` ``(prop) -> bool``: the search aims the latent pre-activations at the activation's zero
  set, and float candidates are repaired onto an isolated zero (default: ``False``; P3).
* :func:`steps_cost` ``(prop) -> int``: relative cost of one search step per restart (default: 1; P2's
  searches evaluate three points).
* :func:`certify_options` ``(prop, nonvanishing) -> dict``: keyword options the falsifier passes to the
  property's certifier (default: none).

The strategies of P3, P2, P3-eps and P2-delta are registered in
``search_p3.py``, ``search_p2.py``, ``search_p3_eps.py`` and ``search_p2_delta.py``,
which the falsifier package imports. Adding a property: one file in
``theorems/properties/``, one here (``search_*.py``), one certifier in
``counterexamples/certifier_*.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
from ._constructions import Candidate
from ._rounds import _finite_order, data_row, top_points
from ._search import objective_search

__all__ = ["objective", "searcher", "constructor", "data_finder", "round_picker", "none_decider", "uses_zero_target",
           "steps_cost", "certify_options", "strategy", "ByClass"]


class ByClass:
    """A table of functions keyed by property class, looked up along the MRO of a property's class."""

    def __init__(self, name: str, default: Callable[..., Any]) -> None:
        self.name, self.default = name, default
        self.table: dict[type, Callable[..., Any]] = {}

    def register(self, *classes: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator registering a function for ``classes`` (a second one for the same class is refused)."""
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            for cls in classes:
                old = self.table.get(cls)
                if old is not None and old is not fn:
                    raise ValueError(f"a {self.name} for {cls.__name__} is already registered ({old.__qualname__})")
                self.table[cls] = fn
            return fn
        return deco

    def lookup(self, prop: Any) -> Callable[..., Any]:
        """The function registered for the nearest class of ``prop`` along its MRO, else the default."""
        for cls in type(prop).__mro__:
            fn = self.table.get(cls)
            if fn is not None:
                return fn
        return self.default


def _no_objective(prop: Any) -> Callable[..., Any]:
    raise NotImplementedError(f"{prop.id} has no search objective")


def _objective_search(prop: Any, encoder: Any, domain: Any, *, restarts: int, target: Any = None,
                      enc_fn: Callable | None = None, n: int | None = None) -> Any:
    """The generic search: projected Adam minimising the property's objective."""

    return objective_search(strategy("objective", prop)(prop), prop.arity, encoder, domain, restarts=restarts,
                            enc_fn=enc_fn, n=n, hist_edges=np.asarray(prop.hist_edges))


def _no_constructions(prop: Any, encoder: Any, domain: Any, *, target: Any = None, seed: int = 0,
                      time_limit: float = 0.5) -> Iterator[Any]:
    return iter(())


def _best_rows(prop: Any, encoder: Any, domain: Any, enc_fn: Callable, *, target: Any = None,
               dtype: str = "float32", black: bool = False) -> list[Any]:
    """For a one-point property: the 16 rows with the best objective that violate it in float32."""
    if prop.arity != 1:
        return []
    import jax.numpy as jnp


    X = jnp.asarray(domain.rows, dtype=jnp.float32)
    _, best, _ = strategy("objective", prop)(prop)(X, enc_fn(X))
    best = np.asarray(best)
    return [Candidate([data_row(domain, int(i))], f"data row {int(i)}") for i in _finite_order(best, 16)]


def _top_points(prop: Any, ctx: Any, best: np.ndarray, best_loss: np.ndarray) -> list[tuple[list, str]]:

    return top_points(ctx, best, best_loss, "gradient search")


def _nothing_decided(prop: Any, cls: Any, target: Any, activation: Any, dtype: str) -> str | None:
    return None


def _no_zero_target(prop: Any) -> bool:
    return False


def _one_step(prop: Any) -> int:
    return 1


def _no_options(prop: Any, nonvanishing: bool) -> dict[str, Any]:
    return {}


_TABLES: dict[str, ByClass] = {t.name: t for t in (
    ByClass("objective", _no_objective),
    ByClass("searcher", _objective_search),
    ByClass("constructor", _no_constructions),
    ByClass("data_finder", _best_rows),
    ByClass("round_picker", _top_points),
    ByClass("none_decider", _nothing_decided),
    ByClass("uses_zero_target", _no_zero_target),
    ByClass("steps_cost", _one_step),
    ByClass("certify_options", _no_options),
)}

objective = _TABLES["objective"].register
searcher = _TABLES["searcher"].register
constructor = _TABLES["constructor"].register
data_finder = _TABLES["data_finder"].register
round_picker = _TABLES["round_picker"].register
none_decider = _TABLES["none_decider"].register
uses_zero_target = _TABLES["uses_zero_target"].register
steps_cost = _TABLES["steps_cost"].register
certify_options = _TABLES["certify_options"].register


def strategy(hook: str, prop: Any) -> Callable[..., Any]:
    """The ``hook`` function (``"searcher"``, ``"constructor"``, ...) for ``prop``'s class."""
    return _TABLES[hook].lookup(prop)
