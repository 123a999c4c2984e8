"""Named data sets (``--datasets``), the item filter (``min_item_users``) and ``--plan``'s refusals, with and without ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentcheck.checkers.study.data import Ratings, liang_split, load_interactions
from latentcheck.checkers.study.datasets import DATASETS, DEFAULT_DATASETS, parse_datasets, resolve_dataset
from latentcheck.theorems.errors import InvalidArgument
from latentcheck.checkers.cli.app import main

LASTFM = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "lastfm-2k" / "user_artists.dat"


def test_parse_datasets():
    assert parse_datasets("default") == DEFAULT_DATASETS == ("ml-100k", "lastfm")
    assert parse_datasets(" LastFM ") == ("lastfm",)
    for bad in ("", "ml-1m", "ml-100k,ml-100k", "default,lastfm"):
        with pytest.raises(InvalidArgument):
            parse_datasets(bad)


def test_resolution_under_a_root_with_and_without_the_data(tmp_path):
    with pytest.raises(InvalidArgument) as exc:
        resolve_dataset("ml-100k", str(tmp_path))
    assert str(tmp_path / "ml-100k") in str(exc.value) and "--data-root" in str(exc.value)
    (tmp_path / "lastfm-2k").mkdir()
    (tmp_path / "lastfm-2k" / "user_artists.dat").write_text("userID\tartistID\tweight\n1\t2\t3\n")
    ds, path = resolve_dataset("lastfm", str(tmp_path))
    assert path == str(tmp_path / "lastfm-2k" / "user_artists.dat") and ds.columns == "userID,artistID,weight" and ds.min_item_users == 10


def test_missing_data_set_is_one_line_exit_2_before_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["study", "--datasets", "ml-100k", "--data-root", str(tmp_path / "none"), "--plan", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data set ml-100k not found") and err.count("\n") == 1 and not (tmp_path / "o").exists()


def test_datasets_and_data_together_are_refused(tmp_path, capsys):
    data = tmp_path / "x.csv"
    data.write_text("u,i\n1,2\n")
    with pytest.raises(SystemExit) as exc:
        main(["study", "--datasets", "ml-100k", "--data", str(data), "--columns", "u,i", "--data-root", str(tmp_path), "--plan"])
    assert exc.value.code == 2 and "not both" in capsys.readouterr().err


def _ratings(pairs):
    u, i = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    return Ratings(u, i, np.ones(len(pairs), np.float32), "planted", "delimited")


def test_min_item_users_drops_rare_items_before_the_user_filter():
    # users 0..39 hold items 0..5; users 40..42 hold items 0..3 and item 99 (3 users): 5 items each, 4 without item 99
    pairs = [(u, i) for u in range(40) for i in range(6)] + [(u, i) for u in range(40, 43) for i in (0, 1, 2, 3, 99)]
    kept = liang_split(_ratings(pairs), threshold=None, min_user_items=5, min_item_users=4, heldout=2)
    full = liang_split(_ratings(pairs), threshold=None, min_user_items=5, min_item_users=1, heldout=2)
    assert 99 in full.item_ids.tolist() and 99 not in kept.item_ids.tolist()
    assert kept.meta["min_item_users"] == 4 and kept.n_items == 6
    # the users left below min_user_items once item 99 is gone are dropped too
    assert (full.meta["users_after_filter"], kept.meta["users_after_filter"]) == (43, 40)
    with pytest.raises(InvalidArgument):
        liang_split(_ratings(pairs), threshold=None, min_item_users=0)


@pytest.mark.data
def test_lastfm_default_filter_matches_an_independent_count():
    if not LASTFM.exists():
        pytest.skip(f"{LASTFM} absent (not redistributed)")
    ds = DATASETS["lastfm"]
    raw = np.loadtxt(LASTFM, skiprows=1, dtype=np.int64)
    artists, listeners = np.unique(raw[:, 1], return_counts=True)
    popular = set(artists[listeners >= ds.min_item_users].tolist())  # independent: every row is a played pair, ids unique per user
    split = liang_split(load_interactions(str(LASTFM), ds.columns), threshold=ds.threshold, min_item_users=ds.min_item_users)
    assert set(split.item_ids.tolist()) <= popular and len(popular) == 1530
    assert split.n_items > 1400  # the training users hold almost all of them


@pytest.mark.slow
def test_datasets_run_each_into_its_folder_with_an_index(tmp_path):
    """A fake data root holding an ML-100K-format file (synthetic ratings): the study runs into OUT/ml-100k, with OUT/index.json."""
    from latentcheck.checkers.study.data import synthetic_ratings

    r = synthetic_ratings(seed=0)
    (tmp_path / "root" / "ml-100k").mkdir(parents=True)
    rows = "\n".join(f"{u}\t{i}\t{int(v)}\t0" for u, i, v in zip(r.users, r.items, r.ratings))
    (tmp_path / "root" / "ml-100k" / "u.data").write_text(rows + "\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["study", "--datasets", "ml-100k", "--data-root", str(tmp_path / "root"), "--seeds", "1", "--split-seeds", "1", "--epochs", "2",
              "--activations", "tanh,relu", "--lam-grid", "0", "--tune-seeds", "1", "--hidden", "8", "--triples", "100",
              "--falsify-budget", "0", "--no-ease", "--out", str(out)])
    assert exc.value.code == 0
    import json

    rep = json.loads((out / "ml-100k" / "report.json").read_text())
    index = json.loads((out / "index.json").read_text())
    assert set(index["datasets"]) == {"ml-100k"} and index["datasets"]["ml-100k"]["out"] == "ml-100k"
    assert "--lr 0.003" in rep["meta"]["command"] or rep["meta"]["tuning"]["grid"]["lr"] == [0.003]  # the budget's fixed lr (not given)
    assert rep["meta"]["seeds"] == [0] and (out / "README.md").read_text().startswith("# latentcheck study: every data set")
