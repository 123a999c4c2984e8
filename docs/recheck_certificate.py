#!/usr/bin/env python3
"""Re-check a ``latentcheck verify`` certificate with rationals only.

Usage::

    python docs/recheck_certificate.py OUT/certificate.json [--encoder OUT/encoder.npz]

Standalone: Python's ``fractions`` for all arithmetic, NumPy only to read the
``.npz`` weights (``allow_pickle=False``; every float64 weight is taken at its
exact binary value). No solver, no latentcheck import. Prints ``OK ...`` and
exits 0 when every step checks, else prints ``REJECTED: reason`` and exits 1.

What it checks (docs/verify.md): the weights file's SHA-256; that the
piecewise-linear description of each activation matches its catalog name
(relu, leaky_relu, relu6, hard_tanh, hard_sigmoid, identity; other
expressions are taken from the certificate and reported); the argument that
the trees cover every nonzero input of the domain; each tree's derived bounds
and leaves, recomputing every interval bound in exact rationals and checking
every relaxation line against the activation at its knots.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from fractions import Fraction as Q

import numpy as np

CATALOG = {  # name -> (knots, values, slope left, slope right, offset)
    "relu": ([0], [0], 0, 1, 0),
    "leaky_relu": ([0], [0], Q(1, 100), 1, 0),
    "relu6": ([0, 6], [0, 6], 0, 0, 0),
    "hard_tanh": ([-1, 1], [-1, 1], 0, 0, 0),
    "hard_sigmoid": ([-3, 3], [0, 1], 0, 0, 0),
    "identity": ([], [], 1, 1, 0),
}


class Rejected(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Rejected(why)


# ---------------------------------------------------------------- activation
class PL:
    def __init__(self, d):
        self.k = [Q(v) for v in d["knots"]]
        self.v = [Q(v) for v in d["values"]]
        self.sl, self.sr, self.c = Q(d["slope_left"]), Q(d["slope_right"]), Q(d.get("offset", "0"))
        need(len(self.k) == len(self.v) and self.k == sorted(set(self.k)), "knots must increase")
        if not self.k:
            need(self.sl == self.sr, "an affine activation has one slope")

    def same_as(self, spec):
        knots, values, sl, sr, off = spec
        return (self.k == [Q(v) for v in knots] and self.v == [Q(v) for v in values] and self.sl == Q(sl)
                and (self.sr == Q(sr)) and (self.c == Q(off) or bool(self.k)))

    def __call__(self, t):
        if not self.k:
            return self.sl * t + self.c
        if t <= self.k[0]:
            return self.v[0] + self.sl * (t - self.k[0])
        if t >= self.k[-1]:
            return self.v[-1] + self.sr * (t - self.k[-1])
        i = max(i for i in range(len(self.k)) if self.k[i] <= t)
        return self.v[i] + (self.v[i + 1] - self.v[i]) * (t - self.k[i]) / (self.k[i + 1] - self.k[i])

    def test_points(self, lo, hi):
        pts = [p for p in self.k if (lo is None or p > lo) and (hi is None or p < hi)]
        pts += [p for p in (lo, hi) if p is not None]
        return pts or [Q(0)]

    def valid(self, a, c, sense, lo, hi):
        """s(t) >= a t + c ('ge') or <= ('le') on [lo, hi]: a piecewise-linear gap is extreme at knots or ends."""
        sg = 1 if sense == "ge" else -1
        if any(sg * (self(p) - a * p - c) < 0 for p in self.test_points(lo, hi)):
            return False
        if lo is None and sg * (self.sl - a) > 0:
            return False
        if hi is None and sg * (self.sr - a) < 0:
            return False
        return True

    def span(self, lo, hi):
        vals = [self(p) for p in self.test_points(lo, hi)]
        mn, mx = min(vals), max(vals)
        if lo is None and self.sl > 0:
            mn = None
        if lo is None and self.sl < 0:
            mx = None
        if hi is None and self.sr > 0:
            mx = None
        if hi is None and self.sr < 0:
            mn = None
        return mn, mx

    def homogeneous(self):
        return (not self.k and self.c == 0) or (self.k == [0] and self.v == [0])


# ---------------------------------------------------------------- bounds
def meet(a, b, lower):
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if lower else min(a, b)


def affine_bounds(W, b, lo, hi):
    zl, zu = [], []
    for row, bi in zip(W, b):
        l = u = bi
        for w, a, c in zip(row, lo, hi):
            if w == 0:
                continue
            lw, uw = (a, c) if w > 0 else (c, a)  # w*x is smallest at lw
            l = None if (l is None or lw is None) else l + w * lw
            u = None if (u is None or uw is None) else u + w * uw
        zl.append(l)
        zu.append(u)
    return zl, zu


def box_of(net, xlo, xhi, clamps):
    """Exact bounds of x, z_k, h_k in a leaf; None when the leaf is empty."""
    W, b, act = net
    xlo = [meet(v, clamps.get(("x", i), (None, None))[0], True) for i, v in enumerate(xlo)]
    xhi = [meet(v, clamps.get(("x", i), (None, None))[1], False) for i, v in enumerate(xhi)]
    if any(a is not None and c is not None and a > c for a, c in zip(xlo, xhi)):
        return None
    box = {"x": (xlo, xhi), "z": [], "h": []}
    lo, hi = xlo, xhi
    for k in range(len(W)):
        zl, zu = affine_bounds(W[k], b[k], lo, hi)
        for j in range(len(zl)):
            cl, cu = clamps.get(("z", k, j), (None, None))
            zl[j], zu[j] = meet(zl[j], cl, True), meet(zu[j], cu, False)
            if zl[j] is not None and zu[j] is not None and zl[j] > zu[j]:
                return None
        box["z"].append((zl, zu))
        spans = [act[k].span(a, c) for a, c in zip(zl, zu)]
        lo, hi = [s[0] for s in spans], [s[1] for s in spans]
        if k == len(W) - 1:
            if any((a is not None and a > 0) or (c is not None and c < 0) for a, c in zip(lo, hi)):
                return None
            lo, hi = [Q(0)] * len(lo), [Q(0)] * len(hi)
        box["h"].append((lo, hi))
    return box


# ---------------------------------------------------------------- linear combinations
def combine(net, box, rows, allow_sum):
    """Sum of multiplier * row: returns {variable: coefficient}, d with sum <= d for every feasible point."""
    W, b, act = net
    r, d = {}, Q(0)

    def add(var, val):
        r[var] = r.get(var, Q(0)) + val

    for row in rows:
        if row[0] == "aff":
            k, j, mu = int(row[1]), int(row[2]), Q(row[3])
            add(("z", k, j), mu)
            for i, w in enumerate(W[k][j]):
                if w != 0:
                    add(("x", i) if k == 0 else ("h", k - 1, i), -mu * w)
            d += mu * b[k][j]
        elif row[0] == "hull":
            k, j, a, c, sense, y = int(row[1]), int(row[2]), Q(row[3]), Q(row[4]), row[5], Q(row[6])
            need(y >= 0, f"negative multiplier on a hull row of unit ({k},{j})")
            zl, zu = box["z"][k][0][j], box["z"][k][1][j]
            need(act[k].valid(a, c, sense, zl, zu), f"hull row of unit ({k},{j}) is not valid on [{zl}, {zu}]")
            sg = 1 if sense == "le" else -1
            add(("h", k, j), sg * y)
            add(("z", k, j), -sg * y * a)
            d += sg * y * c
        elif row[0] == "sum":
            need(allow_sum, "the sum row is valid on the binary domain only")
            y = Q(row[1])
            need(y >= 0, "negative multiplier on the sum row")
            for i in range(len(box["x"][0])):
                add(("x", i), -y)
            d -= y
        else:
            raise Rejected(f"unknown row {row[0]!r}")
    return r, d


def bounds_of(box, var):
    if var[0] == "x":
        return box["x"][0][var[1]], box["x"][1][var[1]]
    lo, hi = box[var[0]][var[1]]
    return lo[var[2]], hi[var[2]]


def min_over_box(box, r, skip=None):
    total = Q(0)
    for var, coef in r.items():
        if coef == 0 or var == skip:
            continue
        lo, hi = bounds_of(box, var)
        end = lo if coef > 0 else hi
        if end is None:
            return None
        total += coef * end
    return total


# ---------------------------------------------------------------- the certificate
def domain_box(dom, n):
    kind = dom["kind"]
    if kind == "box":
        return [Q(dom["lo"])] * n, [Q(dom["hi"])] * n
    if kind == "binary":
        return [Q(0)] * n, [Q(1)] * n
    if kind == "nonneg":
        return [Q(0)] * n, [None] * n
    need(kind == "reals", f"unknown domain {kind!r}")
    return [None] * n, [None] * n


def forward(net, x):
    W, b, act = net
    h = x
    for k in range(len(W)):
        h = [act[k](sum((w * v for w, v in zip(row, h)), Q(0)) + bi) for row, bi in zip(W[k], b[k])]
    return h


def cases(cert, net, n):
    dom, nz = cert["domain"], cert["nonzero"]
    lo, hi = domain_box(dom, n)
    has0 = all((a is None or a <= 0) and (c is None or c >= 0) for a, c in zip(lo, hi))
    kind = nz["kind"]
    if kind == "binary-sum":
        need(dom["kind"] == "binary", "binary-sum needs the binary domain")
        return [(lo, hi, True)]
    if kind == "zero-outside-domain":
        need(not has0, "0 is in the domain")
        return [(lo, hi, False)]
    if kind == "enc0-nonzero":
        need(not has0 or any(v != 0 for v in forward(net, [Q(0)] * n)), "enc(0) = 0")
        return [(lo, hi, False)]
    need(kind == "cone", f"unknown nonzero argument {kind!r}")
    W, b, act = net
    need(has0, "the cone argument needs 0 in the domain")
    need(all(v == 0 for bk in b for v in bk), "the cone argument needs zero biases")
    need(all(a.homogeneous() for a in act), "the cone argument needs positively homogeneous activations")
    want = {(i, 1) for i in range(n) if hi[i] is None or hi[i] > 0} | {(i, -1) for i in range(n) if lo[i] is None or lo[i] < 0}
    got = [(int(i), int(s)) for i, s in nz["cases"]]
    need(set(got) == want and len(got) == len(set(got)), "the cone cases do not cover every allowed coordinate and sign")
    out = []
    for i, s in got:
        cl = [Q(-1) if (a is None or a < 0) else Q(0) for a in lo]
        ch = [Q(1) if (c is None or c > 0) else Q(0) for c in hi]
        cl[i] = ch[i] = Q(s)
        out.append((cl, ch, False))
    return out


def check_bound(net, lo, hi, clamps, entry, allow_sum):
    k, j, sense, value, rows = int(entry[0]), int(entry[1]), entry[2], Q(entry[3]), entry[4]
    box = box_of(net, lo, hi, clamps)
    if box is not None:  # an empty box makes every bound true
        r, d = combine(net, box, rows, allow_sum)
        var = ("z", k, j)
        rho = r.get(var, Q(0))
        rest = min_over_box(box, r, skip=var)
        need(rest is not None, f"derived bound on z[{k}][{j}] leans on an unbounded variable")
        if sense == "le":
            need(rho > 0 and (d - rest) / rho <= value, f"derived bound z[{k}][{j}] <= {value} does not follow")
        else:
            need(rho < 0 and (d - rest) / rho >= value, f"derived bound z[{k}][{j}] >= {value} does not follow")
    old = clamps.get(("z", k, j), (None, None))
    clamps[("z", k, j)] = (meet(old[0], value, True), old[1]) if sense == "ge" else (old[0], meet(old[1], value, False))


def check_tree(net, lo, hi, allow_sum, tree, binary):
    clamps = {}
    for entry in tree.get("bounds", []):
        check_bound(net, lo, hi, clamps, entry, allow_sum)
    leaves = 0
    stack = [(tree["root"], dict(clamps))]
    while stack:
        node, path = stack.pop()
        if "split" in node:
            var = node["split"]
            if var[0] == "x":
                need(binary, "x splits are valid on the binary domain only")
                key, cuts = ("x", int(var[1])), ((None, Q(0)), (Q(1), None))
            else:
                key, beta = ("z", int(var[1]), int(var[2])), Q(var[3])
                cuts = ((None, beta), (beta, None))
            for side, (a, c) in zip(("le", "ge"), cuts):
                old = path.get(key, (None, None))
                new = dict(path)
                new[key] = (meet(old[0], a, True), meet(old[1], c, False))
                stack.append((node[side], new))
            continue
        leaves += 1
        box = box_of(net, lo, hi, path)
        if node["leaf"] == "interval":
            need(box is None, f"leaf {leaves}: the exact interval bounds do not empty it")
            continue
        need(node["leaf"] == "farkas", f"leaf {leaves}: kind {node['leaf']!r} is not a proof")
        if box is None:
            continue
        r, d = combine(net, box, node["rows"], allow_sum)
        low = min_over_box(box, r)
        need(low is not None, f"leaf {leaves}: the combination leans on an unbounded variable")
        need(low > d, f"leaf {leaves}: no contradiction ({float(low)} <= {float(d)})")
    return leaves


def load_net(cert, encoder_path):
    with np.load(encoder_path, allow_pickle=False) as data:
        L = len([k for k in data.files if k.startswith("W")])
        Ws = [np.asarray(data[f"W{i}"], dtype=np.float64) for i in range(L)]
        bs = [np.asarray(data[f"b{i}"], dtype=np.float64) for i in range(L)]
    W = [[[Q(float(v)) for v in row] for row in M.tolist()] for M in Ws]
    b = [[Q(float(v)) for v in vec.tolist()] for vec in bs]
    need(len(cert["activations"]) == L, "one activation per layer")
    act = [PL(a) for a in cert["activations"]]
    notes = []
    for i, (name, a) in enumerate(zip(cert.get("activation_names", [None] * L), act)):
        if name in CATALOG:
            need(a.same_as(CATALOG[name]), f"layer {i}: the knots given for {name} are wrong")
        else:
            notes.append(f"layer {i}: activation {name!r} taken as given (knots {[str(v) for v in a.k]})")
    return (W, b, act), notes


def recheck(cert, encoder_path):
    """Return (number of leaves, notes); raise Rejected with the reason."""
    need(cert.get("schema") == "latentcheck.verify-certificate/1", "unknown schema")
    need(cert.get("property") == "p3", "not a P3 certificate")
    need(cert.get("normalise", "none") == "none", "only un-normalised inputs are defined")
    if cert.get("encoder_sha256"):
        with open(encoder_path, "rb") as fh:
            need(hashlib.sha256(fh.read()).hexdigest() == cert["encoder_sha256"], "the encoder file's SHA-256 differs")
    net, notes = load_net(cert, encoder_path)
    n = len(net[0][0][0])
    cs = cases(cert, net, n)
    need(len(cs) == len(cert["trees"]), "one tree per case")
    leaves = sum(check_tree(net, lo, hi, s, t, cert["domain"]["kind"] == "binary") for (lo, hi, s), t in zip(cs, cert["trees"]))
    return leaves, notes


# ================================================================ l2-normalised binary users (helper "l2")
# Schema latentcheck.verify-certificate-l2/1 (docs/verify.md, "l2 normalisation with biases"). Separate
# from the P3 checker above: it uses only need(), Rejected, CATALOG and the Fraction type Q.
# The encoder sees x/|x|_2; for positively homogeneous activations enc(x/s) = enc_s(x)/s where enc_s has
# every bias b replaced by s*b, s = sqrt(1'x). Checked: the cover of k = 1'x = 1..n, each entry's s box
# and cuts (valid for s = sqrt(k) for every k in the range), and each entry's proof (unit or tree).
L2_SCHEMA = "latentcheck.verify-certificate-l2/1"


def l2_sign(a, b, k):
    """Sign of a + b*sqrt(k), exactly: compare squares when a and b have opposite signs."""
    r = int(k ** 0.5)
    while r * r > k:
        r -= 1
    while (r + 1) * (r + 1) <= k:
        r += 1
    if r * r == k:
        v = a + b * r
        return (v > 0) - (v < 0)
    if a >= 0 and b >= 0:
        return 1 if (a > 0 or b > 0) else 0
    if a <= 0 and b <= 0:
        return -1
    return (1 if a > 0 else -1) if a * a > b * b * k else (1 if b > 0 else -1)


def l2_slopes(d, name):
    """(slope for t < 0, slope for t > 0) of a positively homogeneous activation; catalog names checked."""
    knots = [Q(v) for v in d["knots"]]
    if knots:
        need(knots == [0] and [Q(v) for v in d["values"]] == [0], f"activation {name}: not positively homogeneous")
    else:
        need(Q(d.get("offset", "0")) == 0 and Q(d["slope_left"]) == Q(d["slope_right"]), f"activation {name}: not positively homogeneous")
    if name in CATALOG:
        kn, vals, sl, sr, off = CATALOG[name]
        need([Q(v) for v in kn] == knots and Q(sl) == Q(d["slope_left"]) and Q(sr) == Q(d["slope_right"]),
             f"the knots given for {name} are wrong")
    return Q(d["slope_left"]), Q(d["slope_right"])


def l2_entry(e, n):
    klo, khi = int(e["k"][0]), int(e["k"][1])
    need(1 <= klo <= khi <= n, f"range {klo}..{khi} outside 1..{n}")
    slo, shi = Q(e["s"][0]), Q(e["s"][1])
    need(slo >= 0 and slo * slo <= klo, f"s_lo {slo} above sqrt({klo})")
    need(shi >= 0 and shi * shi >= khi, f"s_hi {shi} below sqrt({khi})")
    cuts = []
    for sense, a, c in e.get("cuts", []):
        a, c = Q(a), Q(c)
        if sense == "ge":  # line below sqrt at both ends of the range; sqrt is concave
            for k in (klo, khi):
                v = a + c * k
                need(v <= 0 or v * v <= k, f"cut s >= {a} + {c}*k fails at k = {k}")
        else:
            need(sense == "le" and c > 0, "an upper cut needs a positive slope")
            need(4 * a * c >= 1, f"cut s <= {a} + {c}*k is below sqrt somewhere")  # min of a + c k - sqrt(k) is a - 1/(4c)
        cuts.append((sense, a, c))
    return klo, khi, slo, shi, cuts


def l2_apply(sl, sr, t):
    return sr * t if t > 0 else sl * t


def l2_box(W, b, slopes, rng, xfix, zclamp):
    """Per-variable exact bounds on a leaf, or None when the leaf holds no point."""
    klo, khi, slo, shi = rng
    n = len(W[0][0])
    xlo = [Q(xfix.get(i, 0)) for i in range(n)]
    xhi = [Q(xfix.get(i, 1)) for i in range(n)]
    if sum(xlo) > khi or sum(xhi) < klo:
        return None
    lo, hi = xlo, xhi
    zs, hs = [], []
    for k, (Wk, bk) in enumerate(zip(W, b)):
        zl, zh = [], []
        for j, (row, bj) in enumerate(zip(Wk, bk)):
            a = sum(w * (lo[i] if w > 0 else hi[i]) for i, w in enumerate(row) if w) + min(bj * slo, bj * shi)
            c = sum(w * (hi[i] if w > 0 else lo[i]) for i, w in enumerate(row) if w) + max(bj * slo, bj * shi)
            clo, chi = zclamp.get((k, j), (None, None))
            a = a if clo is None else max(a, clo)
            c = c if chi is None else min(c, chi)
            if a > c:
                return None
            zl.append(a)
            zh.append(c)
        sl, sr = slopes[k]
        hl = [min([l2_apply(sl, sr, a), l2_apply(sl, sr, c)] + ([Q(0)] if a < 0 < c else [])) for a, c in zip(zl, zh)]
        hh = [max([l2_apply(sl, sr, a), l2_apply(sl, sr, c)] + ([Q(0)] if a < 0 < c else [])) for a, c in zip(zl, zh)]
        if k == len(W) - 1:
            if any(a > 0 or c < 0 for a, c in zip(hl, hh)):
                return None
            hl, hh = [Q(0)] * len(hl), [Q(0)] * len(hh)
        zs.append((zl, zh))
        hs.append((hl, hh))
        lo, hi = hl, hh
    return {"x": (xlo, xhi), "s": (slo, shi), "z": zs, "h": hs}


def l2_farkas(W, b, slopes, box, rows, rng, cuts):
    """Sum of the rows' multiples: coefficient dicts keyed by variable, then min over the box vs the right side."""
    coef, d = {}, Q(0)

    def add(var, v):
        coef[var] = coef.get(var, Q(0)) + v

    for row in rows:
        if row[0] == "aff":  # mu * (z_kj - W_kj . h_{k-1} - b_kj s) = 0
            k, j, mu = int(row[1]), int(row[2]), Q(row[3])
            add(("z", k, j), mu)
            for i, w in enumerate(W[k][j]):
                if w:
                    add(("x", i) if k == 0 else ("h", k - 1, i), -mu * w)
            add(("s",), -mu * b[k][j])
        elif row[0] == "hull":
            k, j, a, c, sense, y = int(row[1]), int(row[2]), Q(row[3]), Q(row[4]), row[5], Q(row[6])
            need(y >= 0, "negative multiplier")
            lo, hi = box["z"][k][0][j], box["z"][k][1][j]
            sg = 1 if sense == "ge" else -1
            pts = [lo, hi] + ([Q(0)] if lo < 0 < hi else [])
            need(all(sg * (l2_apply(*slopes[k], p) - a * p - c) >= 0 for p in pts), f"line {row[:6]} invalid on the leaf")
            add(("z", k, j), sg * y * a)
            add(("h", k, j), -sg * y)
            d += -sg * y * c
        elif row[0] == "ksum":
            y = Q(row[2])
            need(y >= 0, "negative multiplier")
            sg = -1 if row[1] == "ge" else 1
            for i in range(len(box["x"][0])):
                add(("x", i), sg * y)
            d += sg * y * (rng[0] if row[1] == "ge" else rng[1])
        elif row[0] == "scut":
            sense, a, c = cuts[int(row[1])]
            y = Q(row[2])
            need(y >= 0, "negative multiplier")
            sg = 1 if sense == "ge" else -1
            for i in range(len(box["x"][0])):
                add(("x", i), sg * y * c)
            add(("s",), -sg * y)
            d += -sg * y * a
        else:
            raise Rejected(f"unknown row {row[0]!r}")
    low = Q(0)
    for var, r in coef.items():
        if var[0] == "x":
            lo, hi = box["x"][0][var[1]], box["x"][1][var[1]]
        elif var[0] == "s":
            lo, hi = box["s"]
        else:
            lo, hi = box[var[0]][var[1]][0][var[2]], box[var[0]][var[1]][1][var[2]]
        low += r * (lo if r > 0 else hi)
    need(low > d, f"no contradiction ({float(low)} <= {float(d)})")


