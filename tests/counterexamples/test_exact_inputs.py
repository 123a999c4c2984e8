"""Weights and data rows are certified at their stored values, never at a float64 rounding (issue 8, item 1).

Every certificate here is re-checked by ``tests/_recheck.py`` (Fractions from NumPy's own
``as_integer_ratio``, no evaluation code from ``theorems/`` or ``counterexamples/``), and planted bugs
(rounding through float64) show that the re-checker rejects what the rounded engine would certify.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import _recheck as rc
from latentcheck.theorems.domains import parse_domain
from latentcheck.counterexamples.fast import QVec
from latentcheck.counterexamples.certify import certify_zero
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import DataError, InvalidWeights
from latentcheck import load_encoder, save_encoder

LD = np.longdouble
TINY = LD(2) ** -60  # representable in x87 extended (64-bit mantissa), not next to 1 in float64
needs_extended = pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="long double is float64 on this platform")


def _save(path, W, b, act) -> str:
    np.savez(path, W0=W, b0=b, activations=np.array([act]))
    return str(path)


# ------------------------------------------------------------------ weights
@needs_extended
def test_longdouble_weights_are_read_exactly(tmp_path) -> None:
    W = np.array([[LD(1) + TINY, LD(-1)]], dtype=np.longdouble)
    path = _save(tmp_path / "ld.npz", W, np.zeros(1, dtype=np.longdouble), "t**2")
    enc = load_encoder(path)
    assert enc.layers[0].W_exact[0, 0] == Fraction(*W[0, 0].as_integer_ratio()) == 1 + Fraction(1, 2**60)
    # float64 would say enc(1, 1) = 0; the stored weights give (2**-60)**2
    cert = certify_zero(enc, [1, 1], dtype="float32")
    assert not cert.certified and cert.status == "float-only"
    Ws, bs, acts = rc.from_npz(path)
    assert not rc.p3_witness_holds(Ws, bs, acts, [1, 1])
    assert enc.exact([1, 1]) == [Fraction(1, 2**120)]


@needs_extended
def test_longdouble_subnormal_and_huge_exponents_exact(tmp_path) -> None:
    vals = np.array([[LD(2) ** -16400, LD(3) * LD(2) ** 2000, -(LD(1) + TINY) / 3]], dtype=np.longdouble)
    with pytest.raises(InvalidWeights, match="float64 range"):  # beyond float64: the float search cannot run
        Encoder.from_arrays([vals], [np.zeros(1, dtype=np.longdouble)], "identity")
    small = np.array([[LD(2) ** -16400, -(LD(1) + TINY) / 3, LD(2) ** -1070 + LD(2) ** -1100]], dtype=np.longdouble)
    enc = Encoder.from_arrays([small], [np.array([TINY], dtype=np.longdouble)], "identity")
    assert [enc.layers[0].W_exact[0, j] for j in range(3)] == rc.exact_matrix(small)[0]
    x = [Fraction(2**16400), Fraction(3), Fraction(5, 7)]
    want = sum((w * v for w, v in zip(rc.exact_matrix(small)[0], x)), rc.exact_entry(np.longdouble(TINY)))
    assert enc.exact(x) == [want]
    assert QVec.from_float(small[0]).fractions() == rc.exact_matrix(small)[0]


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_wide_integer_weights_stay_integers(tmp_path, dtype) -> None:
    big = 2**53 + 1
    W = np.array([[big, 2**53]], dtype=dtype) if dtype == np.uint64 else np.array([[big, -(2**53)]], dtype=dtype)
    x = [1, -1] if dtype == np.uint64 else [1, 1]
    path = _save(tmp_path / "int.npz", W, np.zeros(1, dtype=dtype), "identity")
    enc = load_encoder(path)
    assert enc.exact(x) == [1]  # float64 would round 2**53 + 1 to 2**53 and give 0
    assert not certify_zero(enc, x, dtype="float64").certified
    assert not rc.p3_witness_holds(*rc.from_npz(path), x)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_narrow_floats_exact_through_float64(dtype) -> None:
    W = np.array([[0.1, -1 / 3, 7e-5]], dtype=dtype)
    enc = Encoder.from_arrays([W], [np.zeros(1, dtype=dtype)], "identity")
    assert enc.layers[0].float64_exact
    assert [enc.layers[0].W_exact[0, j] for j in range(3)] == rc.exact_matrix(W)[0]


def test_bfloat16_weights_exact() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    W = np.array([[0.1, -3.0]], dtype=ml_dtypes.bfloat16)
    enc = Encoder.from_arrays([W], [np.zeros(1, dtype=ml_dtypes.bfloat16)], "identity")
    want = [Fraction(*float(v).as_integer_ratio()) for v in W.astype(np.float32)[0]]
    assert [enc.layers[0].W_exact[0, j] for j in range(2)] == want


@needs_extended
def test_save_keeps_the_stored_dtype(tmp_path) -> None:
    W = np.array([[LD(1) + TINY, LD(-1)]], dtype=np.longdouble)
    enc = Encoder.from_arrays([W], [np.zeros(1, dtype=np.longdouble)], "relu")
    save_encoder(enc, tmp_path / "again.npz")
    back = load_encoder(tmp_path / "again.npz")
    assert back.layers[0].W_exact[0, 0] == 1 + Fraction(1, 2**60)


@pytest.mark.parametrize("bad", [
    np.array([[1 + 2j, 0]]), np.array([["1", "2"]]), np.array([[np.datetime64("2020-01-01")] * 2]),
])
def test_unreadable_weight_dtypes_refused(tmp_path, bad) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, W0=bad, b0=np.zeros(1), activations=np.array(["relu"]))
    with pytest.raises(InvalidWeights, match=re.escape(str(bad.dtype))):
        load_encoder(path)
    with pytest.raises(InvalidWeights, match="cannot be read"):
        Encoder.from_arrays([bad], [np.zeros(1)], "relu")


def test_object_ints_refused() -> None:
    with pytest.raises(InvalidWeights, match="object"):
        Encoder.from_arrays([[[2**80, 1]]], [[0]], "relu")


def test_complex_weights_exit_2_one_line(tmp_path) -> None:
    path = tmp_path / "c.npz"
    np.savez(path, W0=np.array([[1 + 1j, 0, 0]]), b0=np.zeros(1), activations=np.array(["relu"]))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "falsify", "--weights", str(path), "--property", "p3"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "complex128" in lines[0] and "Traceback" not in out.stderr


@needs_extended
def test_planted_float64_rounding_is_caught(tmp_path, monkeypatch) -> None:
    """Plant the old bug (weights read through float64): the engine then certifies (1, 1); the re-checker rejects it."""
    import latentcheck.theorems.encoder as te

    W = np.array([[LD(1) + TINY, LD(-1)]], dtype=np.longdouble)
    path = _save(tmp_path / "ld.npz", W, np.zeros(1, dtype=np.longdouble), "t**2")
    real = te._check_array
    monkeypatch.setattr(te, "_check_array", lambda name, value, ndim: (real(name, value, ndim)[0], None))
    bad = load_encoder(path)
    cert = certify_zero(bad, [1, 1], dtype="float32")
    assert cert.status == "exact"  # the planted bug produces a false certificate...
    assert not rc.p3_witness_holds(*rc.from_npz(path), [1, 1])  # ...which the independent re-checker rejects


@needs_extended
def test_falsify_longdouble_certificates_recheck(tmp_path) -> None:
    from latentcheck.checkers.falsify import falsify

    rng = np.random.default_rng(0)
    W = (rng.normal(size=(2, 4)).astype(np.longdouble) * (LD(1) + TINY))
    path = _save(tmp_path / "ld.npz", W, np.zeros(2, dtype=np.longdouble), "relu")
    res = falsify(load_encoder(path), "p3", budget=3, seed=0, shrink=False)
    Ws, bs, acts = rc.from_npz(path)
    assert res.counterexamples, res.status
    for cx in res.counterexamples:
        assert rc.p3_witness_holds(Ws, bs, acts, cx.vector("x")), cx


# ------------------------------------------------------------------ data rows
def _rows_file(tmp_path, rows) -> str:
    path = tmp_path / "rows.npy"
    np.save(path, rows)
    return str(path)


def test_wide_integer_data_rows_exact(tmp_path) -> None:
    rows = np.array([[2**53 + 1, 2**53, 0], [1, 2, 3]], dtype=np.int64)
    dom = parse_domain("data:" + _rows_file(tmp_path, rows))
    assert dom.contains([2**53 + 1, 2**53, 0])
    assert not dom.contains([2**53, 2**53, 0])  # the float64 copy of row 0, not a row
    assert dom.exact_row(0) == [2**53 + 1, 2**53, 0]


@needs_extended
def test_longdouble_data_rows_exact(tmp_path) -> None:
    rows = np.array([[LD(1) + TINY, LD(1), LD(0)]], dtype=np.longdouble)
    dom = parse_domain("data:" + _rows_file(tmp_path, rows))
    assert dom.contains(rc.exact_matrix(rows)[0])
    assert not dom.contains([1, 1, 0])


def test_data_witness_is_a_row_bit_for_bit(tmp_path) -> None:
    from latentcheck.checkers.falsify import falsify

    rows = np.array([[2**53 + 1, 2**53, 0], [3, 3, 5], [0, 0, 7]], dtype=np.int64)
    spec = "data:" + _rows_file(tmp_path, rows)
    enc = Encoder.from_arrays([[[1.0, -1.0, 0.0]]], [[0.0]], "relu")
    res = falsify(enc, "p3", domain=spec, budget=3, seed=0)
    exact_rows = [[Fraction(int(v)) for v in r] for r in rows.tolist()]
    certified = [cx.vector("x") for cx in res.counterexamples]
    assert [3, 3, 5] in certified and [0, 0, 7] in certified
    for x in certified:
        assert x in exact_rows
        assert rc.p3_witness_holds([[[Fraction(1), Fraction(-1), Fraction(0)]]], [[Fraction(0)]], ["relu"], x)
    assert [2**53 + 1, 2**53, 0] not in certified and [2**53, 2**53, 0] not in certified
    for cx in res.float_only:  # row 0 rounds to a float zero; the real value is 1
        assert cx.vector("x") in exact_rows and cx.runtime


def test_planted_data_rounding_is_caught(tmp_path, monkeypatch) -> None:
    import latentcheck.theorems.domains as dmod

    rows = np.array([[2**53 + 1, 2**53, 0]], dtype=np.int64)
    monkeypatch.setattr(dmod, "fits_float64", lambda arr: True)  # the old behaviour: rows taken as float64
    dom = parse_domain("data:" + _rows_file(tmp_path, rows))
    assert dom.contains([2**53, 2**53, 0])  # the planted bug accepts a point that is not a row...
    assert [Fraction(2**53), Fraction(2**53), Fraction(0)] not in [[rc.exact_entry(v) for v in r] for r in rows]  # ...the re-check does not


@pytest.mark.parametrize("bad", [np.array([[1 + 1j, 2]]), np.array([["a", "b"]])])
def test_unreadable_data_refused(tmp_path, bad) -> None:
    with pytest.raises(DataError, match=str(bad.dtype)):
        parse_domain("data:" + _rows_file(tmp_path, bad))


@needs_extended
def test_public_exact_functions_read_longdouble_exactly() -> None:
    from latentcheck.theorems import exact_affine, interval_affine

    W = np.array([[LD(1) + TINY, LD(-1)]], dtype=np.longdouble)
    b = np.zeros(1, dtype=np.longdouble)
    assert exact_affine(W, b, [1, 1]) == [Fraction(1, 2**60)]
    enclosure = interval_affine(W, b, [Fraction(1), Fraction(1)])[0]
    assert enclosure.a > 0  # 2**-60 > 0, not the float64 rounding 0
    # long double scalars as inputs are taken at their exact value too
    enc = Encoder.from_arrays([[[1.0, -1.0]]], [[0.0]], "identity")
    assert enc.exact([LD(1) + TINY, LD(1)]) == [Fraction(1, 2**60)]
    assert QVec.from_fractions([LD(1) + TINY]).fractions() == [1 + Fraction(1, 2**60)]
    assert not certify_zero(enc, [LD(1) + TINY, LD(1)], dtype="float32").certified


def test_complex_data_rows_exit_2_one_line(tmp_path) -> None:
    path = tmp_path / "rows.npy"
    np.save(path, np.array([[1 + 1j, 0, 0]]))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "falsify", "--layers", "3,1", "--activation", "relu",
                          "--property", "p3", "--domain", f"data:{path}"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "complex128" in lines[0] and "Traceback" not in out.stderr


@needs_extended
def test_exact_repair_uses_stored_weights(tmp_path) -> None:
    """The kernel of [[1 + 2**-60, -1]] holds no float32 point; the exact repair, done on the stored long double
    weights, lands on a real zero, which the independent re-checker confirms."""
    from latentcheck.checkers.falsify import falsify

    W = np.array([[LD(1) + TINY, LD(-1)]], dtype=np.longdouble)
    path = _save(tmp_path / "ld.npz", W, np.zeros(1, dtype=np.longdouble), "t**2")
    res = falsify(load_encoder(path), "p3", budget=4, seed=0, shrink=False)
    assert res.counterexamples, res.status
    for cx in res.counterexamples:
        assert cx.certified == "exact" and rc.p3_witness_holds(*rc.from_npz(path), cx.vector("x"))
