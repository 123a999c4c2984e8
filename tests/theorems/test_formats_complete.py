"""A model file is read completely or refused (issue 17, items 2 and 6), without any framework installed.

Files are written with numpy / safetensors in the layouts PyTorch uses; the
reference forward passes below apply BatchNorm, weight norm and the VAE head
by their textbook formulas, independently of latentcheck's folding code.
"""

from __future__ import annotations

import numpy as np
import pytest

from latentcheck.checkers.cli.app import main as cli_main
from latentcheck.checkers.falsify import falsify
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidArgument, InvalidWeights
from latentcheck.theorems.formats import convert, load_encoder, read_model
from latentcheck import save_encoder

EPS = 1e-5  # PyTorch's BatchNorm default


def _cli(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        cli_main(list(args))
    return int(exc.value.code or 0), capsys.readouterr().err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _relu(h):
    return np.maximum(h, 0.0)


def _bn(h, g, beta, mean, var):
    return (h - mean) / np.sqrt(var + EPS) * g + beta


def _bn_file(rng, n=7, h=5, m=3, dtype=np.float64):
    """``Linear(n,h) -> BatchNorm1d(h) -> ReLU -> Linear(h,m) -> ReLU`` as a Sequential state dict (np arrays)."""
    t = {"0.weight": rng.normal(size=(h, n)), "0.bias": rng.normal(size=h),
         "1.weight": rng.uniform(0.5, 2, h), "1.bias": rng.normal(size=h),
         "1.running_mean": rng.normal(size=h), "1.running_var": rng.uniform(0.3, 3, h),
         "1.num_batches_tracked": np.array(17, dtype=np.int64),
         "3.weight": rng.normal(size=(m, h)), "3.bias": rng.normal(size=m)}
    return {k: (v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in t.items()}


def _bn_forward(t, x):
    f = lambda k: t[k].astype(np.float64)  # noqa: E731
    h = _relu(_bn(x @ f("0.weight").T + f("0.bias"), f("1.weight"), f("1.bias"), f("1.running_mean"), f("1.running_var")))
    return _relu(h @ f("3.weight").T + f("3.bias"))


def test_batchnorm_folded_matches_textbook_forward(tmp_path) -> None:
    rng = np.random.default_rng(0)
    t = _bn_file(rng)
    np.savez(tmp_path / "bn.npz", **t)
    enc = load_encoder(tmp_path / "bn.npz", activations=["relu", "relu"])
    x = rng.normal(size=(200, 7))
    assert enc.sizes == [7, 5, 3]
    np.testing.assert_allclose(enc(x), _bn_forward(t, x), rtol=1e-12, atol=1e-12)
    prov = enc.provenance
    assert set(prov.tensors_used) == set(t) - {"1.num_batches_tracked"}
    assert any("BatchNorm '1'" in n and "float64 rounding" in n for n in prov.folded)
    assert any("num_batches_tracked" in n for n in prov.folded)
    assert prov.sha256 and prov.format == "npz"


def test_planted_fold_bug_is_caught(tmp_path, monkeypatch) -> None:
    """A fold that forgets the running mean no longer matches the textbook forward."""
    from latentcheck.theorems.formats import _modules

    rng = np.random.default_rng(1)
    t = _bn_file(rng)
    np.savez(tmp_path / "bn.npz", **t)
    real = _modules.bn_scale_shift
    monkeypatch.setattr(_modules, "bn_scale_shift", lambda *a, **k: (real(*a, **k)[0], real(*a, **k)[1] * 0))
    import latentcheck.theorems.formats._assemble as asm

    monkeypatch.setattr(asm, "bn_scale_shift", _modules.bn_scale_shift)
    enc = load_encoder(tmp_path / "bn.npz", activations=["relu", "relu"])
    x = rng.normal(size=(200, 7))
    assert np.max(np.abs(enc(x) - _bn_forward(t, x))) > 1e-3


def test_batchnorm_that_kills_every_input_is_a_certified_zero(tmp_path) -> None:
    """Issue 17: Linear -> BatchNorm1d -> ReLU -> Linear -> ReLU where eval-mode BatchNorm sends everything to 0 was 'proved'."""
    rng = np.random.default_rng(2)
    t = _bn_file(rng, n=4, h=3, m=2)
    t["1.weight"] = np.zeros(3)
    t["1.bias"] = -np.ones(3)  # BN(h) = -1: ReLU gives 0 for every input
    t["3.bias"] = -np.ones(2)  # then ReLU(-1) = 0
    np.savez(tmp_path / "dead.npz", **t)
    enc = load_encoder(tmp_path / "dead.npz", activations=["relu", "relu"])
    x = rng.normal(size=(50, 4)) * 10
    assert np.all(enc(x) == 0.0)
    res = falsify(enc, "p3", budget=30, seed=0, max_rounds=1, restarts=4, max_counterexamples=1, shrink=False).to_json()
    assert res["counterexamples"] and res["counterexamples"][0]["certified"]


def test_batchnorm_before_the_next_linear_folds_into_its_input(tmp_path) -> None:
    """Sequential(Linear, ReLU, BatchNorm1d, Linear, ReLU): indices tell the BatchNorm follows the activation."""
    rng = np.random.default_rng(3)
    t = _bn_file(rng)
    t = {k.replace("1.", "2.", 1) if k.startswith("1.") else k: v for k, v in t.items()}
    np.savez(tmp_path / "bn_after.npz", **t)
    enc = load_encoder(tmp_path / "bn_after.npz", activations=["relu", "relu"])
    x = rng.normal(size=(100, 7))
    h = _bn(_relu(x @ t["0.weight"].T + t["0.bias"]), t["2.weight"], t["2.bias"], t["2.running_mean"], t["2.running_var"])
    np.testing.assert_allclose(enc(x), _relu(h @ t["3.weight"].T + t["3.bias"]), rtol=1e-12, atol=1e-12)
    assert any("input side of '3'" in n for n in enc.provenance.folded)


def test_fp16_weights_with_batchnorm(tmp_path) -> None:
    pytest.importorskip("safetensors")
    from safetensors.numpy import save_file

    rng = np.random.default_rng(4)
    t = _bn_file(rng, dtype=np.float16)
    t["1.num_batches_tracked"] = np.array([17], dtype=np.int64)
    save_file(t, str(tmp_path / "half.safetensors"))
    enc = load_encoder(tmp_path / "half.safetensors", activations=["relu", "relu"])
    x = rng.normal(size=(100, 7))
    np.testing.assert_allclose(enc(x), _bn_forward(t, x), rtol=1e-10, atol=1e-10)
    assert enc.stored_dtype == "float64"  # folded weights are float64 roundings, not float16 values


@pytest.mark.parametrize("layout", ["weight_norm", "parametrizations"])
def test_weight_norm_applied(tmp_path, layout: str) -> None:
    rng = np.random.default_rng(5)
    v, g, b = rng.normal(size=(4, 6)), rng.uniform(0.5, 2, (4, 1)), rng.normal(size=4)
    keys = (("fc.weight_g", "fc.weight_v") if layout == "weight_norm"
            else ("fc.parametrizations.weight.original0", "fc.parametrizations.weight.original1"))
    np.savez(tmp_path / "wn.npz", **{keys[0]: g, keys[1]: v, "fc.bias": b})
    enc = load_encoder(tmp_path / "wn.npz", activations=["tanh"])
    W = g * v / np.sqrt((v ** 2).sum(axis=1, keepdims=True))
    assert enc.sizes == [6, 4]
    x = rng.normal(size=(50, 6))
    np.testing.assert_allclose(enc(x), np.tanh(x @ W.T + b), rtol=1e-13, atol=1e-13)
    assert set(enc.provenance.tensors_used) == {keys[0], keys[1], "fc.bias"}
    assert any("weight norm" in n for n in enc.provenance.folded)


def test_layernorm_refused_naming_the_tensor_and_ignore_drops_it(tmp_path, capsys) -> None:
    rng = np.random.default_rng(6)
    t = {"encoder.0.weight": rng.normal(size=(4, 6)), "encoder.0.bias": np.zeros(4),
         "encoder.1.weight": np.ones(4), "encoder.1.bias": np.zeros(4),
         "encoder.3.weight": rng.normal(size=(2, 4)), "encoder.3.bias": np.zeros(2)}
    np.savez(tmp_path / "ln.npz", **t)
    code, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "ln.npz"), "--activation", "relu", "--budget", "1")
    line = _one_error_line(err)
    assert code == 2 and "'encoder.1.weight'" in line and "LayerNorm" in line and "--ignore" in line
    enc = load_encoder(tmp_path / "ln.npz", activation="relu", ignore=["encoder.1.*"])
    assert enc.sizes == [6, 4, 2]
    assert enc.provenance.tensors_ignored == ("encoder.1.weight", "encoder.1.bias")
    with pytest.raises(InvalidWeights, match="matches no tensor"):
        load_encoder(tmp_path / "ln.npz", activation="relu", ignore=["nothing.*"])


