"""Layer provenance under the Layers list is never clipped mid-line (issue 25 item 10): a long word
(a model folder, a caption without spaces) wraps inside the box, and the box shows whole lines."""

from __future__ import annotations

import numpy as np

from desktop.document import Document, Provenance
from desktop.ui.panels.layers_panel import LayersPanel


def test_a_long_provenance_wraps_in_the_box_and_shows_whole_lines(qtbot, photo_array):
    doc = Document.from_array(photo_array)
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 500)
    panel.show()
    panel.set_document(doc)
    prov = Provenance(instruction="make the sky a sunset over the hills with long orange clouds", category="global",
                      prompt="a_sunset_sky_with_long_orange_clouds_over_the_hills_golden_light_high_detail",
                      seed=1234567, engine="brushedit",
                      model="/home/designer/models/brushnet/segmentation_mask_brushnet_ckpt_v2_final")
    layer = doc.add_edit(np.zeros((40, 40, 3), np.uint8), offset=(0, 0), provenance=prov, name="Sunset",
                         mask=np.full((40, 40), 255, np.uint8))
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)
    panel.select_layer(layer)
    qtbot.wait(20)
    box, label = panel.inspector_box, panel.inspector
    # Nothing is wider than the box: the long words wrap instead of running past its right edge.
    assert label.minimumSizeHint().width() <= box.viewport().width(), (label.minimumSizeHint(), box.viewport().width())
    # The box is whole lines tall (plus the label's 2 px padding above and below): no half line at its foot.
    lines = (box.viewport().height() - 4) / label.fontMetrics().lineSpacing()
    assert abs(lines - round(lines)) < 0.15, lines
