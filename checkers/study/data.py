"""Ratings data: MovieLens loaders, a synthetic set, sparse rows and the splits.

Everything here is numpy on the host. Rows are kept sparse in :class:`CSR`
(index arrays built here; scipy is not a dependency) and densified per batch
on the device by the trainers.

Two protocols:

* :func:`liang_split` - implicit feedback with strong generalisation, as in
  Liang et al. 2018 ("Variational Autoencoders for Collaborative Filtering"):
  ratings above a threshold become 1s, users with at least 5 items stay,
  held-out validation and test users are disjoint from the training users,
  and each held-out user's items are split 80/20 into fold-in and held-out
  items. The order of random draws follows the reference code (one
  ``RandomState(seed)`` permutation of the sorted user ids, then a fresh
  ``RandomState(seed)`` per split drawing ``int(0.2 * n)`` held-out items per
  user in sorted user order).
* :func:`rating_split` - explicit ratings split at random into train /
  validation / test ratings (the I-AutoRec protocol: 90% / 10%, with part of
  the 90% kept aside to select the epoch).

References:
    D. Liang, R. G. Krishnan, M. D. Hoffman, T. Jebara. Variational
    Autoencoders for Collaborative Filtering. WWW 2018.
    S. Sedhain, A. K. Menon, S. Sanner, L. Xie. AutoRec: Autoencoders Meet
    Collaborative Filtering. WWW 2015.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import numpy as np

from ...theorems.errors import DataError, InvalidArgument

__all__ = [
    "Ratings",
    "CSR",
    "ImplicitSplit",
    "RatingSplit",
    "load_ratings",
    "load_interactions",
    "parse_columns",
    "synthetic_ratings",
    "load_or_synthetic",
    "csr_from_coo",
    "liang_split",
    "rating_split",
    "FORMATS",
]

#: file name -> (format name, description) searched in this order inside a directory.
FORMATS = {
    "u.data": ("tab", "MovieLens-100K u.data: user<TAB>item<TAB>rating<TAB>timestamp"),
    "ratings.dat": ("colons", "MovieLens-1M/10M ratings.dat: user::item::rating::timestamp"),
    "ratings.csv": ("csv", "MovieLens-latest/20M ratings.csv: userId,movieId,rating,timestamp with a header"),
}


# --------------------------------------------------------------------------- ratings


@dataclass(frozen=True, eq=False)
class Ratings:
    """A table of (user, item, rating) triples with their provenance.

    Attributes:
        users, items: raw integer ids, ``int64``, one per rating.
        ratings: the ratings, ``float32``.
        source: the file read, or ``"synthetic(...)"``.
        format: ``"tab"``, ``"colons"``, ``"csv"``, ``"synthetic"``,
            ``"delimited"`` or ``"parquet"`` (the last two: :func:`load_interactions`).
        has_value: False when the file gave no VALUE column (every row is a
            positive; ``ratings`` is all 1s and no threshold applies).
        columns: the USER, ITEM[, VALUE] columns read (generic files).
        user_names, item_names: for a generic file whose ids are not all
            integers, the sorted distinct id strings: ``users`` (``items``)
            holds codes into them; None where the ids are integers as read.
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    source: str
    format: str
    has_value: bool = True
    columns: tuple = ()
    user_names: Optional[np.ndarray] = None
    item_names: Optional[np.ndarray] = None

    @property
    def synthetic(self) -> bool:
        return self.format == "synthetic"

    def __len__(self) -> int:
        return int(self.users.shape[0])

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "synthetic": self.synthetic,
            "ratings": len(self),
            "users": int(np.unique(self.users).size),
            "items": int(np.unique(self.items).size),
            "has_value": self.has_value,
        } | ({"columns": list(self.columns)} if self.columns else {}) | (
            {"string_ids": [k for k, v in (("user", self.user_names), ("item", self.item_names)) if v is not None]}
            if self.user_names is not None or self.item_names is not None else {})


