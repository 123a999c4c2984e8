"""ONNX graphs (the ``onnx`` package, no runtime): the encoder is a chain of nodes.

Walk from the graph's input through ``Gemm`` (``alpha = beta = 1``, any
``transB``), ``MatMul`` (+ ``Add`` of a constant bias) and activation nodes
(``Relu``, ``Tanh``, ``Sigmoid``, ``LeakyRelu(alpha)``, ``Elu(alpha=1)``,
``Softplus``, ``Softsign``) up to ``output`` (a tensor or
node name); by default up to the bottleneck, the output of the layer of
smallest width, or where the chain branches (a VAE head sliced into mu and
logvar: the latent is mu unless ``latent`` says ``all``). ``Identity`` and
``Dropout`` in inference mode pass values through (training-mode Dropout is
refused); ``BatchNormalization`` (eval) is folded into the neighbouring
affine layer in float64; ``F.normalize`` (ReduceL2 / Clip / Expand / Div) or
``LpNormalization(p=2)`` right at the input is read as l2 normalisation of the
input. Any other op on the way is refused, naming it (or skipped when its node
name matches an ``ignore`` glob, recorded). Weights come from initializers
or ``Constant`` nodes, read exactly in their stored dtype.
"""

from __future__ import annotations

import fnmatch
from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidWeights
from ._exact import widen_exact, widest
from ._layers import ModelFile, RawLayer, bottleneck_end

__all__ = ["read_onnx"]

_ACTIVATION_OPS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softplus": "softplus", "Softsign": "softsign"}


def _activation_of(node: Any, attrs: dict[str, Any], where: str) -> str:
    if node.op_type in _ACTIVATION_OPS:
        return _ACTIVATION_OPS[node.op_type]
    if node.op_type == "LeakyRelu":
        alpha = float(np.float32(attrs.get("alpha", np.float32(0.01))))
        if not 0.0 <= alpha <= 1.0:
            raise InvalidWeights(f"LeakyRelu node {node.name!r} in {where} has alpha={alpha}; latentcheck reads 0 <= alpha <= 1")
        fr = Fraction(alpha)  # the stored float32, exactly (integers parse exactly)
        return f"Max(t, {fr.numerator}*t/{fr.denominator})"
    if node.op_type == "Elu":
        if float(attrs.get("alpha", 1.0)) != 1.0:
            raise InvalidWeights(f"Elu node {node.name!r} in {where} has alpha={attrs['alpha']}; latentcheck reads alpha = 1 only")
        return "elu"
    raise _unknown(node, where)


def _unknown(node: Any, where: str) -> InvalidWeights:
    return InvalidWeights(f"ONNX op {node.op_type!r} (node {node.name!r}) in {where} is not supported; an encoder is a chain of "
                          "Gemm / MatMul+Add and Relu, Tanh, Sigmoid, LeakyRelu, Elu, Softplus, Softsign nodes; "
                          "BatchNormalization, Dropout (eval) and F.normalize at the input are read too; "
                          "pass --output NAME to stop before it, or --ignore NODE to drop it knowingly")


def _constants(graph: Any) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(a.t)
    return consts


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _consumers(graph: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for node in graph.node:
        if node.op_type == "Constant":
            continue
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def _affine(node: Any, consts: dict[str, np.ndarray], where: str) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """``(W (out, in), b or None)`` in stored dtype for a Gemm or MatMul node."""
    a = _attrs(node)
    if node.op_type == "Gemm":
        if float(a.get("alpha", 1.0)) != 1.0 or float(a.get("beta", 1.0)) != 1.0 or int(a.get("transA", 0)):
            raise InvalidWeights(f"Gemm node {node.name!r} in {where} has alpha/beta != 1 or transA; export with plain Linear layers")
        if node.input[1] not in consts:
            raise InvalidWeights(f"Gemm node {node.name!r} in {where} takes weights that are not constants; export with constant folding")
        B = consts[node.input[1]]
        W = B if int(a.get("transB", 0)) else B.T
        bias = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        return W, bias
    if node.input[1] not in consts:
        raise InvalidWeights(f"MatMul node {node.name!r} in {where} multiplies by a non-constant; export with constant folding")
    return consts[node.input[1]].T, None


def _norm_ancestors(graph: Any, target: str, source: str) -> list[Any]:
    """The nodes computing ``target`` from ``source`` (stops at ``source`` and constants)."""
    producer = {o: n for n in graph.node for o in n.output}
    seen, todo, out = set(), [target], []
    while todo:
        name = todo.pop()
        if name == source or name in seen or name not in producer:
            continue
        seen.add(name)
        node = producer[name]
        out.append(node)
        todo += list(node.input)
    return out


def _axes_ok(node: Any, consts: dict[str, np.ndarray]) -> bool:
    a = _attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1] in consts:
        axes = consts[node.input[1]].tolist()
    return axes is not None and [int(v) for v in np.atleast_1d(axes)] in ([1], [-1]) and int(a.get("keepdims", 1)) == 1


