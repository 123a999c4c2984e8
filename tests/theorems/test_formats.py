"""Model files in, exactly: safetensors, ONNX (built with onnx.helper), Equinox leaves, named .npz; convert.

Expected weights are decoded here independently of theorems.formats (struct
for bfloat16 bits, Fractions for exactness); certified counterexamples are
compared between a format and the ``.npz`` route for the same seed.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from latentcheck.checkers.cli.app import main as cli_main
from latentcheck.checkers.falsify import falsify
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidWeights, ShapeMismatch
from latentcheck.theorems.formats import convert, detect_format, load_encoder, read_model, save_encoder

ml_dtypes = pytest.importorskip("ml_dtypes")


def _mlp_arrays(seed: int, sizes=(7, 5, 3)) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(b, a)).astype(np.float32), rng.normal(size=(b,)).astype(np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]


def _npz_route(tmp_path, layers, acts) -> Encoder:
    """The reference: latentcheck's own .npz layout, float64 (widened by NumPy here)."""
    arrays = {}
    for i, (W, b) in enumerate(layers):
        arrays[f"W{i}"], arrays[f"b{i}"] = np.asarray(W, np.float64), np.asarray(b, np.float64)
    arrays["activations"] = np.array(acts)
    np.savez(tmp_path / "ref.npz", **arrays)
    return load_encoder(tmp_path / "ref.npz")


def _same_weights(a: Encoder, b: Encoder) -> None:
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert la.W.dtype == lb.W.dtype == np.float64
        assert la.W.tobytes() == lb.W.tobytes() and la.b.tobytes() == lb.b.tobytes()
        assert la.activation.name == lb.activation.name


def _witnesses(enc: Encoder) -> list:
    res = falsify(enc, "p3", budget=60, seed=3, max_rounds=1, restarts=8, max_counterexamples=1, shrink=False)
    return [(c["certified"], c["witness"]) for c in res.to_json()["counterexamples"]]


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli_main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _bf16_value(bits: int) -> Fraction:
    """Independent bfloat16 decode: the 16 bits are the top half of a float32."""
    return Fraction(struct.unpack("<f", struct.pack("<I", bits << 16))[0])


# ------------------------------------------------------------------ safetensors
def _save_st(path, layers, dtype, names=("encoder.0", "encoder.2")) -> None:
    from safetensors.numpy import save_file

    tensors = {}
    for name, (W, b) in zip(names, layers):
        tensors[f"{name}.weight"] = W.astype(dtype)
        tensors[f"{name}.bias"] = b.astype(dtype)
    save_file(tensors, str(path))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_safetensors_ieee_dtypes_bit_identical_to_npz_route(tmp_path, dtype: str) -> None:
    pytest.importorskip("safetensors")
    layers = [(W.astype(dtype), b.astype(dtype)) for W, b in _mlp_arrays(0)]
    _save_st(tmp_path / "m.safetensors", layers, dtype)
    enc = load_encoder(tmp_path / "m.safetensors", activations=["tanh", "relu"])
    assert enc.stored_dtype == dtype
    ref = _npz_route(tmp_path, layers, ["tanh", "relu"])
    _same_weights(enc, ref)
    for (W, _), layer in zip(layers, enc.layers):  # exact: every stored value, as a rational
        assert all(Fraction(float(x)) == Fraction(y) for x, y in zip(W.ravel().tolist(), layer.W.ravel().tolist()))
    assert _witnesses(enc) == _witnesses(ref)
    assert _witnesses(enc), "relu latent over the reals: a certified zero must be found"


def test_safetensors_bfloat16_decoded_exactly(tmp_path) -> None:
    pytest.importorskip("safetensors")
    layers = [(W.astype(ml_dtypes.bfloat16), b.astype(ml_dtypes.bfloat16)) for W, b in _mlp_arrays(1)]
    _save_st(tmp_path / "m.safetensors", layers, ml_dtypes.bfloat16)
    enc = load_encoder(tmp_path / "m.safetensors", activation="relu")
    assert enc.stored_dtype == "bfloat16"
    for (W, b), layer in zip(layers, enc.layers):
        bits = W.view(np.uint16).ravel().tolist()
        assert [_bf16_value(x) for x in bits] == [Fraction(v) for v in layer.W.ravel().tolist()]
        assert [_bf16_value(x) for x in b.view(np.uint16).tolist()] == [Fraction(v) for v in layer.b.tolist()]


