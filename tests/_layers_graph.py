"""Print, as JSON, the import cycles among latentcheck's modules (run with PYTHONPATH at an installed tree).

A cycle is a strongly connected component of more than one module in grimp's import graph (imports at
module top and inside functions alike). Independent of the code under test: it reads only the files.
"""

from __future__ import annotations

import json
import sys

import grimp


def cycles(package: str = "latentcheck") -> list[list[str]]:
    """The strongly connected components (Tarjan, iterative) with more than one module, each sorted."""
    graph = grimp.build_graph(package, include_external_packages=False)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(edges[w])))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)




def private_imports_across_packages(package: str = "latentcheck") -> list[list[str]]:
    """``[importer, imported]`` for each import of a private module (a ``_name`` part) from outside the package
    that owns it: ``checkers.study.audit -> checkers.falsify._pipeline`` is one; ``checkers.falsify.api ->
    checkers.falsify._pipeline`` is not."""
    graph = grimp.build_graph(package, include_external_packages=False)
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            parts = imported.split(".")
            private = [i for i, p in enumerate(parts) if p.startswith("_") and not p.startswith("__")]
            if not private:
                continue
            owner = ".".join(parts[: private[0]])
            if importer != owner and not importer.startswith(owner + "."):
                found.append([importer, imported])
    return found


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "cycles"
    json.dump(private_imports_across_packages() if what == "private" else cycles(), sys.stdout)
