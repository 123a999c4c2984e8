"""latentcheck's autoencoder recommenders: data, Mult-DAE and I-AutoRec in JAX, metrics, EASE, the latent audit and the study.

Public API (everything else is private)::

    from latentcheck.checkers.study import load_ratings, liang_split, MultDAE, TrainConfig, train_multdae, audit_encoder
    split = liang_split(load_ratings("../shared/data/ml-100k"))
    model = MultDAE(n_items=split.n_items, latent="sigmoid")
    result = train_multdae(model, split, TrainConfig(epochs=400, seed=0))
    report = audit_encoder(model.encoder(result.params), split.all_rows(), normalise="l2", seed=0)
"""

from .audit import AuditResult, audit_encoder, kendall_tau_b, normalise_rows, read_input_meta, rows_for_encoder, save_encoder
from .data import (
    CSR,
    ImplicitSplit,
    Ratings,
    RatingSplit,
    csr_from_coo,
    liang_split,
    load_or_synthetic,
    load_ratings,
    rating_split,
    synthetic_ratings,
)
from .ease import ease_weights, fit_ease, popularity_baseline
from .metrics import DEFAULT_METRICS, ndcg_at_k, ranking_metrics, recall_at_k, rmse
from .models import AutoRec, MultDAE, MultVAE, normalise_l2
from .report import mean_ci, paired_t_test, pearson, sign_flip_test, spearman, t_cdf, t_quantile
from .analysis import analyse, cluster_bootstrap
from .progress import LineProgress
from .stats import compare_numbers, recompute
from .experiment import DEFAULT_ACTIVATIONS, DEFAULT_AUTOREC_PAIRS, StudyConfig, run_study
from .train import TrainConfig, TrainResult, evaluate_multdae, train_autorec, train_multdae, train_multdae_seeds
from .ablation import AblationConfig, run_ablation
from .datasets import DATASETS, resolve_dataset
from .multi import plan_study, run_datasets
from .plan import StepCosts, calibrate, estimate

__all__ = [
    # data
    "Ratings",
    "CSR",
    "ImplicitSplit",
    "RatingSplit",
    "load_ratings",
    "synthetic_ratings",
    "load_or_synthetic",
    "csr_from_coo",
    "liang_split",
    "rating_split",
    # models and training
    "MultDAE",
    "MultVAE",
    "AutoRec",
    "normalise_l2",
    "TrainConfig",
    "TrainResult",
    "train_multdae",
    "train_multdae_seeds",
    "train_autorec",
    "evaluate_multdae",
    # metrics and baselines
    "recall_at_k",
    "ndcg_at_k",
    "ranking_metrics",
    "rmse",
    "DEFAULT_METRICS",
    "ease_weights",
    "fit_ease",
    "popularity_baseline",
    # audit
    "AuditResult",
    "audit_encoder",
    "normalise_rows",
    "kendall_tau_b",
    "save_encoder",
    "read_input_meta",
    "rows_for_encoder",
    # statistics and the study
    "t_cdf",
    "t_quantile",
    "mean_ci",
    "paired_t_test",
    "sign_flip_test",
    "pearson",
    "spearman",
    "StudyConfig",
    "run_study",
    "DEFAULT_ACTIVATIONS",
    "DEFAULT_AUTOREC_PAIRS",
    "LineProgress",
    # the pre-registered analysis and its recomputation (latentcheck study-stats)
    "analyse",
    "cluster_bootstrap",
    "recompute",
    "compare_numbers",
    # issue 20: named data sets, the cost model (--plan), the mechanism ablation
    "DATASETS",
    "resolve_dataset",
    "run_datasets",
    "plan_study",
    "StepCosts",
    "calibrate",
    "estimate",
    "AblationConfig",
    "run_ablation",
]