def l2_tree(W, b, slopes, root, rng, cuts):
    leaves, todo = 0, [(root, {}, {})]
    while todo:
        node, xfix, zclamp = todo.pop()
        if "split" in node:
            sp = node["split"]
            if sp[0] == "x":
                i = int(sp[1])
                need(0 <= i < len(W[0][0]) and i not in xfix, f"bad split {sp}")
                todo += [(node["le"], xfix | {i: 0}, zclamp), (node["ge"], xfix | {i: 1}, zclamp)]
            else:
                need(sp[0] == "z", f"bad split {sp}")
                key = (int(sp[1]), int(sp[2]))
                need(key[0] < len(W) and key[1] < len(W[key[0]]), f"bad split {sp}")
                lo, hi = zclamp.get(key, (None, None))
                todo.append((node["le"], xfix, zclamp | {key: (lo, Q(0) if hi is None else min(hi, Q(0)))}))
                todo.append((node["ge"], xfix, zclamp | {key: (Q(0) if lo is None else max(lo, Q(0)), hi)}))
            continue
        leaves += 1
        box = l2_box(W, b, slopes, rng, xfix, zclamp)
        if box is not None:
            need(node.get("leaf") == "farkas", "a non-empty leaf without Farkas rows")
            l2_farkas(W, b, slopes, box, node["rows"], rng, cuts)
    return leaves