def _resolve(path: "str | os.PathLike[str]") -> tuple[str, str]:
    """The ratings file inside ``path`` and its format."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DataError(f"data path {p!r} does not exist; pass a MovieLens directory (holding u.data, ratings.dat or ratings.csv) or one of those files")
    if os.path.isdir(p):
        for name, (fmt, _) in FORMATS.items():
            candidate = os.path.join(p, name)
            if os.path.isfile(candidate):
                return candidate, fmt
        raise DataError(f"directory {p!r} holds none of {', '.join(FORMATS)}; pass a MovieLens directory or the ratings file itself")
    base = os.path.basename(p).lower()
    if base in FORMATS:
        return p, FORMATS[base][0]
    if base.endswith(".dat"):
        return p, "colons"
    if base.endswith(".csv"):
        return p, "csv"
    # Sniff the first line.
    with open(p, "rb") as fh:
        first = fh.readline().decode("utf-8", "replace")
    if "::" in first:
        return p, "colons"
    if "\t" in first:
        return p, "tab"
    if "," in first:
        return p, "csv"
    raise DataError(f"cannot tell the format of {p!r} (first line {first.strip()[:60]!r}); use u.data (tab), ratings.dat (::) or ratings.csv (comma, with header)")


def load_ratings(path: "str | os.PathLike[str]") -> Ratings:
    """Read MovieLens ratings from a directory or a file.

    Formats: ml-100k ``u.data`` (tab-separated), ml-1m / ml-10m
    ``ratings.dat`` (``::``-separated), ml-latest / ml-20m ``ratings.csv``
    (comma-separated with a header). Columns: user, item, rating[, timestamp].

    Raises:
        DataError: the path is missing, the format is unknown, a line does not
            parse, or the file holds no rating.
    """
    file, fmt = _resolve(path)
    try:
        with open(file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(f"cannot read {file!r} ({exc.strerror}); check the path and its permissions") from None
    text = raw.decode("utf-8", "replace")
    skip = 0
    if fmt == "colons":
        text = text.replace("::", "\t")
        delim = "\t"
    elif fmt == "tab":
        delim = "\t"
    else:
        delim = ","
        first = text.split("\n", 1)[0]
        head = first.split(",")[0].strip()
        if head and not _is_number(head):
            skip = 1
    what = dict((f, d) for f, d in FORMATS.values())[fmt]
    if not text.strip():
        raise DataError(f"{file!r} is empty; expected {what}")
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=delim, skiprows=skip, ndmin=2, dtype=np.float64, comments=None)
    except ValueError as exc:
        msg = str(exc).splitlines()[0][:120]
        raise DataError(f"{file!r} is not in the expected format ({what}): {msg}; check the file or pass the right one") from None
    if table.shape[0] == 0:
        raise DataError(f"{file!r} holds no rating; expected {what}")
    if table.shape[1] < 3:
        raise DataError(f"{file!r} has {table.shape[1]} column(s) per line but needs at least user, item, rating; expected {what}")
    users, items, ratings = table[:, 0], table[:, 1], table[:, 2]
    if not (np.all(np.isfinite(table[:, :3])) and np.all(users == np.round(users)) and np.all(items == np.round(items))):
        raise DataError(f"{file!r} has non-integer user or item ids; expected {what}")
    return Ratings(users.astype(np.int64), items.astype(np.int64), ratings.astype(np.float32), file, fmt)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def synthetic_ratings(
    n_users: int = 1000,
    n_items: int = 400,
    *,
    rank: int = 8,
    mean_items: float = 40.0,
    popularity_skew: float = 1.0,
    seed: int = 0,
) -> Ratings:
    """A small low-rank, popularity-skewed ratings set (deterministic by ``seed``).

    Each user ``u`` has a taste vector ``p_u`` and each item ``i`` a vector
    ``q_i`` (Gaussian, dimension ``rank``) and a popularity ``log pi_i``
    (Zipf with exponent ``popularity_skew``). A user rates ``n_u`` items
    (log-normal around ``mean_items``, at least 5) drawn without replacement
    with probability proportional to ``pi_i * exp(<p_u, q_i>)`` (Gumbel top-k),
    and rates them ``clip(round(3.3 + 1.1 <p_u, q_i> + noise), 1, 5)``: items
    a user is drawn to get higher ratings.
    """
    if n_users < 10 or n_items < 10:
        raise InvalidArgument(f"synthetic data needs n_users>=10 and n_items>=10, got {n_users}, {n_items}")
    rng = np.random.default_rng(seed)
    P = rng.normal(0.0, 1.0, (n_users, rank)) / np.sqrt(rank) * 1.5
    Q = rng.normal(0.0, 1.0, (n_items, rank))
    log_pop = -popularity_skew * np.log(np.arange(1, n_items + 1, dtype=np.float64))
    log_pop = log_pop[rng.permutation(n_items)]
    counts = np.clip(np.round(rng.lognormal(np.log(mean_items), 0.6, n_users)), 5, n_items // 2).astype(np.int64)
    us, its, rs = [], [], []
    for u in range(n_users):
        affinity = Q @ P[u]
        logits = log_pop + affinity + rng.gumbel(size=n_items)
        chosen = np.argpartition(-logits, counts[u] - 1)[: counts[u]]
        chosen.sort()
        r = np.clip(np.round(3.3 + 1.1 * affinity[chosen] + rng.normal(0, 0.5, chosen.size)), 1, 5)
        us.append(np.full(chosen.size, u + 1, dtype=np.int64))
        its.append(chosen + 1)
        rs.append(r)
    source = f"synthetic(n_users={n_users}, n_items={n_items}, rank={rank}, seed={seed})"
    return Ratings(np.concatenate(us), np.concatenate(its).astype(np.int64), np.concatenate(rs).astype(np.float32), source, "synthetic")


def load_or_synthetic(path: "str | os.PathLike[str] | None", *, seed: int = 0, columns: "str | None" = None) -> Ratings:
    """``load_ratings(path)`` (``load_interactions(path, columns)`` when ``columns`` is given), or the default synthetic set when ``path`` is None."""
    if path is None or os.fspath(path) == "":
        if columns:
            raise InvalidArgument("--columns needs --data FILE; without --data the synthetic set is used")
        return synthetic_ratings(seed=seed)
    if columns:
        return load_interactions(path, columns)
    return load_ratings(path)


# --------------------------------------------------------------------------- any interaction file

#: Delimiters csv.Sniffer may pick for a generic interaction file.
SNIFF_DELIMITERS = ",;\t| "
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def parse_columns(spec: str) -> tuple["str | int", ...]:
    """``"USER,ITEM[,VALUE]"`` -> names or 0-based indices (2 or 3 entries)."""
    parts = [p.strip() for p in str(spec).split(",")]
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidArgument(f"--columns {spec!r} must be USER,ITEM or USER,ITEM,VALUE (header names or 0-based indices), e.g. userId,movieId,rating or 0,1,2")
    out: list["str | int"] = [int(p) if p.isdigit() else p for p in parts]
    if len(set(out)) != len(out):
        raise InvalidArgument(f"--columns {spec!r} names a column twice; give distinct USER, ITEM and VALUE columns")
    return tuple(out)


def _column_index(col: "str | int", header: "list[str] | None", width: int, file: str) -> int:
    if isinstance(col, int):
        if col >= width:
            raise DataError(f"column index {col} is out of range: {file!r} has {width} column(s) (0-based indices 0..{width - 1}); fix --columns")
        return col
    if header is None:
        raise DataError(f"column {col!r} named but {file!r} has no header row; pass 0-based indices to --columns instead")
    if col not in header:
        raise DataError(f"column {col!r} is not in the header of {file!r} (columns: {', '.join(header)[:200]}); fix --columns")
    return header.index(col)


def _sniff(sample: str, file: str, named: bool) -> tuple[str, bool]:
    """(delimiter, has header) of a text sample, by :class:`csv.Sniffer`."""
    lines = [ln for ln in sample.splitlines() if ln.strip()][:200]
    if not lines:
        raise DataError(f"{file!r} is empty; expected delimited interactions USER,ITEM[,VALUE]")
    text = "\n".join(lines)
    try:
        dialect = csv.Sniffer().sniff(text, delimiters=SNIFF_DELIMITERS)
        delim = dialect.delimiter
    except csv.Error:
        if len(lines) == 1 or all(len(ln.split()) == 1 for ln in lines):
            raise DataError(f"cannot tell the delimiter of {file!r} (first line {lines[0][:60]!r}); use comma, semicolon, tab, | or space between columns") from None
        delim = " "
    first = next(csv.reader([lines[0]], delimiter=delim))
    if named:  # column names given: the first row is the header, unless it is all numbers
        return delim, not all(_is_number(f) for f in first)
    try:
        header = csv.Sniffer().has_header(text) if len(lines) > 1 else False
    except csv.Error:
        header = False
    if not header and len(lines) > 1:  # all-text first row above a numeric second row: a header the sniffer missed
        second = next(csv.reader([lines[1]], delimiter=delim))
        header = not any(_is_number(f) for f in first) and any(_is_number(f) for f in second)
    return delim, header


def _ids(raw: np.ndarray, what: str, spec: "str | int", file: str) -> tuple[np.ndarray, "np.ndarray | None"]:
    """Integer ids as they are (names None), or codes 0..k-1 of the sorted distinct strings (names: those strings)."""
    text = np.char.strip(np.asarray(raw).astype(str))
    empty = np.nonzero(np.char.str_len(text) == 0)[0]
    if empty.size:
        raise DataError(f"the {what} column {spec!r} of {file!r} is empty in data row {int(empty[0]) + 1}; every row needs a {what} id")
    try:
        as_int = text.astype(np.int64)
        if np.array_equal(as_int.astype(str), text):
            return as_int, None
    except (ValueError, OverflowError):
        pass
    names, codes = np.unique(text, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), names


def _to_ratings(cols: list[np.ndarray], spec: tuple, file: str, fmt: str) -> Ratings:
    if cols[0].size == 0:
        raise DataError(f"{file!r} holds no interaction row; expected USER,ITEM[,VALUE] rows")
    users, user_names = _ids(cols[0], "USER", spec[0], file)
    items, item_names = _ids(cols[1], "ITEM", spec[1], file)
    if len(cols) == 3:
        try:
            vals = np.asarray(cols[2]).astype(np.float64)
        except ValueError:
            raise DataError(f"the VALUE column {spec[2]!r} of {file!r} is not numeric; pick a numeric column or give USER,ITEM only") from None
        if not np.all(np.isfinite(vals)):
            raise DataError(f"the VALUE column {spec[2]!r} of {file!r} holds NaN or infinite values; clean the file or give USER,ITEM only")
    else:
        vals = np.ones(users.size)
    coded = user_names is not None or item_names is not None
    source = file + (" (string ids mapped to integer codes in sorted order)" if coded else "")
    return Ratings(users, items, vals.astype(np.float32), source, fmt, has_value=len(cols) == 3, columns=tuple(str(c) for c in spec),
                   user_names=user_names, item_names=item_names)


def _read_delimited(file: str, spec: tuple) -> list[np.ndarray]:
    try:
        # utf-8-sig: a byte-order mark (spreadsheet exports) is not part of the first column's name
        with open(file, "r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            sample = fh.read(1 << 16)
            delim, has_header = _sniff(sample.rsplit("\n", 1)[0] if len(sample) == 1 << 16 else sample, file, any(isinstance(c, str) for c in spec))
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delim, skipinitialspace=True)  # "a, \"b, c\", 3": the quotes still count
            return _read_columns((r for r in reader if r), spec, has_header, delim, file)
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"cannot read {file!r} ({exc.strerror}); check the path and its permissions") from None


def _read_columns(rows: Iterator[list[str]], spec: tuple, has_header: bool, delim: str, file: str) -> list[np.ndarray]:
    """The USER, ITEM[, VALUE] fields of every row (only those fields are kept: large files stay small in memory)."""
    header = [h.strip() for h in next(rows, [])] if has_header else None
    first = next(rows, None)
    width = len(header) if header is not None else (len(first) if first else 0)
    idx = [_column_index(c, header, width, file) for c in spec]
    top = max(idx)
    out: list[list[str]] = [[] for _ in idx]
    for n, r in enumerate(itertools.chain([first] if first is not None else [], rows)):
        if len(r) <= top:
            raise DataError(f"line {n + 1 + (header is not None)} of {file!r} has {len(r)} field(s) but column {top} is needed (delimiter {delim!r}); fix the file or --columns")
        for lst, i in zip(out, idx):
            lst.append(r[i].strip())
    return [np.asarray(c, dtype=str) for c in out]


def _read_parquet(file: str, spec: tuple) -> list[np.ndarray]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"reading Parquet ({file!r}) needs pyarrow, the optional extra 'parquet': pip install 'latentcheck[parquet]' (or pip install pyarrow)") from None
    try:
        table = pq.read_table(file)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read {file!r} as Parquet ({str(exc).splitlines()[0][:120]}); check the file") from None
    names = list(table.column_names)
    idx = [_column_index(c, names, len(names), file) for c in spec]
    out = []
    for c, i in zip(spec, idx):
        if table.column(i).null_count:
            raise DataError(f"column {c!r} of {file!r} holds {table.column(i).null_count} null value(s); drop those rows or pick another column")
        col = table.column(i).to_numpy(zero_copy_only=False)
        out.append(col.astype(str) if col.dtype == object else col)
    return out


def load_interactions(path: "str | os.PathLike[str]", columns: "str | tuple") -> Ratings:
    """Read any delimited text or Parquet file of interactions.

    Args:
        path: a ``.parquet``/``.pq`` file (needs pyarrow) or delimited text whose
            delimiter (comma, semicolon, tab, ``|`` or space) and header row are
            sniffed with :class:`csv.Sniffer`.
        columns: ``"USER,ITEM[,VALUE]"``: header names or 0-based indices. Integer
            ids are kept; other ids become codes of their sorted distinct values.
            Without VALUE every row is a positive (``has_value=False``).

    Raises:
        DataError: missing file, unknown column, non-numeric VALUE, no rows, or Parquet without pyarrow.
    """
    spec = parse_columns(columns) if isinstance(columns, str) else tuple(columns)
    file = os.fspath(path)
    if not os.path.isfile(file):
        raise DataError(f"data file {file!r} does not exist (or is a directory); --columns needs a delimited text or Parquet file")
    if file.lower().endswith(PARQUET_SUFFIXES):
        return _to_ratings(_read_parquet(file, spec), spec, file, "parquet")
    return _to_ratings(_read_delimited(file, spec), spec, file, "delimited")


# --------------------------------------------------------------------------- CSR


@dataclass(frozen=True, eq=False)
class CSR:
    """Compressed sparse rows built with numpy only.

    Attributes:
        indptr: ``int64``, shape ``(n_rows + 1,)``.
        indices: column indices, ``int32``, sorted within each row.
        data: values, ``float32`` (1s for implicit feedback).
        shape: ``(n_rows, n_cols)``.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @property
    def n_rows(self) -> int:
        return int(self.shape[0])

    @property
    def n_cols(self) -> int:
        return int(self.shape[1])

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    def row_lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[a:b], self.data[a:b]

    def take_rows(self, rows: np.ndarray) -> "CSR":
        """The sub-matrix of the given rows (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.indptr[rows + 1] - self.indptr[rows]
        indptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = _gather_positions(self.indptr[rows], lengths)
        return CSR(indptr, self.indices[pos], self.data[pos], (int(rows.size), self.n_cols))

    def batch_coo(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local row, column, value) triples of the given rows, for device densification."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.indptr[rows + 1] - self.indptr[rows]
        pos = _gather_positions(self.indptr[rows], lengths)
        local = np.repeat(np.arange(rows.size, dtype=np.int32), lengths)
        return local, self.indices[pos], self.data[pos]

    def to_dense(self, dtype: Any = np.float32) -> np.ndarray:
        """Dense matrix (small data and tests only)."""
        out = np.zeros(self.shape, dtype=dtype)
        rows = np.repeat(np.arange(self.n_rows), self.row_lengths())
        out[rows, self.indices] = self.data
        return out

    def transpose(self) -> "CSR":
        rows = np.repeat(np.arange(self.n_rows, dtype=np.int64), self.row_lengths())
        return csr_from_coo(self.indices.astype(np.int64), rows, self.data, (self.n_cols, self.n_rows))

    def iter_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        for start in range(0, self.n_rows, batch_size):
            yield np.arange(start, min(start + batch_size, self.n_rows))


def _gather_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each (s, l), vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)


def csr_from_coo(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> CSR:
    """Build a :class:`CSR`; duplicate (row, col) pairs keep the last value."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    vals = np.asarray(vals, dtype=np.float32)
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    if rows.size:
        keep = np.ones(rows.size, dtype=bool)
        keep[:-1] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    counts = np.bincount(rows, minlength=shape[0]) if rows.size else np.zeros(shape[0], dtype=np.int64)
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return CSR(indptr, cols.astype(np.int32), vals, (int(shape[0]), int(shape[1])))


