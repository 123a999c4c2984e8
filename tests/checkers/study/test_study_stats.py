"""The pre-registered analysis (cluster bootstrap, TOST, superiority, Holm) and ``latentcheck study-stats``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from _indep_stats import holm_by_definition, naive_cluster_bootstrap
from latentcheck.checkers.study.analysis import (
    analyse,
    cluster_bootstrap,
    compare_arms,
    comparison_seed,
    decode_array,
    encode_array,
    pack_per_user,
    paired_matrices,
    unpack_per_user,
)
from latentcheck.checkers.cli.app import app, main

runner = CliRunner()


def _arms(shift: dict, n_splits=3, n_seeds=3, n_users=400, noise=0.05, seed=0):
    """Per-user scores of arms that differ from 'ref' by ``shift[arm]`` on average (seed noise and user noise)."""
    rng = np.random.default_rng(seed)
    per_user = {}
    for s in range(n_splits):
        base = rng.uniform(0.2, 0.6, n_users)  # user difficulty, shared by all arms: the pairing matters
        for t in range(n_seeds):
            per_user[("ref", s, t)] = {"NDCG@100": base + rng.normal(0, noise, n_users), "Recall@20": base}
            for a, d in shift.items():
                per_user[(a, s, t)] = {"NDCG@100": base + d + rng.normal(0, noise, n_users), "Recall@20": base + d}
    return per_user


def test_equivalent_arms_pass_tost_and_a_shifted_arm_is_superior():
    per_user = _arms({"same": 0.0, "up": 0.05, "down": -0.03})
    res = analyse(per_user, ["ref", "same", "up", "down"], "ref", ["NDCG@100", "Recall@20"], margin=0.01, n_boot=2000, seed=1)
    assert res["verdicts"] == {"same": "equivalent", "up": "better", "down": "worse"}
    c = res["comparisons"]
    assert abs(c["up"]["NDCG@100"]["diff"] - 0.05) < 0.005 and c["up"]["NDCG@100"]["p_tost"] > 0.5
    assert np.isnan(c["same"]["Recall@20"]["p_tost"])  # TOST only on the primary metric, where the margin was declared
    for m in ("NDCG@100", "Recall@20"):  # each metric has its own Holm family
        raw = [c[a][m]["p_superiority"] for a in ("same", "up", "down")]
        assert [c[a][m]["p_superiority_holm"] for a in ("same", "up", "down")] == pytest.approx(holm_by_definition(raw))


def test_a_difference_inside_the_margin_but_too_noisy_is_not_called_equivalent():
    per_user = _arms({"noisy": 0.0}, n_splits=2, n_seeds=2, n_users=30, noise=0.3)
    res = analyse(per_user, ["ref", "noisy"], "ref", ["NDCG@100"], margin=0.01, n_boot=2000, seed=3)
    assert res["verdicts"]["noisy"] == "inconclusive"


def test_bootstrap_matches_an_independent_loop_and_scipy():
    rng = np.random.default_rng(5)
    mats = [rng.normal(0.01 * s, 0.1, (3, 60)) for s in range(3)]
    ours = cluster_bootstrap(mats, 3000, seed=9)
    theirs = naive_cluster_bootstrap(mats, 3000, seed=10)
    assert abs(ours.mean() - theirs.mean()) < 0.004 and abs(ours.std() - theirs.std()) < 0.15 * theirs.std()
    # One split, one seed: a user bootstrap of the mean; scipy's percentile interval and a TOST by t-tests agree.
    d = rng.normal(0.004, 0.05, 3000)
    res = compare_arms([d[None, :]], margin=0.01, n_boot=4000, seed=2)
    sp = stats.bootstrap((d,), np.mean, n_resamples=4000, method="percentile", rng=np.random.default_rng(0)).confidence_interval
    assert res["ci95"] == pytest.approx([sp.low, sp.high], abs=3e-4)
    assert res["diff"] == pytest.approx(d.mean(), abs=1e-15)
    p_t = max(stats.ttest_1samp(d, -0.01, alternative="greater").pvalue, stats.ttest_1samp(d, 0.01, alternative="less").pvalue)
    assert res["p_tost"] == pytest.approx(p_t, abs=0.01)
    assert res["p_superiority"] == pytest.approx(stats.ttest_1samp(d, 0.0).pvalue, abs=0.02)


def test_baseline_pairs_with_every_seed_and_same_seed_same_numbers():
    per_user = _arms({"a": 0.01})
    for s in range(3):
        per_user[("EASE", s, None)] = {"NDCG@100": per_user[("ref", s, 0)]["NDCG@100"] + 0.1, "Recall@20": per_user[("ref", s, 0)]["Recall@20"]}
    mats = paired_matrices(per_user, "EASE", "ref", "NDCG@100")
    assert [m.shape for m in mats] == [(3, 400)] * 3
    expect = np.mean([np.mean([per_user[("EASE", s, None)]["NDCG@100"] - per_user[("ref", s, t)]["NDCG@100"] for t in range(3)]) for s in range(3)])
    args = (per_user, ["ref", "a", "EASE"], "ref", ["NDCG@100"], 0.01, 500, 4)
    one, two = analyse(*args), analyse(*args)
    assert one == two and one["comparisons"]["EASE"]["NDCG@100"]["diff"] == pytest.approx(expect, abs=1e-15)


def test_the_analysis_does_not_depend_on_the_order_of_the_arms():
    """A report written with sorted keys lists the activations alphabetically; study-stats must draw the same resamples."""
    per_user = _arms({"zeta": 0.004, "alpha": -0.002, "mid": 0.0}, n_splits=2, n_seeds=2, n_users=60)
    args = (["NDCG@100", "Recall@20"], 0.01, 300, 7)
    one = analyse(per_user, ["ref", "zeta", "alpha", "mid"], "ref", *args)
    two = analyse(per_user, ["ref", "alpha", "mid", "zeta"], "ref", *args)
    same = lambda x: json.dumps(x, sort_keys=True)  # noqa: E731  (NaN p-values compare equal as text)
    assert same(one["comparisons"]) == same(two["comparisons"]) and one["verdicts"] == two["verdicts"]
    mats = paired_matrices(per_user, "zeta", "ref", "NDCG@100")
    assert one["comparisons"]["zeta"]["NDCG@100"]["ci95"] == compare_arms(mats, 0.01, 300, comparison_seed(7, "zeta", "NDCG@100"))["ci95"]


def test_per_user_block_round_trips_exactly_and_detects_tampering():
    x = np.array([0.1, np.nan, 1 / 3, 2.0 ** -40])
    assert np.array_equal(decode_array(encode_array(x)), x, equal_nan=True)
    block = pack_per_user({("tanh", 7, 0): {"NDCG@100": x}, ("EASE", 7, None): {"NDCG@100": x}}, {7: np.array([4, 5, 6, 9])})
    back, users = unpack_per_user(json.loads(json.dumps(block)))
    assert users == {7: [4, 5, 6, 9]} and set(back) == {("tanh", 7, 0), ("EASE", 7, None)}
    block["scores"]["tanh|7|0"]["NDCG@100"] = encode_array(x[::-1])
    with pytest.raises(ValueError, match="SHA-256"):
        unpack_per_user(block)


# --------------------------------------------------------------------------- study-stats end to end

TINY = ["study", "--seeds", "2", "--split-seeds", "2", "--epochs", "2", "--activations", "tanh,relu", "--lr", "1e-3", "--lam", "0",
        "--hidden", "8", "--triples", "100", "--falsify-budget", "0", "--batch-size", "200"]


@pytest.fixture(scope="module")
def report_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("stats")
    res = runner.invoke(app, TINY + ["--out", str(out), "--margin", "0.02"])
    assert res.exit_code == 0, res.output
    return out / "report.json"


def test_report_holds_per_user_scores_and_the_declared_analysis(report_path):
    rep = json.loads(report_path.read_text())
    assert rep["meta"]["analysis"]["margin"] == 0.02 and rep["meta"]["analysis"]["primary"] == "NDCG@100"
    assert "--margin 0.02" in rep["meta"]["command"]
    per_user, users = unpack_per_user(rep["per_user"])
    assert sorted(users) == [98765, 98766] and len(per_user) == 2 * 2 * 2 + 2 * 2  # tanh, relu x 2 x 2 runs; EASE, popularity x 2 splits
    for r in rep["runs"]:  # the run's test metric is the mean of its stored per-user scores (independently: plain NumPy)
        assert r["test"]["NDCG@100"] == pytest.approx(np.nanmean(per_user[(r["activation"], r["split_seed"], r["seed"])]["NDCG@100"]), rel=1e-12)
    assert set(rep["summary"]["analysis"]["verdicts"]) == {"relu", "EASE", "popularity"}


def test_study_stats_agrees_with_an_untouched_report(report_path):
    res = runner.invoke(app, ["study-stats", str(report_path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["disagree"] == [] and out["compared"] > 100


@pytest.mark.parametrize("path", ["summary.analysis.comparisons.relu.NDCG@100.diff", "summary.per_activation.relu.metrics.Recall@20.mean",
                                  "summary.paired_vs_reference.relu.NDCG@100.users_t.p_holm", "baselines.ease.test.NDCG@100",
                                  "summary.analysis.verdicts.relu"])
def test_study_stats_disagrees_with_a_tampered_number(report_path, tmp_path, path):
    rep = json.loads(report_path.read_text())
    *head, last = path.split(".")
    node = rep
    for k in head:
        node = node[k]
    node[last] = "equivalent-forged" if isinstance(node[last], str) else node[last] + 1e-4
    bad = tmp_path / "report.json"
    bad.write_text(json.dumps(rep))
    res = runner.invoke(app, ["study-stats", str(bad), "--json"])
    assert res.exit_code == 1, res.output
    assert [d["path"] for d in json.loads(res.stdout)["disagree"]] == [path]


def test_study_stats_with_forged_scores(report_path, tmp_path):
    rep = json.loads(report_path.read_text())
    per_user, users = unpack_per_user(rep["per_user"])
    k = ("relu", 98765, 0)
    altered = dict(rep, per_user=dict(rep["per_user"]))
    altered["per_user"]["scores"] = dict(rep["per_user"]["scores"], **{"relu|98765|0": {m: encode_array(v * 0.5) for m, v in per_user[k].items()}})
    (tmp_path / "a.json").write_text(json.dumps(altered))  # digest not updated: unusable -> exit 2
    assert _exit(["study-stats", str(tmp_path / "a.json")]) == 2
    per_user[k] = {m: v * 0.5 for m, v in per_user[k].items()}
    rep["per_user"] = pack_per_user(per_user, users)  # consistent forgery: the numbers no longer follow -> exit 1
    (tmp_path / "b.json").write_text(json.dumps(rep))
    res = runner.invoke(app, ["study-stats", str(tmp_path / "b.json")])
    assert res.exit_code == 1 and "disagree" in res.output


def test_study_stats_refuses_a_report_without_scores(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"meta": {}, "runs": []}))
    assert _exit(["study-stats", str(tmp_path / "r.json")]) == 2
    assert _exit(["study-stats", str(tmp_path / "absent.json")]) == 2


def _exit(argv):
    """The exit code of the real entry point (one-line error, code 2 for bad input)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def test_conclusion_states_the_pre_registered_verdicts_either_way():
    from latentcheck.checkers.study.implicit import _analysis_claims

    res = analyse(_arms({"same": 0.0, "up": 0.05}), ["ref", "same", "up"], "ref", ["NDCG@100"], margin=0.01, n_boot=1000, seed=0)
    supported, unsupported = _analysis_claims(res)
    assert any("`same` is as accurate as `ref` within +-0.01" in s for s in supported)
    assert any("`up` is more accurate than `ref`" in s for s in supported) and unsupported == []
    res = analyse(_arms({"n": 0.0}, n_splits=2, n_seeds=2, n_users=30, noise=0.3), ["ref", "n"], "ref", ["NDCG@100"], 0.01, 1000, 0)
    assert _analysis_claims(res)[0] == [] and "neither a difference nor equivalence" in _analysis_claims(res)[1][0]
