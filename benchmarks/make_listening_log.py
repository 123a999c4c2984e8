"""Write a synthetic listening log: a CSV no latentcheck code has seen, to show `latentcheck study` runs on it unchanged.

Usage::

    python benchmarks/make_listening_log.py OUT.csv [--users 2500] [--tracks 1500] [--mean-tracks 25] [--seed 0]

Then, for example::

    latentcheck study --data OUT.csv --columns user_id,track_id,plays --threshold 1 --split-seeds 1 --seeds 1 \\
        --activations tanh,sigmoid,relu --out /tmp/unseen

The log is drawn from a latent-factor model, seeded: user ``u`` has a taste
vector ``p_u`` and track ``i`` a vector ``q_i`` (Gaussian, dimension
``--rank``) and a Zipf popularity ``pi_i``. A user listens to ``n_u`` tracks
(log-normal around ``--mean-tracks``, at least 3) drawn without replacement
with probability proportional to ``pi_i exp(<p_u, q_i>)`` (Gumbel top-k), and
plays each ``1 + Poisson(exp(-1.4 + 0.9 <p_u, q_i>))`` times, so liked tracks
are played more. The file is what real exports look like, not what
MovieLens looks like: a header ``user_id,track_id,plays``, string ids (user
ids such as ``usr-03f2a9``; track ids such as ``Artist 12 - Song 345, live``
that contain commas and so are quoted), rows in random order, and about 2%
of the (user, track) pairs split over two rows (two days of plays). The
study's loader reads a pair as one positive when any of its rows has
``plays > --threshold`` (rows are not summed).

The CSV is written where the command line says and is not part of the repository.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np


def listening_log(n_users: int, n_tracks: int, *, mean_tracks: float = 25.0, rank: int = 8, seed: int = 0) -> list[tuple[str, str, int]]:
    """The rows (user_id, track_id, plays), deterministic by ``seed``."""
    if n_users < 10 or n_tracks < 10:
        raise SystemExit(f"error: --users and --tracks must be at least 10 (got {n_users}, {n_tracks})")
    rng = np.random.default_rng(seed)
    P = rng.normal(0.0, 1.0, (n_users, rank)) / np.sqrt(rank) * 1.5
    Q = rng.normal(0.0, 1.0, (n_tracks, rank))
    log_pop = -np.log(np.arange(1, n_tracks + 1, dtype=np.float64))[rng.permutation(n_tracks)]
    counts = np.clip(np.round(rng.lognormal(np.log(mean_tracks), 0.6, n_users)), 3, n_tracks // 2).astype(np.int64)
    user_ids = [f"usr-{h:06x}" for h in rng.choice(16**6, size=n_users, replace=False)]
    track_ids = [f"Artist {rng.integers(1, n_tracks // 4 + 2)} - Song {i}" + (", live" if rng.random() < 0.2 else "") for i in range(n_tracks)]
    rows: list[tuple[str, str, int]] = []
    for u in range(n_users):
        affinity = Q @ P[u]
        chosen = np.argpartition(-(log_pop + affinity + rng.gumbel(size=n_tracks)), counts[u] - 1)[: counts[u]]
        plays = 1 + rng.poisson(np.exp(-1.4 + 0.9 * affinity[chosen]))
        for i, n in zip(chosen.tolist(), plays.tolist()):
            if n >= 2 and rng.random() < 0.02:  # two days of plays for this pair
                first = int(rng.integers(1, n))
                rows += [(user_ids[u], track_ids[i], first), (user_ids[u], track_ids[i], n - first)]
            else:
                rows.append((user_ids[u], track_ids[i], n))
    order = rng.permutation(len(rows))
    return [rows[k] for k in order]


def write_log(path: str, rows: list[tuple[str, str, int]]) -> None:
    """The CSV with a header; fields holding a comma are quoted. Written to a temporary file, then moved into place."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(["user_id", "track_id", "plays"])
        w.writerows(rows)
    os.replace(tmp, path)


def main(argv: "list[str] | None" = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="CSV file to write")
    parser.add_argument("--users", type=int, default=2500)
    parser.add_argument("--tracks", type=int, default=1500)
    parser.add_argument("--mean-tracks", type=float, default=25.0)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise SystemExit(f"error: folder {folder!r} does not exist; create it or write the log elsewhere")
    rows = listening_log(args.users, args.tracks, mean_tracks=args.mean_tracks, rank=args.rank, seed=args.seed)
    write_log(args.out, rows)
    users = len({r[0] for r in rows})
    tracks = len({r[1] for r in rows})
    print(f"wrote {args.out}: {len(rows)} rows, {users} users, {tracks} tracks, "
          f"{sum(r[2] > 1 for r in rows) / len(rows):.1%} of rows with plays > 1 (seed {args.seed})", file=sys.stderr)


if __name__ == "__main__":
    main()