# --------------------------------------------------------------------------- implicit split


@dataclass(frozen=True, eq=False)
class ImplicitSplit:
    """Strong-generalisation split of implicit feedback (Liang et al. 2018).

    Attributes:
        train: training users' rows, ``(n_train, n_items)``.
        val_fold_in, val_holdout: validation users' 80% fold-in and 20% held-out rows.
        test_fold_in, test_holdout: the same for test users.
        item_ids: raw item id of each column.
        train_users, val_users, test_users: raw user ids of each row.
        meta: the protocol's parameters and counts (JSON-ready).
    """

    train: CSR
    val_fold_in: CSR
    val_holdout: CSR
    test_fold_in: CSR
    test_holdout: CSR
    item_ids: np.ndarray
    train_users: np.ndarray
    val_users: np.ndarray
    test_users: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return int(self.item_ids.size)

    def all_rows(self) -> CSR:
        """Every user's complete row (train, then validation, then test users)."""
        parts = [self.train, _add(self.val_fold_in, self.val_holdout), _add(self.test_fold_in, self.test_holdout)]
        return _vstack(parts)


def _add(a: CSR, b: CSR) -> CSR:
    ra = np.repeat(np.arange(a.n_rows), a.row_lengths())
    rb = np.repeat(np.arange(b.n_rows), b.row_lengths())
    return csr_from_coo(np.concatenate([ra, rb]), np.concatenate([a.indices, b.indices]), np.concatenate([a.data, b.data]), a.shape)


