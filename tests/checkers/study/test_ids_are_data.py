"""Issue 17 item 5 (ids are data) and item 9 (study checks its data before training).

String item ids are stored and matched as strings; the data's ids sorted as text never stand in for missing ids:
without stored ids, ``audit`` refuses (exit 2, one line) unless ``--item-order FILE`` gives them.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from latentcheck.checkers.study.audit import read_item_order, rows_for_encoder, save_encoder
from latentcheck.checkers.study.data import load_or_synthetic
from latentcheck.checkers.cli.app import app, main
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.errors import InvalidArgument
from latentcheck import load_encoder
from latentcheck import save_encoder as write_encoder  # the model writer; save_encoder here is the study's

runner = CliRunner()
FAST = ["--triples", "200", "--falsify-budget", "0", "--certify", "1", "--min-user-items", "1"]
#: Ids whose text order differs from their order as numbers, and two that differ only by a leading zero.
NAMES = ["item-2", "item-02", "item-10", "item-1"]


def _exit(argv, capsys):
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err


def _data(path):
    """User u likes exactly item NAMES[u % 4] and item-10; 12 users."""
    lines = ["user,item"]
    for u in range(12):
        lines += [f"user{u},{NAMES[u % 4]}", f"user{u},item-10"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _encoder(path, names=None):
    enc = Encoder.from_arrays([np.eye(4)], [np.zeros(4)], ["identity"])  # z = x: the latent shows which column is which
    if names is None:
        write_encoder(enc, path)  # no ids stored
    else:
        save_encoder(path, enc, normalise="none", rows="users", values="binary", input_names=np.array(names))
    return path


def test_string_ids_are_matched_as_strings(tmp_path):
    ratings = load_or_synthetic(str(_data(tmp_path / "d.csv")), columns="user,item")
    enc = load_encoder(_encoder(tmp_path / "e.npz", NAMES))
    from latentcheck.checkers.study.audit import meta_from_inputs

    csr, how = rows_for_encoder(ratings, enc, meta_from_inputs(enc.inputs), min_user_items=1)
    assert how["matched_columns"] == 4 and "compared as strings" in how["columns"]
    dense = csr.to_dense(np.float32)
    names = [str(v) for v in how["row_ids"]]
    for r, user in enumerate(names):
        u = int(user.removeprefix("user"))
        liked = {NAMES[u % 4], "item-10"}
        assert {NAMES[j] for j in np.nonzero(dense[r])[0]} == liked  # column j is the item named NAMES[j], exactly


def test_item_2_and_item_02_are_different_items(tmp_path):
    """Swapping the two names in the stored order swaps the two columns: nothing is matched by a normalised form."""
    ratings = load_or_synthetic(str(_data(tmp_path / "d.csv")), columns="user,item")
    from latentcheck.checkers.study.audit import meta_from_inputs

    swapped = ["item-02", "item-2", "item-10", "item-1"]
    a = load_encoder(_encoder(tmp_path / "a.npz", NAMES))
    b = load_encoder(_encoder(tmp_path / "b.npz", swapped))
    ca, _ = rows_for_encoder(ratings, a, meta_from_inputs(a.inputs), min_user_items=1)
    cb, _ = rows_for_encoder(ratings, b, meta_from_inputs(b.inputs), min_user_items=1)
    da, db = ca.to_dense(np.float32), cb.to_dense(np.float32)
    assert np.array_equal(da[:, [1, 0, 2, 3]], db) and not np.array_equal(da, db)


def test_audit_without_stored_ids_refuses_in_one_line(tmp_path, capsys):
    data = _data(tmp_path / "d.csv")
    enc = _encoder(tmp_path / "e.npz")
    t0 = time.perf_counter()
    code, err = _exit(["audit", "--weights", str(enc), "--data", str(data), "--columns", "user,item", *FAST], capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "--item-order" in lines[0]


def test_item_order_file_gives_the_same_audit_as_stored_names(tmp_path):
    data = _data(tmp_path / "d.csv")
    order = tmp_path / "order.txt"
    order.write_text("\n".join(NAMES) + "\n")
    base = ["audit", "--data", str(data), "--columns", "user,item", "--json", *FAST]
    stored = runner.invoke(app, [*base, "--weights", str(_encoder(tmp_path / "s.npz", NAMES))])
    given = runner.invoke(app, [*base, "--weights", str(_encoder(tmp_path / "n.npz")), "--item-order", str(order)])
    assert stored.exit_code == 0 and given.exit_code == 0, (stored.output, given.output)
    js, jg = json.loads(stored.stdout), json.loads(given.stdout)
    assert "--item-order" in jg["inputs"]["columns"]
    for key in ("zero_rate", "dead_units", "concordance", "p2_violation_rate", "rows", "norm_quantiles"):
        assert js[key] == jg[key], key
    assert jg["input_semantics"]["input_names"] == 4
    # The order matters: the reversed file is a different encoder input order, so a different audit.
    order.write_text("\n".join(NAMES[::-1]) + "\n")
    rev = runner.invoke(app, [*base, "--weights", str(_encoder(tmp_path / "n2.npz")), "--item-order", str(order)])
    assert rev.exit_code == 0 and json.loads(rev.stdout)["inputs"]["matched_columns"] == 4


def test_item_order_file_is_checked(tmp_path):
    p = tmp_path / "o.txt"
    p.write_text("a\nb\n\n")
    assert read_item_order(p, 2) == ("a", "b")
    with pytest.raises(InvalidArgument, match="lists 2 ids but the encoder takes n=3"):
        read_item_order(p, 3)
    p.write_text("a\na\n")
    with pytest.raises(InvalidArgument, match="more than once"):
        read_item_order(p, 2)
    p.write_text("a\n\nb\n")
    with pytest.raises(InvalidArgument, match="empty line"):
        read_item_order(p, 3)
    p.write_text("item-2\nitem-02\n")
    assert read_item_order(p, 2) == ("item-2", "item-02")


# ----------------------------------------------------------------------------- study checks its data
def _small(path, n_users, n_items, per_user):
    rng = np.random.default_rng(0)
    lines = ["user,item"]
    for u in range(n_users):
        for i in rng.choice(n_items, size=per_user, replace=False):
            lines.append(f"u{u},i{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_study_with_fewer_items_than_ndcg_at_100_fails_fast(tmp_path, capsys):
    data = _small(tmp_path / "small.csv", 200, 60, 12)
    code, err = _exit(["study", "--data", str(data), "--columns", "user,item", "--activations", "relu",
                       "--out", str(tmp_path / "st")], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "60 items" in lines[0] and "NDCG@100" in lines[0] and "at least 100" in lines[0]
    assert not (tmp_path / "st" / "runs").exists() or not any((tmp_path / "st" / "runs").iterdir())  # nothing trained


def test_study_with_too_few_users_per_split_fails_fast(tmp_path, capsys):
    data = _small(tmp_path / "few.csv", 3, 120, 120)
    code, err = _exit(["study", "--data", str(data), "--columns", "user,item", "--activations", "relu",
                       "--out", str(tmp_path / "st")], capsys)
    assert code == 2
    assert "training user(s)" in err and "needs at least 2 training" in err


def test_check_split_data_passes_enough_data():
    from latentcheck.checkers.study.data import liang_split, synthetic_ratings
    from latentcheck.checkers.study.implicit import check_split_data

    r = synthetic_ratings(n_users=300, n_items=150, seed=0)
    split = liang_split(r, threshold=3.5, min_user_items=1, heldout=30, seed=0)
    check_split_data(split, 0)  # no exception
    with pytest.raises(InvalidArgument, match="need at least 200"):
        check_split_data(split, 0, metrics=(("ndcg", 200),))


def test_string_ids_survive_convert_and_safetensors(tmp_path):
    """convert keeps the stored names (npz -> safetensors -> npz) and load_encoder reads them into encoder.inputs."""
    from latentcheck.theorems.formats import convert

    src = _encoder(tmp_path / "e.npz", NAMES)
    convert(src, tmp_path / "e.safetensors")
    convert(tmp_path / "e.safetensors", tmp_path / "back.npz")
    for p in ("e.safetensors", "back.npz"):
        enc = load_encoder(tmp_path / p)
        assert enc.inputs.input_names == tuple(NAMES), p
        assert enc.inputs.normalise == "none" and enc.inputs.origin == "file"
    enc = load_encoder(src)
    write_encoder(enc, tmp_path / "s.safetensors")
    assert load_encoder(tmp_path / "s.safetensors").inputs == enc.inputs


def test_audit_model_honours_stored_names(tmp_path):
    """``audit --model FILE.safetensors``: the names stored in the file's metadata give the columns."""
    from latentcheck.theorems.formats import convert

    data = _data(tmp_path / "d.csv")
    convert(_encoder(tmp_path / "e.npz", NAMES), tmp_path / "e.safetensors")
    base = ["audit", "--data", str(data), "--columns", "user,item", "--json", *FAST]
    via_model = runner.invoke(app, [*base, "--model", str(tmp_path / "e.safetensors")])
    via_npz = runner.invoke(app, [*base, "--weights", str(tmp_path / "e.npz")])
    assert via_model.exit_code == 0 and via_npz.exit_code == 0, via_model.output
    jm, jn = json.loads(via_model.stdout), json.loads(via_npz.stdout)
    assert jm["inputs"]["matched_columns"] == 4 and "compared as strings" in jm["inputs"]["columns"]
    for key in ("zero_rate", "concordance", "p2_violation_rate", "norm_quantiles"):
        assert jm[key] == jn[key], key
