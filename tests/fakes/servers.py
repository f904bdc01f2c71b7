"""Studio servers for tests: in a thread of the test process, or in a child process to kill.

Loopback only, free ports. ``GateEngine`` is an engine stand-in (the ``handle`` seam of
``engine.dispatch.Engine``) whose jobs run until released or cancelled, with a preview per step, so
tests can hold a job "running" without sleeping and without torch.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.api import Candidate, Cancelled, EditResult, InpaintRequest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true (a deadline, no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class GateEngine:
    """Runs each job until :attr:`release` is set (or for ``steps`` steps when ``auto``), or cancelled."""

    def __init__(self, config: Any = None, *, steps: int = 20, auto: bool = False, step_delay: float = 0.0,
                 preview_size: int = 64, steps_from_request: bool = False) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.handled: list[Any] = []
        self.steps, self.auto, self.step_delay, self.preview_size = steps, auto, step_delay, preview_size
        self.steps_from_request = steps_from_request  # auto: run request.params.steps steps

    def handle(self, request, on_progress, on_preview, is_cancelled):
        self.handled.append(request)
        self.started.set()
        image = request.image
        steps = request.params.steps if self.steps_from_request else self.steps
        step = 0
        while True:
            if is_cancelled():
                raise Cancelled()
            if (self.auto and step >= steps) or (not self.auto and self.release.is_set()):
                break
            on_progress(min(step, steps), steps, f"denoising in pid {os.getpid()}")
            on_preview(np.full((self.preview_size, self.preview_size, 3), step % 256, np.uint8), step,
                       (0, 0, image.shape[1], image.shape[0]))
            step += 1
            if self.step_delay:
                time.sleep(self.step_delay)
            elif not self.auto:
                self.release.wait(0.005)
        if not isinstance(request, InpaintRequest):
            raise ValueError("the gate engine paints only")
        out = image.copy()
        out[request.mask > 0] = 255 - out[request.mask > 0]
        seed = request.params.seed or 0
        return EditResult(request, (Candidate(out, seed, (0, 0, image.shape[1], image.shape[0])),), "gate")


class ThreadServer:
    """``brushedit serve``'s app on a free loopback port, in a thread of this process."""

    def __init__(self, settings: Any = None, workers: Any = None) -> None:
        from engine.dispatch import EngineConfig
        from engine.server.app import GracefulServer, ServerSettings, create_app, uvicorn_config

        self.settings = settings or ServerSettings(config=EngineConfig(device="cpu"))
        self.settings.port = free_port()
        self.app = create_app(self.settings, workers)
        self.server = GracefulServer(uvicorn_config(self.app, self.settings), self.app)
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self.thread = threading.Thread(target=self.server.run, name="test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def board(self) -> Any:
        return self.app.state.board

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        wait_for(lambda: self.server.started, 30, "the server to start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def gate_workers(engine: GateEngine | None = None, **engine_kw: Any):
    """A workers factory: one local worker whose engine is ``engine`` (default a new :class:`GateEngine`)."""
    engine = engine or GateEngine(**engine_kw)

    def make(settings: Any) -> list[Any]:
        from engine.server.workers import LocalWorker

        return [LocalWorker(settings.config, engine_factory=lambda c: engine)]

    return make


@contextlib.contextmanager
def child_server(port: int, *extra: str, gate: bool = False, token: str | None = None,
                 env_extra: dict[str, str] | None = None):
    """A server in a child process (to kill): ``python -m tests.fakes.servers`` (a gate engine behind
    ``brushedit serve``'s own options, ``extra``) or ``main.py serve``.

    ``env_extra``: variables the server sees and this process does not (another models folder: a
    server whose disk differs from the editor's)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    env.pop("BRUSHEDIT_SERVER_TOKEN", None)
    if token:
        env["BRUSHEDIT_SERVER_TOKEN"] = token
    if gate:
        cmd = [sys.executable, "-m", "tests.fakes.servers", "--port", str(port), *extra]
    else:
        cmd = [sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port), "--device", "cpu", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from engine.server.client import ServerError, health

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError("the server exited: " + proc.stderr.read().decode(errors="replace"))
            try:
                health(f"127.0.0.1:{port}", 1.0)
                return True
            except ServerError:
                return False

        wait_for(up, 60, "the child server to answer")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stderr.close()


def main() -> None:  # pragma: no cover - runs in the child process
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--step-delay", type=float, default=0.02)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--preview-size", type=int, default=64)
    args, serve_argv = parser.parse_known_args()  # the rest are `brushedit serve` options
    from cli import build_parser
    from cli.serve import settings_from
    from engine.server.app import serve

    settings = settings_from(build_parser().parse_args(["serve", "--port", str(args.port), "--device", "cpu",
                                                        *serve_argv]))
    serve(settings, gate_workers(steps=args.steps, auto=True, step_delay=args.step_delay,
                                 preview_size=args.preview_size))


if __name__ == "__main__":  # pragma: no cover
    main()
