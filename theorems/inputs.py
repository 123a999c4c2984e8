"""What an encoder's input means, and where an encoder came from.

Two small frozen records carried on every :class:`~latentcheck.theorems.encoder.Encoder`:

- :class:`InputSemantics`: how a data row becomes the encoder's input
  (normalisation, what a row is, value type, input ids or names). Read from
  the model file, overridable per command with ``--input-normalise``, honoured
  by every command and API, and printed in every report.
- :class:`Provenance`: which file the encoder was read from, in which format,
  which tensors were used and which were explicitly ignored, and which VAE
  latent (``mu``, ``z``, ``all``) was taken. Certificates and reports name it.

Pure data: no JAX, no solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

from .errors import InvalidArgument

__all__ = ["InputSemantics", "Provenance", "NORMALISATIONS", "parse_normalisation"]

#: Normalisations the engines know: ``none``, ``l2`` (``x / |x|_2``), ``divide:K`` (``x / K``, K an exact decimal or fraction).
NORMALISATIONS = ("none", "l2", "divide:K")


def parse_normalisation(text: str) -> str:
    """Validate a normalisation name and return it in canonical form (``none``, ``l2`` or ``divide:K``)."""
    t = str(text).strip().lower()
    if t in ("none", "l2"):
        return t
    if t.startswith("divide:"):
        from fractions import Fraction

        try:
            k = Fraction(t.split(":", 1)[1])
        except (ValueError, ZeroDivisionError):
            k = Fraction(0)
        if k > 0:
            return f"divide:{t.split(':', 1)[1]}"
    raise InvalidArgument(f"input normalisation {text!r} is not one of none, l2, divide:K (K > 0); pass e.g. --input-normalise l2")


@dataclass(frozen=True)
class InputSemantics:
    """How a data row becomes the encoder's input.

    Attributes:
        normalise: ``none``, ``l2`` or ``divide:K``.
        rows: ``users`` or ``items`` (what one data row is), or ``None`` when unknown.
        values: ``binary`` or ``ratings``, or ``None`` when unknown.
        input_ids: raw integer id of each input coordinate, or ``None``.
        input_names: id string of each input coordinate (ids are data: matched as strings), or ``None``.
        threshold: the binarisation threshold of ``values == 'binary'``, or ``None``.
        origin: where ``normalise`` came from: ``file``, ``option`` or ``default``.
    """

    normalise: str = "none"
    rows: Optional[str] = None
    values: Optional[str] = None
    input_ids: Optional[tuple[int, ...]] = None
    input_names: Optional[tuple[str, ...]] = None
    threshold: Optional[float] = None
    origin: str = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalise", parse_normalisation(self.normalise))
        if self.rows not in (None, "users", "items"):
            raise InvalidArgument(f"rows={self.rows!r} must be users or items")
        if self.values not in (None, "binary", "ratings"):
            raise InvalidArgument(f"values={self.values!r} must be binary or ratings")
        if self.origin not in ("file", "option", "default"):
            raise InvalidArgument(f"origin={self.origin!r} must be file, option or default")

    def with_normalise(self, normalise: Optional[str]) -> "InputSemantics":
        """These semantics with ``normalise`` overridden by a command-line option (``None`` keeps them)."""
        if normalise is None:
            return self
        return replace(self, normalise=normalise, origin="option")

    def record(self) -> dict[str, Any]:
        """A JSON-ready summary for reports and certificates (ids summarised by count)."""
        out: dict[str, Any] = {"normalise": self.normalise, "normalise_from": self.origin}
        for k in ("rows", "values", "threshold"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.input_names is not None:
            out["input_names"] = len(self.input_names)
        if self.input_ids is not None:
            out["input_ids"] = len(self.input_ids)
        return out


@dataclass(frozen=True)
class Provenance:
    """Where an encoder came from and what of the file was read.

    Attributes:
        path: the model file (or folder), or ``None`` for an encoder built in Python.
        sha256: SHA-256 of the file, or ``None`` (folders, Python objects).
        format: ``npz``, ``safetensors``, ``torch``, ``onnx``, ``flax``, ``equinox``, ``torch-module``, ...
        tensors_used: names of the tensors that make up the checked function, in order.
        tensors_ignored: names the user excluded explicitly (``--ignore GLOB``).
        folded: human-readable notes of what was folded in (``BatchNorm1d 'enc.1' folded into 'enc.0'``, weight norm applied, ...).
        latent: for VAE heads, which latent was taken (``mu``, ``z``, ``all``), else ``None``.
    """

    path: Optional[str] = None
    sha256: Optional[str] = None
    format: Optional[str] = None
    tensors_used: tuple[str, ...] = ()
    tensors_ignored: tuple[str, ...] = ()
    folded: tuple[str, ...] = field(default_factory=tuple)
    latent: Optional[str] = None

    def record(self) -> dict[str, Any]:
        """A JSON-ready summary for reports and certificates."""
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "format": self.format,
                               "tensors_used": list(self.tensors_used)}
        if self.tensors_ignored:
            out["tensors_ignored"] = list(self.tensors_ignored)
        if self.folded:
            out["folded"] = list(self.folded)
        if self.latent is not None:
            out["latent"] = self.latent
        return out
