"""File handling of the main window: open (dialog, drop, paste, recent), copy and paste, save .ora,
save as, export, and the unsaved-changes prompt. Errors become one clear, non-blocking message."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

# The document model (numpy, Pillow) is imported where a file is opened or written, not with the
# window: the first frame is drawn before it loads (see MainWindow's staged start-up).

APP_NAME = "BrushEdit Studio"
MAX_RECENT = 10
OPEN_FILTER = "Images and projects (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.ora);;All files (*)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"


def recovery_save_path_source(info: dict):
    """The file recovered work came from: its photo (``source``) when it had one, else its project."""
    return info.get("source") or info.get("original") or None


class FileActionsMixin:
    """Mixed into :class:`~desktop.ui.main_window.MainWindow` (uses its ``settings``, ``document``,
    ``set_document``, ``show_error`` and ``recent_menu``)."""

    def open_path(self, path) -> bool:
        """Open a photo or .ora project; a clear message (non-blocking) when it cannot be opened."""
        if not self.maybe_save():
            return False
        from desktop.document import Document, DocumentError

        try:
            doc = Document.open(str(path))
        except (DocumentError, OSError, ValueError) as exc:
            self.show_error("Cannot open file", str(exc).splitlines()[0] if str(exc) else f"Cannot open {path}")
            return False
        self.set_document(doc)
        if self._autosaver is None or Path(path).resolve() != Path(self._autosaver.path).resolve():
            self._add_recent(str(Path(path).resolve()))
        self.statusBar().showMessage(f"Opened {Path(path).name}", 3000)
        return True

    def open_dialog(self) -> None:
        start = str(self.settings.value("files/last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open image or project", start, OPEN_FILTER)
        if path:
            self.settings.setValue("files/last_dir", str(Path(path).parent))
            self.open_path(path)

    def _clipboard_rgba(self):
        """The clipboard's image as ``h x w x 4`` uint8 RGBA, or None (with a message)."""
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self.statusBar().showMessage("The clipboard holds no image", 3000)
            return None
        import numpy as np

        from PySide6.QtGui import QImage

        img = image.convertToFormat(QImage.Format_RGBA8888)
        arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
        return arr[:, : img.width() * 4].reshape(img.height(), img.width(), 4).copy()

    def paste_image(self) -> bool:
        """Ctrl+V: the clipboard's image as a new layer of the open document (where it was copied
        from when it came from here, else centred), or as a new document when none is open."""
        if self.document is None:
            return self.paste_as_new_image()
        arr = self._clipboard_rgba()
        if arr is None:
            return False
        import numpy as np

        from desktop.document import RasterLayer

        doc = self.document
        copied = getattr(self, "_last_copy", None)
        if copied is not None and copied[0].shape == arr.shape and np.array_equal(copied[0], arr):
            offset = copied[1]  # paste in place, like Photoshop after copying a selection
        else:
            offset = ((doc.width - arr.shape[1]) // 2, (doc.height - arr.shape[0]) // 2)
        doc.add_layer(RasterLayer(arr, name="Pasted", offset=offset))
        self.statusBar().showMessage(f"Pasted as a new layer ({arr.shape[1]} × {arr.shape[0]} px)", 3000)
        return True

    def paste_as_new_image(self) -> bool:
        """Open the clipboard's image as a new, untitled document."""
        arr = self._clipboard_rgba()
        if arr is None or not self.maybe_save():
            return False
        from desktop.document import Document

        self.set_document(Document.from_array(arr))
        return True

    def copy_image(self, merged: bool = False) -> bool:
        """Ctrl+C: the selected layer (``merged``: the picture) inside the mask, or whole without
        one, to the clipboard, with the mask as transparency."""
        doc = self.document
        if doc is None:
            return False
        layer = None if merged else self.active_layer()
        if not merged and layer is None:
            return False
        got = doc.copy_pixels(layer)
        if got is None:
            self.statusBar().showMessage("Nothing to copy: the mask covers no visible pixels of "
                                         + ("the picture" if merged else f"“{layer.name}”"), 4000)
            return False
        from desktop.ui.canvas.tile_cache import array_to_qimage

        pixels, offset = got
        QGuiApplication.clipboard().setImage(array_to_qimage(pixels))
        self._last_copy = (pixels, offset)
        what = "the picture" if merged else f"“{layer.name}”"
        self.statusBar().showMessage(f"Copied {pixels.shape[1]} × {pixels.shape[0]} px of {what}", 3000)
        return True

    def close_document(self) -> bool:
        if not self.maybe_save():
            return False
        self.set_document(None)
        return True

    def save(self) -> bool:
        doc = self.document
        if doc is None:
            return False
        if doc.path and str(doc.path).lower().endswith(".ora") and not self.is_unsaved_recovery():
            return self._write_project(doc.path)
        return self.save_as()

    def save_as(self, path=None) -> bool:
        doc = self.document
        if doc is None:
            return False
        if path is None:
            stem = self._suggested_path(".ora")
            path, _ = QFileDialog.getSaveFileName(self, "Save project", str(stem), "OpenRaster project (*.ora)")
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() != ".ora":
            path = path.with_suffix(".ora")
        return self._write_project(path)

    def _write_project(self, path) -> bool:
        from desktop.document import DocumentError

        try:
            self.document.save(str(path))
        except (DocumentError, OSError, ValueError) as exc:
            self.show_error("Cannot save project", str(exc))
            return False
        self._recovered = None  # the recovered work now lives in a project of the user's
        self._add_recent(str(Path(path).resolve()))
        self._update_title()
        self.statusBar().showMessage(f"Saved {Path(path).name}", 3000)
        if self._autosaver is not None and hasattr(self._autosaver, "clear"):
            self._autosaver.clear()
        return True

    def _suggested_path(self, suffix: str) -> Path:
        doc = self.document
        if self.is_unsaved_recovery():  # the autosave knows whose work it was
            from desktop.ui.autosave import recovery_save_path

            src = recovery_save_path(getattr(self, "_recovered_info", None) or {})
        else:
            src = doc.path or getattr(doc, "source_path", None)
        if src:
            return Path(src).with_suffix(suffix)
        return Path(str(self.settings.value("files/last_dir", Path.home()))) / f"Untitled{suffix}"

    def _suggested_export_path(self) -> Path:
        """Where Export proposes to write: ``NAME-edited.png`` beside the project or photo, every time
        (a project saved as ``NAME.ora`` beside ``NAME.png`` once led Export to suggest the photo
        itself), and never the open project or the photo it came from."""
        base = self._suggested_path(".png")
        doc = self.document
        own = {_resolved(p) for p in (getattr(doc, "path", None), getattr(doc, "source_path", None)) if p}
        if self.is_unsaved_recovery():
            own.add(_resolved(recovery_save_path_source(getattr(self, "_recovered_info", None) or {})))
        stem = base.stem
        if stem.endswith("-edited"):
            stem = stem[: -len("-edited")]
        path, n = base.with_name(f"{stem}-edited.png"), 2
        while _resolved(path) in own:
            path, n = base.with_name(f"{stem}-edited-{n}.png"), n + 1
        return path

    def ask_overwrite(self, path) -> bool:
        """Ask before writing over ``path``, an existing file the file dialog did not ask about."""
        answer = QMessageBox.question(self, "Export image", f"{Path(path).name} already exists. Replace it?",
                                      QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Yes

    def export(self, path=None, quality: int | None = None, lossless: bool = False) -> bool:
        """Export the flattened image as PNG, JPEG or WebP (by the file's extension). Chosen in
        the file dialog, a JPEG or WebP asks its quality first (non-blocking); given a path, it
        uses ``quality`` or the last one used."""
        doc = self.document
        if doc is None:
            return False
        asked = path is None
        if path is None:
            base = self._suggested_export_path()
            # Qt's dialog asks before it returns an existing file (no DontConfirmOverwrite here).
            path, _ = QFileDialog.getSaveFileName(self, "Export image", str(base), EXPORT_FILTER)
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            chosen, path = path, path.with_suffix(".png")
            # The dialog checked the name typed ("chelsea"), not the one written ("chelsea.png").
            if asked and path.exists() and path != chosen and not self.ask_overwrite(path):
                return False
        if asked and quality is None and path.suffix.lower() in (".jpg", ".jpeg", ".webp"):
            self.ask_export_options(path)
            return True
        if quality is None:
            quality = self.export_quality()
        from desktop.document import DocumentError

        try:
            doc.export(str(path), quality=int(quality), lossless=bool(lossless))
        except (DocumentError, OSError, ValueError) as exc:
            self.show_error("Cannot export", str(exc))
            return False
        self.statusBar().showMessage(f"Exported {path.name}", 3000)
        return True

    def ask_unsaved(self) -> str:
        """Ask what to do with unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
        box = QMessageBox(QMessageBox.Warning, APP_NAME, "The image has unsaved changes.", parent=self)
        box.setInformativeText("Save them as a project before closing?")
        box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def open_recovery(self, path) -> bool:
        """Open an autosave left by a crash; it counts as unsaved until saved as a project (Save
        proposes the project or photo it came from)."""
        from desktop.ui.autosave import Autosaver

        info = Autosaver.recovery_info(Path(path).parent)
        if not self.open_path(path):
            return False
        self._recovered = self.document
        self._recovered_info = info
        self._update_title()
        return True

    def is_unsaved_recovery(self) -> bool:
        doc = self.document
        return doc is not None and doc is getattr(self, "_recovered", None)

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded or clean)."""
        doc = self.document
        if doc is None or not (doc.dirty or self.is_unsaved_recovery()):
            return True
        choice = self.ask_unsaved()
        if choice == "save":
            return self.save()
        return choice == "discard"

    # --- drag and drop (a photo or project dropped on the window opens) --------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.ensure_built()  # dropped before a staged window's body exists
            self.open_path(files[0])

    # --- recent files ---------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        recent.insert(0, path)
        self.settings.setValue("files/recent", recent[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.recent_files()
        for i, path in enumerate(recent):
            act = menu.addAction(f"&{(i + 1) % 10}  {Path(path).name}")
            act.setToolTip(path)
            act.setEnabled(Path(path).exists())
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear list", lambda: (self.settings.setValue("files/recent", []), self._rebuild_recent_menu()))
        menu.setEnabled(bool(recent))


def _resolved(path) -> Path | None:
    """``path`` made absolute (links followed) for comparing files, or None."""
    if not path:
        return None
    try:
        return Path(str(path)).expanduser().resolve()
    except OSError:
        return Path(str(path)).absolute()
