"""The encoder the theorems quantify over: affine layers, one activation each.

``enc(x) = s_L(W_L ... s_1(W_1 x + b_1) ... + b_L)`` with ``W_i`` shaped
``(out, in)``. Stored as float64 numpy arrays; evaluated in float (numpy or
JAX, any dtype), in exact rationals (piecewise-linear and polynomial
activations) and in interval arithmetic (the rest).

Files: ``.npz`` with keys ``W0, b0, W1, b1, ...`` and an optional unicode
array ``activations`` (one per layer). Loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence

import numpy as np

from theorems.activations import Activation, get_activation
from theorems.errors import InvalidArgument, InvalidWeights, NonFiniteWeights, NotExact, ShapeMismatch
from theorems.lower import INTERVAL_PREC, to_interval

__all__ = ["Layer", "Encoder", "exact_affine", "interval_affine"]

# Extensions :meth:`Encoder.load` hands to :mod:`theorems.formats`.
_OTHER_FORMATS = (".safetensors", ".pt", ".pth", ".ckpt", ".bin", ".onnx", ".msgpack", ".flax", ".eqx")


@dataclass(frozen=True, eq=False)
class Layer:
    """One affine layer followed by an elementwise activation.

    Attributes:
        W: weights, shape ``(out, in)``, float64.
        b: bias, shape ``(out,)``, float64.
        activation: the layer's activation.
    """

    W: np.ndarray
    b: np.ndarray
    activation: Activation

    @property
    def n_in(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[0])


def _check_array(name: str, value: Any, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidWeights(f"{name} must be a numeric array, got {type(value).__name__}; store plain float arrays") from None
    if arr.ndim != ndim:
        raise ShapeMismatch(f"{name} has shape {arr.shape} but must have {ndim} dimension(s)"
                            + (" (out, in)" if ndim == 2 else " (out,)"))
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteWeights(f"{name} holds {bad} NaN or infinite value(s); retrain or clean the weights before checking")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Encoder:
    """A stack of :class:`Layer` s, input dimension ``n``, latent dimension ``m``.

    Example:
        >>> enc = Encoder.from_arrays([[[1.0, 0.0, 0.0]]], [[0.0]], ["relu"])
        >>> enc.n, enc.m
        (3, 1)
    """

    layers: tuple[Layer, ...]
    #: dtype the weights were stored in (float16, bfloat16, float32, float64), when read from a file; W and b are exact widenings.
    stored_dtype: Optional[str] = None

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
            W = _check_array(f"W{i}", w, 2)
            bb = _check_array(f"b{i}", b, 1)
            if bb.shape[0] != W.shape[0]:
                raise ShapeMismatch(f"b{i} has {bb.shape[0]} entries but W{i} has {W.shape[0]} rows (shape (out, in)); they must match")
            if prev_out is not None and W.shape[1] != prev_out:
                raise ShapeMismatch(f"W{i} takes {W.shape[1]} inputs but layer {i - 1} gives {prev_out} outputs; W_i is shaped (out, in)")
            if W.shape[0] == 0 or W.shape[1] == 0:
                raise ShapeMismatch(f"W{i} has an empty shape {W.shape}")
            layers.append(Layer(W, bb, get_activation(a)))
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

    # ------------------------------------------------------------- files
    @classmethod
    def load(cls, path: "str | os.PathLike[str]", activation: "str | Activation | None" = None, **options: Any) -> "Encoder":
        """Load an encoder from ``.npz`` (keys ``W0, b0, ...``, optional ``activations``).

        ``activation`` overrides or supplies the latent activation; hidden layers
        without a stored activation default to it as well. Other formats
        (safetensors, PyTorch, ONNX, Flax, Equinox, ``.npz`` of named arrays) and
        ``options`` (``activations``, ``layers_from``, ``output``) go to
        :func:`theorems.formats.load_encoder` (docs/models.md).
        """
        path = os.fspath(path)
        if options or os.path.splitext(path)[1].lower() in _OTHER_FORMATS:
            from theorems.formats import load_encoder

            return load_encoder(path, activation, **options)
        if not os.path.exists(path):
            raise InvalidWeights(f"weight file {path!r} does not exist; pass the path of an .npz with keys W0, b0, W1, b1, ...")
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04":
            raise InvalidWeights(f"weight file {path!r} is not a readable .npz (not a zip archive); save it with np.savez(path, W0=..., b0=...)")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except ValueError as exc:
            if "pickle" in str(exc).lower():
                raise InvalidWeights(f"weight file {path!r} holds Python objects (pickles), which latentcheck never loads; save plain arrays with np.savez") from None
            raise InvalidWeights(f"weight file {path!r} is not a valid .npz ({exc}); save it with np.savez(path, W0=..., b0=...)") from None
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InvalidWeights(f"weight file {path!r} is not a readable .npz ({type(exc).__name__}); save it with np.savez(path, W0=..., b0=...)") from None
        layer_keys = sorted((int(m.group(1)) for k in arrays if (m := re.fullmatch(r"W(\d+)", k))))
        if not layer_keys and any("." in k or "/" in k for k in arrays):
            from theorems.formats import load_encoder  # named arrays (encoder.0.weight, params/Dense_0/kernel, ...)

            return load_encoder(path, activation)
        if not layer_keys:
            raise InvalidWeights(f"weight file {path!r} has keys {sorted(arrays)} but no W0; name layers W0, b0, W1, b1, ... with W_i shaped (out, in)")
        if layer_keys != list(range(len(layer_keys))):
            raise InvalidWeights(f"weight file {path!r} has layers {layer_keys}; they must be numbered 0, 1, 2, ... without gaps")
        missing = [f"b{i}" for i in layer_keys if f"b{i}" not in arrays]
        if missing:
            raise InvalidWeights(f"weight file {path!r} lacks {', '.join(missing)}; give one bias per layer")
        weights = [arrays[f"W{i}"] for i in layer_keys]
        biases = [arrays[f"b{i}"] for i in layer_keys]
        for name, arr in [(f"W{i}", w) for i, w in enumerate(weights)] + [(f"b{i}", b) for i, b in enumerate(biases)]:
            if arr.dtype.kind not in "fiu":
                raise InvalidWeights(f"{name} in {path!r} has dtype {arr.dtype}; store float arrays")
        if "activations" in arrays:
            stored = arrays["activations"]
            if stored.dtype.kind != "U":
                raise InvalidWeights(f"'activations' in {path!r} must be a unicode string array, got dtype {stored.dtype}")
            acts: list[Any] = [str(a) for a in np.atleast_1d(stored)]
            if len(acts) != len(weights):
                raise ShapeMismatch(f"'activations' in {path!r} lists {len(acts)} activations for {len(weights)} layers")
            if activation is not None:
                acts[-1] = activation
        else:
            if activation is None:
                raise InvalidWeights(f"weight file {path!r} stores no 'activations'; pass the latent activation (e.g. --activation relu)")
            acts = [activation] * len(weights)
        return cls.from_arrays(weights, biases, acts)

    def save(self, path: "str | os.PathLike[str]") -> None:
        """Save as ``.npz`` (``W0, b0, ...`` and a unicode ``activations`` array) or ``.safetensors``."""
        if os.path.splitext(os.fspath(path))[1].lower() == ".safetensors":
            from theorems.formats import save_encoder

            return save_encoder(self, path)
        arrays: dict[str, np.ndarray] = {}
        for i, layer in enumerate(self.layers):
            arrays[f"W{i}"] = np.asarray(layer.W)
            arrays[f"b{i}"] = np.asarray(layer.b)
        arrays["activations"] = np.array([layer.activation.name for layer in self.layers], dtype=np.str_)
        np.savez(path, **arrays)

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

    def summary(self) -> dict[str, Any]:
        return {
            "sizes": self.sizes,
            "activations": [layer.activation.name for layer in self.layers],
            "n": self.n,
            "m": self.m,
            "parameters": int(sum(layer.W.size + layer.b.size for layer in self.layers)),
        }

    # ------------------------------------------------------------- float
    def __call__(self, x: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """Float evaluation with numpy; ``x`` shaped ``(n,)`` or ``(batch, n)``."""
        h = np.asarray(x, dtype=dtype)
        for layer in self.layers:
            h = layer.activation.numpy(h @ layer.W.T.astype(dtype) + layer.b.astype(dtype)).astype(dtype)
        return h

    def jax_fn(self, dtype: Any = "float32") -> Callable[[Any], Any]:
        """A pure JAX function ``x[n] -> z[m]`` in ``dtype`` (jit/vmap it at the edge)."""
        import jax.numpy as jnp

        params = [(jnp.asarray(layer.W, dtype=dtype), jnp.asarray(layer.b, dtype=dtype)) for layer in self.layers]
        fns = [layer.activation.jax_fn() for layer in self.layers]

        def forward(x: Any) -> Any:
            h = jnp.asarray(x, dtype=dtype)
            for (W, b), f in zip(params, fns):
                h = f(W @ h + b).astype(dtype)
            return h

        return forward

    def pre_activations(self, x: np.ndarray) -> np.ndarray:
        """Float64 latent pre-activations ``W_L h(x) + b_L``."""
        h = np.asarray(x, dtype=np.float64)
        for layer in self.layers[:-1]:
            h = layer.activation.numpy(h @ layer.W.T + layer.b)
        last = self.layers[-1]
        return h @ last.W.T + last.b

    # ------------------------------------------------------------- exact
    @property
    def is_exact(self) -> bool:
        """True when every activation maps rationals to rationals."""
        return all(layer.activation.is_exact for layer in self.layers)

    def body_is_exact(self) -> bool:
        return all(layer.activation.is_exact for layer in self.layers[:-1])

    def exact_pre_activations(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact latent pre-activations for rational ``x`` (body must be exact)."""
        h = [Fraction(v) for v in x]
        if len(h) != self.n:
            raise ShapeMismatch(f"input has {len(h)} entries but the encoder takes n={self.n}")
        for layer in self.layers[:-1]:
            if not layer.activation.is_exact:
                raise NotExact(f"hidden activation {layer.activation.name!r} is transcendental; use interval arithmetic")
            h = [layer.activation.exact(v) for v in exact_affine(layer.W, layer.b, h)]
        last = self.layers[-1]
        return exact_affine(last.W, last.b, h)

    def exact(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact rational ``enc(x)``; :class:`NotExact` for transcendental activations."""
        pre = self.exact_pre_activations(x)
        act = self.layers[-1].activation
        return [act.exact(v) for v in pre]

    # ------------------------------------------------------------- intervals
    def interval_pre_activations(self, x: Sequence[Any]) -> list[Any]:
        """Intervals enclosing the latent pre-activations for rational ``x``."""
        if len(x) != self.n:
            raise ShapeMismatch(f"input has {len(x)} entries but the encoder takes n={self.n}")
        h: list[Any] = [Fraction(v) for v in x]
        exact_so_far = True
        for layer in self.layers[:-1]:
            if exact_so_far and layer.activation.is_exact:
                h = [layer.activation.exact(v) for v in exact_affine(layer.W, layer.b, h)]
                continue
            pre = exact_affine(layer.W, layer.b, h) if exact_so_far else interval_affine(layer.W, layer.b, h)
            h = [layer.activation.interval(to_interval(v)) for v in pre]
            exact_so_far = False
        last = self.layers[-1]
        if exact_so_far:
            return [to_interval(v) for v in exact_affine(last.W, last.b, h)]
        return interval_affine(last.W, last.b, h)

    def interval(self, x: Sequence[Any]) -> list[Any]:
        """Intervals (mpmath ``iv.mpf``) enclosing every coordinate of ``enc(x)``."""
        act = self.layers[-1].activation
        return [act.interval(v) for v in self.interval_pre_activations(x)]


def _float_to_int_scaled(row: np.ndarray) -> tuple[list[int], int]:
    """Integers ``k`` and exponent ``e`` with ``row == k * 2**e`` exactly."""
    mant, expo = np.frexp(row)
    # Each float is mant * 2**expo with 53-bit mantissa: k_i = mant*2**53 * 2**(expo_i - e_min).
    ints = (mant * (1 << 53)).astype(np.int64)
    e_min = int(expo.min()) if row.size else 0
    ks = [int(k) << int(e - e_min) for k, e in zip(ints.tolist(), expo.tolist())]
    return ks, e_min - 53


def exact_affine(W: np.ndarray, b: np.ndarray, x: Sequence[Fraction]) -> list[Fraction]:
    """Exact ``W x + b`` for float64 ``W, b`` and rational ``x`` (integer arithmetic)."""
    xs = [Fraction(v) for v in x]
    den = 1
    for v in xs:
        den = den * v.denominator // _gcd(den, v.denominator)
    xi = [v.numerator * (den // v.denominator) for v in xs]
    nz = [j for j, v in enumerate(xi) if v != 0]
    out = []
    for i in range(W.shape[0]):
        row = np.asarray(W[i])[nz]
        if len(nz):
            ks, e = _float_to_int_scaled(row)
            acc = sum(k * xi[j] for k, j in zip(ks, nz))
            val = Fraction(acc, den) * (Fraction(2) ** e)
        else:
            val = Fraction(0)
        out.append(val + Fraction(float(b[i])))
    return out


def _gcd(a: int, b: int) -> int:
    import math

    return math.gcd(a, b)


def interval_affine(W: np.ndarray, b: np.ndarray, h: Sequence[Any]) -> list[Any]:
    """Intervals enclosing ``W h + b`` for interval (or rational) ``h``."""
    from mpmath import iv

    old = iv.prec
    iv.prec = INTERVAL_PREC
    try:
        hv = [to_interval(v) for v in h]
        out = []
        for i in range(W.shape[0]):
            acc = iv.mpf(float(b[i]))
            for w, v in zip(W[i].tolist(), hv):
                if w != 0.0:
                    acc = acc + iv.mpf(w) * v
            out.append(acc)
        return out
    finally:
        iv.prec = old
