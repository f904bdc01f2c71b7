"""Which models the engine has, as the window shows it: the SAM tool greyed out with a reason, the
first-run banner, the Models dialog and its "Use a file I already have".

Asked of the engine that runs the edits: this computer's disk for a local engine, a studio
server's own disk for a remote one. Mixed into the main window (uses its ``client``,
``preferences``, ``settings``, ``actions``, ``tools`` and ``banner``).
"""

from __future__ import annotations

from desktop.ui.lazy_engine import model_entries, model_path_status


def is_local(client: object) -> bool:
    """Whether ``client`` drives an engine in this process (not a studio server), also before its
    engine started (a server chosen in Preferences is asked from then on)."""
    if getattr(client, "remote", False) is True:
        return False
    return not hasattr(getattr(client, "service", None), "client_id")


class ModelStatusMixin:
    def sam_status(self):
        """Whether click-to-select can run: the SAM checkpoint of the preferences or found on disk
        (a studio server's: found on the server's disk, where its engine looks)."""
        if not is_local(self.client):
            return self.client.model_path_status("sam", "")
        return model_path_status("sam", self.preferences.model_paths.get("sam", ""))

    def model_path_status(self, kind: str, path: str = ""):
        """A model path check by the engine that runs the edits: this computer's, or a studio
        server's about its own disk (Preferences ▸ Models and the Models dialog ask here)."""
        if not is_local(self.client):
            return self.client.model_path_status(kind, path)
        return model_path_status(kind, path)

    def update_sam_tool(self) -> None:
        """Grey out the SAM tool with a one-line reason when no SAM checkpoint is usable."""
        action = self.actions["sam"]
        try:
            status = self.sam_status()
            usable, reason = bool(status.usable), str(status.text)
        except Exception as exc:  # an unreadable models folder: say so, keep the editor going
            usable, reason = False, f"cannot check the SAM checkpoint ({exc})"
        action.setEnabled(usable)
        if usable:
            action.setToolTip("SAM select (S)")
            action.setStatusTip("")
        else:
            line = f"SAM select (S) — unavailable: {reason[:1].lower() + reason[1:]}"
            action.setToolTip(line)
            action.setStatusTip(line)
            if self.current_tool() is self.tools["sam"]:
                self.set_tool("brush")

    def _check_models(self) -> None:
        """First run: with no weights installed, explain what each feature needs."""
        if self._own_client or not is_local(self.client):
            self.update_sam_tool()
        try:
            entries = self._model_entries(None)
        except Exception:  # an unreadable models folder must not stop the editor from opening
            return
        dismissed = self.settings.value("first_run/dismissed", False, type=bool)
        if entries and not any(e.installed for e in entries) and not dismissed:
            self.banner.show()

    def dismiss_banner(self) -> None:
        """Hide the first-run notice for good (a missing-models failure still brings it back)."""
        self.banner.hide()
        self.settings.setValue("first_run/dismissed", True)

    def show_models_dialog(self) -> None:
        from desktop.ui.dialogs.models_dialog import ModelsDialog  # imported when first opened

        dirs = self.preferences.model_dirs() or None
        # "Use a file I already have" sets this computer's Preferences path, which a studio
        # server does not read (it runs with its own model options): offered for local engines only.
        local = is_local(self.client)
        self._models_dialog = ModelsDialog(self.client, self, entries=lambda: self._model_entries(dirs),
                                          on_model_path=self.use_model_path if local else None,
                                          status_fn=self.model_path_status)
        self._models_dialog.setModal(False)
        if self._own_client or not local:
            self._models_dialog.finished.connect(lambda _r: self.update_sam_tool())
        self._models_dialog.show()

    def _model_entries(self, dirs: object) -> list:
        """The manifest as the engine sees it: a studio server reports its own disk."""
        if getattr(self.client, "model_entries", None) is not None and not is_local(self.client):
            return self.client.model_entries()
        return model_entries(dirs) if dirs else model_entries()

    # --- the Models dialog's "Use a file I already have" ---------------------------------------
    def use_model_path(self, kind: str, path: str) -> None:
        """Keep ``path`` as the model of ``kind`` (what Preferences ▸ Models sets), and apply."""
        from dataclasses import replace

        paths = dict(self.preferences.model_paths)
        paths[kind] = str(path)
        self.apply_preferences(replace(self.preferences, model_paths=paths))
        if kind == "sam" and getattr(self, "_own_client", False):
            self.update_sam_tool()
