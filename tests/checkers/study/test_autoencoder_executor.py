"""The study's executor: in-process mapping, stored results, resume, Ray option parsing."""

from __future__ import annotations

import importlib.util
import json

import pytest

from latentcheck.checkers.study.executor import parse_executor, run_tasks, task_id
from latentcheck.theorems.errors import InvalidArgument

CALLS: list[int] = []


def _square(task: dict, payload: dict) -> dict:
    CALLS.append(task["x"])
    return {"y": task["x"] ** 2 + payload["offset"]}


def test_in_process_map_store_and_resume(tmp_path):
    tasks = [{"label": f"t{x}", "x": x} for x in range(4)]
    CALLS.clear()
    out = run_tasks(_square, tasks, {"offset": 1}, store=str(tmp_path))
    assert out == [{"y": 1}, {"y": 2}, {"y": 5}, {"y": 10}] and CALLS == [0, 1, 2, 3]
    stored = json.loads((tmp_path / f"{task_id(tasks[2])}.json").read_text())
    assert stored == {"task": tasks[2], "result": {"y": 5}}
    # Resume: a changed task is rerun, identical ones are reused; a corrupt file is rerun too.
    (tmp_path / f"{task_id(tasks[3])}.json").write_text("{not json")
    changed = tasks[:2] + [{"label": "t2", "x": 7}] + tasks[3:]
    CALLS.clear()
    seen = []
    out = run_tasks(_square, changed, {"offset": 1}, store=str(tmp_path), resume=True, on_done=lambda t, r, reused: seen.append(reused))
    assert CALLS == [7, 3] and out[2] == {"y": 50} and out[0] == {"y": 1}
    assert sorted(seen) == [False, False, True, True]
    # Without --resume nothing is reused.
    CALLS.clear()
    run_tasks(_square, tasks[:1], {"offset": 0}, store=str(tmp_path))
    assert CALLS == [0]


def test_task_ids_differ_with_content():
    assert task_id({"label": "a b", "x": 1}) != task_id({"label": "a b", "x": 2})
    assert task_id({"label": "a b/c", "x": 1}).startswith("a_b_c-")


def test_parse_executor():
    assert parse_executor(None) == ("inprocess", None) and parse_executor("inprocess") == ("inprocess", None)
    assert parse_executor("ray") == ("ray", None) and parse_executor("ray:10.0.0.1:6379") == ("ray", "10.0.0.1:6379")
    for bad in ("dask", "ray:", "ray2"):
        with pytest.raises(InvalidArgument):
            parse_executor(bad)


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed")
def test_ray_without_the_extra_names_it():
    with pytest.raises(InvalidArgument, match=r"latentcheck\[ray\]"):
        run_tasks(_square, [{"label": "t", "x": 1}], {"offset": 0}, executor="ray")
