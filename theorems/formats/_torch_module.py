"""``encoder_from_torch(module)`` (:mod:`latentcheck.theorems.formats`): a PyTorch ``nn.Module`` read by the same rules as files (torch imported lazily).

The chain is the module's leaf modules in order: ``nn.Sequential`` /
``nn.ModuleList`` keep their order; a module with an ``encoder`` (or
``q_layers``) child is read through that child (a ``decoder`` / ``p_layers``
child tells a VAE head). ``Linear`` is used (its weight as torch computes it,
so weight norm and parametrizations are applied as served); ``BatchNorm1d`` in
eval mode is folded in float64 into the neighbouring affine layer; activation
modules set the layer's activation; ``Identity``, ``Flatten`` and eval-mode
``Dropout`` are identity. Anything else (LayerNorm, Conv, a custom leaf) is
refused by name, as is a training-mode Dropout or BatchNorm. A custom
container's children are read in registration order only when
``example_input`` lets latentcheck check the result against the module's own
forward pass.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import sys
from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np

from ..activations import get_activation
from ..encoder import Encoder
from ..errors import InvalidArgument, InvalidWeights
from ..inputs import InputSemantics, Provenance
from ._assemble import check_latent
from ._exact import widen_exact, widest
from ._modules import Module, bn_scale_shift
from ._readers import _torch_to_numpy

__all__ = ["from_torch", "is_torch_module"]

_SIMPLE_ACTS = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softsign": "softsign", "SiLU": "silu", "ReLU6": "relu6"}
_PASS = ("Identity", "Flatten")


def is_torch_module(obj: Any) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module`` (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _activation(mod: Any, name: str) -> Optional[tuple[str, Optional[str]]]:
    """``(activation, note)`` for an activation module, None for other modules."""
    kind = type(mod).__name__
    if kind in _SIMPLE_ACTS:
        return _SIMPLE_ACTS[kind], None
    if kind == "LeakyReLU":
        return _leaky(float(mod.negative_slope), name)
    if kind == "ELU" and float(mod.alpha) == 1.0:
        return "elu", None
    if kind == "Softplus" and float(mod.beta) == 1.0:
        return "softplus", (f"Softplus {name!r} read as log(1 + exp(t)); torch returns t itself above threshold={mod.threshold:g} "
                            "(a difference below 2.1e-9 there)")
    if kind == "GELU" and getattr(mod, "approximate", "none") == "none":
        return "gelu", None
    if kind == "Hardtanh" and float(mod.min_val) == -1.0 and float(mod.max_val) == 1.0:
        return "hard_tanh", None
    return None


def _leaky(slope: float, name: str) -> tuple[str, Optional[str]]:
    """LeakyReLU's slope exactly when its numbers are small, else its shortest decimal (noted)."""
    if not 0 <= slope <= 1:
        raise InvalidWeights(f"module {name!r} (LeakyReLU) has negative_slope={slope}; latentcheck reads 0 <= slope <= 1")
    exact = Fraction(slope)
    if exact.denominator <= 10**12:
        return f"Max(t, {exact.numerator}*t/{exact.denominator})", None
    short = Fraction(repr(slope))
    return (f"Max(t, {short.numerator}*t/{short.denominator})",
            f"LeakyReLU {name!r}: slope read as {short} (the shortest decimal of the stored {slope!r}; they differ by {float(abs(exact - short)):.1e})")


def _trusted(mod: Any) -> bool:
    """RecBole's ``MLPLayers``: its forward is ``self.mlp_layers(x)`` (a Sequential), so its order is known."""
    names = [n for n, _ in mod.named_children()]
    return type(mod).__name__ == "MLPLayers" and type(mod).__module__.startswith("recbole") and names == ["mlp_layers"]


