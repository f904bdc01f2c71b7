"""The Layer menu's window side, and the Layers panel's requests: erase or keep the masked area,
flatten, a layer's pixels as the mask, an edit re-run with a new seed or prompt, its mask shown.
Mixed into the main window (uses its ``document``, ``actions``, ``layers_panel``, ``controller`` and
``statusBar``); what the panel does alone (duplicate, delete, move, merge down) stays the panel's."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit

# Which ability of the selected layer (LayersPanel.abilities) each action needs.
LAYER_ABILITIES = (("duplicate_layer", "duplicate"), ("delete_layer", "delete"), ("raise_layer", "up"),
                   ("lower_layer", "down"), ("erase_masked", "selected"), ("keep_masked", "selected"),
                   ("mask_from_layer", "selected"), ("merge_down", "merge_down"), ("flatten", "flatten"),
                   ("layer_new_seed", "new_seed"), ("layer_new_prompt", "new_prompt"),
                   ("layer_show_mask", "show_mask"))


class LayerActionsMixin:
    def _update_layer_actions(self, layer) -> None:
        """Grey out what the selected layer cannot do (the mask is checked when run: cheaper than
        watching every brush dab)."""
        can = self.layers_panel.abilities(layer)
        for action, ability in LAYER_ABILITIES:
            self.actions[action].setEnabled(can[ability])

    def erase_masked(self, keep: bool = False) -> None:
        """Erase the masked area from the selected layer (``keep``: erase everything else)."""
        doc, layer = self.document, self.active_layer()
        if doc is None or layer is None:
            return
        if not doc.mask.any():
            self.statusBar().showMessage("Paint or select a mask first: it marks the area to "
                                         + ("keep" if keep else "erase"), 5000)
            return
        if doc.erase_masked(layer, keep=keep):
            done = "Kept only the masked area of" if keep else "Erased the masked area from"
            message = f"{done} “{layer.name}” (Ctrl+Z undoes)"
        else:
            why = "covers all of" if keep else "does not cover"
            message = f"Nothing changed: the mask {why} “{layer.name}”"
        self.statusBar().showMessage(message, 5000)

    def flatten_image(self) -> None:
        if self.document is not None and len(self.document.layers) > 1:
            self.document.flatten_image()  # the panel's refresh selects the new layer

    def mask_from_layer_pixels(self, layer=None) -> None:
        """The selected layer's pixels (their alpha) become the mask (Ctrl+click a thumbnail)."""
        layer = layer if layer is not None else self.active_layer()
        if self.document is not None and layer is not None:
            self.document.mask_from_layer(layer, alpha=True)

    # --- an edit layer's requests -------------------------------------------------------------
    def rerun_with_new_seed(self, layer) -> None:
        import random

        self.controller.rerun_layer(layer, seed=random.randrange(2**31))

    def rerun_with_new_prompt(self, layer) -> None:
        prov = getattr(layer, "provenance", None)
        old = (getattr(prov, "caption", "") or getattr(prov, "prompt", "")
               or getattr(prov, "instruction", "") or "")
        dialog = QInputDialog(self)
        title = "Re-run with changed prompt"
        dialog.setWindowTitle(title)
        dialog.setLabelText(f"New prompt for “{layer.name}”:")
        dialog.setTextValue(old)
        # Wide enough for the title (window managers cut it short otherwise) and a real prompt;
        # on its field, since QInputDialog's layout resets the dialog's own minimum when shown.
        field = dialog.findChild(QLineEdit)
        if field is not None:
            field.setMinimumWidth(max(440, dialog.fontMetrics().horizontalAdvance(title) + 160))
        dialog.setModal(False)
        dialog.textValueSelected.connect(lambda text: text.strip() and self.controller.rerun_layer(layer, prompt=text.strip()))
        dialog.open()
        self._prompt_dialog = dialog

    def show_layer_mask(self, layer) -> None:
        if self.document is not None and getattr(layer, "mask", None) is not None:
            self.document.mask_from_layer(layer)
