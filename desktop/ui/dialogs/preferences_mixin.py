"""The main window's side of Edit ▸ Preferences: open the dialog, apply and save what it sends,
follow the instruction panel's instructor.

Apart from :mod:`desktop.ui.dialogs.preferences` (the dialog, imported when first opened): the
window mixes this in and is drawn before the dialog's module is needed.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from desktop.ui.dialogs.preferences_store import Preferences
from desktop.ui.dialogs.studio_server import EngineLocation

log = logging.getLogger("desktop.ui.dialogs.preferences")  # the log lines' origin, as before the split


class PreferencesMixin:
    """The main window's side: open the dialog, apply and save what it sends, follow the panel.

    Expects ``self.preferences``, ``self._prefs_dialog``, ``self.settings``, ``self.client``,
    ``self._autosaver`` and ``self.instruction_panel``.
    """

    def _engine_config(self):
        """The preferences as an ``EngineConfig``; bad saved values fall back to the defaults."""
        try:
            return self.preferences.engine_config()
        except (ValueError, TypeError, OSError):
            self.preferences = Preferences(api_key=self.preferences.api_key)
            return self.preferences.engine_config()

    def show_preferences(self) -> None:
        """Edit ▸ Preferences… (non-modal: the engine's messages keep coming while it is open)."""
        dialog = self._prefs_dialog
        if dialog is not None and dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return
        if dialog is not None:
            dialog.deleteLater()  # closed earlier: a fresh one shows the current preferences
        status = getattr(self.client, "last_status", None)
        last = ""
        if status is not None:
            last = (status.gpu_name or "CUDA GPU") if status.device == "cuda" else "CPU"
        from desktop.ui.dialogs.preferences import PreferencesDialog  # the dialog's module when first opened

        # Model paths are checked by the engine that runs the edits (a studio server: its disk).
        dialog = PreferencesDialog(self.preferences, self, last_device=last,
                                   status_fn=getattr(self, "model_path_status", None))
        dialog.applied.connect(self.apply_preferences)
        dialog.studio.changed.connect(self.apply_engine_location)
        self._prefs_dialog = dialog
        self._say_where_models_are_checked()
        dialog.show()

    def _say_where_models_are_checked(self) -> None:
        dialog, client = self._prefs_dialog, self.client
        if dialog is not None and getattr(client, "remote", False) is True:
            dialog.set_checked_on(EngineLocation.load(self.settings).url)

    def apply_preferences(self, prefs: Preferences) -> None:
        """Save ``prefs`` (not the API key) and hand the new configuration to the engine; it reloads
        the models that changed when they are next used."""
        self.preferences = prefs
        log.info("preferences applied: device %s, CPU offload %s, instructor %s, %d model folder(s) set",
                 prefs.device, prefs.cpu_offload, prefs.instructor, len(prefs.model_paths))
        prefs.save(self.settings)
        self.settings.sync()
        if self.client is not None and hasattr(self.client, "set_config"):
            self.client.set_config(self._engine_config())
        if self._autosaver is not None:
            self._autosaver.timer.setInterval(int(prefs.autosave_minutes * 60 * 1000))
        self.instruction_panel.set_instructor(prefs.instructor)
        busy = bool(getattr(self.client, "busy", False))
        self.statusBar().showMessage("Preferences applied" + (" (the running edit keeps the old settings)"
                                                             if busy else ""), 5000)

    def apply_engine_location(self, location: EngineLocation) -> None:
        """This computer or a studio server: save the choice (the token to the keyring) and switch
        the client's engine when it changed (a running job there ends as cancelled)."""
        before = EngineLocation.load(self.settings)
        location.save(self.settings)
        if (before.mode, before.url, before.token) == (location.mode, location.url, location.token):
            return
        if self.client is not None and hasattr(self.client, "set_service_factory"):
            self.client.set_service_factory(location.service_factory(self._engine_config()))
            # Model checks now come from the new engine: the open page and the SAM tool re-ask.
            if self._prefs_dialog is not None:
                self._prefs_dialog.set_checked_on(location.url if location.mode == "server" else "")
            if getattr(self, "_own_client", False) or getattr(self.client, "remote", False) is True:
                self.update_sam_tool()
        where = "a studio server at " + location.url if location.mode == "server" else "this computer"
        log.info("the engine now runs on %s", where)
        self.statusBar().showMessage(f"The engine runs on {where}", 5000)

    def _on_panel_instructor(self, name: str) -> None:
        """The instruction panel's instructor is the preferences' instructor: keep them one setting."""
        if not name or name == self.preferences.instructor:
            return
        prefs = replace(self.preferences, instructor=name)
        if self._prefs_dialog is not None and self._prefs_dialog.isVisible():
            self._prefs_dialog.set_instructor(name)
        self.apply_preferences(prefs)
