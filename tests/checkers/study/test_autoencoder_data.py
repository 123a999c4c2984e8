"""Data loaders (three MovieLens formats, errors) and the split protocols."""

from __future__ import annotations

import numpy as np
import pytest

from latentcheck.checkers.study.data import csr_from_coo, liang_split, load_ratings, rating_split, synthetic_ratings
from latentcheck.theorems.errors import DataError, InvalidArgument

ROWS = [(1, 10, 5.0, 100), (1, 11, 4.0, 101), (2, 10, 3.0, 102), (3, 12, 4.5, 103)]


def _write(path, text):
    path.write_text(text)
    return path


def test_load_tab_u_data(tmp_path):
    _write(tmp_path / "u.data", "".join(f"{u}\t{i}\t{int(r)}\t{t}\n" for u, i, r, t in ROWS))
    r = load_ratings(tmp_path)  # a directory
    assert r.format == "tab" and len(r) == 4
    assert r.users.tolist() == [1, 1, 2, 3] and r.items.tolist() == [10, 11, 10, 12]
    assert r.ratings.tolist() == [5.0, 4.0, 3.0, 4.0]


def test_load_colons_ratings_dat(tmp_path):
    f = _write(tmp_path / "ratings.dat", "".join(f"{u}::{i}::{int(r)}::{t}\n" for u, i, r, t in ROWS))
    r = load_ratings(f)  # a file
    assert r.format == "colons" and r.items.tolist() == [10, 11, 10, 12]


def test_load_csv_with_header(tmp_path):
    _write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n" + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in ROWS))
    r = load_ratings(tmp_path)
    assert r.format == "csv" and len(r) == 4 and r.ratings.tolist() == [5.0, 4.0, 3.0, 4.5]
    assert not r.synthetic and r.describe()["users"] == 3


def test_sniffs_unknown_file_name(tmp_path):
    f = _write(tmp_path / "mine.txt", "1::2::5::0\n2::2::4::0\n")
    assert load_ratings(f).format == "colons"


@pytest.mark.parametrize(
    "setup, match",
    [
        (lambda p: p / "nope", "does not exist"),
        (lambda p: p, "holds none of"),
        (lambda p: _write(p / "u.data", ""), "is empty"),
        (lambda p: _write(p / "u.data", "1\t2\tfive\t0\n"), "not in the expected format"),
        (lambda p: _write(p / "ratings.csv", "userId,movieId\n1,2\n"), "column"),
        (lambda p: _write(p / "u.data", "1.5\t2\t5\t0\n"), "non-integer"),
    ],
)
def test_loader_errors_are_one_line_data_errors(tmp_path, setup, match):
    target = setup(tmp_path)
    with pytest.raises(DataError, match=match) as info:
        load_ratings(target)
    assert "\n" not in str(info.value)


def test_empty_after_filtering(tmp_path):
    _write(tmp_path / "u.data", "".join(f"{u}\t{i}\t3\t0\n" for u in range(1, 30) for i in range(1, 8)))
    with pytest.raises(DataError, match="no rating above threshold"):
        liang_split(load_ratings(tmp_path))
    _write(tmp_path / "u.data", "".join(f"{u}\t{i}\t5\t0\n" for u in range(1, 30) for i in range(1, 4)))
    with pytest.raises(DataError, match="at least 5 "):
        liang_split(load_ratings(tmp_path))


def test_synthetic_is_deterministic_and_labelled():
    a, b = synthetic_ratings(n_users=50, n_items=30, seed=3), synthetic_ratings(n_users=50, n_items=30, seed=3)
    assert a.synthetic and a.source.startswith("synthetic(")
    assert np.array_equal(a.users, b.users) and np.array_equal(a.items, b.items) and np.array_equal(a.ratings, b.ratings)
    assert not np.array_equal(a.items, synthetic_ratings(n_users=50, n_items=30, seed=4).items)
    big = synthetic_ratings(n_users=200, n_items=400, seed=0)
    counts = np.sort(np.bincount(big.items, minlength=401)[1:])[::-1]
    assert counts[:40].sum() > 2 * 0.1 * counts.sum()  # popularity-skewed: top 10% of items get > 20% of ratings


