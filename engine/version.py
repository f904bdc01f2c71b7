"""The application version, from one place: pyproject.toml (read directly in a source checkout,
else via the installed metadata)."""

from __future__ import annotations

import re
from pathlib import Path


def _read_version() -> str:
    # The checkout's pyproject.toml first: it is the source of the metadata, and reading it is
    # ~1 ms where importlib.metadata scans every installed distribution (~80 ms at start-up).
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text("utf-8"), re.M)
    except OSError:
        found = None
    if found:
        return found.group(1)
    from importlib import metadata

    try:
        return metadata.version("brushedit-studio")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _read_version()