def recheck_l2(cert, encoder_path):
    """Return (units and leaves checked, notes); raise Rejected with the reason."""
    need(cert.get("schema") == L2_SCHEMA and cert.get("property") == "p3", "unknown schema")
    need(cert.get("normalise") == "l2" and cert.get("domain", {}).get("kind") == "binary", "l2 certificates are for binary users")
    if cert.get("encoder_sha256"):
        with open(encoder_path, "rb") as fh:
            need(hashlib.sha256(fh.read()).hexdigest() == cert["encoder_sha256"], "the encoder file's SHA-256 differs")
    with np.load(encoder_path, allow_pickle=False) as data:
        L = len([k for k in data.files if k.startswith("W") and k[1:].isdigit()])
        W = [[[Q(float(v)) for v in row] for row in np.asarray(data[f"W{i}"], dtype=np.float64).tolist()] for i in range(L)]
        b = [[Q(float(v)) for v in np.asarray(data[f"b{i}"], dtype=np.float64).tolist()] for i in range(L)]
    names = cert.get("activation_names", [None] * L)
    need(len(cert["activations"]) == L, "one activation per layer")
    slopes = [l2_slopes(a, nm) for a, nm in zip(cert["activations"], names)]
    n = len(W[0][0])
    covered = set()
    count = 0
    for e in cert["cover"]:
        klo, khi, slo, shi, cuts = l2_entry(e, n)
        covered.update(range(klo, khi + 1))
        if e["proof"]["kind"] == "unit":  # z_j >= (sum of the k smallest weights) + sqrt(k) b_j > 0, so h_j != 0
            need(L == 1 and slopes[0][1] != 0, "a unit proof needs one layer and s(t) != 0 for t > 0")
            j = int(e["proof"]["j"])
            row = sorted(W[0][j])
            acc = sum(row[:klo - 1], Q(0))
            for k in range(klo, khi + 1):
                acc += row[k - 1]
                need(l2_sign(acc, b[0][j], k) > 0, f"unit {j} does not stay positive for {k} items")
                count += 1
        else:
            need(e["proof"]["kind"] == "tree", "unknown proof kind")
            count += l2_tree(W, b, slopes, e["proof"]["root"], (klo, khi, slo, shi), cuts)
    missing = sorted(set(range(1, n + 1)) - covered)
    need(not missing, f"k = {missing[0] if missing else 0} is not covered")
    return count, []


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    path = argv[0]
    enc = argv[argv.index("--encoder") + 1] if "--encoder" in argv else None
    with open(path) as fh:
        cert = json.load(fh)
    if enc is None:
        enc = os.path.join(os.path.dirname(os.path.abspath(path)), cert.get("encoder_file", "encoder.npz"))
    try:
        leaves, notes = recheck_l2(cert, enc) if cert.get("schema") == L2_SCHEMA else recheck(cert, enc)
    except Rejected as exc:
        print(f"REJECTED: {exc}")
        return 1
    for note in notes:
        print(f"note: {note}")
    print(f"OK: P3 holds on {cert['domain']['kind']}: {leaves} leaves re-checked in exact rationals")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