def _l2_prefix(graph: Any, consts: dict[str, np.ndarray], cur: str, where: str) -> Optional[tuple[str, str]]:
    """``(tensor after normalisation, note)`` when the graph l2-normalises its input first (F.normalize, LpNormalization)."""
    nodes = _consumers(graph).get(cur, [])
    if len(nodes) == 1 and nodes[0].op_type == "LpNormalization":
        a = _attrs(nodes[0])
        if int(a.get("p", 2)) != 2 or int(a.get("axis", -1)) not in (1, -1):
            raise InvalidWeights(f"LpNormalization node {nodes[0].name!r} in {where} has p={a.get('p', 2)}, axis={a.get('axis', -1)}; "
                                 "latentcheck reads the l2 norm over the features (p=2, axis=-1) only")
        return nodes[0].output[0], f"LpNormalization node {nodes[0].name!r} (p=2) at the input read as l2 normalisation"
    divs = [n for n in nodes if n.op_type == "Div" and n.input[0] == cur]
    if len(divs) != 1:
        return None
    div = divs[0]
    anc = _norm_ancestors(graph, div.input[1], cur)
    ops = {n.op_type for n in anc}
    allowed = {"ReduceL2", "Clip", "Max", "Expand", "Shape", "Constant", "Sqrt", "ReduceSumSquare", "Unsqueeze", "Cast"}
    reduce = [n for n in anc if n.op_type in ("ReduceL2", "ReduceSumSquare")]
    if not reduce or not ops <= allowed or ("ReduceSumSquare" in ops) != ("Sqrt" in ops):
        if reduce:
            raise InvalidWeights(f"Div node {div.name!r} in {where} divides the input by {', '.join(sorted(ops))}; latentcheck reads "
                                 "x / max(|x|_2, eps) (F.normalize: ReduceL2, Clip, Expand, Div) only")
        return None
    if not all(_axes_ok(n, consts) for n in reduce) or not all(n in anc for n in nodes if n is not div):
        raise InvalidWeights(f"Div node {div.name!r} in {where} normalises the input over axes other than the features, or the "
                             "input feeds other nodes too; latentcheck reads F.normalize(x, dim=1) only")
    note = (f"ReduceL2/Div (F.normalize) at the input read as l2 normalisation x/|x|_2 (nodes {', '.join(n.name for n in anc + [div])}; "
            "its clamp max(|x|, eps) differs from x/|x| only for 0 < |x| < eps)")
    return div.output[0], note


def _dropout(node: Any, consts: dict[str, np.ndarray], where: str) -> str:
    a = _attrs(node)
    training = False
    if "is_test" in a:
        training = not int(a["is_test"])
    if len(node.input) > 2 and node.input[2]:
        if node.input[2] not in consts:
            raise InvalidWeights(f"Dropout node {node.name!r} in {where} takes training_mode from a graph input; export in eval mode (model.eval())")
        training = bool(np.asarray(consts[node.input[2]]).reshape(-1)[0])
    if training:
        raise InvalidWeights(f"Dropout node {node.name!r} in {where} runs in training mode (random masks), which is no fixed function; "
                             "export in eval mode (model.eval())")
    return f"Dropout node {node.name!r} read as identity (inference: training_mode off)"


