"""The study's named real data sets (``latentcheck study --datasets ml-100k,lastfm``), found under a data root.

Neither data set is redistributed with latentcheck: each is looked for under
``--data-root`` (default ``../shared/data``, relative to the working
directory), and a missing one is a one-line error naming the path and the fix
before any training.

=========  ===========================================  ==============================================
name       file under the root                          how it is read
=========  ===========================================  ==============================================
ml-100k    ``ml-100k/`` (``u.data``, auto-detected)     rating > 3.5 is a positive; every item kept
lastfm     ``lastfm-2k/user_artists.dat`` (HetRec 2011)  ``--columns userID,artistID,weight``, every
                                                        played pair a positive (threshold 0); artists
                                                        with at least 10 listeners (1,530 of 17,632,
                                                        68% of the pairs)
=========  ===========================================  ==============================================

The Last.fm artist filter is a stated choice of the default study: it keeps
the catalogue near ML-100K's size so that both studies fit the 60-minute
budget on 2 cores (the softmax over all 17,632 artists costs about 10x more per
step); ``--data .../user_artists.dat --columns userID,artistID,weight
--threshold 0`` runs the full catalogue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from ...theorems.errors import InvalidArgument

__all__ = ["DataSet", "DATASETS", "DEFAULT_DATASETS", "DEFAULT_DATA_ROOT", "parse_datasets", "resolve_dataset"]

DEFAULT_DATA_ROOT = os.path.join("..", "shared", "data")


@dataclass(frozen=True)
class DataSet:
    """A named data set: where it lies under the root and how the study reads it."""

    name: str
    path: str  # relative to the data root
    columns: Optional[str] = None
    threshold: Optional[float] = None
    min_item_users: int = 1
    description: str = ""


DATASETS: dict[str, DataSet] = {
    "ml-100k": DataSet("ml-100k", "ml-100k", description="MovieLens-100K (GroupLens), ratings > 3.5 as positives"),
    "lastfm": DataSet("lastfm", os.path.join("lastfm-2k", "user_artists.dat"), columns="userID,artistID,weight", threshold=0.0,
                      min_item_users=10, description="Last.fm HetRec 2011 play counts, played pairs as positives, artists with >= 10 listeners"),
}
#: ``--datasets default``.
DEFAULT_DATASETS: tuple[str, ...] = ("ml-100k", "lastfm")


def parse_datasets(text: str) -> tuple[str, ...]:
    """``"default"`` or comma-separated names of :data:`DATASETS`; anything else is refused (exit 2)."""
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    if names == ("default",):
        return DEFAULT_DATASETS
    bad = [n for n in names if n not in DATASETS]
    if not names or bad:
        raise InvalidArgument(f"--datasets {text!r}: unknown {', '.join(bad) or 'empty list'}; give default or a comma-separated "
                              f"subset of {', '.join(DATASETS)}")
    if len(set(names)) != len(names):
        raise InvalidArgument(f"--datasets {text!r} names a data set twice")
    return names


def resolve_dataset(name: str, root: Optional[str] = None) -> tuple[DataSet, str]:
    """The data set and its path under ``root`` (default ``../shared/data``); a missing file is refused (exit 2)."""
    ds = DATASETS[name]
    base = root if root is not None else DEFAULT_DATA_ROOT
    path = os.path.join(base, ds.path)
    if not os.path.exists(path):
        raise InvalidArgument(f"data set {name} not found at {path} (from {os.getcwd()}); give --data-root DIR holding "
                              f"{ds.path}, or run from a folder where {os.path.join(DEFAULT_DATA_ROOT, ds.path)} exists")
    return ds, path
