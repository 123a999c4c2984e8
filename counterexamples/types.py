"""The counterexample record: an exact witness, how it was certified, and why.

A :class:`Counterexample` is immutable data. Its witness is stored as exact
rational strings (``"3/8"``, ``"-2"``), one tuple per vector: ``("x",)`` for
P3 (a nonzero ``x`` with ``enc(x) = 0``) and ``("x", "u", "v")`` for P2 (an
ordering flip). ``certified`` says how much to trust it:

* ``"exact"``: re-checked in exact rational arithmetic (piecewise-linear and
  polynomial activations);
* ``"interval"``: re-checked in interval arithmetic (transcendental
  activations); the enclosure excludes every non-violating value;
* ``"float-only"``: the float computation in ``dtype`` under ``runtime``
  (``xla-cpu``, ``xla-gpu``, ``ieee``) shows the violation and the real value
  is proved not to. It is a rounding hazard of that dtype and runtime, not a
  counterexample to the mathematical property, and is never presented as one;
  ``ieee_reproduces`` says whether IEEE NumPy shows it too (``False``: it
  holds only under XLA's flush-to-zero);
* ``"undecided"``: the float computation shows the violation and the real
  value could not be decided (neither certified nor refuted).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Mapping, Sequence
from ..theorems.errors import LatentcheckError
from ..theorems.properties import get_property

__all__ = ["Counterexample", "CERTIFIED", "EXACT", "INTERVAL", "FLOAT_ONLY", "UNDECIDED", "LABELS", "format_fraction",
           "parse_fraction"]

EXACT = "exact"
INTERVAL = "interval"
FLOAT_ONLY = "float-only"
UNDECIDED = "undecided"
#: Every label a reported finding can carry.
LABELS = (EXACT, INTERVAL, FLOAT_ONLY, UNDECIDED)
#: Labels of a counterexample that holds in real arithmetic.
CERTIFIED = (EXACT, INTERVAL)



@functools.lru_cache(maxsize=256)
def _names(prop: str) -> tuple[str, ...] | None:
    """The witness names of a registered property (``None`` when ``prop`` names none that takes witnesses)."""

    try:
        p = get_property(prop)
    except LatentcheckError:
        return None
    return p.names if p.falsifiable else None


def format_fraction(value: Any) -> str:
    """An exact rational as a short string: ``"0"``, ``"-3"``, ``"5/8"``."""
    q = Fraction(value)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def parse_fraction(text: str) -> Fraction:
    """Parse ``"p/q"`` or an integer / decimal string exactly (no ``eval``)."""
    return Fraction(str(text).strip())


@dataclass(frozen=True)
class Counterexample:
    """A counterexample to P3 or P2 with an exact witness.

    Attributes:
        property: the property's spec: ``"P3"`` (zero vector), ``"P2"`` (ordering flip), ``"P3-eps:1/100,1"``...
        witness: one tuple of exact rational strings per vector, in the order
            of :attr:`names` (``x`` for P3; ``x, u, v`` for P2).
        margin: the size of the violation as an exact string (``"0"`` for a
            P3 zero; ``<enc x,enc u> - <enc x,enc v>`` for P2, exact or the
            lower end of its enclosure), or ``None``.
        certified: ``"exact"``, ``"interval"``, ``"float-only"`` or ``"undecided"``.
        dtype: the float dtype the search ran in (``float-only`` ones hold only there).
        domain: the input domain (``reals``, ``nonneg``, ``binary``, ``sphere``, ``data:...``).
        detail: one sentence from the exact / interval re-check.
        origin: which construction or search produced it (``"T1 basic solution"``, ``"gradient"``, ...).
        notes: further remarks (shrinking, float behaviour, row index for data).
        runtime: for float findings, the runtime they hold in (``xla-cpu``, ``xla-gpu``, ``ieee``, ``host``).
        ieee_reproduces: for float findings, whether IEEE NumPy shows them too (``None``: not checked).

    Example:
        >>> cx = Counterexample("P3", (("0", "2", "-1"),), "0", "exact", "float32", "reals")
        >>> cx.nonzeros, cx.vector("x")
        (2, [Fraction(0, 1), Fraction(2, 1), Fraction(-1, 1)])
    """

    property: str
    witness: tuple[tuple[str, ...], ...]
    margin: str | None
    certified: str
    dtype: str | None
    domain: str
    detail: str = ""
    origin: str = ""
    notes: tuple[str, ...] = field(default=())
    runtime: str | None = None
    ieee_reproduces: bool | None = None

    def __post_init__(self) -> None:
        names = _names(self.property)
        if names is None:
            raise ValueError(f"property={self.property!r} must be a registered property with witnesses, e.g. 'P3' or 'P2'")
        if len(self.witness) != len(names):
            raise ValueError(f"a {self.property} witness has {len(names)} vector(s), got {len(self.witness)}")
        if self.certified not in LABELS:
            raise ValueError(f"certified={self.certified!r} must be one of {', '.join(LABELS)}")
        object.__setattr__(self, "witness", tuple(tuple(map(str, vec)) for vec in self.witness))
        object.__setattr__(self, "notes", tuple(self.notes))

    # ------------------------------------------------------------- views
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the witness vectors: ``("x",)`` or ``("x", "u", "v")``."""
        return _names(self.property)  # type: ignore[return-value]

    @property
    def is_certified(self) -> bool:
        """True when the violation holds in real arithmetic (``exact`` or ``interval``)."""
        return self.certified in CERTIFIED

    def vector(self, name: str) -> list[Fraction]:
        """One witness vector as exact :class:`~fractions.Fraction` s."""
        return [parse_fraction(v) for v in self.witness[self.names.index(name)]]

    def vectors(self) -> dict[str, list[Fraction]]:
        """Every witness vector as exact fractions, by name."""
        return {name: self.vector(name) for name in self.names}

    @property
    def nonzeros(self) -> int:
        """Number of nonzero entries over all witness vectors."""
        return sum(1 for vec in self.witness for v in vec if parse_fraction(v) != 0)

    @property
    def size(self) -> int:
        """Total bit length of numerators and denominators (the shrinker's measure)."""
        total = 0
        for vec in self.witness:
            for v in vec:
                q = parse_fraction(v)
                if q:
                    total += abs(q.numerator).bit_length() + q.denominator.bit_length()
        return total

    def sparse(self, name: str, limit: int | None = None) -> list[tuple[int, str]]:
        """``(index, value)`` pairs of the nonzero entries of one vector."""
        vec = self.witness[self.names.index(name)]
        out = [(i, v) for i, v in enumerate(vec) if parse_fraction(v) != 0]
        return out if limit is None else out[:limit]

    def with_notes(self, *notes: str) -> "Counterexample":
        return replace(self, notes=self.notes + tuple(notes))

    # ------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; the witness is dense (every entry, as an exact string)."""
        out = {
            "property": self.property,
            "certified": self.certified,
            "real": self.is_certified,
            "margin": self.margin,
            "dtype": self.dtype,
            "domain": self.domain,
            "origin": self.origin,
            "detail": self.detail,
            "notes": list(self.notes),
            "nonzeros": self.nonzeros,
            "witness": {name: list(vec) for name, vec in zip(self.names, self.witness)},
        }
        if not self.is_certified:
            out["runtime"] = self.runtime
            out["ieee_reproduces"] = self.ieee_reproduces
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Counterexample":
        prop = data["property"]
        names = _names(prop)
        if names is None:
            raise ValueError(f"property={prop!r} must be a registered property with witnesses, e.g. 'P3' or 'P2'")
        wit = data["witness"]
        return cls(
            property=prop,
            witness=tuple(tuple(wit[n]) for n in names),
            margin=data.get("margin"),
            certified=data["certified"],
            dtype=data.get("dtype"),
            domain=data.get("domain", "reals"),
            detail=data.get("detail", ""),
            origin=data.get("origin", ""),
            notes=tuple(data.get("notes", ())),
            runtime=data.get("runtime"),
            ieee_reproduces=data.get("ieee_reproduces"),
        )

    @classmethod
    def from_vectors(cls, property: str, vectors: Sequence[Sequence[Any]], **kwargs: Any) -> "Counterexample":
        """Build from vectors of rationals (``Fraction``, ``int`` or exact strings) or :class:`latentcheck.counterexamples.fast.QVec` s."""
        return cls(property, tuple(vec.strings() if hasattr(vec, "strings") else tuple(format_fraction(v) for v in vec)
                                   for vec in vectors), **kwargs)
