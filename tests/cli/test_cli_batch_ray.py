"""``brushedit batch --ray``: engine workers on the session's one local Ray (tests/conftest.py), 0 GPUs."""

from __future__ import annotations

import functools
import json
import os

import numpy as np
import pytest

pytest.importorskip("ray")

from batch_helpers import make_folder, report_of  # noqa: E402
from cli_helpers import read_rgb  # noqa: E402

pytestmark = pytest.mark.slow


def _cli(argv: list[str]) -> int:
    """The CLI in this process (where the session's Ray runs), as ``brushedit`` would run it."""
    from cli import build_parser

    args = build_parser().parse_args(argv)
    return args.run(args)


def test_two_ray_workers_paint_the_same_pixels_as_a_local_run(ray_local, brushedit, tmp_path, capsys):
    photos, masks = make_folder(tmp_path, n=5)
    local = tmp_path / "local"
    r = brushedit("batch", photos, "-o", local, "--mask", masks, "--engine", "fill", "--seed", "3")
    assert r.code == 5, r  # the two bad files

    out = tmp_path / "ray"
    code = _cli(["batch", str(photos), "-o", str(out), "--mask", str(masks), "--engine", "fill", "--seed", "3",
                 "--ray", "--workers", "2", "--json", "-q"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 5 and (summary["ok"], summary["failed"]) == (5, 2)
    ray = summary["ray"]
    assert len(ray["workers"]) == 2 and ray["gpus_per_worker"] == 0 and ray["startup_seconds"] > 0
    pids = {w["pid"] for w in summary["workers"]}  # the workers that painted, from the report
    assert len(pids) == 2 and os.getpid() not in pids
    assert pids == {w["pid"] for w in ray["workers"]}
    lines = {line["key"]: line for line in report_of(out)}
    for line in report_of(local):
        twin = lines[line["key"]]
        assert (twin["status"], twin["seed"]) == (line["status"], line["seed"])
        if line["status"] == "ok":
            assert twin["worker"]["pid"] in pids and twin["worker"]["device"] == "cpu"
            assert np.array_equal(read_rgb(twin["output"]), read_rgb(line["output"])), line["key"]


def _ray_batch(photos, masks, out, marker, deaths: int, workers: int):
    from cli.batch_run import BatchSettings, run_batch
    from engine.api import EditParams
    from engine.batch.ray_pool import RayExecutor
    from engine.dispatch import EngineConfig
    from tests.fakes.dying_engine import DyingEngine

    settings = BatchSettings(photos, out, mask=masks, params=EditParams(engine="fill"), base_seed=9)
    factory = functools.partial(DyingEngine, marker_dir=str(marker), deaths=deaths)
    executor = RayExecutor(EngineConfig(device="cpu"), workers, 0, cpus_per_worker=0.5, engine_factory=factory)
    executor.start()
    try:
        return run_batch(settings, executor), executor
    finally:
        executor.close()


def test_a_photo_whose_worker_dies_is_retried_once_on_a_fresh_worker(ray_local, brushedit, tmp_path):
    photos, masks = make_folder(tmp_path, n=3, bad=False)
    marker = tmp_path / "marker"
    marker.mkdir()
    summary, executor = _ray_batch(photos, masks, tmp_path / "out", marker, deaths=1, workers=2)
    assert (marker / "death-0").is_file()  # a worker did die
    assert executor.replaced == 1 and summary.ok == 3 and summary.failed == 0
    local = tmp_path / "local"
    assert brushedit("batch", photos, "-o", local, "--mask", masks, "--engine", "fill", "--seed", "9").code == 0
    for line in report_of(local):
        assert np.array_equal(read_rgb(tmp_path / "out" / line["key"]), read_rgb(line["output"]))


def test_a_photo_whose_worker_dies_twice_is_reported_and_the_rest_carry_on(ray_local, tmp_path):
    photos, masks = make_folder(tmp_path, n=3, bad=False)
    marker = tmp_path / "marker"
    marker.mkdir()
    summary, executor = _ray_batch(photos, masks, tmp_path / "out", marker, deaths=2, workers=1)
    assert executor.replaced == 2
    lost = [line for line in summary.lines if line["status"] != "ok"]
    assert len(lost) == 1 and lost[0]["status"] == "worker-lost" and "died twice" in lost[0]["reason"]
    assert summary.ok == 2


def test_each_worker_builds_its_engine_once_for_all_its_photos(ray_local, tmp_path):
    photos, masks = make_folder(tmp_path, n=5, bad=False)
    marker = tmp_path / "marker"
    marker.mkdir()
    summary, executor = _ray_batch(photos, masks, tmp_path / "out", marker, deaths=0, workers=2)
    assert summary.ok == 5 and executor.replaced == 0
    paints = [p.name for p in (marker / "paints").iterdir()]
    engines = {"-".join(name.split("-")[:2]) for name in paints}
    assert len(paints) == 5 and len(engines) == 2  # five photos, two engines (one per worker)
    assert {int(e.split("-")[0]) for e in engines} == {w["pid"] for w in executor.infos}
