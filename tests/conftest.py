"""Fixtures shared across the test tree."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ray_local():
    """ONE local Ray (2 CPUs, loopback, this checkout importable by its workers) for every Ray test of
    the session: the studio server's pool and ``brushedit batch --ray``. Starting Ray costs seconds and
    a second start in the same process is an error, so tests share it and clean up what they deploy."""
    ray = pytest.importorskip("ray")
    ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, num_cpus=2, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        yield ray
    finally:
        ray.shutdown()
