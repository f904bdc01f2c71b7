"""File ▸ New, Layer ▸ New empty layer and the Image menu (resize, rotate, flip, expand canvas,
crop to mask), plus the export-quality question. Mixed into the main window; every dialog is
opened with ``open()``, so nothing blocks, and every change is one undo step of the document."""

from __future__ import annotations

# numpy and the document model are imported in the operations, not with the window (its first
# frame is drawn before they load).

# The actions that need an open document (greyed out without one).
IMAGE_ACTIONS = ("new_layer", "resize_image", "rotate_cw", "rotate_ccw", "rotate_180", "flip_h", "flip_v")


class ImageActionsMixin:
    """Uses the window's ``document``, ``settings``, ``set_document``, ``maybe_save``,
    ``layers_panel``, ``show_error`` and ``statusBar``."""

    # --- File ▸ New ------------------------------------------------------------------------
    def new_image_dialog(self) -> None:
        from desktop.document.document import MAX_SIDE
        from desktop.ui.dialogs.image_dialogs import NewImageDialog

        w = int(self.settings.value("new/width", 1920) or 1920)
        h = int(self.settings.value("new/height", 1080) or 1080)
        dialog = NewImageDialog(MAX_SIDE, self, w, h)
        dialog.accepted.connect(lambda: self.new_image(**dialog.values()))
        dialog.open()
        self._new_dialog = dialog

    def new_image(self, width: int, height: int, background=(255, 255, 255, 255)) -> bool:
        """A blank document (after the unsaved-changes question for the open one)."""
        if not self.maybe_save():
            return False
        import numpy as np

        from desktop.document import Document, DocumentError

        try:
            doc = Document.new(width, height, background)
            if background is None:  # transparent: still one layer to paint on, and no undo step
                doc = Document.from_array(np.zeros((doc.height, doc.width, 4), np.uint8), name="Layer 1")
        except DocumentError as e:
            self.show_error("Cannot make the image", str(e))
            return False
        self.settings.setValue("new/width", int(width))
        self.settings.setValue("new/height", int(height))
        self.set_document(doc)
        self.statusBar().showMessage(f"New image, {width} × {height} px", 3000)
        return True

    # --- Layer ▸ New empty layer -----------------------------------------------------------
    def new_empty_layer(self):
        """A transparent full-canvas layer just above the selected one (on top without one)."""
        doc = self.document
        if doc is None:
            return None
        current = self.active_layer()
        layers = doc.layers
        index = layers.index(current) + 1 if current in layers else len(layers)
        names = {layer.name for layer in layers}
        n = 1
        while f"Layer {n}" in names:
            n += 1
        import numpy as np

        from desktop.document.layers import RasterLayer

        layer = RasterLayer(np.zeros((doc.height, doc.width, 4), np.uint8), name=f"Layer {n}")
        doc.add_layer(layer, index)
        self.layers_panel.refresh()
        self.layers_panel.select_layer(layer)
        return layer

    # --- Image menu ------------------------------------------------------------------------
    def _image_op(self, title: str, op) -> None:
        if self.document is None:
            return
        from desktop.document import DocumentError

        try:
            op(self.document)
        except DocumentError as e:
            self.show_error(title, str(e))
            return
        self.canvas.fit()

    def rotate_image(self, degrees: int) -> None:
        self._image_op("Cannot rotate", lambda d: d.rotate(degrees))

    def flip_image(self, horizontal: bool) -> None:
        self._image_op("Cannot flip", lambda d: d.flip(horizontal))

    def resize_image_dialog(self) -> None:
        if self.document is None:
            return
        from desktop.document.document import MAX_SIDE
        from desktop.ui.dialogs.image_dialogs import ResizeImageDialog

        dialog = ResizeImageDialog(self.document.width, self.document.height, MAX_SIDE, self)
        dialog.accepted.connect(lambda: self.resize_image(**dialog.values()))
        dialog.open()
        self._resize_dialog = dialog

    def resize_image(self, width: int, height: int, resample: str = "lanczos") -> None:
        self._image_op("Cannot resize", lambda d: d.resize_image(width, height, resample))
        if self.document is not None:
            self.size_label.setText(f"{self.document.width} × {self.document.height} px")

    def expand_canvas_dialog(self) -> None:
        """Ask how much to add on each side (non-blocking), then expand in one undo step."""
        if self.document is None:
            return
        from desktop.document.document import MAX_SIDE
        from desktop.ui.dialogs.canvas_dialog import ExpandCanvasDialog

        dialog = ExpandCanvasDialog(self.document.width, self.document.height, MAX_SIDE, self)
        dialog.accepted.connect(lambda: self.expand_canvas(**dialog.values(),
                                                           mask_new_area=dialog.mask_new.isChecked()))
        dialog.open()
        self._canvas_dialog = dialog

    def expand_canvas(self, left=0, top=0, right=0, bottom=0, mask_new_area=True) -> None:
        if self.document is None:
            return
        from desktop.document import DocumentError

        try:
            self.document.expand_canvas(left, top, right, bottom, mask_new_area=mask_new_area)
        except DocumentError as e:
            self.show_error("Cannot expand the canvas", str(e))
            return
        if mask_new_area:
            self.statusBar().showMessage("The new area is masked: Run fills it (or describe what it "
                                         "should show first)", 8000)

    def crop_to_mask(self) -> None:
        if self.document is None:
            return
        from desktop.document import DocumentError

        try:
            self.document.crop_to_mask()
        except DocumentError as e:
            self.statusBar().showMessage(str(e).capitalize(), 5000)

    # --- export quality --------------------------------------------------------------------
    def export_quality(self) -> int:
        try:
            return min(100, max(1, int(self.settings.value("export/quality", 92))))
        except (TypeError, ValueError):
            return 92

    def ask_export_options(self, path) -> None:
        """Quality (and WebP lossless) for ``path``, then the export; non-blocking."""
        from desktop.ui.dialogs.image_dialogs import ExportOptionsDialog

        fmt = "WebP" if str(path).lower().endswith(".webp") else "JPEG"
        lossless = str(self.settings.value("export/webp_lossless", "false")).lower() == "true"
        dialog = ExportOptionsDialog(fmt, self.export_quality(), lossless, self)

        def done() -> None:
            v = dialog.values()
            self.settings.setValue("export/quality", v["quality"])
            if fmt == "WebP":
                self.settings.setValue("export/webp_lossless", "true" if v["lossless"] else "false")
            self.export(path, quality=v["quality"], lossless=v["lossless"])

        dialog.accepted.connect(done)
        dialog.open()
        self._export_dialog = dialog

    # --- the Generate bar beside the mask ----------------------------------------------------
    def _build_generate_bar(self) -> None:
        from desktop.ui.canvas.generate_bar import GenerateBar

        self.generate_bar = GenerateBar(self.canvas, self.generate_from_bar)

    def generate_from_bar(self, prompt: str) -> None:
        """Run from the canvas's Generate bar: the prompt goes through the Instruction panel's Run
        (the same history, parsing and parameters as typing it there)."""
        panel = self.instruction_panel
        panel.instruction.setPlainText(prompt)
        panel.run()