def test_csr_roundtrip_and_batches():
    rows, cols = np.array([0, 0, 2, 1, 2]), np.array([3, 1, 0, 2, 2])
    m = csr_from_coo(rows, cols, np.arange(1, 6), (3, 4))
    dense = np.zeros((3, 4), np.float32)
    dense[rows, cols] = np.arange(1, 6)
    assert np.array_equal(m.to_dense(), dense)
    assert np.array_equal(m.take_rows(np.array([2, 0])).to_dense(), dense[[2, 0]])
    local, c, v = m.batch_coo(np.array([2, 1]))
    back = np.zeros((2, 4), np.float32)
    back[local, c] = v
    assert np.array_equal(back, dense[[2, 1]])
    assert np.array_equal(m.transpose().to_dense(), dense.T)


def test_liang_split_invariants():
    r = synthetic_ratings(n_users=300, n_items=80, seed=2)
    s = liang_split(r, heldout=0.1, seed=98765)
    tr, va, te = set(s.train_users.tolist()), set(s.val_users.tolist()), set(s.test_users.tolist())
    assert not (tr & va) and not (tr & te) and not (va & te)
    keep = r.ratings > 3.5
    users, counts = np.unique(r.users[keep], return_counts=True)
    assert tr | va | te == set(users[counts >= 5].tolist())
    assert len(va) == len(te) == round(0.1 * len(tr | va | te))
    # Columns are exactly the items of the training users.
    tr_items = set(r.items[keep & np.isin(r.users, s.train_users)].tolist())
    assert set(s.item_ids.tolist()) == tr_items and s.train.n_cols == len(tr_items)
    for fold, hold, ids in ((s.val_fold_in, s.val_holdout, s.val_users), (s.test_fold_in, s.test_holdout, s.test_users)):
        f, h = fold.to_dense(bool), hold.to_dense(bool)
        assert not np.any(f & h)  # disjoint
        for row, u in enumerate(ids):
            items = set(r.items[keep & (r.users == u)].tolist()) & tr_items
            got = set(s.item_ids[f[row] | h[row]].tolist())
            assert got == items
            n = len(items)
            assert h[row].sum() == (int(0.2 * n) if n >= 5 else 0)
    s2 = liang_split(r, heldout=0.1, seed=98765)
    assert np.array_equal(s2.test_holdout.indices, s.test_holdout.indices)
    s3 = liang_split(r, heldout=0.1, seed=1)
    assert not np.array_equal(s3.test_users, s.test_users)
    assert s.all_rows().nnz == s.train.nnz + s.val_fold_in.nnz + s.val_holdout.nnz + s.test_fold_in.nnz + s.test_holdout.nnz


def test_liang_split_rejects_bad_options():
    r = synthetic_ratings(n_users=40, n_items=20, seed=0)
    with pytest.raises(InvalidArgument):
        liang_split(r, heldout=0.7)
    with pytest.raises(InvalidArgument):
        liang_split(r, test_prop=1.5)
    with pytest.raises(DataError, match="cannot give"):
        liang_split(r, heldout=30)


def test_rating_split_partitions_the_ratings():
    r = synthetic_ratings(n_users=60, n_items=40, seed=1)
    s = rating_split(r, test_frac=0.1, val_frac=0.05, seed=0)
    total = s.train.nnz + s.val.nnz + s.test.nnz
    assert total == len(r)
    assert s.test.nnz == round(0.1 * len(r)) and s.val.nnz == round(0.05 * len(r))
    d = s.train.to_dense() + s.val.to_dense() + s.test.to_dense()
    assert np.count_nonzero(d) == len(r)
    assert s.train.shape == (len(s.item_ids), len(s.user_ids))


# --------------------------------------------------------------------------- any interaction file

from latentcheck.checkers.study.data import load_interactions, load_or_synthetic, parse_columns  # noqa: E402

LOG = [("alice", "x1", 3), ("alice", "x2", 1), ("bob", "x1", 7), ("carol", "x3", 0)]


