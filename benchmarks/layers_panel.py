"""The Layers panel's refresh on a big document: with thumbnails cached per pixel array (what the
panel does) against remaking every thumbnail (what it did before), in the same run.

The list refreshes on every layers/pixels event of the document: each step of a Move drag or an
opacity drag. A 6000 x 4000 photo with three 1500 x 1000 layers; a move of one layer between
refreshes, as during a drag. Prints the machine, the medians and their ratio; the last line is a
JSON object of the figures.

    python benchmarks/layers_panel.py [--reps 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from machine_info import host  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args(argv)

    import numpy as np
    from PySide6.QtWidgets import QApplication

    from desktop.document import Document, RasterLayer
    from desktop.ui.panels import layers_panel

    app = QApplication.instance() or QApplication([])  # noqa: F841 (widgets need it)
    rng = np.random.default_rng(0)
    doc = Document.from_array(rng.integers(0, 255, (4000, 6000, 3), dtype=np.uint8))
    layers = [doc.add_layer(RasterLayer(rng.integers(0, 255, (1000, 1500, 4), dtype=np.uint8), name=f"layer {i}",
                                        offset=(200 * i, 150 * i))) for i in range(3)]
    panel = layers_panel.LayersPanel()
    panel.set_document(doc)
    panel.refresh()

    def timed(refresh) -> float:
        out = []
        for i in range(args.reps):
            doc.move_layer_content(layers[0], 10 + i, 10, drag="bench")  # a drag step between refreshes
            t = time.perf_counter()
            refresh()
            out.append(time.perf_counter() - t)
        return statistics.median(out) * 1000

    cached = timed(panel.refresh)

    def uncached() -> None:
        panel._thumbs.clear()  # the old behaviour: every thumbnail made again
        panel.refresh()

    baseline = timed(uncached)
    print("machine:", host())
    print(f"refresh, thumbnails remade (before): {baseline:.1f} ms (median of {args.reps})")
    print(f"refresh, thumbnails cached (now):    {cached:.1f} ms")
    print(f"ratio before/now: {baseline / cached:.0f}x")
    print(json.dumps({"machine": host(), "reps": args.reps, "refresh_uncached_ms": round(baseline, 2),
                      "refresh_cached_ms": round(cached, 2), "ratio": round(baseline / cached, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
