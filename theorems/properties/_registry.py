"""The :class:`Property` base class and the one registry of properties.

A property is mathematics only: its arity (points per witness), the exact /
interval decision at a point (:meth:`Property.check`), the float decision
(:meth:`Property.float_violates`), its shrink order, its histogram and its
report wording. How an engine works on it lives with the engine, in registries
keyed by property class: the falsifier's search and constructions
(``checkers/falsify/_strategy.py``: ``@searcher(SmallLatent)``, ...) and the
certifier (``counterexamples/_certifier.py``: ``@certifier(SmallLatent)``). None
compares property names.

Adding a property is three files: subclass :class:`Property` here, create the
object and :func:`register` it (see ``p3_eps.py``); register its search in
``checkers/falsify/search_<id>.py`` and its certifier in
``counterexamples/certifier_<id>.py``. Lookup is case-insensitive by id,
with parameters after a colon for the properties that take them
(``get_property("p3-eps:1/100,2")``).

Nothing here imports JAX or a solver at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from ..errors import InvalidArgument

__all__ = ["Property", "REGISTRY", "register", "get_property", "parse_params"]


@dataclass(frozen=True)
class Property:
    """A property of encoders (P1-P3 as the paper states them, and the relaxed ones registered beside them).

    Attributes:
        id: the canonical id (``"P3"``, ``"P2"``, ``"P3-eps"``); lookup ignores case.
        name: a short name.
        statement: the property as a formula.
        arity: points per witness (1 for P3-like, 3 for P2-like; 0 when nothing can be falsified at a point).
        names: the witness vectors' names (``("x",)`` or ``("x", "u", "v")``).
        what: the report's word for a violation (``"zero counterexample"``).
        hist_key: the JSON key of the search histogram; ``hist_edges`` its bin edges.
        shrink_order: the shrinker's passes in order (``"zero-uv"``, ``"support"``, ``"round"``, ``"scale"``).
        verifiable: ``latentcheck verify`` can prove it when no counterexample is found.
    """

    id: str
    name: str
    statement: str
    arity: int = 0
    names: tuple[str, ...] = ()
    what: str = "counterexample"
    hist_key: str | None = None
    hist_edges: tuple[float, ...] = ()
    shrink_order: tuple[str, ...] = ("support", "round")
    verifiable: bool = False
    #: The names of the parameters after the colon (``("EPS", "R")`` for ``p3-eps:EPS,R``); none for most.
    params: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------- identity
    @property
    def spec(self) -> str:
        """The id with its parameters (``"P3-eps:1/100,1"``): :func:`get_property` of it gives this object back."""
        return self.id

    @property
    def usage(self) -> str:
        """How to write it on the command line: ``p3``, or ``p3-eps[:EPS,R]`` for one that takes parameters."""
        return self.id.lower() + (f"[:{','.join(self.params)}]" if self.params else "")

    @property
    def falsifiable(self) -> bool:
        """Whether a witness of ``arity`` points can violate it."""
        return self.arity > 0

    def with_params(self, text: str) -> "Property":
        """This property with parameters from ``text`` (after the colon); only parameterised properties take any."""
        raise InvalidArgument(f"property {self.id} takes no parameters; write {self.id.lower()} without ':{text}'")

    def describe(self) -> dict[str, Any]:
        """The property for reports: id, name, statement (and parameters)."""
        return {"id": self.spec, "name": self.name, "statement": self.statement}

    # ------------------------------------------------------------- decisions
    def check(self, encoder: Any, vectors: Sequence[Sequence[Fraction]]) -> Any:
        """Exact / interval decision at a witness: a :class:`latentcheck.theorems.properties.PointCheck`."""
        raise NotImplementedError(f"{self.id} has no point check")

    def float_violates(self, points: Sequence[np.ndarray], latents: Sequence[np.ndarray]) -> bool:
        """Whether the float computation shows a violation: ``points`` and ``latents`` are already in the dtype."""
        raise NotImplementedError(f"{self.id} has no float check")

    def shrink_screen(self, vectors: Sequence[Sequence[Fraction]], points: Sequence[np.ndarray],
                      latents: Callable[[], tuple[Any, np.ndarray]]) -> bool:
        """A cheap float64 screen of a shrink candidate before the certification that alone decides
        (``latents()`` gives ``(latent pre-activations or None, latents)``); the default lets every one through."""
        return True

    # ------------------------------------------------------------- words
    def theory_note(self, encoder: Any, cls: Any, domain: Any) -> str:
        """What the theorems say about this property for this encoder and domain."""
        return ""

    def claims(self) -> tuple[Any, ...]:
        """Claims this property adds to ``latentcheck prove`` (:class:`latentcheck.theorems.catalog.Claim` s)."""
        return ()


#: Every property by lower-case id.
REGISTRY: dict[str, Property] = {}


def register(prop: Property) -> Property:
    """Add ``prop`` to :data:`REGISTRY` under its lower-case id (a second one with the same id is refused)."""
    key = prop.id.lower()
    if key in REGISTRY and REGISTRY[key] is not prop:
        raise ValueError(f"a property with id {prop.id!r} is already registered")
    REGISTRY[key] = prop
    return prop


def get_property(spec: "str | Property") -> Property:
    """The registered property for ``spec``: an id in any case (``"p3"``, ``"P2"``), with parameters after a
    colon where it takes them (``"p3-eps:1/100,2"``), or a :class:`Property` (returned as is)."""
    if isinstance(spec, Property):
        return spec
    text = str(spec).strip()
    key, sep, params = text.partition(":")
    prop = REGISTRY.get(key.strip().lower())
    if prop is None:
        ids = ", ".join(p.id.lower() for p in REGISTRY.values() if p.falsifiable)
        raise InvalidArgument(f"property={spec!r} is unknown; use one of {ids}")
    return prop.with_params(params) if sep else prop


def parse_params(prop_id: str, text: str, names: Sequence[str]) -> list[Fraction]:
    """Exact rationals from ``"a,b"`` (one per name, from their text: ``0.1`` is 1/10), for ``prop_id:a,b``."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if len(parts) != len(names):
        raise InvalidArgument(f"property {prop_id}:{text} needs {len(names)} number(s) ({', '.join(names)}), "
                              f"e.g. {prop_id.lower()}:{','.join('1/100' for _ in names)}")
    try:
        values = [Fraction(p) for p in parts]
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"property {prop_id}:{text}: {', '.join(names)} must be numbers such as 0.01 or 1/100") from None
    for name, part, value in zip(names, parts, values):
        if abs(value) > MAX_PARAM:
            raise InvalidArgument(f"property {prop_id}:{text}: {name} = {part} is too large; each number must be at most "
                                  f"1e150 in absolute value (the float search squares R)")
    return values


#: The largest parameter of ``p3-eps:EPS,R`` / ``p2-delta:DELTA``: the float search squares R, which must stay a float64.
MAX_PARAM = Fraction(10) ** 150
