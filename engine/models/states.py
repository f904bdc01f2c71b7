"""One wording of a model's state for every place that reports it: ``models list``, ``doctor``, the
Models dialog and the errors of a job that needs the model.

States: ``missing`` (nothing there), ``incomplete`` (which file is missing or truncated),
``corrupt`` (which file, and why) and ``installed``. A job that finds a model unusable raises
:class:`~engine.api.MissingModelsError` (exit 3 in the CLI) whose message says which of these it is,
and whose fix is ``brushedit models download NAME`` (``--force`` for a copy that is there but broken).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Mapping

from engine.api import MissingModelsError
from engine.models.locate import ModelStatus, model_status
from engine.models.manifest import MANIFEST

BROKEN = ("incomplete", "corrupt")


def describe_state(status: ModelStatus) -> str:
    """``"sam-vit-h is corrupt: sam_vit_h_4b8939.pth: all zero bytes, not a torch checkpoint"``."""
    if status.state == "installed":
        return f"{status.name} is installed"
    if status.state == "missing":
        return f"{status.name} is not installed"
    what = f"{status.file}: {status.problem}" if status.file and status.file != "." else status.problem
    return f"{status.name} is {status.state}: {what}" + (f" (in {status.where})" if status.where else "")


def download_command(statuses: Iterable[ModelStatus]) -> str:
    """``run: brushedit models download [--force] NAME...`` for the models that are not installed."""
    statuses = [s for s in statuses if s.state != "installed"]
    force = any(s.state in BROKEN for s in statuses)
    return "run: brushedit models download " + ("--force " if force else "") + " ".join(s.name for s in statuses)


def explain(exc: MissingModelsError, settings: Mapping[str, object] | None = None) -> MissingModelsError:
    """``exc`` with the real state of each model it names: a truncated or corrupt copy is not "not
    installed" and needs ``--force`` to be fetched again. Returned unchanged when every named model
    is simply missing (or unknown to the manifest), or when already explained."""
    if getattr(exc, "explained", False):
        return exc
    try:
        statuses = [model_status(n, settings) for n in exc.names if n in MANIFEST]
    except Exception:  # noqa: BLE001 - an unreadable folder must not hide the original error
        return exc
    if not any(s.state in BROKEN for s in statuses):
        return exc
    hint = exc.hint or ""
    rest = hint[hint.index(" ("):] if hint.startswith("run: brushedit models download") and " (" in hint else ""
    message = "; ".join(describe_state(s) for s in statuses if s.state != "installed")
    better = MissingModelsError([s.name for s in statuses if s.state != "installed"] or list(exc.names),
                                message, download_command(statuses) + rest)
    better.explained = True
    return better


def explaining_models(method: Callable[..., Any]) -> Callable[..., Any]:
    """An engine method whose :class:`~engine.api.MissingModelsError` says each model's real state
    (the engine's ``config.model_dirs`` are the user's folders)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except MissingModelsError as exc:
            better = explain(exc, getattr(getattr(self, "config", None), "model_dirs", None))
            if better is exc:
                raise
            raise better from exc

    return run
