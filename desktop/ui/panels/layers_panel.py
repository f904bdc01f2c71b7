"""The Layers panel: thumbnails, visibility, opacity, rename, reorder, delete, duplicate.

Top of the list = top of the stack. Layers reorder with the up/down buttons or by dragging a row
(each drop is one ``Document.move_layer``; the list is then rebuilt from the document). Edit layers
(made by the engine) carry their provenance in a tooltip and in the inspector line under the list,
and offer re-run with a new seed, re-run with a changed prompt and "show its mask" (signals the
window wires to the edit controller / document). An edit layer kept from several candidates shows
them as variations under the list: a click makes the layer show that one (one undo step).

The selected row is the document's active layer (:attr:`Document.active_layer`), both ways:
selecting a row makes its layer active, and the document's change of it (a new layer, a delete,
an undo) selects that layer's row. What the buttons allow and the provenance text come from
:mod:`desktop.document.layer_info`; the list itself is :class:`~.layer_tree.LayerTree`.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.document.blend_modes import BLEND_MODES, TITLES
from desktop.document.layer_info import abilities, is_edit_layer, provenance_text  # noqa: F401 (old home)

BLEND_VISIBLE_ITEMS = 8  # rows the blend-mode list shows before it scrolls
from desktop.ui.canvas.tile_cache import array_to_qimage
from desktop.ui.icons import icon
from desktop.ui.panels.layer_tree import LAYER_ROW_MIME, LayerTree  # noqa: F401 (old home)
from desktop.ui.theme import THUMBNAIL_CHOICES_QSS

THUMB = QSize(48, 36)
VARIATION_THUMB = QSize(56, 42)


def thumbnail(layer, size: QSize = THUMB) -> QIcon:
    """A small RGBA thumbnail of ``layer``'s pixels (or a variant's) on a checkerboard."""
    px = np.asarray(layer.pixels)
    h, w = px.shape[:2]
    s = min(size.width() / w, size.height() / h)
    tw, th = max(1, int(w * s)), max(1, int(h * s))
    small = cv2.resize(np.ascontiguousarray(px), (tw, th), interpolation=cv2.INTER_AREA)
    if small.ndim == 3 and small.shape[2] == 4:
        yy, xx = np.mgrid[0:th, 0:tw]
        checker = np.where(((yy // 4 + xx // 4) % 2)[..., None] == 0, 90, 60).astype(np.float32)
        a = small[..., 3:4].astype(np.float32) / 255
        small = (small[..., :3] * a + checker * (1 - a)).astype(np.uint8)
    return QIcon(QPixmap.fromImage(array_to_qimage(small)))


class LayersPanel(QWidget):
    rerun_seed_requested = Signal(object)
    rerun_prompt_requested = Signal(object)
    show_mask_requested = Signal(object)
    mask_from_pixels_requested = Signal(object)  # Ctrl+click on a row: its pixels become the mask
    current_changed = Signal(object)  # the selected layer (or None) after any change of it or the stack

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.document = None
        self._refreshing = False
        self.tree = LayerTree()
        self.tree.setObjectName("layersTree")
        self.tree.setToolTip("Drag a layer up or down to reorder it; Ctrl+click one to mask its pixels")
        self.tree.row_dropped.connect(self._on_row_dropped)
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(THUMB)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Fixed)
        self.tree.setColumnWidth(0, 30)
        self.tree.setMinimumHeight(2 * (THUMB.height() + 8))  # at least two rows stay in view
        self._eyes: dict[bool, QIcon] = {}
        self._thumbs: dict[int, tuple] = {}  # id(layer) -> (layer, its pixels, icon)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemClicked.connect(self._on_item_clicked)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.currentItemChanged.connect(self._on_row_selected)
        # Del / Backspace in the list deletes the selected layer (Photoshop, Krita); a key filter,
        # not a window shortcut, so it never fires while a text field elsewhere has focus.
        self.tree.installEventFilter(self)
        self.tree.viewport().installEventFilter(self)  # Ctrl+click, before the selection sees it

        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the selected layer")
        self.opacity_label = QLabel("100 %")
        self.opacity_label.setMinimumWidth(40)
        self.opacity.valueChanged.connect(lambda v: self.opacity_label.setText(f"{v} %"))
        self.opacity.sliderReleased.connect(self._commit_opacity)
        self.opacity.valueChanged.connect(lambda _v: None if self.opacity.isSliderDown() else self._commit_opacity())

        # Blend mode of the selected layer (the OpenRaster set Krita reads back); one undo step.
        self.blend = QComboBox()
        self.blend.setObjectName("layerBlendMode")
        self.blend.setToolTip("Blend mode of the selected layer: how it mixes with the layers below")
        for mode in BLEND_MODES:
            self.blend.addItem(TITLES[mode], mode)
        # Eight rows at most: all twelve ran to the bottom of a laptop screen. Fusion's popup
        # sits over the combo and ignores the limit; the list-view popup keeps it (and scrolls).
        self.blend.setMaxVisibleItems(BLEND_VISIBLE_ITEMS)
        self.blend.setStyleSheet("QComboBox { combobox-popup: 0; }")
        self.blend.activated.connect(self._commit_blend_mode)

        self.inspector = QLabel()
        self.inspector.setWordWrap(True)
        self.inspector.setTextFormat(Qt.RichText)
        self.inspector.setStyleSheet("color: #b8b8bc; padding: 2px;")

        self.variation_buttons: list[QToolButton] = []
        self._variations_of = None  # (layer, its variants) the buttons show
        self.variation_group = QButtonGroup(self)
        self.variation_group.setExclusive(True)
        self.variations_row = QHBoxLayout()
        self.variations_row.setContentsMargins(0, 0, 0, 0)
        self.variations_row.addStretch(1)
        row_widget = QWidget()
        row_widget.setLayout(self.variations_row)
        row_widget.setStyleSheet(THUMBNAIL_CHOICES_QSS)
        self.variations = QScrollArea()
        self.variations.setObjectName("layerVariations")
        self.variations.setWidgetResizable(True)
        self.variations.setWidget(row_widget)
        self.variations.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.variations.style().pixelMetric(self.variations.style().PixelMetric.PM_ScrollBarExtent)
        self.variations.setFixedHeight(VARIATION_THUMB.height() + self.fontMetrics().height() + 16 + bar)
        self.variations_label = QLabel("Variations — click one to use it instead")
        self.variations_label.setStyleSheet("color: #b8b8bc; padding: 2px;")
        self.variations.setVisible(False)
        self.variations_label.setVisible(False)

        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setSpacing(2)
        for name, tip, slot in (
            ("up", "Move layer up (Ctrl+]) — or drag it in the list", lambda: self.move_current(+1)),
            ("down", "Move layer down (Ctrl+[) — or drag it in the list", lambda: self.move_current(-1)),
            ("duplicate", "Duplicate layer (Ctrl+J)", self.duplicate_current),
            ("delete", "Delete layer (Del) — deleting an edit layer reverts the edit", self.delete_current),
            ("new_seed", "Re-run with a new seed — adds a variation, the current look stays one click away",
             lambda: self._emit(self.rerun_seed_requested)),
            ("new_prompt", "Re-run with a changed prompt", lambda: self._emit(self.rerun_prompt_requested)),
            ("show_mask", "Show its mask", lambda: self._emit(self.show_mask_requested)),
        ):
            b = QToolButton()
            b.setIcon(icon(name))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            self.buttons[name] = b
            row.addWidget(b)
        row.addStretch(1)

        opacity_row = QHBoxLayout()
        opacity_row.addWidget(self.blend)
        opacity_row.addWidget(QLabel("Opacity"))
        opacity_row.addWidget(self.opacity, 1)
        opacity_row.addWidget(self.opacity_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(opacity_row)
        layout.addWidget(self.tree, 1)
        # The layer's info scrolls in a box of its own (up to five lines): a long provenance never
        # squeezes the list, whose last row it was drawn over.
        self.inspector_box = QScrollArea()
        self.inspector_box.setObjectName("layerInspector")
        self.inspector_box.setWidgetResizable(True)
        self.inspector_box.setFrameShape(QFrame.NoFrame)
        self.inspector_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inspector_box.setWidget(self.inspector)
        # Three lines, then it scrolls: on a laptop screen the list above keeps three rows (it had two).
        # Whole lines and the label's 2 px padding above and below: 3 lines + 8 showed a sliver of a
        # fourth line, the text cut mid-line.
        self.inspector_box.setMaximumHeight(3 * self.fontMetrics().lineSpacing() + 4)
        self.inspector_box.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 4)  # two whole lines
        self.inspector_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(self.inspector_box)
        layout.addWidget(self.variations_label)
        layout.addWidget(self.variations)
        layout.addLayout(row)
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.refresh()

    # --- document -------------------------------------------------------------------------
    def set_document(self, doc) -> None:
        if self.document is not None:  # a no-op if not connected
            self.document.events.disconnect(self._on_document_event)
            self.document.active_events.disconnect(self._on_active_changed)
        self.document = doc
        if doc is not None:
            doc.events.connect(self._on_document_event)
            doc.active_events.connect(self._on_active_changed)
        self.refresh()

    def _on_document_event(self, event) -> None:
        if event.kind in ("layers", "pixels"):
            self._refresh_timer.start()  # coalesce bursts of events into one refresh

    def _on_active_changed(self, _event=None) -> None:
        """The document's active layer changed (after a step, or set by anyone): select its row.

        When the rows are not the document's yet (a step that added or removed layers), the
        buttons, opacity, blend mode and the window's Layer menu (``current_changed``) follow at
        once, so nothing offers what the active layer cannot do; the rows, the inspector and the
        variations wait for the one refresh on the next loop turn, as before (showing the
        inspector inside the step, with the candidate strip still up, left the window's minimum
        height too tall: ``test_window_fit``)."""
        layer = self.current_layer()
        item = next((i for i in self.layer_items() if i.data(0, Qt.UserRole) is layer), None)
        if item is None or self._refresh_timer.isActive():
            self._refresh_timer.start()
            self._update_controls(layout=False)
        elif self.tree.currentItem() is not item:
            self.tree.setCurrentItem(item)

    def _on_row_selected(self, item, _previous=None) -> None:
        """A row was selected (a click, the keyboard, a drag's press): its layer becomes active."""
        if not self._refreshing and item is not None and self.document is not None:
            layer = item.data(0, Qt.UserRole)
            if any(layer is other for other in self.document.layers):  # not a row of a removed layer
                self.document.set_active_layer(layer)
        self._update_controls()

    def _eye(self, visible: bool) -> QIcon:
        """The eye icon padded to a narrow cell (the tree's icon size is the thumbnails')."""
        if visible not in self._eyes:
            from PySide6.QtGui import QPainter

            canvas = QPixmap(22, THUMB.height())
            canvas.fill(Qt.transparent)
            p = QPainter(canvas)
            p.drawPixmap(2, (THUMB.height() - 18) // 2, icon("visible" if visible else "hidden").pixmap(18, 18))
            p.end()
            self._eyes[visible] = QIcon(canvas)
        return self._eyes[visible]

    def layer_items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]

    def refresh(self) -> None:
        doc = self.document
        current = self.current_layer()
        self._refreshing = True
        self.tree.clear()
        if doc is not None:
            for layer in reversed(list(doc.layers)):
                item = QTreeWidgetItem()
                item.setData(0, Qt.UserRole, layer)
                item.setIcon(0, self._eye(layer.visible))
                item.setToolTip(0, "Show / hide (hiding an edit layer reverts it)")
                item.setText(1, str(layer.name))
                item.setIcon(1, self._thumbnail(layer))
                # Draggable, but never a drop target: the list is flat (see LayerTree).
                item.setFlags((item.flags() | Qt.ItemIsEditable | Qt.ItemIsDragEnabled) & ~Qt.ItemIsDropEnabled)
                tip = provenance_text(layer)
                item.setToolTip(1, tip or f"{layer.name} — double-click to rename")
                if not layer.visible:
                    item.setForeground(1, self.palette().placeholderText())
                self.tree.addTopLevelItem(item)
                if layer is current:
                    self.tree.setCurrentItem(item)
        self._refreshing = False
        alive = {id(layer) for layer in (doc.layers if doc is not None else [])}
        self._thumbs = {k: v for k, v in self._thumbs.items() if k in alive}
        self._update_controls()

    def _thumbnail(self, layer) -> QIcon:
        """``thumbnail(layer)``, cached while the layer keeps the same pixel array: a refresh runs on
        every change (a move, an opacity drag) and scaling a 24 MP photo down takes tens of ms."""
        cached = self._thumbs.get(id(layer))
        if cached is not None and cached[0] is layer and cached[1] is layer.pixels:
            return cached[2]
        icon_ = thumbnail(layer)
        self._thumbs[id(layer)] = (layer, layer.pixels, icon_)
        return icon_

    def current_layer(self):
        """The selected layer: the document's active layer (None without a document)."""
        return self.document.active_layer if self.document is not None else None

    def select_layer(self, layer) -> None:
        """Make ``layer`` the document's active layer (its row follows); ignored for a layer the
        document does not hold."""
        if self.document is not None and any(layer is other for other in self.document.layers):
            self.document.set_active_layer(layer)

    def _update_controls(self, layout: bool = True) -> None:
        """The controls for the active layer; with ``layout`` False only what does not change the
        panel's layout (the inspector and the variations wait for the next refresh)."""
        layer = self.current_layer()
        has = layer is not None
        edit = has and is_edit_layer(layer)
        self.opacity.blockSignals(True)
        self.opacity.setValue(int(round(100 * layer.opacity)) if has else 100)
        self.opacity.blockSignals(False)
        self.opacity_label.setText(f"{self.opacity.value()} %")
        self.opacity.setEnabled(has)
        self.blend.setCurrentIndex(max(0, self.blend.findData(layer.blend_mode if has else "normal")))
        self.blend.setEnabled(has)
        can = self.abilities(layer)
        for name, button in self.buttons.items():
            button.setEnabled(can[name])
        if layout:
            # In a wrapping row, not a line per item: nine lines would squeeze the list to two rows.
            self.inspector.setText(provenance_text(layer, inline=True) if edit else "")
            self.inspector.setVisible(bool(edit))
            self.inspector_box.setVisible(bool(edit))
            self._show_variations(layer if edit else None)
        self.current_changed.emit(layer)

    def _show_variations(self, layer) -> None:
        """The variation thumbnails of ``layer`` (hidden unless it has two or more)."""
        variants = getattr(layer, "variants", ()) if layer is not None else ()
        shown = (layer, variants) if len(variants) > 1 else None
        old = self._variations_of
        # By identity: variants hold arrays, which == would compare element-wise.
        if not (shown is old or (shown and old and shown[0] is old[0] and shown[1] is old[1])):
            for b in self.variation_buttons:
                self.variation_group.removeButton(b)
                b.hide()
                self.variations_row.removeWidget(b)
                b.deleteLater()
            self.variation_buttons = []
            for i, v in enumerate(variants if shown else ()):
                b = QToolButton()
                b.setCheckable(True)
                b.setIcon(thumbnail(v, VARIATION_THUMB))
                b.setIconSize(VARIATION_THUMB)
                b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
                seed = getattr(v.provenance, "seed", None)
                b.setText(f"{i + 1}" if seed is None else f"seed {seed}")
                b.setToolTip(f"Variation {i + 1}{'' if seed is None else f', seed {seed}'}: "
                             "click to show it in this layer (Ctrl+Z goes back)")
                b.clicked.connect(lambda _=False, n=i: self.use_variant(n))
                self.variation_group.addButton(b)
                self.variations_row.insertWidget(self.variations_row.count() - 1, b)
                self.variation_buttons.append(b)
            self._variations_of = shown
        current = getattr(layer, "variant", None)
        for i, b in enumerate(self.variation_buttons):
            b.setChecked(i == current)
        if current is None and self.variation_buttons:
            # Showing none of them (re-run, erased): an exclusive group keeps its last check.
            self.variation_group.setExclusive(False)
            for b in self.variation_buttons:
                b.setChecked(False)
            self.variation_group.setExclusive(True)
        self.variations.setVisible(shown is not None)
        self.variations_label.setVisible(shown is not None)

    def use_variant(self, index: int) -> None:
        """Make the selected edit layer show its variation ``index`` (one undo step)."""
        layer = self.current_layer()
        if layer is None or self.document is None or not 0 <= index < len(getattr(layer, "variants", ())):
            return
        self.document.use_variant(layer, index)
        self._show_variations(layer)

    def abilities(self, layer) -> dict[str, bool]:
        """What ``layer`` can do now (:func:`desktop.document.layer_info.abilities`)."""
        return abilities(self.document, layer)

    def can_merge_down(self, layer=None) -> bool:
        """True when ``layer`` (default: the selected one) and the layer below it are both shown."""
        return self.abilities(self.current_layer() if layer is None else layer)["merge_down"]

    # --- actions --------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        if (obj is self.tree.viewport() and event.type() == QEvent.Type.MouseButtonPress
                and event.button() == Qt.MouseButton.LeftButton
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            item = self.tree.itemAt(event.position().toPoint())
            if item is not None and self.tree.columnAt(int(event.position().x())) == 1:
                self.mask_from_pixels_requested.emit(item.data(0, Qt.UserRole))
                return True  # Ctrl+click would otherwise deselect the row
        if (obj is self.tree and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
                and self.tree.state() != QAbstractItemView.State.EditingState):
            self.delete_current()
            return True
        return super().eventFilter(obj, event)

    def _on_item_clicked(self, item, column) -> None:
        if column == 0 and self.document is not None:
            layer = item.data(0, Qt.UserRole)
            self.document.set_layer_props(layer, visible=not layer.visible)

    def _on_item_changed(self, item, column) -> None:
        if self._refreshing or column != 1 or self.document is None:
            return
        layer = item.data(0, Qt.UserRole)
        name = item.text(1).strip()
        if name and name != layer.name:
            self.document.set_layer_props(layer, name=name)

    def rename(self, layer, name: str) -> None:
        self.document.set_layer_props(layer, name=name)

    def _commit_opacity(self) -> None:
        layer = self.current_layer()
        if layer is None or self.document is None:
            return
        value = self.opacity.value() / 100
        if abs(value - layer.opacity) > 1e-6:
            self.document.set_layer_props(layer, opacity=value)

    def _commit_blend_mode(self, _index: int = 0) -> None:
        layer = self.current_layer()
        mode = self.blend.currentData()
        if layer is not None and self.document is not None and mode and mode != layer.blend_mode:
            self.document.set_layer_props(layer, blend_mode=mode)

    def move_current(self, direction: int) -> None:
        """Move the selected layer one step up (+1) or down (-1) the stack."""
        layer = self.current_layer()
        if layer is None:
            return
        index = self.document.layers.index(layer) + direction
        if 0 <= index < len(self.document.layers):
            self.document.move_layer(layer, index)
            self.select_layer(layer)

    def _on_row_dropped(self, source_row: int, target_row: int) -> None:
        """A row dragged from ``source_row`` to end on ``target_row`` (0 = top): one move_layer."""
        if self.document is None or self._refresh_timer.isActive():
            return  # the rows may not match the document yet: do not guess
        items = self.layer_items()
        n = len(self.document.layers)
        if len(items) != n or not 0 <= source_row < n:
            return
        layer = items[source_row].data(0, Qt.UserRole)
        if self.document.layers[n - 1 - source_row] is not layer:
            return
        index = n - 1 - target_row  # row 0 is the top of the stack, the last document index
        if 0 <= index < n and index != self.document.index_of(layer):
            self.document.move_layer(layer, index)
        self.select_layer(layer)

    def duplicate_current(self) -> None:
        layer = self.current_layer()
        if layer is not None:
            self.document.duplicate_layer(layer)

    def delete_current(self) -> None:
        layer = self.current_layer()
        if layer is not None and len(self.document.layers) > 1:
            self.document.remove_layer(layer)

    def merge_down_current(self) -> None:
        """Merge the selected layer into the one below (one undo step); the refresh selects the
        result, the one layer it finds added."""
        layer = self.current_layer()
        if self.can_merge_down(layer):
            self.document.merge_down(layer)

    def _emit(self, signal) -> None:
        layer = self.current_layer()
        if layer is not None and is_edit_layer(layer):
            signal.emit(layer)

    def _context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        layer = item.data(0, Qt.UserRole)
        menu = QMenu(self)
        menu.addAction(icon("rename"), "Rename", lambda: self.tree.editItem(item, 1))
        menu.addAction(icon("hidden" if layer.visible else "visible"), "Hide" if layer.visible else "Show",
                       lambda: self.document.set_layer_props(layer, visible=not layer.visible))
        menu.addAction(icon("duplicate"), "Duplicate", self.duplicate_current)
        menu.addAction(icon("delete"), "Delete", self.delete_current).setEnabled(len(self.document.layers) > 1)
        menu.addAction(icon("merge_down"), "Merge down", self.merge_down_current).setEnabled(
            self.can_merge_down(layer))
        menu.addAction(icon("mask_from_layer"), "Mask from its pixels (Ctrl+click)",
                       lambda: self.mask_from_pixels_requested.emit(layer))
        if is_edit_layer(layer):
            menu.addSeparator()
            menu.addAction(icon("new_seed"), "Re-run with a new seed", lambda: self.rerun_seed_requested.emit(layer))
            menu.addAction(icon("new_prompt"), "Re-run with changed prompt…", lambda: self.rerun_prompt_requested.emit(layer))
            menu.addAction(icon("show_mask"), "Show its mask", lambda: self.show_mask_requested.emit(layer))
        menu.popup(self.tree.viewport().mapToGlobal(pos))
