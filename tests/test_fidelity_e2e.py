"""benchmarks/fidelity_e2e.py: one Mult-DAE saved several ways gets one verdict (issue 17's end-to-end check).

The fast tests check the agreement logic itself (pure numpy): each planted
mismatch must be reported. The slow test runs the script's core (study ->
torch state dict, safetensors, ONNX, RecBole layout -> falsify, verify, audit,
assert_nonvanishing) on a small synthetic ratings file, when a Python with
torch, onnx and safetensors is found.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("fidelity_e2e", ROOT / "benchmarks" / "fidelity_e2e.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fidelity_e2e"] = mod
    spec.loader.exec_module(mod)
    return mod


fe = _module()


def test_latents_that_agree_pass_and_a_planted_difference_is_reported() -> None:
    rng = np.random.default_rng(0)
    ref = np.maximum(rng.normal(size=(20, 6)), 0)
    same = {"torch": ref, "npz": ref.copy(), "onnx": ref * (1 + 1e-9)}
    assert fe.latent_mismatches(same, "torch") == []
    planted = ref.copy()
    planted[3, 2] += 1e-4 * np.max(np.abs(ref))  # 1e-4 relative: over the 1e-6 bar
    bad = fe.latent_mismatches({**same, "safetensors": planted}, "torch")
    assert len(bad) == 1 and bad[0].startswith("safetensors:")
    assert fe.latent_mismatches({**same, "cut": ref[:, :5]}, "torch")[0].startswith("cut: latent shape")
    assert fe.latent_mismatches({**same, "nan": np.full_like(ref, np.nan)}, "torch")[0].startswith("nan:")


def test_weights_must_be_exactly_equal() -> None:
    W = np.array([[0.1, 0.2], [0.3, 0.4]], np.float32)
    b = np.array([0.5, -0.5], np.float32)
    ref = {"npz": [(W.astype(np.float64), b.astype(np.float64))], "pt": [(W, b)]}
    assert fe.weight_mismatches(ref, "npz") == []  # float32 values widened exactly
    nudged = W.copy()
    nudged[1, 0] = np.nextafter(nudged[1, 0], np.float32(1))  # one ulp
    assert fe.weight_mismatches({**ref, "onnx": [(nudged, b)]}, "npz") == ["onnx: layer 0 weights are not exactly those of npz"]
    assert fe.weight_mismatches({**ref, "deep": [(W, b), (W, b)]}, "npz")[0].startswith("deep: 2 layers")
    rounded = {"npz": [(np.array([[0.1]]), np.zeros(1))], "f32": [(np.array([[0.1]], np.float32), np.zeros(1, np.float32))]}
    assert fe.weight_mismatches(rounded, "npz")  # float64 0.1 is not float32 0.1


def test_a_file_with_another_verdict_is_reported_per_command() -> None:
    row = {"falsify": "counterexample (exit 1)", "verify": "refuted (exit 1)", "audit": "zero_rows=0 (exit 0)", "assert": "counterexample"}
    assert fe.verdict_mismatches({"npz": row, "onnx": dict(row)}) == []
    odd = {**row, "verify": "proved (exit 0)"}
    bad = fe.verdict_mismatches({"npz": row, "onnx": dict(row), "pt": odd})
    assert len(bad) == 1 and bad[0].startswith("verify:") and "pt=proved (exit 0)" in bad[0]
    assert fe.verdict_mismatches({"npz": row, "pt": {k: v for k, v in row.items() if k != "assert"}})[0].startswith("assert:")


def test_a_command_that_saw_no_normalisation_is_reported() -> None:
    ok = {c: {"normalise": "l2"} for c in fe.COMMANDS}
    assert fe.normalisation_problems({"npz": ok}, {"npz": {"normalise": "l2"}}) == []
    bad = fe.normalisation_problems({"npz": ok, "pt": {**ok, "falsify": {"normalise": "none"}}}, {"npz": {"normalise": "l2"}})
    assert bad == ["pt: falsify saw normalisation 'none'"]


def test_normalised_rows_match_f_normalize() -> None:
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(fe.normalised(x, "l2"), [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]])
    assert fe.normalised(x, "none") is x
    with pytest.raises(ValueError):
        fe.normalised(x, "divide:5")


@pytest.mark.slow
def test_study_torch_safetensors_onnx_recbole_layout_agree_on_synthetic(tmp_path) -> None:
    py = fe.torch_python(None)
    if py is None:
        pytest.skip("no Python with torch, onnx and safetensors (set FIDELITY_TORCH_PYTHON)")
    pytest.importorskip("torch", reason="latentcheck reads .pt files through torch; this venv has none")
    data = fe.synthetic_data(str(tmp_path), users=300, items=150)
    doc = fe.run_core(data, str(tmp_path), py, max_steps=60, budget=2.0, timeout=60.0, log=lambda s: None)
    assert doc["problems"] == []
    assert set(doc["results"]) == {"study .npz", "torch state dict .pt", "safetensors", "ONNX (F.normalize)", "RecBole layout .pt"}
    for name, r in doc["results"].items():
        assert r["falsify"]["exit"] in (0, 1) and r["verify"]["exit"] in (0, 1, 3), (name, r)  # never a crash (2, 4)
        assert r["audit"]["exit"] == 0 and r["audit"]["matched_columns"] == doc["n_inputs"], (name, r)
        assert doc["read"][name]["activations"] == ["relu"] and doc["read"][name]["normalise"] == "l2"
    assert "decoder.weight" not in doc["read"]["ONNX (F.normalize)"]["tensors_used"]


def test_a_command_that_read_other_tensors_is_reported() -> None:
    read = {"onnx": {"tensors_used": ["W", "b"]}}
    ok = {"falsify": {"tensors": ["W", "b"]}, "verify": {"tensors": ["W", "b"]}, "audit": {"tensors": None}}
    assert fe.tensor_problems({"onnx": ok}, read) == []
    bad = fe.tensor_problems({"onnx": {**ok, "verify": {"tensors": ["W", "b", "Wd"]}}}, read)
    assert len(bad) == 1 and bad[0].startswith("onnx: verify read")