def _batchnorm(node: Any, consts: dict[str, np.ndarray], where: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(s, t, note)`` with ``BatchNormalization(x) = s x + t`` (eval), computed in float64."""
    a = _attrs(node)
    if int(a.get("training_mode", 0)):
        raise InvalidWeights(f"BatchNormalization node {node.name!r} in {where} runs in training mode (batch statistics); export in eval mode")
    if len(node.input) != 5 or not all(i in consts for i in node.input[1:]):
        raise InvalidWeights(f"BatchNormalization node {node.name!r} in {where} takes non-constant statistics; export with constant folding")
    scale, bias, mean, var = (widen_exact(f"{node.name} {i}", consts[i], where)[0].reshape(-1) for i in node.input[1:])
    eps = float(np.float32(a.get("epsilon", 1e-5)))
    if np.any(var + eps <= 0):
        raise InvalidWeights(f"BatchNormalization node {node.name!r} in {where} has var + epsilon <= 0; the file is corrupt")
    s = scale / np.sqrt(var + eps)
    return s, bias - mean * s, f"epsilon={eps:g}"


def _slice_range(node: Any, consts: dict[str, np.ndarray]) -> Optional[tuple[int, int]]:
    """``(start, end)`` of a Slice over the feature axis with constant bounds and step 1, else None."""
    if node.op_type != "Slice" or len(node.input) < 4 or not all(i in consts for i in node.input[1:4]):
        return None
    starts, ends, axes = (np.atleast_1d(consts[i]).tolist() for i in node.input[1:4])
    steps = np.atleast_1d(consts[node.input[4]]).tolist() if len(node.input) > 4 and node.input[4] in consts else [1]
    if len(starts) != 1 or axes[0] not in (1, -1) or steps[0] != 1:
        return None
    return int(starts[0]), int(ends[0])


def _vae_head(nodes: list[Any], consts: dict[str, np.ndarray], width: int) -> Optional[int]:
    """``m`` when the chain's last output feeds exactly two Slices ``[0, m)`` and ``[m, 2m)`` (mu and logvar)."""
    ranges = sorted(r for r in (_slice_range(n, consts) for n in nodes) if r is not None)
    if len(ranges) != 2 or len(nodes) != 2 or width % 2:
        return None
    m = width // 2
    return m if ranges[0] == (0, m) and ranges[1][0] == m and ranges[1][1] >= 2 * m else None


class _Chain:
    """The walk's state: layers ``{W, b, act, out, name, pre, post}``, notes, used constants."""

    def __init__(self) -> None:
        self.layers: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.used: list[tuple[int, str]] = []  # (index of the layer the constant belongs to, its name)
        self.layer_notes: list[tuple[int, str]] = []  # fold notes of one layer (dropped with it when the chain is cut)
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []  # BatchNorms after an activation: fold into the next layer's input
        self.ignored: list[str] = []
        self.normalise: Optional[str] = None


def _step(ch: _Chain, node: Any, consts: dict[str, np.ndarray], cur: str, where: str) -> None:
    last = ch.layers[-1] if ch.layers else None
    if node.op_type in ("Gemm", "MatMul"):
        W, b = _affine(node, consts, where)
        ch.layers.append({"W": W, "b": b, "act": None, "name": node.name or node.output[0], "pre": ch.pending, "post": []})
        ch.pending = []
        ch.used += [(len(ch.layers) - 1, i) for i in node.input[1:] if i in consts]
    elif node.op_type == "Add" and last and last["b"] is None and last["act"] is None and not last["post"]:
        other = [n for n in node.input if n != cur]
        if len(other) != 1 or other[0] not in consts:
            raise InvalidWeights(f"Add node {node.name!r} in {where} adds a non-constant; only a bias after MatMul is read")
        last["b"] = consts[other[0]]
        ch.used.append((len(ch.layers) - 1, other[0]))
    elif node.op_type == "BatchNormalization":
        s, t, eps = _batchnorm(node, consts, where)
        side = "output" if last and last["act"] is None else "input"
        (last["post"] if side == "output" else ch.pending).append((s, t))
        owner = len(ch.layers) - 1 if side == "output" else len(ch.layers)
        ch.used += [(owner, i) for i in node.input[1:]]
        ch.layer_notes.append((owner, f"BatchNormalization node {node.name!r} ({eps}) folded into the {side} side of the "
                        f"{'preceding' if side == 'output' else 'next'} layer in float64 (sqrt(var + eps) is irrational in "
                        "general, so the checked weights are a float64 rounding of the file's map)"))
    elif node.op_type == "Dropout":
        ch.notes.append(_dropout(node, consts, where))
    elif node.op_type == "Identity":
        pass
    elif last and last["act"] is None and not ch.pending:
        last["act"] = _activation_of(node, _attrs(node), where)
    else:
        raise _unknown(node, where)


def _walk(graph: Any, consts: dict[str, np.ndarray], where: str, stop: Optional[str],
          ignore: tuple[str, ...] = ()) -> tuple[_Chain, list[Any]]:
    """The chain from the input (to ``stop``), and the nodes where it branched (``[]`` if it did not)."""

    inputs = [i.name for i in graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise InvalidWeights(f"{where} has {len(inputs)} graph inputs; an encoder takes one input vector")
    consumers, cur, ch = _consumers(graph), inputs[0], _Chain()
    norm = _l2_prefix(graph, consts, cur, where)
    if norm is not None:
        cur, note = norm
        ch.normalise = "l2"
        ch.notes.append(note)
    while cur != stop:
        nodes = consumers.get(cur, [])
        if not nodes:
            break
        if len(nodes) > 1:
            if stop is not None:
                raise InvalidWeights(f"tensor {cur!r} in {where} feeds {len(nodes)} nodes; pass --output naming a tensor on one chain")
            return ch, nodes  # a branch (e.g. mu and logvar)
        node = nodes[0]
        if any(fnmatch.fnmatchcase(node.name, g) for g in ignore):
            ch.ignored.append(node.name)  # the user dropped it knowingly: identity
        else:
            _step(ch, node, consts, cur, where)
        cur = node.output[0]
        if ch.layers:
            ch.layers[-1]["out"] = cur
        if stop is not None and node.name == stop:
            break
    if stop is not None and (not ch.layers or stop not in (ch.layers[-1]["out"], ch.layers[-1]["name"], cur)):
        raise InvalidWeights(f"--output {stop!r} is not a tensor or node on the encoder chain of {where}")
    return ch, []


def _finish(s: dict[str, Any], where: str) -> RawLayer:
    """One step as an exact layer, BatchNorms folded (float64 then, dtype recorded as float64)."""
    W, wd = widen_exact(f"{s['name']} weight", s["W"], where)
    if s["b"] is None:
        b, bd = np.zeros(W.shape[0]), wd
    else:
        b, bd = widen_exact(f"{s['name']} bias", np.reshape(s["b"], (-1,)), where)
    for sc, t in s["pre"]:
        W, b = W * sc[None, :], W @ t + b
    for sc, t in s["post"]:
        W, b = sc[:, None] * W, sc * b + t
    folded = bool(s["pre"] or s["post"])
    return RawLayer(s["name"], np.ascontiguousarray(W), b, "float64" if folded else widest([wd, bd]))


def read_onnx(path: str, output: Optional[str] = None, *, ignore: Optional[Sequence[str]] = None,
              latent: Optional[str] = None) -> ModelFile:
    """The encoder chain of an ONNX model (see the module docstring for the rule)."""
    try:
        import onnx
    except ImportError:
        raise InvalidWeights("reading .onnx files needs the onnx package: pip install onnx") from None
    where = repr(path)
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # protobuf DecodeError and friends
        raise InvalidWeights(f"{where} is not a readable ONNX model ({type(exc).__name__}); export it with torch.onnx.export") from None
    consts = _constants(model.graph)
    globs = tuple(g for g in (ignore or ()) if g)
    _check_globs(model.graph, globs, where)
    ch, branch = _walk(model.graph, consts, where, output, globs)
    if not ch.layers:
        raise InvalidWeights(f"{where} has no Gemm or MatMul layer after its input; nothing to read as an encoder")
    if ch.pending:
        raise InvalidWeights(f"{where} ends its encoder chain with a BatchNormalization after the activation; pass --output to end before it")
    steps = ch.layers
    if output is None and not branch:
        steps = steps[: bottleneck_end([s["W"].shape[0] for s in steps], steps[0]["W"].shape[1])]
    layers = [_finish(s, where) for s in steps]
    acts = [s["act"] or "identity" for s in steps]
    latent_taken = _onnx_latent(layers, ch, branch, consts, latent, where) if branch or latent else None
    meta = {"normalise": ch.normalise} if ch.normalise else {}
    kept = len(steps)  # a chain cut at the bottleneck: the decoder's constants and folds are not part of the checked function
    used = tuple(dict.fromkeys(name for owner, name in ch.used if owner < kept))
    notes = tuple(note for owner, note in ch.layer_notes if owner < kept) + tuple(ch.notes)
    return ModelFile(tuple(layers), tuple(acts), "onnx", meta, used=used, ignored=tuple(ch.ignored),
                     notes=notes, latent=latent_taken)


def _check_globs(graph: Any, globs: tuple[str, ...], where: str) -> None:

    names = [n.name for n in graph.node]
    for g in globs:
        if not any(fnmatch.fnmatchcase(n, g) for n in names):
            raise InvalidWeights(f"--ignore {g!r} matches no node of {where}; its nodes are {', '.join(names[:8])}")


def _onnx_latent(layers: list[RawLayer], ch: _Chain, branch: list[Any], consts: dict[str, np.ndarray],
                 latent: Optional[str], where: str) -> Optional[str]:
    m = _vae_head(branch, consts, layers[-1].W.shape[0]) if branch else None
    if m is None:
        if latent is not None:
            raise InvalidWeights(f"--latent {latent} applies to VAE heads (the last layer's output sliced into mu and logvar); "
                                 f"{where} has none; drop --latent")
        return None
    taken = latent or "mu"
    last = layers[-1]
    if taken != "all":
        layers[-1] = RawLayer(last.name + "[:mu]", last.W[:m], last.b[:m], last.dtype)
    ch.notes.append(f"VAE head {last.name!r} sliced by {', '.join(n.name for n in branch)}: latent {taken!r} = "
                    + ("[mu, logvar], all outputs" if taken == "all" else f"mu, outputs 0..{m - 1}")
                    + (" (z at eval time is mu: no sampling)" if taken == "z" else ""))
    return taken
