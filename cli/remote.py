"""``edit|plan --server URL``: the same jobs on a studio server (``brushedit serve``) instead of here.

The token comes from ``BRUSHEDIT_SERVER_TOKEN`` (never from an option: a command line is visible
to every user of the machine and lands in shell history).
"""

from __future__ import annotations

import argparse
import functools
import os
import threading
from typing import Any, Callable

TOKEN_ENV = "BRUSHEDIT_SERVER_TOKEN"


def add_server_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", metavar="URL",
                   help="run on a studio server (brushedit serve) at URL; token from $BRUSHEDIT_SERVER_TOKEN")


_opened: list = []  # the RemoteRunners engine_for opened for the running command


def engine_for(args: argparse.Namespace, config: Any) -> Any:
    """The engine a command runs on: a :class:`RemoteRunner` on ``--server`` (closed when a command
    wrapped in :func:`closes_connections` ends), else the in-process ``Engine(config)``."""
    if getattr(args, "server", None):
        runner = RemoteRunner(args.server)
        _opened.append(runner)
        return runner
    from engine.dispatch import Engine

    return Engine(config)


def closes_connections(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command's ``run(args)`` that closes the studio-server connection :func:`engine_for` opened,
    however it ends (its threads would otherwise outlive the command)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        finally:
            while _opened:
                _opened.pop().close()

    return run


class RemoteRunner:
    """``plan(request, progress)`` and ``inpaint(request, progress)`` as ``engine.dispatch.Engine``
    offers them, run on the studio server at ``url``."""

    def __init__(self, url: str, token: str | None = None) -> None:
        from engine.connect import remote_engine

        self._messages: list[Any] = []
        self._arrived = threading.Condition()
        self.engine = remote_engine(self._on_message, url, token if token is not None else os.environ.get(TOKEN_ENV))
        self.engine.start()

    def _on_message(self, message: Any) -> None:
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()

    def run(self, request: Any, progress: Any = None, is_cancelled: Any = None) -> Any:
        """Submit ``request`` and wait for its result; failures raise ``EngineError`` as in-process ones do.
        When ``is_cancelled()`` turns true the server is asked to cancel (then ``Cancelled`` follows)."""
        from engine.api import Cancelled, EngineError, JobCancelled, JobFailed, JobFinished, Progress

        job_id = self.engine.submit(request)
        seen = 0
        asked_cancel = False
        try:
            while True:
                if is_cancelled is not None and not asked_cancel and is_cancelled():
                    self.engine.cancel(job_id)
                    asked_cancel = True
                with self._arrived:
                    self._arrived.wait_for(lambda: len(self._messages) > seen, timeout=0.5)
                    fresh, seen = self._messages[seen:], len(self._messages)
                for message in fresh:
                    if getattr(message, "job_id", None) != job_id:
                        continue
                    if isinstance(message, Progress) and progress is not None:
                        progress(message.step, message.total, message.stage)
                    elif isinstance(message, JobFinished):
                        return message.result
                    elif isinstance(message, JobFailed):  # the kind picks the exit code, as in-process
                        raise EngineError(message.error, message.hint, message.kind)
                    elif isinstance(message, JobCancelled):
                        raise Cancelled(f"job {job_id} was cancelled on the server")
        except KeyboardInterrupt:
            self.engine.cancel(job_id)
            raise

    def plan(self, request: Any, progress: Any = None) -> Any:
        return self.run(request, progress)

    def inpaint(self, request: Any, progress: Any = None, on_preview: Any = None, is_cancelled: Any = None) -> Any:
        """As ``Engine.inpaint`` (a chain passes all four); the server's previews are not shown here."""
        return self.run(request, progress, is_cancelled)

    def close(self) -> None:
        self.engine.shutdown(2)


def worker_summary(result: Any) -> dict:
    """``edit --json``'s ``"worker"``: the process that painted (host, pid, device); this one when
    the result names none (an in-process edit); one definition with the batch report's."""
    from engine.batch.run import worker_summary as summary

    return summary(result)