def test_planted_bf16_decoder_bug_is_caught(tmp_path, monkeypatch) -> None:
    """The independent bf16 check fails when the reader rounds bfloat16 through float16 (a planted bug)."""
    pytest.importorskip("safetensors")
    import latentcheck.theorems.formats._exact as ex

    layers = [((W * 1e-6).astype(ml_dtypes.bfloat16), b.astype(ml_dtypes.bfloat16)) for W, b in _mlp_arrays(2)]  # float16 subnormals: coarser than bfloat16
    _save_st(tmp_path / "m.safetensors", layers, ml_dtypes.bfloat16)
    def through_float16(bits: np.ndarray) -> np.ndarray:
        return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float16).astype(np.float32)

    monkeypatch.setattr(ex, "bf16_bits_to_float32", through_float16)
    enc = load_encoder(tmp_path / "m.safetensors", activation="relu")
    W = layers[0][0]
    assert [_bf16_value(x) for x in W.view(np.uint16).ravel().tolist()] != [Fraction(v) for v in enc.layers[0].W.ravel().tolist()]


def test_truncated_safetensors_exit_2_one_line(tmp_path, capsys) -> None:
    pytest.importorskip("safetensors")
    _save_st(tmp_path / "m.safetensors", _mlp_arrays(0), np.float32)
    raw = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 7])
    code, _, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "cut.safetensors"), "--activation", "relu")
    assert code == 2
    assert "safetensors" in _one_error_line(err)


# ------------------------------------------------------------------ layer mapping
def test_layers_from_glob_order_and_chain_error(tmp_path) -> None:
    pytest.importorskip("safetensors")
    layers = _mlp_arrays(4, sizes=(6, 4, 2, 4, 6))
    _save_st(tmp_path / "ae.safetensors", layers, np.float32, names=("enc.0", "enc.1", "dec.0", "dec.1"))
    # safetensors keeps no order and the names differ beyond numbers: the order must be given
    with pytest.raises(InvalidWeights, match="no layer order"):
        read_model(tmp_path / "ae.safetensors")
    # the same names in a file that keeps its order (.npz): cut at the bottleneck (width 2)
    np.savez(tmp_path / "ae.npz", **{f"{n}.{k}": v for n, (W, b) in zip(("enc.0", "enc.1", "dec.0", "dec.1"), layers) for k, v in (("weight", W), ("bias", b))})
    assert [layer.name for layer in read_model(tmp_path / "ae.npz").layers] == ["enc.0", "enc.1"]
    mf = read_model(tmp_path / "ae.safetensors", layers_from="enc.*,dec.0")
    assert [layer.name for layer in mf.layers] == ["enc.0", "enc.1", "dec.0"]
    mf = read_model(tmp_path / "ae.npz", output="dec.0")
    assert [layer.name for layer in mf.layers] == ["enc.0", "enc.1", "dec.0"]
    with pytest.raises(ShapeMismatch, match="do not chain"):
        read_model(tmp_path / "ae.safetensors", layers_from="enc.1,enc.0")
    with pytest.raises(InvalidWeights, match="matches no layer"):
        read_model(tmp_path / "ae.safetensors", layers_from="encoder.*")


def test_natural_order_and_kernel_transpose(tmp_path) -> None:
    """Flax-style names: Dense_10 after Dense_2, kernel (in, out) transposed to (out, in)."""
    sizes = [3] + [4] * 11 + [2]
    layers = _mlp_arrays(5, sizes=tuple(sizes))
    arrays = {}
    for i, (W, b) in enumerate(layers):
        arrays[f"params/Dense_{i}/kernel"] = W.T.copy()
        arrays[f"params/Dense_{i}/bias"] = b
    np.savez(tmp_path / "flax.npz", **arrays)
    enc = load_encoder(tmp_path / "flax.npz", activation="relu")
    ref = _npz_route(tmp_path, layers, ["relu"] * len(layers))
    _same_weights(enc, ref)


