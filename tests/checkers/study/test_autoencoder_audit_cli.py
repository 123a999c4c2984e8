"""``latentcheck audit``: --out writes report.json and report.md; --data FILE --columns for any interaction file;
string ids matched by name (never by their file-local integer codes); partial matches said on the console."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from latentcheck.checkers.study.audit import read_input_meta, save_encoder
from latentcheck.checkers.cli.app import app, main
from latentcheck.theorems.encoder import Encoder

runner = CliRunner()
FAST = ["--triples", "200", "--falsify-budget", "0", "--certify", "1"]


def _log(path, users, items, plays, header="user_id,track_id,plays", delim=","):
    """A listening log with one row per (user, item, plays)."""
    lines = [header] if header else []
    lines += [delim.join((u, i, str(p))) for u, i, p in zip(users, items, plays)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _rows(n_users=30, n_items=12, seed=0, prefix="t"):
    """Every user plays 3..8 tracks, play counts 0..4 (0 and 1 are not positives at threshold 1)."""
    rng = np.random.default_rng(seed)
    us, its, ps = [], [], []
    for u in range(n_users):
        for i in rng.choice(n_items, size=int(rng.integers(3, 9)), replace=False):
            us.append(f"user{u:03d}")
            its.append(f"{prefix}{i:02d}")
            ps.append(int(rng.integers(0, 5)))
    return us, its, ps


def _relu_zero_encoder(names, path):
    """ReLU with nonpositive weights and a negative bias on nonnegative inputs: every latent is exactly 0."""
    enc = Encoder.from_arrays([-np.ones((3, len(names)))], [-np.ones(3)], ["relu"])
    save_encoder(path, enc, normalise="l2", rows="users", values="binary", input_names=np.asarray(names), threshold=1.0)
    return path


def test_audit_out_writes_json_and_markdown_for_a_generic_file(tmp_path):
    us, its, ps = _rows()
    data = _log(tmp_path / "plays.csv", us, its, ps)
    names = sorted(set(its))
    enc = _relu_zero_encoder(names, tmp_path / "enc.npz")
    out = tmp_path / "audit"
    res = runner.invoke(app, ["audit", "--weights", str(enc), "--data", str(data), "--columns", "user_id,track_id,plays",
                              "--min-user-items", "2", "--out", str(out), "--json", *FAST])
    assert res.exit_code == 0, res.output
    stdout = json.loads(res.stdout)
    report = json.loads((out / "report.json").read_text())
    assert report == stdout  # the file is the printed payload
    # Positives counted by hand: plays > 1 (the stored threshold), one per (user, track), users with >= 2 of them.
    pos: dict[str, set] = {}
    for u, i, p in zip(us, its, ps):
        if p > 1:
            pos.setdefault(u, set()).add(i)
    expected_users = sorted(u for u, s in pos.items() if len(s) >= 2)
    assert report["rows"] == len(expected_users) and report["inputs"]["n_rows"] == len(expected_users)
    assert report["inputs"]["threshold"] == 1.0 and report["inputs"]["min_user_items"] == 2
    assert report["inputs"]["columns"] == "input ids stored in the weight file (compared as strings)"
    assert report["zero_rate"] == 1.0 and report["dead_units"] == 3
    # The certified P3 row is reported by its raw (string) user id, one of the audited users.
    p3 = [c for c in report["certified"] if c["property"] == "P3"]
    assert len(p3) == 1 and p3[0]["certified"] == "exact" and p3[0]["user_id"] in expected_users
    md = (out / "report.md").read_text()
    assert md.startswith("# latentcheck audit") and "exact-zero latent rate (float32) | 1.0000" in md
    assert "Certified counterexamples" in md and p3[0]["user_id"] in md
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*tmp"))  # atomic writes leave no temporary file


def test_string_ids_never_match_by_their_codes(tmp_path):
    """Two files with the same number of distinct string item ids get the same integer codes; only the names tell them apart."""
    us, its, ps = _rows(prefix="t")
    enc = _relu_zero_encoder(sorted(set(its)), tmp_path / "enc.npz")
    other = _log(tmp_path / "other.csv", us, [s.replace("t", "song") for s in its], ps)
    with pytest.raises(SystemExit) as info:
        main(["audit", "--weights", str(enc), "--data", str(other), "--columns", "user_id,track_id,plays", *FAST])
    assert info.value.code == 2
    # An encoder with integer input ids is compared with string ids as strings: 3 of its 12 ids are names of the data.
    ints = Encoder.from_arrays([np.ones((2, 12))], [np.zeros(2)], ["tanh"])
    save_encoder(tmp_path / "ints.npz", ints, normalise="l2", rows="users", values="binary", input_ids=np.arange(12))
    data = _log(tmp_path / "mixed.csv", us, [str(int(s[1:]) % 3) if s < "t03" else s for s in its], ps)
    res = runner.invoke(app, ["audit", "--weights", str(tmp_path / "ints.npz"), "--data", str(data), "--columns", "user_id,track_id,plays",
                              "--threshold", "0", "--min-match", "0.2", "--min-user-items", "1", *FAST])
    assert res.exit_code == 0, res.output
    assert "the data match 3 of the encoder's 12 inputs (25.00%)" in res.output


def test_partial_match_is_said_on_the_console(tmp_path):
    us, its, ps = _rows()
    names = sorted(set(its)) + ["never-played-1", "never-played-2"]  # 2 of 14 inputs absent from the data
    enc = _relu_zero_encoder(names, tmp_path / "enc.npz")
    data = _log(tmp_path / "plays.tsv", us, its, ps, header="u\ti\tn", delim="\t")
    args = ["audit", "--weights", str(enc), "--data", str(data), "--columns", "u,i,n", *FAST]
    with pytest.raises(SystemExit) as info:  # 12/14 < the default --min-match 0.99: refused
        main(args)
    assert info.value.code == 2
    res = runner.invoke(app, args + ["--min-match", "0.8"])
    assert res.exit_code == 0, res.output
    assert "the data match 12 of the encoder's 14 inputs (85.71%)" in res.output
    assert "the other 2 inputs are 0 for every audited row" in res.output
    res = runner.invoke(app, args + ["--min-match", "0.8", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["inputs"]["matched_columns"] == 12
    assert "note: the data match 12" in res.stderr  # stdout stays JSON


def test_stored_input_names_round_trip(tmp_path):
    names = np.array(["b", "a", "zz", "é"])
    enc = Encoder.from_arrays([np.eye(4)], [np.zeros(4)], ["identity"])
    save_encoder(tmp_path / "e.npz", enc, normalise="l2", rows="users", values="binary", input_names=names)
    meta = read_input_meta(tmp_path / "e.npz")
    assert meta["input_names"].tolist() == names.tolist() and "input_ids" not in meta


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--columns", "user_id,nope"], "'nope' is not in the header"),
        (["--columns", "user_id,track_id", "--threshold", "1"], "--threshold needs a VALUE column"),
        (["--columns", "user_id,track_id,plays", "--threshold", "99"], "no rating is left"),
        (["--columns", "user_id,track_id,plays", "--min-user-items", "0"], "--min-user-items"),
        (["--columns", "user_id,track_id,plays", "--out", "FILE"], "--out"),
    ],
)
def test_audit_data_errors_are_one_line_exit_2(tmp_path, capsys, extra, message):
    us, its, ps = _rows()
    data = _log(tmp_path / "plays.csv", us, its, ps)
    enc = _relu_zero_encoder(sorted(set(its)), tmp_path / "enc.npz")
    (tmp_path / "FILE").write_text("x")
    extra = [str(tmp_path / "FILE") if e == "FILE" else e for e in extra]
    with pytest.raises(SystemExit) as info:
        main(["audit", "--weights", str(enc), "--data", str(data), *extra, *FAST])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and err.startswith("error:") and len(err.splitlines()) == 1 and message in err


def test_columns_without_data_is_an_error(tmp_path, capsys):
    enc = _relu_zero_encoder(["a", "b", "c"], tmp_path / "enc.npz")
    with pytest.raises(SystemExit) as info:
        main(["audit", "--weights", str(enc), "--columns", "0,1", *FAST])
    assert info.value.code == 2 and "--columns needs --data" in capsys.readouterr().err


def test_audit_names_the_model_file_and_the_tensors_read(tmp_path):
    """Regression (issue 17's end-to-end check): audit's report named the path only, not its SHA-256 or the tensors read."""
    import hashlib

    us, its, ps = _rows(seed=3)
    data = _log(tmp_path / "plays.csv", us, its, ps)
    enc = _relu_zero_encoder(sorted(set(its)), tmp_path / "enc.npz")
    args = ["audit", "--model", str(enc), "--data", str(data), "--columns", "user_id,track_id,plays", "--min-user-items", "2", *FAST]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)["encoder"]
    assert rec["provenance"]["sha256"] == hashlib.sha256(enc.read_bytes()).hexdigest()
    assert rec["provenance"]["tensors_used"][:2] == ["W0", "b0"] and rec["sizes"] == [12, 3]
    text = runner.invoke(app, args)
    assert text.exit_code == 0 and "tensors read" in text.output and "W0, b0" in text.output, text.output
