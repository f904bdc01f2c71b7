"""Moved to :mod:`desktop.model.gui_thread` (QtCore only, so the model layer can use it too)."""

from desktop.model.gui_thread import ensure, post  # noqa: F401
