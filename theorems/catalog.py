"""The theorem catalog: every theorem of THEORY.md and every claim of the paper, as data.

Each :class:`Claim` names the statement, where it comes from, the verdict the
mathematics predicts (``proved`` or ``refuted``) and the check that decides
it (a key of the engine registry in :mod:`latentcheck.checkers.prove.checks`). The engines never
look at ``expected``: ``latentcheck prove`` compares afterwards, and exits
non-zero when a verdict differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from .errors import InvalidArgument

__all__ = ["Claim", "CLAIMS", "claim_ids", "get_claim"]


@dataclass(frozen=True)
class Claim:
    """One checkable statement.

    Attributes:
        id: short stable identifier (``--only`` takes it).
        claim: the statement, in words.
        source: ``paper``, ``T1``..``T5`` or ``beyond`` (THEORY.md goes beyond the paper).
        expected: ``proved`` or ``refuted``: what the mathematics predicts.
        check: the engine check that decides it.
        params: keyword arguments for the check.
    """

    id: str
    claim: str
    source: str
    expected: str
    check: str
    params: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


CLAIMS: tuple[Claim, ...] = (
    # ---------------------------------------------------------- theorems
    # The text of each claim says the scope that its check covers (issue 8, item 10).
    Claim("T1", "Vanishing latent activation breaks P3 (m <= 3, every n > m): if s(t0) = 0, h = id, W in R^(m x n) "
          "has full row rank, then x = W^+(t0*1 - b) + k (k != 0 in ker W) is nonzero and enc(x) = 0.",
          "T1", "proved", "t1_symbolic", (("max_m", 3),)),
    Claim("T1-relu-interior", "For ReLU-like s (zero on (-inf, a]) and full-row-rank W with m <= 3, the zero set "
          "{x : W x + b <= a*1} has non-empty interior: a whole ball maps to the zero vector.",
          "T1", "proved", "t1_interior", (("max_m", 3),)),
    Claim("T2", "Non-vanishing latent activation gives P3 for any architecture: s(t) != 0 for all real t "
          "implies enc(x) != 0 for every x (real arithmetic), for every non-vanishing catalog activation.",
          "T2", "proved", "t2_catalog"),
    Claim("T3", "A linear bottleneck cannot preserve ordering (m <= 3, every n > m): for A != 0 in R^{m x n}, "
          "x = r + k, v = k, u = e x (0 < e < |k|^2/|x|^2) is a strict ordering flip.",
          "T3", "proved", "t3_symbolic", (("max_m", 3),)),
    Claim("T4", "P1 and P2 force a constant encoder: for every n > m >= 1, every map enc: R^n -> R^m "
          "(no continuity assumed) that satisfies P2 on nonzero inputs is constant on R^n \\ {0}.",
          "T4", "proved", "t4_smt"),
    Claim("T4-strict", "Strict P2 (<x,u> < <x,v> implies <enc x,enc u> < <enc x,enc v>) holds for no map "
          "R^2 \\ {0} -> R (n = 2, m = 1).",
          "T4", "proved", "t4_strict", (("dims", ((2, 1),)),)),
    Claim("T4-binary", "T4 carried to implicit feedback without P3: every map on {0,1}^n \\ {0} that satisfies P2 "
          "is constant.",
          "beyond", "refuted", "t4_binary", (("dims", ((2, 1),)), ("with_p3", False))),
    Claim("T4-binary-P3-m1", "T4 with P3 on implicit feedback, one latent dimension: for every n >= 2, every map "
          "{0,1}^n \\ {0} -> R with nonzero values that satisfies P2 is constant.",
          "beyond", "proved", "t4_binary_m1"),
    Claim("T4-binary-P3-m2", "T4 with P3 on implicit feedback, m >= 2: for every n > m >= 2, every map "
          "{0,1}^n \\ {0} -> R^m with nonzero values that satisfies P2 is constant.",
          "beyond", "refuted", "t4_binary_family_refutes"),
    Claim("T4-binary-family", "For every n >= 3 and 2 <= m < n, enc(u) = e_1 for u != 1 and enc(1) = e_1 + e_2 "
          "(1 the all-ones user) is a non-constant map {0,1}^n -> R^m that satisfies P1, P2 on all of {0,1}^n "
          "(zero included) and P3.",
          "beyond", "proved", "t4_binary_family"),
    Claim("T4-nonneg-P3-m1", "T4 with P3 on ratings, one latent dimension: for every n >= 2, every map "
          "R>=0^n \\ {0} -> R with nonzero values that satisfies P2 is constant.",
          "beyond", "proved", "t4_nonneg_m1"),
    Claim("T4-nonneg", "T4 on ratings: for every n > m >= 1, every map R>=0^n \\ {0} -> R^m that satisfies P2 "
          "is constant (P3 not needed; only the ties of P2 are used).",
          "beyond", "proved", "t4_nonneg_general"),
    Claim("T4-binary-gram", "How far from constant on implicit feedback: for every n > m >= 1, every map "
          "f: {0,1}^n \\ {0} -> R^m that satisfies P2 is f(u) = a for every u != 1 and f(1) = a + b with <a,b> = 0 "
          "(1 the all-ones user): at most two distinct latent vectors, an image of rank at most 2.",
          "beyond", "proved", "t4_binary_gram"),
    Claim("T5-as-stated", "T5 as stated: for every one-layer sigmoid encoder with W != 0, the zero user x = 0 "
          "gives an ordering flip (<enc 0, enc u> is not the same for every u).",
          "T5", "refuted", "t5_as_stated"),
    Claim("T5-corrected", "T5 corrected (m <= 2, W in R^(m x (m+1))): for a one-layer sigmoid encoder with "
          "d = sigmoid(b)*sigmoid'(b) and W^T d != 0, the zero user gives an ordering flip (u = tau W^T d, small tau > 0).",
          "beyond", "proved", "t5_corrected", (("max_m", 2),)),
    # ---------------------------------------------------------- the paper's claims
    Claim("P3-relu", "A ReLU latent layer satisfies P3 (one layer, full-row-rank W, m < n).",
          "paper", "refuted", "p3_instance", (("activation", "relu"),)),
    Claim("P3-tanh", "A tanh latent layer satisfies P3 (one layer, full-row-rank W, m < n).",
          "paper", "refuted", "p3_instance", (("activation", "tanh"),)),
    Claim("P3-sigmoid-reals", "A sigmoid latent layer satisfies P3 over the reals (any W, b, body, n, m).",
          "paper", "proved", "p3_nonvanishing", (("activation", "sigmoid"),)),
    Claim("P3-sigmoid-float16", "A sigmoid latent layer satisfies P3 when evaluated in float16.",
          "paper", "refuted", "p3_float", (("activation", "sigmoid"), ("dtype", "float16"))),
    Claim("P2-linear", "A linear bottleneck enc(x) = A x (A != 0, m < n) satisfies P2.",
          "paper", "refuted", "p2_linear"),
    Claim("P2-sigmoid", "A one-layer sigmoid encoder with W != 0 satisfies P2.",
          "paper", "refuted", "p2_sigmoid"),
    Claim("P1-P3-constant-relu", "A constant ReLU encoder (W = 0, b > 0) satisfies P1, P2 and P3 "
          "(the degenerate case that the paper's 'generalizable' excludes).",
          "paper", "proved", "constant_relu"),
    Claim("paper-relu-never", "The paper read without 'generalizable': no ReLU bottleneck encoder satisfies P1-P3.",
          "paper", "refuted", "constant_relu_refutes"),
    Claim("paper-sigmoid-viable", "Sigmoid remains viable: some sigmoid bottleneck encoder satisfies P1, P2 and P3 "
          "(true: W = 0 gives one; on R^n it must be constant by T4).",
          "paper", "proved", "constant_sigmoid"),
)


def claim_ids() -> list[str]:
    return [c.id for c in CLAIMS]


def get_claim(claim_id: str) -> Claim:

    for c in CLAIMS:
        if c.id.lower() == claim_id.lower():
            return c
    raise InvalidArgument(f"claim {claim_id!r} is not in the catalog; choose one of {', '.join(claim_ids())}")
