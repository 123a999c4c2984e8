"""The verifier's verdict type, shared by its front end (``api``) and its engines (``run``, ``l2``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

__all__ = ["VerifyResult", "VERDICTS", "CERT_SCHEMA_NOTE", "is_counterexample"]

VERDICTS = ("proved", "refuted", "proved-float", "unknown")
CERT_SCHEMA_NOTE = "see docs/verify.md"


@dataclass
class VerifyResult:
    """The verdict and its evidence.

    Attributes:
        verdict: ``proved``, ``refuted``, ``proved-float`` or ``unknown``.
        reason: one sentence: why this verdict.
        method: ``interval``, ``branch-and-bound``, ``T2``, ``exact-point``, ``pgd-search+exact``,
            ``soi-search+exact``, ``milp-search+exact``, ``smooth-cover`` (p3-eps), ``min-latent`` or ``none``.
        counterexample: for ``refuted``: ``x`` as exact rational strings.
        certificate: for ``proved`` by branch and bound: the certificate (JSON-ready).
        stats: nodes, LPs, leaves, seconds.
    """

    verdict: str
    reason: str
    method: str
    domain: str
    counterexample: list[str] | None = None
    certificate: dict | None = None
    stats: dict = field(default_factory=dict)
    #: the input semantics checked (``InputSemantics.record()``: normalisation and where it came from)
    inputs: dict = field(default_factory=dict)
    #: the property decided (``p3``, or ``p3-eps:EPS,R``)
    property_spec: str = "p3"
    #: for ``--min-latent``: certified bounds on ``min |enc(x)|_inf`` (``MinLatent.to_json()``)
    min_latent: dict | None = None

    @property
    def exit_code(self) -> int:
        return {"proved": 0, "refuted": 1}.get(self.verdict, 3)

    def to_json(self) -> dict[str, Any]:
        out = {"schema": "latentcheck.verify/1", "property": self.property_spec, "verdict": self.verdict, "reason": self.reason,
                "method": self.method, "domain": self.domain, "counterexample": self.counterexample,
                "certified": self.verdict in ("proved", "refuted"), "stats": self.stats, "inputs": self.inputs}
        if self.min_latent is not None:
            out["min_latent"] = self.min_latent
        return out


def is_counterexample(encoder: Any, dom: Any, x: list[Fraction]) -> bool:
    """Whether the rational ``x`` is a nonzero point of ``dom`` with ``enc(x) = 0`` exactly."""
    if not any(x) or not dom.contains(x):
        return False
    return all(v == 0 for v in encoder.exact(x))

