"""The engine's network face: ``brushedit serve`` (FastAPI + uvicorn + websockets), optionally a
Ray Serve pool, and the client the editor and the CLI use to reach it.

Only :mod:`engine.server.client` is for the editor's side; it needs neither FastAPI nor Ray.
Import the submodules directly: this ``__init__`` imports nothing.
"""