def _vstack(parts: list[CSR]) -> CSR:
    indptr = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for p in parts:
        indptr.append(p.indptr[1:] + offset)
        offset += p.nnz
    return CSR(
        np.concatenate(indptr),
        np.concatenate([p.indices for p in parts]),
        np.concatenate([p.data for p in parts]),
        (sum(p.n_rows for p in parts), parts[0].n_cols),
    )


def _heldout_count(n_users: int, heldout: "int | float") -> int:
    if isinstance(heldout, (int, np.integer)) and not isinstance(heldout, bool):
        if heldout < 1:
            raise InvalidArgument(f"heldout={heldout!r} must be a positive user count or a fraction in (0, 0.5)")
        return int(heldout)
    if not 0.0 < float(heldout) < 0.5:
        raise InvalidArgument(f"heldout={heldout!r} must be a fraction in (0, 0.5) or a positive user count")
    return max(1, min(int(round(float(heldout) * n_users)), 10_000))


def _implicit_pairs(ratings: Ratings, threshold: "float | None", min_user_items: int,
                    min_item_users: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, items) of the positives, one per (user, item) pair, and the users kept (sorted).

    A pair is a positive when any of its rows has ``VALUE > threshold`` (every
    row when ``threshold`` is None); duplicate rows of a pair count once (the
    first, in file order; values are not summed). Items with fewer than
    ``min_item_users`` positive users are dropped first (one pass, not a
    k-core), then users with fewer than ``min_user_items`` positives.
    """
    keep = ratings.ratings > threshold if threshold is not None else np.ones(len(ratings), dtype=bool)
    users, items = ratings.users[keep], ratings.items[keep]
    if users.size == 0:
        raise DataError(f"no rating above threshold={threshold} in {ratings.source}; lower --threshold or check the VALUE column")
    # One interaction per (user, item): keep the first occurrence.
    pair = np.unique(np.stack([users, items], 1), axis=0, return_index=True)[1]
    pair.sort()
    users, items = users[pair], items[pair]
    if min_item_users > 1:
        uniq_items, item_counts = np.unique(items, return_counts=True)
        popular = np.isin(items, uniq_items[item_counts >= min_item_users])
        users, items = users[popular], items[popular]
    uniq_users, counts = np.unique(users, return_counts=True)
    good = uniq_users[counts >= min_user_items]
    mask = np.isin(users, good)
    return users[mask], items[mask], good


def _heldout_rows(users: np.ndarray, items: np.ndarray, item_ids: np.ndarray, user_set: np.ndarray, test_prop: float,
                  seed: int) -> tuple[CSR, CSR, np.ndarray]:
    """Fold-in and held-out rows of ``user_set`` (users in sorted id order, as pandas groupby; items in file order within a user)."""
    m = np.isin(users, user_set) & np.isin(items, item_ids)
    hu, hc = users[m], np.searchsorted(item_ids, items[m])
    order = np.argsort(hu, kind="stable")
    hu, hc = hu[order], hc[order]
    order_users, starts, counts = np.unique(hu, return_index=True, return_counts=True)
    rng = np.random.RandomState(seed)
    held = np.zeros(hu.size, dtype=bool)
    for s0, n in zip(starts.tolist(), counts.tolist()):
        if n >= 5:
            held[s0 + rng.choice(n, size=int(test_prop * n), replace=False).astype(np.int64)] = True
    rows = np.repeat(np.arange(order_users.size), counts)
    shape = (order_users.size, int(item_ids.size))
    fold = csr_from_coo(rows[~held], hc[~held], np.ones(int((~held).sum())), shape)
    hold = csr_from_coo(rows[held], hc[held], np.ones(int(held.sum())), shape)
    return fold, hold, order_users


def _train_rows(users: np.ndarray, items: np.ndarray, item_ids: np.ndarray, tr_users: np.ndarray) -> CSR:
    """The training matrix, rows in ``tr_users`` order."""
    m = np.isin(users, tr_users) & np.isin(items, item_ids)
    tu, tc = users[m], np.searchsorted(item_ids, items[m])
    tr_order = np.argsort(tr_users, kind="stable")
    tr_rows = tr_order[np.searchsorted(tr_users[tr_order], tu)]
    return csr_from_coo(tr_rows, tc, np.ones(tu.size), (tr_users.size, int(item_ids.size)))


def liang_split(
    ratings: Ratings,
    *,
    threshold: "float | None" = 3.5,
    min_user_items: int = 5,
    heldout: "int | float" = 0.1,
    test_prop: float = 0.2,
    seed: int = 98765,
    min_item_users: int = 1,
) -> ImplicitSplit:
    """Implicit feedback, strong generalisation (Liang et al. 2018).

    Args:
        ratings: the raw ratings.
        threshold: ratings ``> threshold`` become 1s (3.5 on a 5-star scale);
            ``None`` keeps every row (files without a VALUE column). A (user,
            item) pair with several rows is one positive when any row passes.
        min_user_items: users with fewer kept items are dropped.
        min_item_users: items with fewer positive users are dropped before
            the user filter (1: keep every item, the Liang et al. protocol).
        heldout: validation users and as many test users: a fraction of the
            users (0.1 by default, capped at 10,000 as on ML-20M) or a count.
        test_prop: fraction of each held-out user's items to rank (0.2).
        seed: the split's seed (98765 as in the reference code).

    Raises:
        DataError: nothing is left after filtering, or too few users to split.
    """
    if not 0.0 < test_prop < 1.0:
        raise InvalidArgument(f"test_prop={test_prop!r} must lie in (0, 1), e.g. 0.2")
    if min_item_users < 1:
        raise InvalidArgument(f"min_item_users={min_item_users!r} must be at least 1 (1 keeps every item)")
    users, items, good = _implicit_pairs(ratings, threshold, min_user_items, min_item_users)
    n_users = int(good.size)
    n_held = _heldout_count(n_users, heldout)
    if n_users == 0:
        raise DataError(f"no user of {ratings.source} has at least {min_user_items} interactions kept (threshold {threshold}); lower --min-user-items or --threshold, or use more data")
    if n_users - 2 * n_held < 1 or n_held < 1:
        raise DataError(f"{n_users} users left after filtering cannot give {n_held} validation and {n_held} test users plus training users; use more data")
    shuffled = good[np.random.RandomState(seed).permutation(n_users)]
    tr_users = shuffled[: n_users - 2 * n_held]
    vd_users = shuffled[n_users - 2 * n_held : n_users - n_held]
    te_users = shuffled[n_users - n_held :]
    item_ids = np.unique(items[np.isin(users, tr_users)])
    train = _train_rows(users, items, item_ids, tr_users)
    vf, vh, vu = _heldout_rows(users, items, item_ids, vd_users, test_prop, seed)
    tf, th, tu_ids = _heldout_rows(users, items, item_ids, te_users, test_prop, seed)
    meta = {
        "protocol": "Liang et al. 2018, strong generalisation",
        "threshold": threshold,
        "min_user_items": min_user_items,
        "min_item_users": min_item_users,
        "heldout_users_each": n_held,
        "test_prop": test_prop,
        "split_seed": seed,
        "users_after_filter": n_users,
        "items": int(item_ids.size),
        "train_users": int(tr_users.size),
        "val_users": int(vu.size),
        "test_users": int(tu_ids.size),
        "train_interactions": train.nnz,
        "val_fold_in": vf.nnz,
        "val_holdout": vh.nnz,
        "test_fold_in": tf.nnz,
        "test_holdout": th.nnz,
        "source": ratings.source,
        "synthetic": ratings.synthetic,
    }
    return ImplicitSplit(train, vf, vh, tf, th, item_ids, tr_users, vu, tu_ids, meta)


# --------------------------------------------------------------------------- explicit split


@dataclass(frozen=True, eq=False)
class RatingSplit:
    """Explicit ratings split at random (I-AutoRec protocol), as item rows.

    ``train``, ``val`` and ``test`` are ``(n_items, n_users)`` matrices of
    ratings (I-AutoRec reconstructs item vectors); ``item_ids`` and
    ``user_ids`` give the raw ids of rows and columns.
    """

    train: CSR
    val: CSR
    test: CSR
    item_ids: np.ndarray
    user_ids: np.ndarray
    meta: dict = field(default_factory=dict)


def rating_split(ratings: Ratings, *, test_frac: float = 0.1, val_frac: float = 0.05, seed: int = 0) -> RatingSplit:
    """Random split of the ratings: ``test_frac`` test, ``val_frac`` validation, the rest train.

    Ratings of the test and validation sets whose user or item never occurs
    in training stay in the set (the model predicts them from what it has).
    """
    if not (0.0 < test_frac < 1.0 and 0.0 <= val_frac < 1.0 and test_frac + val_frac < 1.0):
        raise InvalidArgument(f"test_frac={test_frac!r}, val_frac={val_frac!r} must be fractions summing to less than 1")
    if len(ratings) == 0:
        raise DataError(f"{ratings.source} holds no rating")
    pair = np.unique(np.stack([ratings.users, ratings.items], 1), axis=0, return_index=True)[1]
    pair.sort()
    users, items, vals = ratings.users[pair], ratings.items[pair], ratings.ratings[pair]
    user_ids, ucol = np.unique(users, return_inverse=True)
    item_ids, irow = np.unique(items, return_inverse=True)
    n = users.size
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_frac * n))
    n_val = int(round(val_frac * n))
    te, va, tr = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]
    shape = (int(item_ids.size), int(user_ids.size))
    mk = lambda idx: csr_from_coo(irow[idx], ucol[idx], vals[idx], shape)  # noqa: E731
    meta = {
        "protocol": "random rating split (I-AutoRec)",
        "test_frac": test_frac,
        "val_frac": val_frac,
        "split_seed": seed,
        "ratings": int(n),
        "users": int(user_ids.size),
        "items": int(item_ids.size),
        "source": ratings.source,
        "synthetic": ratings.synthetic,
    }
    return RatingSplit(mk(tr), mk(va), mk(te), item_ids, user_ids, meta)
