"""Where an encoder comes from: the one option group of every command that reads an encoder.

:class:`EncoderSource` holds a model file (``--model``, any format of docs/models.md, with the options that
pick its layers: ``--layers-from``, ``--activations``, ``--output``, ``--ignore``, ``--latent``), an ``.npz``
of weights (``--weights``), or the sizes of a random encoder (``--layers`` with ``--activation``,
``--hidden-activation`` and ``--seed``), and ``--input-normalise``. Every value is checked when the object
is built (one :class:`~latentcheck.theorems.errors.InvalidArgument` naming the option and the fix), before any
file is read; :meth:`EncoderSource.load` then reads the encoder exactly, from its stored dtype.

``latentcheck falsify``, ``verify`` and ``audit`` build one from their options; so can Python code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

from ._io import check_input_file
from ._values import nonempty, nonneg_int
from .study.experiment import split_activation_list
from ..theorems.encoder import Encoder
from ..theorems.errors import InvalidArgument
from ..theorems.formats import load_encoder as load_weights_file, read_model
from ..theorems.inputs import inputs_from_meta, parse_normalisation

__all__ = ["EncoderSource", "load_encoder", "encoder_with_meta", "split_globs", "MAX_RANDOM_SIZE"]

#: The largest layer ``--layers`` builds at random (larger encoders come from a file).
MAX_RANDOM_SIZE = 100_000

#: The options that only mean something with ``--model`` (field name, option).
_MODEL_ONLY = (("activations", "--activations"), ("layers_from", "--layers-from"), ("output", "--output"),
               ("ignore", "--ignore"), ("latent", "--latent"))
#: Examples for the one-line messages about empty values.
_EXAMPLES = {"--layers": "1682,600,64", "--activation": "relu", "--hidden-activation": "tanh", "--activations": "tanh,relu",
             "--layers-from": "'encoder.*'", "--output": "latent", "--latent": "mu"}


@dataclass(frozen=True)
class EncoderSource:
    """Where the encoder comes from (exactly one of ``model``, ``weights``, ``layers``); checked on construction.

    Attributes:
        weights: an ``.npz`` with ``W0, b0, W1, b1, ...`` (``--weights``).
        model: a model file in any format of docs/models.md (``--model``); ``layers_from``, ``activations``,
            ``output``, ``ignore`` and ``latent`` pick its encoder and only work with it.
        layers: sizes of a random encoder, ``"1682,600,64"`` (``--layers``), with ``activation`` (the latent one;
            the hidden ones default to it unless ``hidden_activation``) and ``seed``.
        activation: the latent activation (catalog name or formula in ``t``), for a file that stores none too.
        input_normalise: ``none``, ``l2`` or ``divide:K`` (``--input-normalise``); ``None``: what the file records.
        random_weights: whether ``layers`` may be given (``audit`` reads trained encoders only).
        sizes, activation_list, ignore_globs, normalise: the parsed values (set on construction).
    """

    weights: Optional[str] = None
    model: Optional[str] = None
    layers_from: Optional[str] = None
    activations: Optional[str] = None
    output: Optional[str] = None
    ignore: Optional[str] = None
    latent: Optional[str] = None
    layers: Optional[str] = None
    activation: Optional[str] = None
    hidden_activation: Optional[str] = None
    seed: int = 0
    input_normalise: Optional[str] = None
    random_weights: bool = True
    sizes: tuple[int, ...] = field(init=False, default=())
    activation_list: Optional[tuple[str, ...]] = field(init=False, default=None)
    ignore_globs: Optional[tuple[str, ...]] = field(init=False, default=None)
    normalise: Optional[str] = field(init=False, default=None)

    def __post_init__(self) -> None:
        for option in ("--layers", "--activation", "--hidden-activation", "--activations", "--layers-from", "--output",
                       "--latent"):
            nonempty(getattr(self, option[2:].replace("-", "_")), option, _EXAMPLES[option])
        nonneg_int(self.seed, "--seed")
        for value, option in ((self.weights, "--weights"), (self.model, "--model")):
            if value is not None:
                check_input_file(value, option)
        self._check_one_source()
        if self.layers is not None:
            object.__setattr__(self, "sizes", _layer_sizes(self.layers, self.activation))
        if self.activations is not None:
            object.__setattr__(self, "activation_list", split_activation_list(self.activations))
        object.__setattr__(self, "ignore_globs", split_globs(self.ignore))
        if self.input_normalise is not None:
            object.__setattr__(self, "normalise", parse_normalisation(self.input_normalise))

    def _check_one_source(self) -> None:
        """Exactly one of ``--model``, ``--weights``, ``--layers``; the model-only options only with ``--model``."""
        if self.model is not None:
            given = [flag for flag, value in (("--weights", self.weights), ("--layers", self.layers),
                                              ("--hidden-activation", self.hidden_activation)) if value is not None]
            if given:
                raise InvalidArgument(f"give either --model or {' / '.join(given)}, not both")
            return
        stray = [option for name, option in _MODEL_ONLY if getattr(self, name) is not None]
        if stray:
            raise InvalidArgument(f"{' and '.join(stray)} only work with --model FILE; pass --model or drop them")
        if not self.random_weights:
            if self.layers is not None or self.weights is None:
                raise InvalidArgument("give --weights FILE.npz or --model FILE (any format in docs/models.md)")
        elif (self.weights is None) == (self.layers is None):
            raise InvalidArgument("give exactly one of --weights FILE.npz or --layers N,H,...,M (with --activation)")

    def load(self) -> Encoder:
        """The encoder, read exactly (it carries its provenance: the file, its SHA-256, the tensors read)."""
        return load_encoder(self)


def load_encoder(source: EncoderSource) -> Encoder:
    """The encoder ``source`` describes: from its model file (with the input semantics the file records), its
    ``.npz`` of weights, or random weights of its sizes (seeded)."""
    if source.model is not None:
        mf = read_model(source.model, layers_from=source.layers_from, output=source.output,
                        ignore=None if source.ignore_globs is None else list(source.ignore_globs), latent=source.latent)
        encoder = mf.to_encoder(source.activation, source.activation_list, repr(source.model), source.model)
        return encoder_with_meta(encoder, mf.meta)
    if source.weights is not None:
        return load_weights_file(source.weights, activation=source.activation)
    return Encoder.random(list(source.sizes), source.activation, source.hidden_activation, seed=source.seed)


def encoder_with_meta(encoder: Any, meta: Optional[dict]) -> Any:
    """``encoder`` with the input semantics a model file records (its ``latentcheck_*`` metadata), unless the
    encoder already carries semantics read from the file."""
    if not meta or encoder.inputs.origin != "default":
        return encoder
    return replace(encoder, inputs=inputs_from_meta(meta, encoder.n))


def _layer_sizes(layers: str, activation: Optional[str]) -> tuple[int, ...]:
    """``--layers 1682,600,64`` as sizes; it needs ``--activation``."""
    if activation is None:
        raise InvalidArgument(f"--layers {layers} needs --activation NAME|EXPR (e.g. relu, tanh, sigmoid, 'Max(0, t - 1)')")
    try:
        sizes = tuple(int(s) for s in layers.replace(" ", "").split(",") if s)
    except ValueError:
        raise InvalidArgument(f"--layers {layers!r} must be comma-separated positive integers, e.g. 1682,600,64") from None
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise InvalidArgument(f"--layers {layers!r} must list at least two positive sizes, e.g. 1682,64")
    if any(s > MAX_RANDOM_SIZE for s in sizes):
        raise InvalidArgument(f"--layers {layers!r}: sizes above {MAX_RANDOM_SIZE} are refused; use --weights for large models")
    return sizes


def split_globs(text: Optional[str]) -> Optional[tuple[str, ...]]:
    """``--ignore 'a.*,b'`` as globs (None without it); an empty list is refused."""
    if text is None:
        return None
    globs = tuple(g.strip() for g in text.split(",") if g.strip())
    if not globs:
        raise InvalidArgument("--ignore is empty; pass tensor name globs, e.g. --ignore 'decoder.norm.*'")
    return globs
