"""The engine client's functions for modules the first frame imports (the window, its mixins and
Preferences): each imports :mod:`desktop.engine_client` on its first call, not with the window.

The engine's api brings numpy and the model manifest (with the rest, some 300 ms at start-up);
the window draws its first frame before any of it is needed. Each name is looked up on
``desktop.engine_client`` at call time, so a test that patches it there reaches these callers too.
"""

from __future__ import annotations

from typing import Any, Callable


def _forward(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        from desktop import engine_client

        return getattr(engine_client, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``desktop.engine_client.{name}``, imported at the first call."
    return call


engine_config = _forward("engine_config")
model_names = _forward("model_names")
model_path_status = _forward("model_path_status")
model_entries = _forward("model_entries")
default_service_factory = _forward("default_service_factory")
remote_service_factory = _forward("remote_service_factory")
test_server_connection = _forward("test_server_connection")


def app_version() -> str:
    """The application's version (``desktop.engine_client.APP_VERSION``)."""
    from desktop import engine_client

    return engine_client.APP_VERSION