def test_vae_encoder_latent_is_mu(tmp_path) -> None:
    """Decoder input = half the encoder's output: the latent is mu, the first half (MultiVAE)."""
    pytest.importorskip("safetensors")
    rng = np.random.default_rng(6)
    t = {"encoder.0.weight": rng.normal(size=(5, 8)), "encoder.0.bias": rng.normal(size=5),
         "encoder.2.weight": rng.normal(size=(6, 5)), "encoder.2.bias": rng.normal(size=6),
         "decoder.0.weight": rng.normal(size=(5, 3)), "decoder.0.bias": rng.normal(size=5)}
    from safetensors.numpy import save_file

    save_file(t, str(tmp_path / "vae.safetensors"))
    enc = load_encoder(tmp_path / "vae.safetensors", activations=["tanh", "identity"])
    assert enc.sizes == [8, 5, 3]
    assert np.array_equal(enc.layers[1].W, t["encoder.2.weight"][:3]) and np.array_equal(enc.layers[1].b, t["encoder.2.bias"][:3])


def test_activations_must_be_given_when_file_is_silent(tmp_path) -> None:
    pytest.importorskip("safetensors")
    _save_st(tmp_path / "m.safetensors", _mlp_arrays(0), np.float32)
    with pytest.raises(InvalidWeights, match="--activations"):
        load_encoder(tmp_path / "m.safetensors")
    with pytest.raises(ShapeMismatch, match="one per layer"):
        load_encoder(tmp_path / "m.safetensors", activations=["relu", "relu", "relu"])
    enc = load_encoder(tmp_path / "m.safetensors", activation="sigmoid")
    assert [layer.activation.name for layer in enc.layers] == ["sigmoid", "sigmoid"]


def test_no_linear_layers_exit_2(tmp_path, capsys) -> None:
    np.savez(tmp_path / "bn.npz", **{"norm.weight": np.ones(4), "norm.bias": np.zeros(4), "norm.running_mean": np.zeros(4),
                                     "norm.running_var": np.ones(4)})
    code, _, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "bn.npz"), "--activation", "relu")
    assert code == 2 and "no linear layer" in _one_error_line(err)
    np.savez(tmp_path / "half.npz", **{"norm.weight": np.ones(4), "norm.bias": np.zeros(4), "norm.running_mean": np.zeros(4)})
    code, _, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "half.npz"), "--activation", "relu")
    assert code == 2 and "'norm.weight'" in _one_error_line(err) and "--ignore" in err


# ------------------------------------------------------------------ Equinox leaves (the .npy record layout)
def test_equinox_leaf_layout_without_equinox(tmp_path) -> None:
    """eqx.tree_serialise_leaves writes one np.save record per array leaf; bfloat16 as '<V2'."""
    layers = _mlp_arrays(7)
    with open(tmp_path / "m.eqx", "wb") as fh:
        for W, b in layers:
            np.save(fh, W.astype(ml_dtypes.bfloat16).view(np.dtype("V2")))
            np.save(fh, b.astype(ml_dtypes.bfloat16).view(np.dtype("V2")))
        np.save(fh, np.float64(0.5))  # a scalar leaf (e.g. a dropout rate) is skipped
    enc = load_encoder(tmp_path / "m.eqx", activation="relu")
    assert enc.stored_dtype == "bfloat16" and enc.sizes == [7, 5, 3]
    for (W, _), layer in zip(layers, enc.layers):
        bits = W.astype(ml_dtypes.bfloat16).view(np.uint16).ravel().tolist()
        assert [_bf16_value(x) for x in bits] == [Fraction(v) for v in layer.W.ravel().tolist()]


def test_equinox_stray_leaf_refused(tmp_path) -> None:
    with open(tmp_path / "bad.eqx", "wb") as fh:
        np.save(fh, np.ones(3))
    with pytest.raises(InvalidWeights, match="leaf 0"):
        load_encoder(tmp_path / "bad.eqx", activation="relu")


