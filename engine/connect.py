"""The factory on top of the engine's house: create a local or a remote engine, and what goes with it.

krita-ai-diffusion keeps its contract below (``backend/api.py``) and what creates a client with the
caller; here :mod:`engine.api` / :mod:`engine.protocol` are the contract, and this module is the one
place that reaches up to the engines that implement it: the in-process service, a studio server's
client, the engine's configuration, the local answers to queries and the version. The editor's bridge
and the CLI import it; nothing inside the engine does (the layers contract in ``pyproject.toml``).

Each function imports its module at its first call: the editor imports this at start-up, and the
service (with the dispatcher and the model manifest) is not cheap.
``engine.api.local_engine`` and its siblings are these same functions (``engine.api.__getattr__``).
"""

from __future__ import annotations

from typing import Any

from engine.protocol import EngineBackend, MessageSink

__all__ = ["answer_locally", "check_server", "engine_config", "engine_version", "local_engine", "remote_engine"]


def engine_config(**kwargs: Any) -> Any:
    """An ``engine.config.EngineConfig`` (imported lazily: it is not cheap)."""
    from engine.config import EngineConfig

    return EngineConfig(**kwargs)


def local_engine(on_message: MessageSink, config: Any = None) -> EngineBackend:
    """The in-process engine: an ``engine.service.EngineService`` (its module is imported lazily)."""
    from engine.service import EngineService

    return EngineService(on_message, config=config)


def remote_engine(on_message: MessageSink, url: str, token: str | None = None, **kwargs: Any) -> EngineBackend:
    """A studio server's engine: an ``engine.server.client.RemoteEngine`` (imported lazily)."""
    from engine.server.client import RemoteEngine

    return RemoteEngine(on_message, url, token=token, **kwargs)


def check_server(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[bool, str]:
    """Whether a studio server answers at ``url`` and takes ``token``: ``(ok, one line for the user)``."""
    from engine.server.client import test_connection

    return test_connection(url, token, timeout)


def answer_locally(query: Any) -> Any:
    """Answer a :data:`engine.protocol.Query` in this process (``engine.queries``; no torch)."""
    from engine.queries import answer

    return answer(query)


def engine_version() -> str:
    """The version of the engine in this process."""
    from engine.version import __version__

    return __version__
