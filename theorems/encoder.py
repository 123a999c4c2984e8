"""The encoder the theorems quantify over: affine layers, one activation each.

``enc(x) = s_L(W_L ... s_1(W_1 x + b_1) ... + b_L)`` with ``W_i`` shaped
``(out, in)``. Each layer keeps a float64 copy of its weights for float
search (numpy or JAX, any dtype) and, when the stored dtype is wider than
float64 (long double, integers beyond ``2**53``), the stored array itself:
exact evaluation always uses the stored values (every IEEE float is a dyadic
rational, integers stay integers), never their float64 rounding. Evaluated in
exact rationals (piecewise-linear and polynomial activations, and any
activation at a rational point where it has an exact rational value, such as
``tanh(0) = 0``) and in interval arithmetic (the rest).

Files are read and written by :mod:`latentcheck.theorems.formats` (``load_encoder``, ``save_encoder``,
``encoder_from_torch``), which builds encoders from this module; this module never imports it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .activations import Activation, get_activation
from .errors import InvalidArgument, InvalidWeights, NonFiniteWeights, NotExact, ShapeMismatch
from .inputs import InputSemantics, Provenance
from .exact_arrays import exact_number, exact_scalars, exact_strings, fits_float64, float64_copy, unreadable_reason
from .exact_net import ExactLayer, ExactNet, exact_affine, interval_affine
from .float_forward import jax_forward
from .lower import exact_value, to_interval
from .symbols import sp

__all__ = ["Layer", "Encoder", "exact_affine", "interval_affine", "exact_activation_value", "file_sha256"]

@dataclass(frozen=True, eq=False)
class Layer:
    """One affine layer followed by an elementwise activation.

    Attributes:
        W: weights, shape ``(out, in)``, float64 (the stored values, or their
            float64 rounding for float search when ``W_src`` is set).
        b: bias, shape ``(out,)``, float64 (likewise).
        activation: the layer's activation.
        W_src, b_src: the stored arrays when float64 cannot hold them exactly
            (long double, wide integers); ``None`` when ``W`` / ``b`` are exact.
    """

    W: np.ndarray
    b: np.ndarray
    activation: Activation
    W_src: np.ndarray | None = None
    b_src: np.ndarray | None = None

    @property
    def float64_exact(self) -> bool:
        """True when the float64 ``W`` and ``b`` are the stored values exactly (the fast exact paths apply)."""
        return self.W_src is None and self.b_src is None

    @functools.cached_property
    def W_exact(self) -> np.ndarray:
        """Exact weights, an object array of ``int`` / ``Fraction`` shaped ``(out, in)`` (computed once)."""
        return exact_scalars(self.W if self.W_src is None else self.W_src)

    @functools.cached_property
    def b_exact(self) -> list[Fraction]:
        """Exact biases as ``Fraction`` s (computed once)."""
        return [Fraction(v) for v in exact_scalars(self.b if self.b_src is None else self.b_src).tolist()]

    @functools.cached_property
    def kernel(self) -> ExactLayer:
        """The layer in the exact kernel (:mod:`latentcheck.theorems.exact_net`): integer weights over a power of
        two, built once from the stored values."""
        return ExactLayer.from_arrays(self.W if self.W_src is None else self.W_src, self.b if self.b_src is None else self.b_src)

    def exact_affine(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact ``W x + b`` at the stored values, for rational ``x``."""
        return self.kernel.affine(x)

    def interval_affine(self, h: Sequence[Any]) -> list[Any]:
        """Intervals enclosing ``W h + b`` at the stored values, for interval (or rational) ``h``."""
        return self.kernel.enclose(h)

    @property
    def n_in(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[0])


