"""The mechanism ablation: regressions on planted data with known slopes, P2-delta rates by hand, and (slow) a tiny run."""

from __future__ import annotations

import numpy as np
import pytest

from latentcheck.checkers.study.ablation import AblationConfig, parse_widths, pooled_regress, regress, regressions
from latentcheck.checkers.study.audit import p2_delta_rate
from latentcheck.theorems.errors import InvalidArgument


def test_regress_recovers_a_planted_slope():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 30)
    y = 0.5 - 0.2 * x + rng.normal(0, 0.01, x.size)
    fit = regress(x, y)
    assert fit["slope"] == pytest.approx(-0.2, abs=3 * fit["stderr"]) and fit["p"] < 1e-6 and fit["n"] == 30
    flat = regress(x, 0.5 + rng.normal(0, 0.01, x.size))  # no relation: the slope's interval holds 0 (seeded)
    assert abs(flat["slope"]) < 3 * flat["stderr"]
    assert np.isnan(regress([1, 1, 1, 1], [1, 2, 3, 4])["slope"]) and "constant" in regress([1, 1, 1, 1], [1, 2, 3, 4])["note"]


def test_pooled_within_slope_removes_the_groups_levels():
    # two activations with very different levels but the same within-group slope +3 (exact, no noise)
    x = [0, 1, 2, 3, 10, 11, 12, 13]
    y = [0, 3, 6, 9, -100, -97, -94, -91]
    g = ["a"] * 4 + ["b"] * 4
    fit = pooled_regress(x, y, g)
    assert fit["slope"] == pytest.approx(3.0) and fit["r"] == pytest.approx(1.0) and fit["p"] == 0.0
    assert regress(x, y)["slope"] < 0  # pooled naively the levels reverse the sign: why the within-activation fit exists
    noisy = pooled_regress(x, [0, 1, 0, 1, 5, 6, 5, 6], g)
    assert noisy["p"] > 0.05  # (n - k - 1 = 5 degrees of freedom)


def test_regressions_state_every_result_either_way():
    runs = [{"activation": a, "zero_rate": z, "dead_units": 0, "test": {"NDCG@100": 0.4 - 0.5 * z + e, "Recall@20": 0.3}}
            for a in ("relu", "tanh") for z, e in ((0.0, 0.001), (0.1, -0.001), (0.2, 0.0), (0.3, 0.001))]
    regs = regressions(runs, ["zero_rate", "dead_units"])
    ndcg = regs["NDCG@100~zero_rate"]
    assert ndcg["per_activation"]["relu"]["slope"] == pytest.approx(-0.5, abs=0.02)
    assert any(s.startswith("relu: a significant linear relation of NDCG@100 to zero_rate") for s in ndcg["statements"])
    assert all("no regression (property constant" in s for s in regs["NDCG@100~dead_units"]["statements"])
    assert any("no significant" in s for s in regs["Recall@20~zero_rate"]["statements"])  # Recall constant: slope 0, stated


def test_p2_delta_rate_by_hand():
    d_in = np.array([0.5, -0.02, 0.0, 0.2, -0.3, 0.05])
    d_lat = np.array([-1.0, 1.0, 1.0, 0.1, 0.4, -0.2])
    x_sq = np.ones(6)
    # strict flips (opposite nonzero signs): triples 0, 1, 4, 5 -> 4/6; input tie (2) never counts
    assert p2_delta_rate(d_in, d_lat, x_sq, 0.0) == pytest.approx(4 / 6)
    assert p2_delta_rate(d_in, d_lat, x_sq, 0.05) == pytest.approx(3 / 6)  # |d_in| >= 0.05: 0, 4, 5
    assert p2_delta_rate(d_in, d_lat, 2 * x_sq, 0.2) == pytest.approx(1 / 6)  # >= 0.4: triple 0 only
    with pytest.raises(InvalidArgument):
        p2_delta_rate(d_in, d_lat, x_sq, -0.1)


def test_widths_and_config_are_checked():
    assert parse_widths("16, 64,200") == (16, 64, 200)
    for bad in ("", "0", "a,b", "16,-1"):
        with pytest.raises(InvalidArgument):
            parse_widths(bad)
    with pytest.raises(InvalidArgument):
        AblationConfig(deltas=(-1.0,))


@pytest.mark.slow
def test_tiny_ablation_on_synthetic_data(tmp_path):
    from latentcheck.checkers.study.ablation import run_ablation, write_ablation
    from latentcheck.checkers.study.data import liang_split, synthetic_ratings

    split = liang_split(synthetic_ratings(seed=0), threshold=3.5)
    cfg = AblationConfig(activations=("relu", "tanh"), widths=(4, 16, 32), epochs=4, eval_every=2, triples=500, certify=2)
    rep = run_ablation(split, cfg, source="synthetic")
    assert len(rep["runs"]) == 6 and {r["width"] for r in rep["runs"]} == {4, 16, 32}
    for r in rep["runs"]:
        assert r["certified_zero_users"] <= min(r["zero_users"], 2) and 0 <= r["dead_units"] <= r["width"]
        assert r["p2_delta:0"] >= r["p2_delta:0.01"] >= r["p2_delta:0.05"] >= r["p2_delta:0.1"]  # a larger margin keeps fewer triples
    paths = write_ablation(rep, str(tmp_path))
    text = open(paths["markdown"]).read()
    assert "## Every regression, stated either way" in text and text.count("| relu | ") == 3