def test_unknown_tensor_refused_by_name(tmp_path) -> None:
    rng = np.random.default_rng(7)
    np.savez(tmp_path / "emb.npz", **{"enc.weight": rng.normal(size=(3, 5)), "enc.bias": np.zeros(3),
                                      "item_emb.table": rng.normal(size=(5, 3))})
    with pytest.raises(InvalidWeights, match="'item_emb.table'"):
        load_encoder(tmp_path / "emb.npz", activation="relu")


def test_native_npz_w01_refused_by_name(tmp_path, capsys) -> None:
    """Issue 17: keys W0, W01, b0, b1 gave a KeyError (exit 1); now a one-line refusal naming W01 (exit 2)."""
    rng = np.random.default_rng(8)
    np.savez(tmp_path / "w.npz", W0=rng.normal(size=(3, 4)), W01=rng.normal(size=(2, 3)), b0=np.zeros(3), b1=np.zeros(2),
             activations=np.array(["relu", "relu"]))
    for loader in (lambda: load_encoder(tmp_path / "w.npz"), lambda: read_model(tmp_path / "w.npz")):
        with pytest.raises(InvalidWeights, match="'W01'"):
            loader()
    for flag in ("--weights", "--model"):
        code, err = _cli(capsys, "falsify", "-p", "p3", flag, str(tmp_path / "w.npz"), "--budget", "1")
        assert code == 2 and "'W01'" in _one_error_line(err)


