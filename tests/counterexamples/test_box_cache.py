"""The leaf-box cache of the certificate check returns what a fresh computation returns, for any order of paths."""

from __future__ import annotations

import numpy as np
import pytest

from latentcheck.counterexamples.certificate import BoxCache, ExactNet, leaf_box
from latentcheck.theorems.pl import as_fmpq as Q


def _net(seed: int, sizes: list[int], act: str) -> ExactNet:
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((m, d)) for d, m in zip(sizes[:-1], sizes[1:])]
    bs = [rng.standard_normal(m) * 0.3 for m in sizes[1:]]
    relu = {"knots": ["0"], "values": ["0"], "slope_left": "0", "slope_right": "1", "offset": "0"}
    leaky = {"knots": ["0"], "values": ["0"], "slope_left": "1/100", "slope_right": "1", "offset": "0"}
    pl = relu if act == "relu" else leaky
    return ExactNet.build(Ws, bs, [pl] * (len(sizes) - 1))


def _paths(rng: np.random.Generator, net: ExactNet, sizes: list[int], count: int) -> list[dict]:
    """Random split paths (prefix-sharing, like a tree's leaves), some x clamps among them."""
    out: list[dict] = []
    for _ in range(count):
        base = dict(out[rng.integers(len(out))]) if out and rng.random() < 0.7 else {}
        for _ in range(rng.integers(1, 4)):
            if rng.random() < 0.2:
                i = int(rng.integers(sizes[0]))
                base[("x", i)] = (Q(0), None) if rng.random() < 0.5 else (None, Q(0))
            else:
                k = int(rng.integers(len(sizes) - 1))
                j = int(rng.integers(sizes[k + 1]))
                beta = Q(f"{int(rng.integers(-4, 5))}/4")
                base[("z", k, j)] = (beta, None) if rng.random() < 0.5 else (None, beta)
        out.append(base)
    return out


def _same(a, b) -> bool:
    return a.empty == b.empty and a.x == b.x and a.z == b.z and a.h == b.h


@pytest.mark.parametrize("seed,sizes,act", [(0, [4, 5, 3], "relu"), (1, [3, 6, 4, 2], "relu"), (2, [5, 4, 3], "leaky")])
def test_cached_boxes_equal_fresh_ones(seed, sizes, act):
    net = _net(seed, sizes, act)
    xlo, xhi = [Q(-1)] * sizes[0], [Q(1)] * sizes[0]
    rng = np.random.default_rng(seed + 10)
    paths = _paths(rng, net, sizes, 120)
    cache = BoxCache(net, xlo, xhi)
    for p in paths + paths[::-1]:  # the second pass is all hits
        assert _same(leaf_box(net, xlo, xhi, p, cache), leaf_box(net, xlo, xhi, p))
    assert cache.hits > 0
    kinds = {leaf_box(net, xlo, xhi, p).empty is None for p in paths}
    assert kinds == {True, False}, "the paths should give both empty and nonempty boxes"


def test_a_cache_keyed_without_the_layers_own_splits_would_be_caught(monkeypatch):
    """Planted bug: the cache keys forget the path entries; the comparison above then fails."""
    net = _net(0, [4, 5, 3], "relu")
    xlo, xhi = [Q(-1)] * 4, [Q(1)] * 4
    paths = [{}, {("z", 0, 1): (None, Q("-1/2"))}]
    cache = BoxCache(net, xlo, xhi)
    real = frozenset
    monkeypatch.setattr("latentcheck.counterexamples.certificate.frozenset", lambda items: real(), raising=False)
    got = [leaf_box(net, xlo, xhi, p, cache) for p in paths]
    assert not _same(got[1], leaf_box(net, xlo, xhi, paths[1]))


def test_a_cache_refuses_another_net_or_box():
    net, other = _net(0, [4, 5, 3], "relu"), _net(1, [4, 5, 3], "relu")
    xlo, xhi = [Q(-1)] * 4, [Q(1)] * 4
    cache = BoxCache(net, xlo, xhi)
    with pytest.raises(ValueError):
        leaf_box(other, xlo, xhi, {}, cache)
    with pytest.raises(ValueError):
        leaf_box(net, [Q(0)] * 4, xhi, {}, cache)


def test_an_entry_for_no_layer_bounds_nothing():
    """A z entry whose layer does not exist (a forged split) changes no box, as in the loop before the cache."""
    net = _net(0, [4, 5, 3], "relu")
    xlo, xhi = [Q(-1)] * 4, [Q(1)] * 4
    p = {("z", 0, 1): (None, Q("1/2"))}
    for k in (2, 7, -1, -3):
        assert _same(leaf_box(net, xlo, xhi, p | {("z", k, 0): (Q(5), None)}), leaf_box(net, xlo, xhi, p))


def test_a_small_cache_bound_still_gives_fresh_boxes(monkeypatch):
    """With room for 3 entries per table the cache starts again often; the boxes stay equal to fresh ones."""
    monkeypatch.setattr("latentcheck.counterexamples.certificate.BOX_CACHE_ENTRIES", 3)
    net = _net(1, [3, 6, 4, 2], "relu")
    xlo, xhi = [Q(-1)] * 3, [Q(1)] * 3
    paths = _paths(np.random.default_rng(4), net, [3, 6, 4, 2], 80)
    cache = BoxCache(net, xlo, xhi)
    for p in paths + paths[::-1]:
        assert _same(leaf_box(net, xlo, xhi, p, cache), leaf_box(net, xlo, xhi, p))
    assert len(cache.layers) <= 3 and len(cache.products) <= 3
