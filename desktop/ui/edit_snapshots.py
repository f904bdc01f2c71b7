"""Moved to :mod:`desktop.model.snapshots` (the model layer takes the snapshots of its requests)."""

from desktop.model.snapshots import Snapshots, snapshot_rgb  # noqa: F401