def test_native_npz_provenance_and_stray_key(tmp_path) -> None:
    enc = Encoder.random([5, 3], "relu", seed=0)
    save_encoder(enc, tmp_path / "e.npz")
    loaded = load_encoder(tmp_path / "e.npz")
    assert loaded.provenance.tensors_used == ("W0", "b0", "activations")
    assert loaded.provenance.sha256 == loaded.source_sha256 and loaded.provenance.format == "npz"
    np.savez(tmp_path / "stray.npz", W0=np.ones((3, 5)), b0=np.zeros(3), activations=np.array(["relu"]), scale=np.ones(1))
    with pytest.raises(InvalidWeights, match="'scale'"):
        load_encoder(tmp_path / "stray.npz")
    assert load_encoder(tmp_path / "stray.npz", ignore=["scale"]).provenance.tensors_ignored == ("scale",)


def _vae_tensors(rng, n=8, h=6, m=2, enc="encoder", dec="decoder"):
    return {f"{enc}.0.weight": rng.normal(size=(h, n)), f"{enc}.0.bias": rng.normal(size=h),
            f"{enc}.2.weight": rng.normal(size=(2 * m, h)), f"{enc}.2.bias": rng.normal(size=2 * m),
            f"{dec}.0.weight": rng.normal(size=(h, m)), f"{dec}.0.bias": rng.normal(size=h),
            f"{dec}.2.weight": rng.normal(size=(n, h)), f"{dec}.2.bias": rng.normal(size=n)}


