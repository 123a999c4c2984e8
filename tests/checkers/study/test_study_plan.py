"""The study's cost model (``latentcheck study --plan``) against hand computations, and Mult-VAE's annealing within a run."""

from __future__ import annotations

import math

import pytest

from latentcheck.checkers.study.experiment import StudyConfig
from latentcheck.checkers.study.implicit import anneal_steps, expected_run_steps
from latentcheck.checkers.study.plan import BUDGET_DEFAULTS, StepCosts, count_runs, estimate, plan_config, steps_per_run

CFG = StudyConfig(activations=("tanh", "relu", "sigmoid"), split_seeds=2, seeds=3, tune_seeds=2, bracket_rounds=4, patience=400,
                  max_steps=50_000).resolved()


def test_run_counts_by_hand():
    c = count_runs(CFG, n_trials=6, widen=2, axes=3)
    # 3 activations x 2 splits = 6 searches; each (6 + 2) trials x 2 seeds = 16 runs -> 96; at most 4 rounds x 2 x 3 = 24 widening trials
    assert (c["searches"], c["tune_runs"], c["widen_trials_per_search_max"]) == (6, 96, 24)
    assert c["tune_runs_max"] == 6 * (6 + 24) * 2 == 360
    assert c["final_runs"] == c["audits"] == 3 * 2 * 3
    assert count_runs(CFG, n_trials=1, widen=2, axes=3)["tune_runs"] == 0  # one trial: nothing to tune, nothing widened


def test_steps_per_run_by_hand():
    # 2 steps per epoch, validation every 5 epochs = every 10 steps: 1190 + 400 = 1590, already a multiple of 10
    assert steps_per_run(CFG, 2, 1190) == 1590
    assert steps_per_run(CFG, 3, 1200) == 1605  # every 15 steps: ceil(1600 / 15) = 107 intervals
    capped = StudyConfig(patience=400, max_steps=1000).resolved()
    assert steps_per_run(capped, 2, 1190) == 1000
    assert steps_per_run(StudyConfig(patience=0, max_steps=999).resolved(), 2, 1190) == 1000  # no early stopping: the cap, whole epochs


def test_estimate_by_hand():
    k = StepCosts(step=0.02, validation=0.01, overhead=2.0, audit=1.0, baselines=3.0, parallelism=1.5, steps_per_epoch=2)
    est = estimate(CFG, k, n_trials=6, axes=3, best_step=1190, widen=2)
    run = 1590 * 0.02 + (1590 // 10 + 1) * 0.01 + 2.0  # 31.8 + 1.6 + 2 = 35.4
    assert est["cpu_seconds_per_run"] == pytest.approx(run)
    total = 96 * run + 18 * (run + 0.01) + 18 * 1.0 + 2 * 3.0
    assert est["cpu_seconds"]["total"] == pytest.approx(total)
    assert est["wall_seconds"] == pytest.approx(total / 1.5)
    assert est["cpu_seconds"]["total_max"] == pytest.approx(total + (360 - 96) * run)


def test_budget_defaults_apply_only_where_not_given():
    base = StudyConfig()
    assert all(getattr(plan_config(base), k) == v for k, v in BUDGET_DEFAULTS.items())
    kept = plan_config(StudyConfig(seeds=5, patience=123), frozenset({"seeds", "patience"}))
    assert (kept.seeds, kept.patience) == (5, 123)


def test_multvae_beta_reaches_its_cap_within_every_early_stopped_run():
    from latentcheck.checkers.study.models import MultVAE

    cfg = plan_config(StudyConfig(model="multvae")).resolved()
    expected = expected_run_steps(cfg.max_steps, cfg.patience)
    total = anneal_steps(cfg.anneal_steps, cfg.anneal_fraction, expected)
    m = MultVAE(n_items=10, hidden=(4,), total_anneal_steps=total)
    # a run with early stopping lasts at least `patience` steps; beta = min(0.2, step / total) computed independently
    assert min(0.2, cfg.patience / total) == pytest.approx(0.2)
    assert float(m.beta(cfg.patience)) == pytest.approx(0.2)
    assert float(m.beta(math.floor(0.5 * cfg.anneal_fraction * expected))) < 0.2  # still annealing halfway to its point


def test_an_lr_grid_on_the_command_line_turns_lr_tuning_back_on():
    c = plan_config(StudyConfig(lr_grid=(1e-3, 3e-3)), frozenset({"lr_grid"}))
    assert c.lr is None and c.lr_grid == (1e-3, 3e-3) and c.bracket_axes == StudyConfig().bracket_axes
    assert plan_config(StudyConfig()).lr == 3e-3


def test_expected_best_step_by_learning_rate():
    from latentcheck.checkers.study.plan import BEST_STEP_BY_LR, expected_best_step

    assert expected_best_step((3e-3,)) == BEST_STEP_BY_LR[3e-3]
    assert expected_best_step((1e-3, 3e-3)) == (BEST_STEP_BY_LR[1e-3] + BEST_STEP_BY_LR[3e-3]) / 2
    assert expected_best_step((1e-4,)) == BEST_STEP_BY_LR[1e-3]  # nearest on a log scale


@pytest.mark.slow
def test_calibration_measures_positive_costs_on_the_study_shape():
    from latentcheck.checkers.study.data import liang_split, synthetic_ratings
    from latentcheck.checkers.study.plan import calibrate

    split = liang_split(synthetic_ratings(seed=0), threshold=3.5)
    cfg = StudyConfig(triples=200, hidden=(16,)).resolved()
    k = calibrate(split, cfg)
    assert k.steps_per_epoch == -(-split.train.n_rows // 500)
    assert k.step > 0 and k.validation > 0 and k.audit > 0 and k.baselines > 0 and k.overhead >= 0 and 1.0 <= k.parallelism <= 64