def _validate_layers(layers: tuple) -> None:
    """:class:`InvalidWeights` / :class:`ShapeMismatch` unless ``layers`` is a non-empty chain of fitting, finite layers."""
    if not layers:
        raise InvalidWeights("an encoder needs at least one layer (W0, b0)")
    prev_out = None
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer) or not isinstance(layer.activation, Activation):
            raise InvalidWeights(f"layer {i} is {type(layer).__name__}, not a Layer with an Activation; build encoders with "
                                 "Encoder.from_arrays")
        W, b = layer.W, layer.b
        if W.ndim != 2 or b.ndim != 1 or b.shape[0] != W.shape[0] or 0 in W.shape:
            raise ShapeMismatch(f"layer {i}: W{i} {W.shape} and b{i} {b.shape} do not fit (W_i is (out, in), b_i (out,))")
        if prev_out is not None and W.shape[1] != prev_out:
            raise ShapeMismatch(f"W{i} takes {W.shape[1]} inputs but layer {i - 1} gives {prev_out} outputs; W_i is shaped (out, in)")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise NonFiniteWeights(f"layer {i} holds NaN or infinite values; retrain or clean the weights before checking")
        prev_out = W.shape[0]


def _check_array(name: str, value: Any, ndim: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``(float64 copy, stored array or None)``: the stored array is kept when float64 cannot hold it exactly."""
    try:
        src = np.asarray(value)
    except (TypeError, ValueError):
        raise InvalidWeights(f"{name} must be a numeric array, got {type(value).__name__}; store plain float arrays") from None
    reason = unreadable_reason(src.dtype)
    if reason is not None:
        raise InvalidWeights(f"{name}: {reason}")
    if src.ndim != ndim:
        raise ShapeMismatch(f"{name} has shape {src.shape} but must have {ndim} dimension(s)"
                            + (" (out, in)" if ndim == 2 else " (out,)"))
    arr = float64_copy(src)
    # One memory layout (C order) for every route, so the float search, whose BLAS sums depend on the layout,
    # gives the same finding for the same weights and seed.
    arr = np.array(arr, dtype=np.float64, order="C", copy=True)
    wide = src.dtype.kind == "f" and src.dtype.itemsize > 8
    finite = np.isfinite(src if wide else arr) if src.dtype.kind == "f" or src.dtype.name == "bfloat16" else None
    if finite is not None and not np.all(finite):
        bad = int(np.size(src) - np.count_nonzero(finite))
        raise NonFiniteWeights(f"{name} holds {bad} NaN or infinite value(s); retrain or clean the weights before checking")
    if wide and not np.all(np.isfinite(arr)):
        raise InvalidWeights(f"{name} ({src.dtype}) holds values beyond the float64 range, which the float search cannot "
                             "represent; rescale the weights")
    arr.setflags(write=False)
    if fits_float64(src):
        return arr, None
    kept = src.copy()
    kept.setflags(write=False)
    return arr, kept


@dataclass(frozen=True, eq=False)
class Encoder:
    """A stack of :class:`Layer` s, input dimension ``n``, latent dimension ``m``.

    Example:
        >>> enc = Encoder.from_arrays([[[1.0, 0.0, 0.0]]], [[0.0]], ["relu"])
        >>> enc.n, enc.m
        (3, 1)
    """

    layers: tuple[Layer, ...]
    source_path: str | None = None
    source_sha256: str | None = None
    #: dtype the weights were stored in (float16, bfloat16, float32, float64), when read from a file; W and b are exact widenings.
    stored_dtype: Optional[str] = None
    #: How a data row becomes this encoder's input (normalisation, rows, values, ids): read from the model file,
    #: overridden per command by ``--input-normalise``; every engine checks ``enc(normalise(x))``.
    inputs: InputSemantics = InputSemantics()
    #: Which file, format and tensors this encoder was read from (``None`` for one built in Python).
    provenance: Optional[Provenance] = None

    def __post_init__(self) -> None:
        """Every construction is validated (``replace`` too): a non-empty chain of layers whose shapes fit, finite
        float64 weights, known activations."""
        object.__setattr__(self, "layers", tuple(self.layers))
        _validate_layers(self.layers)

    # ------------------------------------------------------------- pytree
    def tree_flatten(self) -> tuple[tuple, tuple]:
        """JAX pytree children (every layer's ``W, b, W_src, b_src``) and static data (activations, source, inputs).
        :func:`latentcheck.theorems.float_forward.register_pytree` registers the class when JAX is first used."""
        children = tuple((layer.W, layer.b, layer.W_src, layer.b_src) for layer in self.layers)
        aux = (tuple(layer.activation for layer in self.layers), self.source_path, self.source_sha256, self.stored_dtype,
               self.inputs, self.provenance)
        return children, aux

    @classmethod
    def tree_unflatten(cls, aux: tuple, children: tuple) -> "Encoder":
        """The encoder of :meth:`tree_flatten`'s parts. Not validated: under ``jit`` / ``vmap`` the leaves are
        tracers (every encoder built from arrays is validated by ``__post_init__``)."""
        acts, source_path, source_sha256, stored_dtype, inputs, provenance = aux
        out = object.__new__(cls)
        values = {"layers": tuple(Layer(W, b, act, Ws, bs) for (W, b, Ws, bs), act in zip(children, acts)),
                  "source_path": source_path, "source_sha256": source_sha256, "stored_dtype": stored_dtype,
                  "inputs": inputs, "provenance": provenance}
        for name, value in values.items():
            object.__setattr__(out, name, value)
        return out

    # ------------------------------------------------------------- building
    @classmethod
    def from_arrays(
        cls,
        weights: Sequence[Any],
        biases: Sequence[Any],
        activations: "Sequence[str | Activation] | str | Activation",
    ) -> "Encoder":
        """Build and validate an encoder from per-layer arrays and activations."""
        if len(weights) == 0:
            raise InvalidWeights("an encoder needs at least one layer (W0, b0)")
        if len(weights) != len(biases):
            raise ShapeMismatch(f"got {len(weights)} weight matrices but {len(biases)} bias vectors; give one bias per layer")
        if isinstance(activations, (str, Activation)):
            activations = [activations] * len(weights)
        if len(activations) != len(weights):
            raise ShapeMismatch(f"got {len(activations)} activations for {len(weights)} layers; give one per layer")
        layers = []
        prev_out = None
        for i, (w, b, a) in enumerate(zip(weights, biases, activations)):
            W, W_src = _check_array(f"W{i}", w, 2)
            bb, b_src = _check_array(f"b{i}", b, 1)
            if bb.shape[0] != W.shape[0]:
                raise ShapeMismatch(f"b{i} has {bb.shape[0]} entries but W{i} has {W.shape[0]} rows (shape (out, in)); they must match")
            if prev_out is not None and W.shape[1] != prev_out:
                raise ShapeMismatch(f"W{i} takes {W.shape[1]} inputs but layer {i - 1} gives {prev_out} outputs; W_i is shaped (out, in)")
            if W.shape[0] == 0 or W.shape[1] == 0:
                raise ShapeMismatch(f"W{i} has an empty shape {W.shape}")
            layers.append(Layer(W, bb, get_activation(a), W_src, b_src))
            prev_out = W.shape[0]
        return cls(tuple(layers))

    @classmethod
    def random(
        cls,
        sizes: Sequence[int],
        activation: "str | Activation",
        hidden_activation: "str | Activation | None" = None,
        *,
        seed: int,
        scale: float | None = None,
        bias_scale: float = 0.1,
    ) -> "Encoder":
        """A random encoder with layer sizes ``sizes = [n, h1, ..., m]`` (Gaussian, He-style scale)."""
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s <= 0 for s in sizes):
            raise InvalidArgument(f"sizes={sizes!r} must list at least two positive sizes, e.g. 1682,64")
        rng = np.random.default_rng(seed)
        hidden = activation if hidden_activation is None else hidden_activation
        ws, bs, acts = [], [], []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            s = (scale if scale is not None else np.sqrt(2.0 / a))
            ws.append(rng.normal(0.0, s, size=(b, a)))
            bs.append(rng.normal(0.0, bias_scale, size=(b,)))
            acts.append(activation if i == len(sizes) - 2 else hidden)
        return cls.from_arrays(ws, bs, acts)

    # ------------------------------------------------------------- shape
    @property
    def n(self) -> int:
        """Input dimension."""
        return self.layers[0].n_in

    @property
    def m(self) -> int:
        """Latent dimension."""
        return self.layers[-1].n_out

    @property
    def sizes(self) -> list[int]:
        return [self.n] + [layer.n_out for layer in self.layers]

    @property
    def activation(self) -> Activation:
        """The latent (last) activation."""
        return self.layers[-1].activation

    @property
    def parameters(self) -> int:
        return int(sum(layer.W.size + layer.b.size for layer in self.layers))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sizes": self.sizes,
            "activations": [layer.activation.name for layer in self.layers],
            "n": self.n,
            "m": self.m,
            "parameters": self.parameters,
        }
        if self.source_sha256 is not None:
            out["weights_file"] = self.source_path
            out["weights_sha256"] = self.source_sha256
        dtypes = sorted({str(a.dtype) for layer in self.layers for a in (layer.W_src, layer.b_src) if a is not None})
        if dtypes:
            out["stored_dtypes"] = dtypes
        if self.provenance is not None:
            out["provenance"] = self.provenance.record()  # the tensors read, folds and the VAE latent: reports list them
        return out

    def exact_weights(self) -> list[dict[str, Any]]:
        """Per layer: ``W`` (rows of exact strings), ``b`` and the activation (name and expression), for records."""
        return [{"W": exact_strings(layer.W if layer.W_src is None else layer.W_src),
                 "b": exact_strings(layer.b if layer.b_src is None else layer.b_src),
                 "activation": layer.activation.name, "expression": str(layer.activation.expr)}
                for layer in self.layers]

    # ------------------------------------------------------------- float
    def __call__(self, x: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """Float evaluation with numpy; ``x`` shaped ``(n,)`` or ``(batch, n)``."""
        h = np.asarray(x, dtype=dtype)
        for layer in self.layers:
            h = layer.activation.numpy(h @ layer.W.T.astype(dtype) + layer.b.astype(dtype)).astype(dtype)
        return h

    def jax_fn(self, dtype: Any = "float32") -> Callable[[Any], Any]:
        """A pure JAX function ``x[n] -> z[m]`` in ``dtype`` (jit/vmap it at the edge): the one float forward
        pass, :func:`latentcheck.theorems.float_forward.apply_layers`."""
        return jax_forward(self, str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype)

    def pre_activations(self, x: np.ndarray) -> np.ndarray:
        """Float64 latent pre-activations ``W_L h(x) + b_L``."""
        h = np.asarray(x, dtype=np.float64)
        for layer in self.layers[:-1]:
            h = layer.activation.numpy(h @ layer.W.T + layer.b)
        last = self.layers[-1]
        return h @ last.W.T + last.b

    # ------------------------------------------------------------- exact
    @functools.cached_property
    def exact_net(self) -> ExactNet:
        """The encoder in the exact kernel (:class:`latentcheck.theorems.exact_net.ExactNet`), built once."""
        return ExactNet.from_encoder(self)

    @property
    def is_exact(self) -> bool:
        """True when every activation maps rationals to rationals."""
        return all(layer.activation.is_exact for layer in self.layers)

    def body_is_exact(self) -> bool:
        return all(layer.activation.is_exact for layer in self.layers[:-1])

    def exact_pre_activations(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact latent pre-activations for rational ``x`` (body must be exact)."""
        h = [exact_number(v) for v in x]
        if len(h) != self.n:
            raise ShapeMismatch(f"input has {len(h)} entries but the encoder takes n={self.n}")
        for layer in self.layers[:-1]:
            if not layer.activation.is_exact:
                raise NotExact(f"hidden activation {layer.activation.name!r} is transcendental; use interval arithmetic")
            h = [layer.activation.exact(v) for v in layer.exact_affine(h)]
        return self.layers[-1].exact_affine(h)

    def exact(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact rational ``enc(x)``; :class:`NotExact` for transcendental activations."""
        pre = self.exact_pre_activations(x)
        act = self.layers[-1].activation
        return [act.exact(v) for v in pre]

    # ------------------------------------------------------------- intervals
    def mixed_pre_activations(self, x: Sequence[Any]) -> list[Any]:
        """Latent pre-activations, each an exact ``Fraction`` where it can be derived exactly, else an interval.

        A hidden value is exact when its pre-activation is (every input with a
        nonzero weight exact) and the activation has an exact rational value
        there (:func:`exact_activation_value`, e.g. ``tanh(0) = 0``).
        """
        if len(x) != self.n:
            raise ShapeMismatch(f"input has {len(x)} entries but the encoder takes n={self.n}")
        h: list[Any] = [exact_number(v) for v in x]
        for layer in self.layers[:-1]:
            h = [_mixed_activation(layer.activation, p) for p in _mixed_affine(layer, h)]
        return _mixed_affine(self.layers[-1], h)

    def mixed(self, x: Sequence[Any]) -> list[Any]:
        """``enc(x)`` per coordinate: an exact ``Fraction`` where derivable exactly, else an mpmath interval."""
        act = self.layers[-1].activation
        return [_mixed_activation(act, p) for p in self.mixed_pre_activations(x)]

    def interval_pre_activations(self, x: Sequence[Any]) -> list[Any]:
        """Intervals enclosing the latent pre-activations for rational ``x``."""
        return [to_interval(v) for v in self.mixed_pre_activations(x)]

    def interval(self, x: Sequence[Any]) -> list[Any]:
        """Intervals (mpmath ``iv.mpf``) enclosing every coordinate of ``enc(x)``."""
        return [to_interval(v) for v in self.mixed(x)]


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _contains_zero(v: Any) -> bool:
    return not (v.a > 0 or v.b < 0)


def exact_activation_value(act: Activation, p: Fraction, enclosure: Any = None) -> Fraction | None:
    """``s(p)`` as an exact rational when it is one and can be found exactly, else ``None``.

    Rational activations are evaluated exactly. For the others the exact
    evaluation (sympy at the rational point) is tried only where the interval
    enclosure contains 0 (where it matters: ``tanh(0) = 0``), and its result is
    kept only if it lies in the enclosure (a guard against a wrong symbolic step).
    """
    if act.is_exact:
        try:
            return act.exact(p)
        except NotExact:
            return None
    if enclosure is None:
        enclosure = act.interval(to_interval(p))
    if not _contains_zero(enclosure):
        return None
    try:
        val = _exact_transcendental(act.expr, p)
    except NotExact:
        return None
    if val is None:
        return None
    v = to_interval(val)
    return val if (v.a >= enclosure.a and v.b <= enclosure.b) else None


@functools.lru_cache(maxsize=4096)
def _exact_transcendental(expr: Any, p: Fraction) -> Fraction | None:
    if expr.has(sp.Float):  # a float literal would make the value a float, which is never read as a rational here
        return None
    try:
        return exact_value(expr, p)
    except (NotExact, TypeError, ValueError, ZeroDivisionError):
        return None


def _mixed_activation(act: Activation, p: Any) -> Any:
    """``s(p)`` for an exact ``p`` (exact where possible, else an interval) or an interval ``p`` (an interval)."""
    if isinstance(p, Fraction):
        if act.is_exact:
            try:
                return act.exact(p)
            except NotExact:
                return act.interval(to_interval(p))
        enc = act.interval(to_interval(p))
        val = exact_activation_value(act, p, enc)
        return enc if val is None else val
    return act.interval(p)


def _mixed_affine(layer: Layer, h: Sequence[Any]) -> list[Any]:
    """``W h + b`` row by row: exact for a row whose nonzero weights meet only exact inputs, else an interval."""
    exact_idx = [j for j, v in enumerate(h) if isinstance(v, Fraction)]
    if len(exact_idx) == len(h):
        return layer.exact_affine(h)
    loose = np.array([j for j, v in enumerate(h) if not isinstance(v, Fraction)], dtype=np.int64)
    touches = np.any(layer.W[:, loose] != 0, axis=1) if layer.float64_exact else np.array(
        [any(layer.W_exact[i, j] != 0 for j in loose.tolist()) for i in range(layer.n_out)])
    zeros_for_loose = [v if isinstance(v, Fraction) else Fraction(0) for v in h]
    exact_rows = layer.exact_affine(zeros_for_loose) if not np.all(touches) else None
    iv_rows = layer.interval_affine(h) if np.any(touches) else None
    return [iv_rows[i] if touches[i] else exact_rows[i] for i in range(layer.n_out)]