@pytest.mark.parametrize("route", ["names", "layers_from", "liang"])
def test_vae_latent_mu_in_every_selection_path(tmp_path, route: str) -> None:
    """Issue 17: --layers-from 'encoder.*' and Liang's q_layers/p_layers gave [mu, logvar] silently."""
    rng = np.random.default_rng(9)
    names = ("q_layers", "p_layers") if route == "liang" else ("encoder", "decoder")
    t = _vae_tensors(rng, enc=names[0], dec=names[1])
    if route == "liang":
        t = {k.replace(".2.", ".1."): v for k, v in t.items()}  # ModuleList indices: 0, 1
    np.savez(tmp_path / "vae.npz", **t)
    opts = {"layers_from": "encoder.*"} if route == "layers_from" else {}
    enc = load_encoder(tmp_path / "vae.npz", activations=["tanh", "identity"], **opts)
    last = f"{names[0]}.{1 if route == 'liang' else 2}"
    x = rng.normal(size=(20, 8))
    mu = np.tanh(x @ t[f"{names[0]}.0.weight"].T + t[f"{names[0]}.0.bias"]) @ t[f"{last}.weight"][:2].T + t[f"{last}.bias"][:2]
    np.testing.assert_allclose(enc(x), mu, rtol=1e-13, atol=1e-13)
    assert enc.provenance.latent == "mu" and f"{last}.weight[:2]" in enc.provenance.tensors_used
    full = load_encoder(tmp_path / "vae.npz", activations=["tanh", "identity"], latent="all", **opts)
    assert full.m == 4 and full.provenance.latent == "all"
    z = load_encoder(tmp_path / "vae.npz", activations=["tanh", "identity"], latent="z", **opts)
    assert z.m == 2 and any("no sampling" in n for n in z.provenance.folded)


def test_latent_refused_without_vae_head_and_bad_value(tmp_path, capsys) -> None:
    np.savez(tmp_path / "ae.npz", **{"encoder.0.weight": np.ones((3, 5)), "encoder.0.bias": np.zeros(3)})
    with pytest.raises(InvalidArgument, match="VAE"):
        load_encoder(tmp_path / "ae.npz", activation="relu", latent="mu")
    code, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "ae.npz"), "--activation", "relu", "--latent", "sigma")
    assert code == 2 and "--latent" in _one_error_line(err)


def test_ignore_and_latent_need_model(capsys) -> None:
    code, err = _cli(capsys, "falsify", "-p", "p3", "--layers", "4,2", "--activation", "relu", "--ignore", "x.*")
    assert code == 2 and "--ignore" in _one_error_line(err)


def test_convert_keeps_input_names_and_meta(tmp_path) -> None:
    pytest.importorskip("safetensors")
    rng = np.random.default_rng(10)
    names = np.array(["item-2", "item-02", "b", "a", "z"])
    np.savez(tmp_path / "m.npz", W0=rng.normal(size=(3, 5)), b0=np.zeros(3), activations=np.array(["relu"]),
             latentcheck_normalise=np.array("l2"), latentcheck_input_names=names)
    convert(tmp_path / "m.npz", tmp_path / "m.safetensors")
    convert(tmp_path / "m.safetensors", tmp_path / "back.npz")
    for p in ("m.safetensors", "back.npz"):
        mf = read_model(tmp_path / p)
        assert [str(v) for v in mf.meta["input_names"]] == names.tolist() and mf.meta["normalise"] == "l2"
        enc = load_encoder(tmp_path / p)
        assert enc.inputs.input_names == tuple(names.tolist()) and enc.inputs.normalise == "l2" and enc.inputs.origin == "file"


def test_convert_cli_lists_tensors_read(tmp_path, capsys) -> None:
    rng = np.random.default_rng(11)
    np.savez(tmp_path / "bn.npz", **_bn_file(rng))
    with pytest.raises(SystemExit) as exc:
        cli_main(["convert", str(tmp_path / "bn.npz"), str(tmp_path / "out.npz"), "--activations", "relu,relu"])
    out = capsys.readouterr().out
    assert int(exc.value.code or 0) == 0
    assert "0.weight" in out and "1.running_var" in out and "note: BatchNorm '1'" in out


