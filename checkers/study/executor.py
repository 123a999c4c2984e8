"""Where the study's runs execute: in this process (default) or as Ray tasks.

A *task* is a JSON-ready dict that fully names one unit of work (for the
study: one activation, one split seed, one set of hyperparameters and the
training seeds trained together as one vmapped program). ``run_tasks``
maps a pure function ``fn(task, payload) -> result`` (result JSON-ready)
over the tasks with the chosen executor and, with ``resume``, reuses the
results already stored under ``store``: each finished task is written to
``store/<task id>.json`` (atomically) together with its task, and a stored
file is reused only when its task equals the requested one.

``ray[:ADDRESS]`` needs the optional extra ``ray`` (``pip install
'latentcheck[ray]'``); without an address a local Ray instance is started.
Files a task writes (encoders) land on the worker's disk: on a cluster,
point ``--out`` at a shared directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Optional, Sequence

from ...theorems.errors import InvalidArgument
from ...theorems.files import atomic_write_text

__all__ = ["parse_executor", "task_id", "run_tasks", "write_json_atomic"]


def parse_executor(spec: Optional[str]) -> tuple[str, Optional[str]]:
    """``None``/``"inprocess"`` -> ("inprocess", None); ``"ray"`` -> ("ray", None); ``"ray:ADDRESS"`` -> ("ray", ADDRESS)."""
    if spec is None or spec.strip() in ("", "inprocess", "local"):
        return "inprocess", None
    s = spec.strip()
    if s == "ray":
        return "ray", None
    if s.startswith("ray:") and s[4:].strip():
        return "ray", s[4:].strip()
    raise InvalidArgument(f"--executor {spec!r} must be inprocess, ray or ray:ADDRESS (e.g. ray:127.0.0.1:6379)")


def task_id(task: dict) -> str:
    """A file-safe id: the task's label and a hash of its canonical JSON."""
    blob = json.dumps(task, sort_keys=True, default=str).encode()
    label = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(task.get("label", "task")))[:80]
    return f"{label}-{hashlib.sha1(blob).hexdigest()[:12]}"


def write_json_atomic(path: str, obj: Any) -> None:
    """Write JSON to a temporary file in the same directory, then rename it over ``path``."""

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_text(path, json.dumps(obj, sort_keys=True, default=str))


def _load_stored(path: str, task: dict) -> Optional[Any]:
    try:
        with open(path) as fh:
            stored = json.load(fh)
    except (OSError, ValueError):
        return None
    canon = json.loads(json.dumps(task, sort_keys=True, default=str))
    return stored.get("result") if stored.get("task") == canon else None


def run_tasks(
    fn: Callable[[dict, Any], Any],
    tasks: Sequence[dict],
    payload: Any,
    *,
    executor: Optional[str] = None,
    store: Optional[str] = None,
    resume: bool = False,
    on_done: Optional[Callable[[dict, Any, bool], None]] = None,
) -> list[Any]:
    """``[fn(task, payload) for task in tasks]`` on the chosen executor, in task order.

    ``on_done(task, result, reused)`` is called as each result is known. With
    ``store``, each result is saved as ``store/<task_id>.json``; with
    ``resume``, stored results of identical tasks are reused instead of rerun.
    """
    kind, address = parse_executor(executor)
    results: list[Any] = [None] * len(tasks)
    todo: list[int] = []
    for i, t in enumerate(tasks):
        stored = _load_stored(os.path.join(store, task_id(t) + ".json"), t) if (store and resume) else None
        if stored is not None:
            results[i] = stored
            if on_done:
                on_done(t, stored, True)
        else:
            todo.append(i)

    def finish(i: int, res: Any) -> None:
        results[i] = res
        if store:
            write_json_atomic(os.path.join(store, task_id(tasks[i]) + ".json"), {"task": tasks[i], "result": res})
        if on_done:
            on_done(tasks[i], res, False)

    if kind == "inprocess":
        for i in todo:
            finish(i, fn(tasks[i], payload))
        return results
    try:
        import ray
    except ImportError:
        raise InvalidArgument("--executor ray needs the optional extra 'ray': pip install 'latentcheck[ray]' (or pip install ray)") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(fn)
        ref = ray.put(payload)
        pending = {remote.remote(tasks[i], ref): i for i in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for d in done:
                finish(pending.pop(d), ray.get(d))
    finally:
        if started:
            ray.shutdown()
    return results
