"""Coroutines on Qt's event loop.

The editor runs a qasync loop (``desktop.ui.app``): there a coroutine is a task of the running loop.
Where no asyncio loop runs (the widget tests under pytest-qt, a script driving the model with
``QCoreApplication.processEvents``), :func:`start` uses one :class:`QtStepLoop`: qasync's loop,
whose callbacks Qt's own event processing runs, each with that loop as asyncio's running loop for
the length of the callback (as ``run_forever`` would set it), so ``asyncio.get_running_loop()``
inside the coroutine (``EngineClient.run``) answers, and no other loop of the process is disturbed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Coroutine

log = logging.getLogger(__name__)

_step_loop: Any = None


def _make_step_loop() -> Any:
    import qasync
    from PySide6.QtCore import QCoreApplication

    class QtStepLoop(qasync.QEventLoop):
        def call_later(self, delay, callback, *args, context=None):
            def as_running(*call_args):
                previous = asyncio._get_running_loop()
                asyncio._set_running_loop(self)
                try:
                    return callback(*call_args)
                finally:
                    asyncio._set_running_loop(previous)

            return super().call_later(delay, as_running, *args, context=context)

        def close(self) -> None:
            try:
                super().close()
            except RuntimeError:  # at exit, after the application's signals are gone
                pass

    return QtStepLoop(QCoreApplication.instance())


def qt_loop() -> asyncio.AbstractEventLoop:
    """The running asyncio loop (the app's qasync loop), else the Qt-stepped loop of this process."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    global _step_loop
    if _step_loop is None or _step_loop.is_closed():
        _step_loop = _make_step_loop()
    return _step_loop


def start(coro: Coroutine) -> asyncio.Task:
    """Run ``coro`` as a task on Qt's event loop; an exception it lets out is logged, never lost."""
    task = qt_loop().create_task(coro)
    task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a model coroutine failed", exc_info=task.exception())