# ------------------------------------------------------------------ ONNX (graphs built with onnx.helper)
def _onnx_model(path, layers, acts, extra_op=None, leaky_alpha=0.01):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, cur = [], [], "x"
    for i, ((W, b), act) in enumerate(zip(layers, acts)):
        if i % 2 == 0:  # Gemm with transB=1 (torch's export of Linear)
            inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [f"g{i}"], name=f"gemm{i}", transB=1))
        else:  # MatMul (in, out) + Add
            inits += [numpy_helper.from_array(W.T.copy(), f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("MatMul", [cur, f"W{i}"], [f"mm{i}"], name=f"matmul{i}"))
            nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"g{i}"], name=f"add{i}"))
        kw = {"alpha": leaky_alpha} if act == "LeakyRelu" else {}
        nodes.append(helper.make_node(act, [f"g{i}"], [f"h{i}"], name=f"act{i}", **kw))
        cur = f"h{i}"
    if extra_op:
        nodes.append(helper.make_node(extra_op, [cur], ["y"], name="extra"))
        cur = "y"
    n, m = layers[0][0].shape[1], layers[-1][0].shape[0]
    graph = helper.make_graph(nodes, "enc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                              [helper.make_tensor_value_info(cur, TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph), str(path))


def test_onnx_graph_matches_npz_route(tmp_path) -> None:
    layers = _mlp_arrays(8)
    _onnx_model(tmp_path / "m.onnx", layers, ["Tanh", "Relu"])
    enc = load_encoder(tmp_path / "m.onnx")
    ref = _npz_route(tmp_path, layers, ["tanh", "relu"])
    _same_weights(enc, ref)
    assert enc.stored_dtype == "float32"
    assert _witnesses(enc) == _witnesses(ref)


def test_onnx_leaky_relu_alpha_is_the_exact_float32(tmp_path) -> None:
    layers = _mlp_arrays(9)
    _onnx_model(tmp_path / "m.onnx", layers, ["Relu", "LeakyRelu"])
    enc = load_encoder(tmp_path / "m.onnx")
    act = enc.layers[1].activation
    alpha = Fraction(float(np.float32(0.01)))
    assert act.exact(Fraction(-3)) == -3 * alpha
    assert act.exact(Fraction(5, 2)) == Fraction(5, 2)


def test_onnx_unknown_op_exit_2_names_it(tmp_path, capsys) -> None:
    _onnx_model(tmp_path / "m.onnx", _mlp_arrays(0), ["Tanh", "Relu"], extra_op="Softmax")
    code, _, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "m.onnx"))
    assert code == 2 and "'Softmax'" in _one_error_line(err)
    enc = load_encoder(tmp_path / "m.onnx", output="h1")  # stopping before it works
    assert enc.sizes == [7, 5, 3]


def test_onnx_output_and_bottleneck(tmp_path) -> None:
    layers = _mlp_arrays(10, sizes=(6, 3, 6))
    _onnx_model(tmp_path / "ae.onnx", layers, ["Relu", "Sigmoid"])
    assert load_encoder(tmp_path / "ae.onnx").sizes == [6, 3]  # default: the bottleneck
    assert load_encoder(tmp_path / "ae.onnx", output="h1").sizes == [6, 3, 6]
    with pytest.raises(InvalidWeights, match="--output"):
        load_encoder(tmp_path / "ae.onnx", output="nowhere")


