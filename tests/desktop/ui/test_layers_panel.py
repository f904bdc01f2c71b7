"""The Layers panel on a real document: rows, thumbnails, visibility, opacity, rename, reorder,
duplicate, delete, provenance tooltip, and the edit-layer requests."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.document import Document, Provenance
from desktop.ui.panels.layers_panel import LayersPanel


@pytest.fixture
def setup(qtbot, photo_array):
    doc = Document.from_array(photo_array)
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_document(doc)
    green = np.full((60, 80, 3), (0, 255, 0), np.uint8)
    prov = Provenance(instruction="make the nose green", category="local", prompt="a green nose", seed=42,
                      engine="brushedit", model="brushnet-x")
    mask = np.full((60, 80), 255, np.uint8)
    layer = doc.add_edit(green, offset=(100, 100), provenance=prov, name="Green nose", mask=mask)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)
    return doc, panel, layer


def test_rows_are_top_first_with_thumbnails_and_provenance(setup):
    doc, panel, layer = setup
    top = panel.tree.topLevelItem(0)
    assert top.text(1) == "Green nose" and top.data(0, Qt.UserRole) is layer
    assert panel.current_layer() is layer  # a new edit layer becomes the selection
    assert not top.icon(1).isNull()
    tip = top.toolTip(1)
    assert "make the nose green" in tip and "42" in tip and "brushnet-x" in tip
    panel.select_layer(layer)
    assert "a green nose" in panel.inspector.text()
    assert panel.buttons["new_seed"].isEnabled()
    panel.select_layer(doc.layers[0])
    assert not panel.buttons["new_seed"].isEnabled() and panel.buttons["delete"].isEnabled()


def test_hiding_and_deleting_an_edit_layer_reverts_it(setup, qtbot):
    doc, panel, layer = setup
    assert tuple(doc.flatten()[120, 120][:3]) == (0, 255, 0)
    item = panel.tree.topLevelItem(0)
    panel._on_item_clicked(item, 0)  # the eye column
    assert not layer.visible
    assert tuple(doc.flatten()[120, 120][:3]) != (0, 255, 0)
    panel.select_layer(layer)
    panel.buttons["delete"].click()
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1)
    assert len(doc.layers) == 1
    doc.undo()
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)


def test_opacity_rename_reorder_duplicate(setup, qtbot):
    doc, panel, layer = setup
    panel.select_layer(layer)
    panel.opacity.setValue(40)
    assert layer.opacity == pytest.approx(0.4)
    item = panel.tree.topLevelItem(0)
    item.setText(1, "Nose")
    assert layer.name == "Nose"
    panel.select_layer(layer)
    panel.buttons["down"].click()
    assert doc.layers.index(layer) == 0
    qtbot.waitUntil(lambda: panel.tree.topLevelItem(1).data(0, Qt.UserRole) is layer)
    panel.select_layer(layer)
    panel.buttons["up"].click()
    assert doc.layers[-1] is layer
    panel.select_layer(layer)
    panel.buttons["duplicate"].click()
    assert len(doc.layers) == 3
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 3)


def test_edit_layer_requests_are_emitted(setup, qtbot):
    doc, panel, layer = setup
    panel.select_layer(layer)
    for name, signal in (("new_seed", panel.rerun_seed_requested), ("new_prompt", panel.rerun_prompt_requested),
                         ("show_mask", panel.show_mask_requested)):
        with qtbot.waitSignal(signal) as blocker:
            panel.buttons[name].click()
        assert blocker.args[0] is layer


def test_window_shows_an_edit_layers_mask_and_reruns_it(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    doc = w.document
    layer = doc.add_edit(np.zeros((30, 40, 3), np.uint8), offset=(10, 20), mask=np.full((30, 40), 255, np.uint8),
                         provenance=Provenance(prompt="a hat", seed=1))
    w.show_layer_mask(layer)
    assert doc.mask[25, 15] == 255 and doc.mask[5, 5] == 0 and doc.mask.sum() == 255 * 30 * 40
    calls = []
    w.controller.rerun_layer = lambda lay, **kw: calls.append((lay, kw))
    w.rerun_with_new_seed(layer)
    assert calls[-1][0] is layer and isinstance(calls[-1][1]["seed"], int)
    w.rerun_with_new_prompt(layer)
    assert w._prompt_dialog.textValue() == "a hat" and w._prompt_dialog.isVisible()  # open() returned: nothing blocked
    w._prompt_dialog.setTextValue("a red hat")
    w._prompt_dialog.accept()
    assert calls[-1][1] == {"prompt": "a red hat"}


def test_fill_layers_do_not_list_diffusion_settings_and_del_deletes(qtbot):
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from desktop.document import Document
    from desktop.ui.edit_controller import make_provenance
    from desktop.ui.panels.layers_panel import LayersPanel, provenance_text

    doc = Document.from_array(np.zeros((32, 32, 3), np.uint8))
    fill = doc.add_edit(np.full((8, 8, 4), 255, np.uint8), offset=(2, 2), name="fill",
                        provenance=make_provenance(engine="fill", model="opencv-telea", steps=50, guidance=7.5, seed=0))
    text = provenance_text(fill)
    assert "opencv-telea" in text and "Steps" not in text and "Guidance" not in text
    painted = make_provenance(engine="brushedit", model="brushnet-x", steps=30, guidance=7.5, seed=1)
    assert "Steps" in provenance_text(type("L", (), {"provenance": painted})())
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    panel.show()
    panel.select_layer(fill)
    panel.tree.setFocus()
    QTest.keyClick(panel.tree, Qt.Key_Delete)
    assert [layer.name for layer in doc.layers] == ["Background"]
    assert "(Del)" in panel.buttons["delete"].toolTip()