def test_csv_with_header_by_names(tmp_path):
    f = _write(tmp_path / "log.csv", "who,what,count\n" + "".join(f"{u},{i},{c}\n" for u, i, c in LOG))
    r = load_interactions(f, "who,what,count")
    assert r.format == "delimited" and r.has_value and len(r) == 4
    # String ids become codes of their sorted distinct values: alice 0, bob 1, carol 2; x1 0, x2 1, x3 2.
    assert r.users.tolist() == [0, 0, 1, 2] and r.items.tolist() == [0, 1, 0, 2]
    assert r.ratings.tolist() == [3.0, 1.0, 7.0, 0.0] and "codes" in r.source


def test_tsv_without_header_by_indices_and_no_value(tmp_path):
    f = _write(tmp_path / "log.tsv", "".join(f"{t}\t{u}\t{i}\n" for t, (u, i, _, _) in enumerate(ROWS)))
    r = load_interactions(f, "1,2")
    assert r.users.tolist() == [1, 1, 2, 3] and r.items.tolist() == [10, 11, 10, 12]
    assert not r.has_value and r.ratings.tolist() == [1.0] * 4


def test_semicolon_delimited_via_load_or_synthetic(tmp_path):
    f = _write(tmp_path / "log.txt", "u;i;v\n" + "".join(f"{u};{i};{r}\n" for u, i, r, _ in ROWS))
    r = load_or_synthetic(str(f), columns="u,i,v")
    assert r.users.tolist() == [1, 1, 2, 3] and r.ratings.tolist() == [5.0, 4.0, 3.0, 4.5]


def test_parquet_when_pyarrow_is_installed(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    f = tmp_path / "log.parquet"
    pq.write_table(pa.table({"user": [5, 5, 6], "item": [1, 2, 1], "plays": [2.0, 0.0, 9.0]}), f)
    r = load_interactions(f, "user,item,plays")
    assert r.format == "parquet" and r.users.tolist() == [5, 5, 6] and r.ratings.tolist() == [2.0, 0.0, 9.0]
    assert load_interactions(f, "0,1").items.tolist() == [1, 2, 1]


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    f = _write(tmp_path / "x.parquet", "not parquet")
    with pytest.raises(DataError, match=r"latentcheck\[parquet\]"):
        load_interactions(f, "0,1")


@pytest.mark.parametrize(
    "text, columns, match",
    [
        ("a,b,c\n1,2,3\n", "a,zz", "'zz' is not in the header"),
        ("1,2,3\n4,5,6\n", "0,7", "out of range"),
        ("1,2,3\n4,5,6\n", "user,1", "no header row"),
        ("a,b,c\n1,2,x\n3,4,y\n", "a,b,c", "not numeric"),
        ("a,b,c\n", "a,b", "no interaction row"),
    ],
)
def test_generic_loader_errors(tmp_path, text, columns, match):
    f = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=match) as info:
        load_interactions(f, columns)
    assert "\n" not in str(info.value)


def test_bad_columns_spec():
    assert parse_columns("userId, movieId ,2") == ("userId", "movieId", 2)
    for bad in ("a", "a,b,c,d", "a,,b", "a,a"):
        with pytest.raises(InvalidArgument):
            parse_columns(bad)


def test_threshold_none_keeps_every_row_and_empty_results_are_errors(tmp_path):
    rows = "".join(f"{u},{i}\n" for u in range(40) for i in range(u % 7, u % 7 + 6))
    r = load_interactions(_write(tmp_path / "pos.csv", rows), "0,1")
    s = liang_split(r, threshold=None, heldout=4)
    assert s.train.nnz + s.val_fold_in.nnz + s.val_holdout.nnz + s.test_fold_in.nnz + s.test_holdout.nnz <= 240
    assert s.meta["users_after_filter"] == 40
    with pytest.raises(DataError, match="min-user-items"):
        liang_split(r, threshold=None, min_user_items=7)
    r3 = load_interactions(_write(tmp_path / "v.csv", "u,i,v\n1,2,0\n1,3,0\n"), "u,i,v")
    with pytest.raises(DataError, match="threshold"):
        liang_split(r3, threshold=0.0)