_LEAF_KINDS = ("Linear", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding", "Bilinear")


def _leaves(mod: Any, prefix: str, out: list[tuple[str, Any]]) -> bool:
    """Append ``(name, leaf module)`` in order; True when some container's order was assumed (a custom module)."""
    import torch

    from torch.nn.utils import parametrize

    children = list(mod.named_children())
    if not children or type(mod).__name__ in _LEAF_KINDS or parametrize.is_parametrized(mod):
        out.append((prefix, mod))
        return False
    if any(True for _ in mod.named_parameters(recurse=False)):
        own = next(n for n, _ in mod.named_parameters(recurse=False))
        raise InvalidWeights(f"module {prefix or '(top)'!r} holds its own parameter {own!r} beside submodules, used by a forward "
                             "latentcheck cannot see; wrap the encoder's layers in nn.Sequential")
    assumed = not isinstance(mod, (torch.nn.Sequential, torch.nn.ModuleList)) and not _trusted(mod)
    for name, child in children:
        assumed |= _leaves(child, f"{prefix}.{name}" if prefix else name, out)
    return assumed


class _Chain:
    def __init__(self) -> None:
        self.layers: list[dict[str, Any]] = []
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.notes: list[str] = []
        self.used: list[str] = []
        self.ignored: list[str] = []


def _linear(mod: Any, name: str, ch: _Chain) -> None:
    import torch


    pre = f"{name}." if name else ""
    with torch.no_grad():
        weight = _served_weight(mod, name, ch)
        W, wd = widen_exact(f"{pre}weight", _torch_to_numpy(torch, f"{pre}weight", weight, "the module"), "the module")
        if mod.bias is None:
            b, bd = np.zeros(W.shape[0]), wd
        else:
            b, bd = widen_exact(f"{pre}bias", _torch_to_numpy(torch, f"{pre}bias", mod.bias, "the module"), "the module")
    for s, t in ch.pending:
        W, b, wd = W * s[None, :], W @ t + b, "float64"
    ch.pending = []
    ch.layers.append({"name": name, "W": W, "b": b, "act": None, "dtype": wd if wd == bd else "float64"})
    ch.used += [f"{pre}weight"] + ([f"{pre}bias"] if mod.bias is not None else [])


def _served_weight(mod: Any, name: str, ch: _Chain) -> Any:
    """The weight torch's forward uses: parametrizations (weight norm ...) and weight-norm hooks applied by torch itself."""
    from torch.nn.utils import parametrize

    if parametrize.is_parametrized(mod, "weight"):
        ch.notes.append(f"parametrization of {name!r}.weight ({', '.join(type(p).__name__ for p in mod.parametrizations.weight)}) "
                        "applied by torch: the weight its forward uses (stored dtype) is read exactly")
        return mod.weight
    for hook in mod._forward_pre_hooks.values():
        if type(hook).__name__ == "WeightNorm":
            ch.notes.append(f"weight norm of {name!r} applied by torch (g * v / |v| in the stored dtype, as its forward computes it), read exactly")
            return hook.compute_weight(mod)
    return mod.weight


def _batchnorm(mod: Any, name: str, ch: _Chain) -> None:
    if mod.training or mod.running_mean is None:
        raise InvalidWeights(f"module {name!r} (BatchNorm) uses batch statistics (training mode or track_running_stats=False), "
                             "which is no fixed function; call module.eval() first")

    tensors = {f"{name}.{k}": v.detach().cpu().numpy() for k, v in (("running_mean", mod.running_mean), ("running_var", mod.running_var),
                                                                    ("weight", mod.weight), ("bias", mod.bias)) if v is not None}
    s, t = bn_scale_shift(Module(name, {k.rsplit(".", 1)[1]: k for k in tensors}), tensors, "the module", eps=float(mod.eps))
    last = ch.layers[-1] if ch.layers else None
    side = "output" if last is not None and last["act"] is None else "input"
    if side == "output":
        last["W"], last["b"], last["dtype"] = s[:, None] * last["W"], s * last["b"] + t, "float64"
    else:
        ch.pending.append((s, t))
    ch.used += list(tensors)
    ch.notes.append(f"BatchNorm {name!r} (eval, eps={float(mod.eps):g}) folded into the {side} side of the "
                    f"{'preceding' if side == 'output' else 'next'} Linear in float64 (a rounding of the served map)")


def _step(name: str, mod: Any, ch: _Chain) -> None:
    import torch

    kind = type(mod).__name__
    last = ch.layers[-1] if ch.layers else None
    if isinstance(mod, torch.nn.Linear):
        _linear(mod, name, ch)
    elif isinstance(mod, torch.nn.BatchNorm1d):
        _batchnorm(mod, name, ch)
    elif kind.startswith("Dropout") or kind == "AlphaDropout":
        if mod.training and float(getattr(mod, "p", 0.0)) > 0:
            raise InvalidWeights(f"module {name!r} ({kind}) is in training mode (random masks), which is no fixed function; call module.eval() first")
        ch.notes.append(f"{kind} {name!r} read as identity (eval mode)")
    elif kind in _PASS:
        pass
    elif (act := _activation(mod, name)) is not None:
        if last is None or last["act"] is not None or ch.pending:
            raise InvalidWeights(f"module {name!r} ({kind}) does not follow a Linear layer directly; latentcheck reads "
                                 "Linear [-> BatchNorm] -> activation chains")
        last["act"] = act[0]
        if act[1]:
            ch.notes.append(act[1])
    else:
        raise InvalidWeights(f"module {name!r} ({kind}) is not an affine map latentcheck reads (Linear, BatchNorm in eval mode, "
                             "weight norm, activations, Dropout in eval mode, Identity, Flatten); it is refused; "
                             f"pass ignore=[{name!r}] to drop it knowingly")


def _part(module: Any) -> tuple[Any, str, Any]:
    """``(the encoder part, its name, the decoder part or None)``."""
    import torch

    for enc, dec in (("encoder", "decoder"), ("q_layers", "p_layers")):
        if isinstance(getattr(module, enc, None), torch.nn.Module):
            return getattr(module, enc), enc, getattr(module, dec, None)
    return module, "", None


def _chain(module: Any, ignore: Sequence[str], example_input: Any) -> tuple[_Chain, Any, str]:
    part, pname, decoder = _part(module)
    items: list[tuple[str, Any]] = []
    assumed = _leaves(part, pname, items)
    if assumed and example_input is None:
        raise InvalidArgument(f"module {pname or type(part).__name__!r} is a custom module: the order its forward() applies its "
                              "submodules in is not visible; pass example_input=... so latentcheck can check the chain it reads "
                              "against module(example_input), or wrap the encoder in nn.Sequential")
    ch = _Chain()
    for name, mod in items:
        if any(fnmatch.fnmatchcase(name, g) for g in ignore):
            ch.ignored.append(name)
            continue
        _step(name, mod, ch)
    if ch.pending:
        raise InvalidWeights(f"the encoder of the module ends with a BatchNorm after its activation ({items[-1][0]!r}); "
                             "latentcheck reads Linear [-> BatchNorm] -> activation chains")
    if not ch.layers:
        raise InvalidWeights("the module holds no Linear layer; pass the encoder (an nn.Sequential of Linear layers and activations)")
    return ch, decoder, pname


def _first_in(decoder: Any) -> Optional[int]:
    if decoder is None:
        return None
    items: list[tuple[str, Any]] = []
    _leaves(decoder, "", items)
    import torch

    return next((int(m.in_features) for _, m in items if isinstance(m, torch.nn.Linear)), None)


def from_torch(module: Any, example_input: Any = None, *, activations: Optional[Sequence[str]] = None,
               latent: Optional[str] = None, ignore: Optional[Sequence[str]] = None) -> Encoder:
    """The :class:`~latentcheck.theorems.Encoder` of a PyTorch module (see the module docstring)."""


    if not is_torch_module(module):
        raise InvalidArgument(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    globs = tuple(g for g in (ignore.split(",") if isinstance(ignore, str) else ignore or ()) if g)
    ch, decoder, pname = _chain(module, globs, example_input)
    acts = _resolve_acts(ch, activations, pname)
    if example_input is not None:
        _check_forward(module if not pname else getattr(module, pname), ch, acts, example_input)
    latent_taken = _latent(ch, decoder, type(module).__name__, check_latent(latent))
    enc = Encoder.from_arrays([s["W"] for s in ch.layers], [s["b"] for s in ch.layers], acts)

    prov = Provenance(path=None, sha256=None, format="torch-module", tensors_used=tuple(ch.used),
                      tensors_ignored=tuple(ch.ignored), folded=tuple(ch.notes), latent=latent_taken)
    enc = dataclasses.replace(enc, stored_dtype=widest([s["dtype"] for s in ch.layers]), provenance=prov)
    if type(module).__name__ in ("MultiDAE", "MultiVAE"):  # RecBole: forward() starts with F.normalize(rating_matrix)

        enc = dataclasses.replace(enc, inputs=InputSemantics(normalise="l2", origin="file"))
    return enc


def _resolve_acts(ch: _Chain, activations: Optional[Sequence[str]], pname: str) -> list[str]:
    if activations is not None:
        acts = list(activations)
        if len(acts) == 1:
            acts = acts * len(ch.layers)
        if len(acts) != len(ch.layers):
            raise InvalidArgument(f"activations lists {len(acts)} names for the {len(ch.layers)} Linear layers; give one per layer or one for all")
        clash = [i for i, (a, s) in enumerate(zip(acts, ch.layers)) if s["act"] is not None and s["act"] != a]
        if clash:
            raise InvalidArgument(f"activations disagree with the module's own activation modules at layers {clash}")
        return acts
    if pname == "q_layers":
        raise InvalidArgument("q_layers is a ModuleList whose activations are applied in forward(), which latentcheck cannot see; "
                              "pass activations=['tanh', 'identity'] (one per Linear layer)")
    return [s["act"] or "identity" for s in ch.layers]


def _latent(ch: _Chain, decoder: Any, cls: str, latent: Optional[str]) -> Optional[str]:
    width = ch.layers[-1]["W"].shape[0]
    d_in = _first_in(decoder)
    vae = (d_in is not None and 2 * d_in == width) or (cls == "MultiVAE" and width % 2 == 0)
    if not vae:
        if latent is not None:
            raise InvalidArgument(f"latent={latent!r} applies to VAE heads ([mu, logvar] side by side); this module has none")
        return None
    taken, m = latent or "mu", width // 2
    if taken != "all":
        last = ch.layers[-1]
        last["W"], last["b"] = last["W"][:m], last["b"][:m]
    ch.notes.append(f"VAE head {ch.layers[-1]['name']!r}: latent {taken!r} = "
                    + ("[mu, logvar]" if taken == "all" else f"mu, outputs 0..{m - 1} of {width}")
                    + (" (z at eval time is mu: no sampling)" if taken == "z" else ""))
    return taken


def _check_forward(part: Any, ch: _Chain, acts: list[str], example_input: Any) -> None:
    """The chain read must agree with ``part(example_input)`` (float tolerance of the module's dtype)."""
    import torch


    if isinstance(part, torch.nn.ModuleList):
        raise InvalidArgument("example_input cannot check a ModuleList (it has no forward); pass activations=[...] without example_input")
    with torch.no_grad():
        ref = part(example_input).detach().cpu().double().numpy()
        x = example_input.detach().cpu().double().numpy()
    h = x.reshape(x.shape[0], -1) if x.ndim > 1 else x
    try:
        for s, a in zip(ch.layers, acts):
            h = get_activation(a).numpy(h @ s["W"].T + s["b"])
    except ValueError:  # the layers read do not even chain
        h = np.full((1, 1), np.nan)
    ref = ref.reshape(ref.shape[0], -1) if ref.ndim > 1 else ref
    tol = 1e-3 * (1.0 + float(np.max(np.abs(ref)))) if ref.size else 0.0
    if h.shape != ref.shape or float(np.max(np.abs(h - ref))) > tol:
        raise InvalidWeights("the chain latentcheck reads from the module does not reproduce module(example_input) "
                             "(its forward applies its submodules differently); wrap the encoder in nn.Sequential")