# ------------------------------------------------------------------ writing and convert
def test_convert_round_trip_bit_identical(tmp_path, capsys) -> None:
    pytest.importorskip("safetensors")
    from safetensors.numpy import load_file

    layers = [(W.astype(ml_dtypes.bfloat16), b.astype(ml_dtypes.bfloat16)) for W, b in _mlp_arrays(11)]
    _save_st(tmp_path / "a.safetensors", layers, ml_dtypes.bfloat16)
    code, out, err = _cli(capsys, "convert", str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors"), "--activations", "tanh,relu")
    assert code == 0, err
    b = load_file(str(tmp_path / "b.safetensors"))
    assert b["W0"].dtype == ml_dtypes.bfloat16  # written back in its stored dtype
    assert b["W0"].view(np.uint16).tobytes() == layers[0][0].view(np.uint16).tobytes()
    convert(tmp_path / "b.safetensors", tmp_path / "c.npz")
    convert(tmp_path / "c.npz", tmp_path / "d.safetensors")
    convert(tmp_path / "d.safetensors", tmp_path / "e.npz")
    c, e = np.load(tmp_path / "c.npz"), np.load(tmp_path / "e.npz")
    assert sorted(c.files) == sorted(e.files)
    for k in c.files:
        assert c[k].dtype == e[k].dtype and c[k].tobytes() == e[k].tobytes()
    _same_weights(load_encoder(tmp_path / "e.npz"), load_encoder(tmp_path / "b.safetensors"))
    assert list(c["activations"]) == ["tanh", "relu"]


def test_encoder_save_safetensors_float64_exact(tmp_path) -> None:
    pytest.importorskip("safetensors")
    enc = Encoder.random([9, 4, 2], "relu", "tanh", seed=12)
    save_encoder(enc, tmp_path / "r.safetensors")
    back = load_encoder(tmp_path / "r.safetensors")
    _same_weights(enc, back)
    assert back.stored_dtype == "float64"


def test_save_refuses_unknown_extension(tmp_path) -> None:
    with pytest.raises(InvalidWeights, match=".npz or .safetensors"):
        save_encoder(Encoder.random([3, 2], "relu", seed=0), tmp_path / "x.onnx")


def test_detect_format_by_content(tmp_path) -> None:
    pytest.importorskip("safetensors")
    _save_st(tmp_path / "noext", _mlp_arrays(0), np.float32)
    assert detect_format(tmp_path / "noext") == "safetensors"
    np.savez(tmp_path / "z", W0=np.ones((1, 1)), b0=np.zeros(1))
    (tmp_path / "z.npz").rename(tmp_path / "zz")
    assert detect_format(tmp_path / "zz") == "npz"


def test_nothing_heavy_imported_by_theorems_formats() -> None:
    code = ("import sys, latentcheck.theorems, latentcheck.theorems.formats, latentcheck.theorems.encoder; "
            "print([m for m in ('jax', 'torch', 'onnx', 'safetensors', 'msgpack', 'flax', 'equinox') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


def test_garbage_files_exit_2_one_line(tmp_path, capsys) -> None:
    pytest.importorskip("onnx")
    for name in ("bad.onnx", "bad.msgpack", "bad.npz", "bad.eqx"):
        (tmp_path / name).write_bytes(b"\x08\x07 this is not a model \xff\xfe" * 3)
        code, _, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / name), "--activation", "relu")
        assert code == 2, name
        assert name in _one_error_line(err)
    code, _, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "missing.pt"))
    assert code == 2 and "does not exist" in _one_error_line(err)


def test_overcomplete_autoencoder_is_cut_at_its_inner_layer_not_the_reconstruction(tmp_path) -> None:
    """An overcomplete Mult-DAE (6 -> 8 -> 6: fewer items than hidden units) whose whole graph is saved.

    Regression (issue 17's end-to-end check on a 144-item set with 200 hidden units): the narrowest layer
    was the reconstruction (width 6 = the input's), so ONNX and ordered named-array files were checked as
    the whole autoencoder, a different function (and verdict) from the study's 6 -> 8 encoder.
    """
    layers = _mlp_arrays(11, sizes=(6, 8, 6))
    _onnx_model(tmp_path / "ae.onnx", layers, ["Relu", "Sigmoid"])
    enc = load_encoder(tmp_path / "ae.onnx")
    assert enc.sizes == [6, 8]
    np.testing.assert_array_equal(enc.layers[0].W, np.asarray(layers[0][0], np.float64))
    assert load_encoder(tmp_path / "ae.onnx", output="h1").sizes == [6, 8, 6]  # the whole graph, when asked
    np.savez(tmp_path / "ae.npz", **{f"{i}.{k}": v for i, (W, b) in zip((0, 2), layers) for k, v in (("weight", W), ("bias", b))})
    assert [layer.W.shape for layer in read_model(tmp_path / "ae.npz").layers] == [(8, 6)]
    # an encoder-only chain that narrows at its end is kept whole, as before
    _onnx_model(tmp_path / "enc.onnx", _mlp_arrays(12, sizes=(6, 8, 4)), ["Relu", "Relu"])
    assert load_encoder(tmp_path / "enc.onnx").sizes == [6, 8, 4]
