"""Join a Ray cluster or start a local one whose ports stay on loopback: the one way the studio
server's pool (``serve --ray``) and ``batch --ray`` start Ray, and what the tests' shared Ray uses.

Ray reads two switches from the environment when it is first imported, so :func:`loopback_env` must
run before ``import ray`` anywhere in the process:

- on Linux, Ray turns a ``127.0.0.1`` node address into the host's address and its agents bind that;
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (its local-only mode of macOS/Windows) keeps loopback;
- ``RAY_enable_metrics_collection=0``: no Prometheus endpoints.

Both are ``setdefault``: a user who sets them otherwise keeps their choice. docs/design/server.md says
what still listens where.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loopback_env() -> None:
    """Set the environment switches that keep a local Ray on loopback and without metrics."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_enable_metrics_collection", "0")


def start_ray(address: str | None = None, *, num_cpus: int | None = None) -> bool:
    """Join ``address`` or start a local Ray on loopback; True when it was started here.

    A local Ray advertises 127.0.0.1, has no dashboard, does not forward its workers' logs, and gives
    its workers this checkout on ``PYTHONPATH`` (so engine factories defined here unpickle there)."""
    if not address:
        loopback_env()
    import ray

    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        return False
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, logging_level=logging.WARNING,
             configure_logging=False, log_to_driver=False, num_cpus=num_cpus,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    return True