def test_recbole_recipe_with_string_tokens(tmp_path) -> None:
    """docs/models.md's RecBole re-save (input_names as strings) reads back for a string-token dataset."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    rng = np.random.default_rng(12)
    names = ["[PAD]", "item-2", "item-02", "B00X"]
    sd = {"encoder.mlp_layers.0.weight": torch.from_numpy(rng.normal(size=(3, 4))),
          "encoder.mlp_layers.0.bias": torch.zeros(3),
          "decoder.mlp_layers.0.weight": torch.from_numpy(rng.normal(size=(4, 3))), "decoder.mlp_layers.0.bias": torch.zeros(4)}
    torch.save({"state_dict": sd, "model": "MultiDAE", "input_names": names}, tmp_path / "multidae.pt")
    mf = read_model(tmp_path / "multidae.pt")
    assert [str(n) for n in mf.meta["input_names"]] == names and mf.meta["normalise"] == "l2"  # a list (one metadata reader)
    enc = load_encoder(tmp_path / "multidae.pt")
    assert enc.inputs.input_names == tuple(names) and enc.sizes == [4, 3]
    assert enc.provenance.tensors_used == ("encoder.mlp_layers.0.weight", "encoder.mlp_layers.0.bias")
    convert(tmp_path / "multidae.pt", tmp_path / "m.npz")
    assert [str(n) for n in read_model(tmp_path / "m.npz").meta["input_names"]] == names


def test_falsify_report_lists_tensors_read_and_folds(tmp_path) -> None:
    from latentcheck.counterexamples.report import render_markdown

    rng = np.random.default_rng(13)
    t = _bn_file(rng, n=4, h=3, m=2)
    np.savez(tmp_path / "bn.npz", **t)
    enc = load_encoder(tmp_path / "bn.npz", activations=["relu", "relu"])
    data = falsify(enc, "p3", budget=10, seed=0, max_rounds=1, restarts=4, max_counterexamples=1, shrink=False).to_json()
    prov = data["encoder"]["provenance"]
    assert prov["tensors_used"][:2] == ["0.weight", "0.bias"] and prov["sha256"] == enc.source_sha256
    md = render_markdown(data)
    assert "| tensors read | 0.weight, 0.bias" in md and "| model note | BatchNorm '1'" in md


def test_verify_refutes_the_dead_batchnorm_file(tmp_path, capsys) -> None:
    """Issue 17's case end to end: `verify` on the file whose eval-mode BatchNorm zeroes every input is refuted, not proved."""
    rng = np.random.default_rng(2)
    t = _bn_file(rng, n=4, h=3, m=2)
    t["1.weight"], t["1.bias"], t["3.bias"] = np.zeros(3), -np.ones(3), -np.ones(2)
    np.savez(tmp_path / "dead.npz", **t)
    with pytest.raises(SystemExit) as exc:
        cli_main(["verify", "--model", str(tmp_path / "dead.npz"), "--activations", "relu,relu", "--domain", "box:1,2"])
    out = capsys.readouterr().out
    assert int(exc.value.code or 0) == 1 and "refuted" in out


def test_separate_vae_heads_refused_by_default_then_mu(tmp_path) -> None:
    """fc_mu / fc_logvar heads after the encoder: the default selection would stop at the hidden layer, so it is refused."""
    rng = np.random.default_rng(14)
    t = {"encoder.0.weight": rng.normal(size=(5, 8)), "encoder.0.bias": rng.normal(size=5),
         "fc_mu.weight": rng.normal(size=(2, 5)), "fc_mu.bias": rng.normal(size=2),
         "fc_logvar.weight": rng.normal(size=(2, 5)), "fc_logvar.bias": rng.normal(size=2),
         "decoder.0.weight": rng.normal(size=(8, 2)), "decoder.0.bias": rng.normal(size=8)}
    np.savez(tmp_path / "heads.npz", **t)
    with pytest.raises(InvalidWeights, match="--layers-from 'encoder.0,fc_mu'"):
        load_encoder(tmp_path / "heads.npz", activations=["tanh", "identity"])
    enc = load_encoder(tmp_path / "heads.npz", activations=["tanh", "identity"], layers_from="encoder.0,fc_mu")
    assert enc.provenance.latent == "mu" and enc.sizes == [8, 5, 2]
    x = rng.normal(size=(10, 8))
    ref = np.tanh(x @ t["encoder.0.weight"].T + t["encoder.0.bias"]) @ t["fc_mu.weight"].T + t["fc_mu.bias"]
    np.testing.assert_allclose(enc(x), ref, rtol=1e-13, atol=1e-13)
