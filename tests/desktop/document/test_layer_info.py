"""What the Layers panel and the Layer menu enable, and the provenance text, come from the model
alone (no Qt): napari computes its enablement context keys off the layer list the same way."""

from __future__ import annotations

import numpy as np

from desktop.document import Document, Provenance
from desktop.document.layer_info import abilities, is_edit_layer, provenance_text
from desktop.document.layers import RasterLayer


def test_abilities_by_position_kind_and_visibility():
    doc = Document.from_array(np.zeros((20, 20, 3), np.uint8))
    bg = doc.layers[0]
    assert abilities(doc, bg) == {"selected": True, "up": False, "down": False, "duplicate": True, "delete": False,
                                  "new_seed": False, "new_prompt": False, "show_mask": False,
                                  "merge_down": False, "flatten": False}
    edit = doc.add_edit(np.zeros((4, 4, 3), np.uint8), (1, 1), Provenance(prompt="sky", seed=3))
    top = doc.add_layer(RasterLayer(np.zeros((4, 4, 4), np.uint8), name="top"))
    can = abilities(doc, edit)
    assert can["up"] and can["down"] and can["delete"] and can["flatten"] and can["merge_down"]
    assert can["new_seed"] and can["new_prompt"] and can["show_mask"]
    assert abilities(doc, top)["merge_down"] and not abilities(doc, top)["up"]
    doc.set_layer_props(edit, visible=False)
    assert not abilities(doc, top)["merge_down"] and not abilities(doc, edit)["merge_down"]
    stranger = RasterLayer(np.zeros((2, 2, 4), np.uint8))
    assert not any(v for k, v in abilities(doc, stranger).items() if k != "flatten")
    assert abilities(None, bg)["selected"] is False and abilities(doc, None)["selected"] is False


def test_provenance_text_plain_rich_and_inline():
    doc = Document.from_array(np.zeros((20, 20, 3), np.uint8))
    prov = Provenance(instruction="make it <gold>", prompt="gold", seed=7, engine="fill", category="local",
                      model="a/very_long-model.folder-name/that-never-ends")
    edit = doc.add_edit(np.zeros((4, 4, 3), np.uint8), (1, 1), prov)
    assert is_edit_layer(edit) and not is_edit_layer(doc.layers[0]) and provenance_text(doc.layers[0]) == ""
    plain = provenance_text(edit, rich=False)
    assert "Instruction: make it <gold>" in plain and "Steps" not in plain  # the fill engine has no steps
    assert "Prompt (not painted by the fill engine): gold" in plain
    rich = provenance_text(edit)
    assert "&lt;gold&gt;" in rich and "<br>" in rich
    inline = provenance_text(edit, inline=True)
    assert " · " in inline and "\u200b" in inline  # the long model path may wrap
