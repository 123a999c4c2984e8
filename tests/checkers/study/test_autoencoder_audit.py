"""The latent audit on constructed encoders whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from latentcheck.checkers.study.audit import audit_encoder, kendall_tau_b, normalise_rows, rows_for_encoder, save_encoder, read_input_meta
from latentcheck.checkers.study.data import csr_from_coo, synthetic_ratings
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidArgument


def _binary_rows(n_rows=60, n_cols=12, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n_rows, n_cols)) < 0.35).astype(np.float32)
    X[np.arange(n_rows), rng.integers(0, n_cols, n_rows)] = 1.0  # no empty row
    r, c = np.nonzero(X)
    return csr_from_coo(r, c, np.ones(r.size), X.shape), X


def test_relu_with_negative_bias_zeroes_every_user():
    rows, _ = _binary_rows()
    rng = np.random.default_rng(1)
    W = -np.abs(rng.normal(size=(4, 12)))  # nonpositive weights, nonnegative inputs
    enc = Encoder.from_arrays([W], [-np.ones(4)], ["relu"])
    a = audit_encoder(enc, rows, normalise="l2", seed=0, n_triples=500, certify=2)
    assert a.zero_rate == 1.0 and a.zero_rows == rows.n_rows
    assert a.dead_units == 4 and a.near_zero["abs<1e-6"] == 1.0
    assert a.zero_unit_fraction == 1.0 and a.fewest_nonzero_units == 0
    # Every latent is 0, so every latent dot ties: strictly ordered inputs all disagree.
    assert a.concordance == 0.0 and a.p2_violation_rate == 0.0
    p3 = [c for c in a.certified if c["property"] == "P3"]
    assert len(p3) == 2 and all(c["certified"] == "exact" for c in p3)


def test_identity_encoder_preserves_every_order():
    rows, _ = _binary_rows(seed=2)
    enc = Encoder.from_arrays([np.eye(12)], [np.zeros(12)], ["identity"])
    a = audit_encoder(enc, rows, normalise="none", seed=3, n_triples=2000, certify=1)
    assert not a.p1  # m = n
    assert a.concordance == 1.0 and a.kendall_tau_b == 1.0
    assert a.p2_violation_rate == 0.0 and a.strict_flip_rate == 0.0
    assert a.zero_rate == 0.0 and a.dead_units == 0
    assert a.fewest_nonzero_units >= 1  # every row has an item: identity keeps it
    assert [c for c in a.certified if c["property"] == "P2"] == []


def test_order_reversing_encoder_is_certified():
    rows, _ = _binary_rows(seed=4)
    enc = Encoder.from_arrays([-np.eye(12)[:11]], [np.zeros(11)], ["identity"])  # z = -x[:11]: dots keep order mostly
    flip = Encoder.from_arrays([np.ones((1, 12))], [np.zeros(1)], ["identity"])  # z = sum(x): a rank-1 map
    a = audit_encoder(flip, rows, normalise="none", seed=0, n_triples=3000, certify=2)
    assert a.p2_violation_rate > 0.0 and 0.0 <= a.concordance < 1.0
    certs = [c for c in a.certified if c["property"] == "P2"]
    assert certs and all(c["certified"] == "exact" for c in certs)
    assert audit_encoder(enc, rows, normalise="none", seed=0, n_triples=100, certify=0).certified == ()


def test_audit_is_deterministic_by_seed():
    rows, _ = _binary_rows(seed=5)
    enc = Encoder.random([12, 3], "tanh", seed=0)
    a = audit_encoder(enc, rows, seed=11, n_triples=800, certify=0)
    b = audit_encoder(enc, rows, seed=11, n_triples=800, certify=0)
    c = audit_encoder(enc, rows, seed=12, n_triples=800, certify=0)
    assert a.to_json() | {"timing": None} == b.to_json() | {"timing": None}
    assert a.concordance != c.concordance


def test_kendall_tau_b_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    a = rng.integers(-2, 3, 200).astype(float)
    b = rng.integers(-2, 3, 200).astype(float)
    conc = sum(1 for x, y in zip(a, b) if x * y > 0)
    disc = sum(1 for x, y in zip(a, b) if x * y < 0)
    ta, tb = sum(1 for x in a if x == 0), sum(1 for y in b if y == 0)
    assert kendall_tau_b(a, b) == pytest.approx((conc - disc) / np.sqrt((200 - ta) * (200 - tb)))


def test_normalisations():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert np.allclose(normalise_rows(x, "l2"), [[0.6, 0.8], [0.0, 0.0]])
    assert np.allclose(normalise_rows(x, "divide:5"), [[0.6, 0.8], [0.0, 0.0]])
    with pytest.raises(InvalidArgument):
        normalise_rows(x, "divide:0")


def test_dimension_mismatch_is_explained():
    rows, _ = _binary_rows()
    with pytest.raises(InvalidArgument, match="n=5"):
        audit_encoder(Encoder.random([5, 2], "relu", seed=0), rows)


def test_rows_for_encoder_uses_stored_ids(tmp_path):
    r = synthetic_ratings(n_users=50, n_items=30, seed=0)
    items = np.unique(r.items[r.ratings > 3.5])
    enc = Encoder.random([items.size, 4], "relu", seed=0)
    path = tmp_path / "e.npz"
    save_encoder(path, enc, normalise="l2", rows="users", values="binary", input_ids=items[::-1].copy(), threshold=3.5)
    csr, how = rows_for_encoder(r, enc, read_input_meta(path))
    assert csr.n_cols == items.size and how["matched_columns"] == items.size
    # Column j is the item with id items[::-1][j].
    u0 = np.unique(r.users[r.ratings > 3.5])[0]
    liked = set(r.items[(r.users == u0) & (r.ratings > 3.5)].tolist())
    assert {int(items[::-1][j]) for j in csr.row(0)[0]} == liked
    with pytest.raises(InvalidArgument, match="stores no input ids.*--item-order"):
        rows_for_encoder(r, Encoder.random([items.size + 1, 2], "relu", seed=0), {})
    with pytest.raises(InvalidArgument, match="stores no input ids.*--item-order"):  # even when the counts agree
        rows_for_encoder(r, Encoder.random([items.size, 2], "relu", seed=0), {})


def test_input_ties_demand_equal_latent_scores():
    """Rows e_0..e_11: any triple of distinct rows ties (<x,u> = 0 = <x,v>). With z = x_0 + x_1 a tie
    violates P2 exactly when x is e_0 or e_1 and one of u, v is the other: 40 of the 1320 ordered triples
    (counted here by hand). The audit counts ties and tie violations apart and as violations."""
    X = np.eye(12, dtype=np.float32)
    r, c = np.nonzero(X)
    rows = csr_from_coo(r, c, np.ones(r.size), X.shape)
    w = np.zeros((1, 12))
    w[0, :2] = 1.0
    enc = Encoder.from_arrays([w], [np.zeros(1)], ["identity"])
    n = 4000
    a = audit_encoder(enc, rows, normalise="none", seed=0, n_triples=n, certify=1)
    assert a.input_ties == a.triples == n
    assert a.tie_violations == round(a.p2_violation_rate * n) and a.strict_flip_rate == 0.0
    p = 40 / 1320
    assert abs(a.tie_violations - n * p) <= 5 * np.sqrt(n * p * (1 - p))
    # A certified violation: a tie with unequal latent scores, checked exactly.
    certs = [c for c in a.certified if c["property"] == "P2"]
    assert a.to_json()["tie_violations"] == a.tie_violations and a.to_json()["input_ties"] == n
    assert len(certs) == 1 and certs[0]["certified"] == "exact"
    # Independent re-check with integers: the certified rows tie in the input, not in the latent.
    ids = certs[0]["rows"]
    x, u, v = (X[ids[k]].astype(int) for k in ("x", "u", "v"))
    assert int(x @ u) == int(x @ v)
    zx, zu, zv = (int(w[0] @ r) for r in (x, u, v))
    assert zx * zu > zx * zv
