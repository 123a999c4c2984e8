"""What a search looks for, where, in which float type, for how long and from which seed: one option group.

:class:`SearchOptions` is the part ``latentcheck falsify`` and ``latentcheck verify`` share (``--property``,
``--domain``, ``--dtype``, the seconds, ``--seed``); :class:`FalsifyOptions` and :class:`VerifyOptions` say
what each engine accepts: falsify any property with witness points (:attr:`Property.falsifiable`) on any
domain :func:`~latentcheck.theorems.domains.parse_domain` reads, within ``--budget``; verify the properties it
decides (:attr:`Property.verifiable`) on products of intervals, within ``--timeout``. Every value is checked
when the object is built (one :class:`~latentcheck.theorems.errors.InvalidArgument` naming the option and the
fix), and this is the one place the seconds are checked. The help texts of the options are made from the
same registries (:func:`property_help`, :func:`domain_help`), so they list what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._values import nonempty, nonneg_int, positive_int, positive_seconds
from .falsify import DTYPES
from .verify import parse_verify_domain
from .verify.api import small_latent_property
from ..theorems.domains import domain_forms, parse_domain
from ..theorems.errors import InvalidArgument, LatentcheckError
from ..theorems.properties import REGISTRY, Property, get_property

__all__ = ["SearchOptions", "FalsifyOptions", "VerifyOptions", "property_help", "domain_help", "dtype_help"]


def _or_list(items: "tuple[str, ...] | list[str]") -> str:
    """``a, b or c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _properties(capability: str) -> list[Property]:
    """The registered properties with ``capability`` (``falsifiable`` or ``verifiable``), in registry order."""
    return [p for p in REGISTRY.values() if getattr(p, capability)]


def property_help(capability: str) -> str:
    """The help of ``--property``: the registered properties an engine accepts, with their parameters."""
    listed = [f"{p.usage} ({p.name})" for p in _properties(capability)]
    if capability == "verifiable":  # verify decides p3-eps for one-layer smooth encoders (checkers/verify/smooth.py)
        listed.append("p3-eps:EPS[,R] (|enc(x)|_inf >= EPS where |x|_2 >= R, default 1; one-layer smooth encoders)")
    return _or_list(listed) + "."


def domain_help(products_only: bool) -> str:
    """The help of ``--domain``: every domain the parser reads (only products of intervals for verify)."""
    return _or_list(list(domain_forms(products_only))) + "."


def dtype_help() -> str:
    """The help of ``--dtype``: the float types the search evaluates in."""
    return _or_list(list(DTYPES)) + "."


@dataclass(frozen=True)
class SearchOptions:
    """The options a search shares; checked on construction.

    Attributes:
        property: a registered property id, with parameters after a colon (``p3``, ``p3-eps:1/100,1``).
        domain: where inputs come from (``reals``, ``binary``, ``box:LO,HI``, ...).
        dtype: the float type of the search (falsify; verify decides exactly and uses none).
        seconds: the time for the search (``--budget`` of falsify, ``--timeout`` of verify).
        seed: the search's seed.
        prop, dom: the parsed :class:`Property` and :class:`Domain` (set on construction).
    """

    property: str
    domain: str = "reals"
    dtype: str = "float32"
    seconds: float = 10.0
    seed: int = 0
    prop: Any = field(init=False, default=None, repr=False, compare=False)
    dom: Any = field(init=False, default=None, repr=False, compare=False)

    #: The option that gives :attr:`seconds`, and an example value of it.
    seconds_option: ClassVar[str] = "--budget"
    seconds_example: ClassVar[str] = "10"

    def __post_init__(self) -> None:
        nonempty(self.property, "--property", "p3")
        nonempty(self.domain, "--domain", "reals")
        positive_seconds(self.seconds, self.seconds_option, self.seconds_example)
        nonneg_int(self.seed, "--seed")
        if self.dtype not in DTYPES:
            raise InvalidArgument(f"--dtype {self.dtype!r} must be {_or_list(list(DTYPES))}")
        object.__setattr__(self, "prop", self._property())
        object.__setattr__(self, "dom", self._domain())

    def _property(self) -> Property:
        raise NotImplementedError

    def _domain(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class FalsifyOptions(SearchOptions):
    """:class:`SearchOptions` of ``latentcheck falsify``: a falsifiable property on any domain, within ``--budget``
    seconds; ``restarts`` parallel restarts per round, ``max_counterexamples`` certified counterexamples kept."""

    restarts: int = 64
    max_counterexamples: int = 2

    def __post_init__(self) -> None:
        positive_int(self.restarts, "--restarts", "64")
        positive_int(self.max_counterexamples, "--max-counterexamples", "2")
        super().__post_init__()

    def _property(self) -> Property:
        accepted = _or_list([p.usage for p in _properties("falsifiable")])
        try:
            prop = get_property(self.property)
        except LatentcheckError as exc:
            raise InvalidArgument(f"--property {self.property!r}: {exc}; use {accepted}") from None
        if not prop.falsifiable:
            raise InvalidArgument(f"--property {self.property!r}: it has no witness points to search; use {accepted}")
        return prop

    def _domain(self) -> Any:
        try:
            return parse_domain(self.domain)
        except LatentcheckError as exc:
            raise InvalidArgument(f"--domain {self.domain!r}: {exc}") from None


@dataclass(frozen=True)
class VerifyOptions(SearchOptions):
    """:class:`SearchOptions` of ``latentcheck verify``: a property verify decides, on a product of intervals,
    within ``--timeout`` seconds."""

    property: str = "p3"
    seconds: float = 60.0

    seconds_option: ClassVar[str] = "--timeout"
    seconds_example: ClassVar[str] = "60"

    def _property(self) -> Property:
        if self.property.strip().lower().startswith("p3-eps"):
            return small_latent_property(self.property)  # decided for smooth encoders; its own error for a bad EPS or R
        accepted = [p.usage for p in _properties("verifiable")] + ["p3-eps:EPS[,R]"]
        try:
            prop = get_property(self.property)
        except LatentcheckError:
            prop = None
        if prop is None or not prop.verifiable:
            raise InvalidArgument(f"--property {self.property!r}: verify decides {_or_list(accepted)} only; "
                                  f"use --property {accepted[0]}")
        return prop

    def _domain(self) -> Any:
        try:
            return parse_verify_domain(self.domain)
        except LatentcheckError as exc:
            raise InvalidArgument(f"--domain {self.domain!r}: {exc}") from None
