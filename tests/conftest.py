"""Fixtures shared across the test tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.ray_local import loopback_env, start_ray

ROOT = Path(__file__).resolve().parents[1]
loopback_env()  # read when ray is first imported, which test modules do at collection


@pytest.fixture(scope="session")
def ray_local():
    """ONE local Ray (2 CPUs, loopback, this checkout importable by its workers) for every Ray test of
    the session: the studio server's pool and ``brushedit batch --ray``. Starting Ray costs seconds and
    a second start in the same process is an error, so tests share it and clean up what they deploy."""
    ray = pytest.importorskip("ray")
    start_ray(num_cpus=2)
    try:
        yield ray
    finally:
        ray.shutdown()
