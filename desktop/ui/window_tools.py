"""The main window's tools: the set it builds, and their brush sizes, hardness and paint colour kept
in the settings between sessions and fitted to the image when another photo opens."""

from __future__ import annotations


def make_tools(window) -> dict:
    """The canvas tools by name; the ones that act on a layer or run an edit ask ``window`` then."""
    from desktop.ui.tools.brush import MaskBrushTool
    from desktop.ui.tools.lasso import LassoMaskTool
    from desktop.ui.tools.move import MoveTool
    from desktop.ui.tools.paint import PaintTool
    from desktop.ui.tools.remove import RemoveBrushTool
    from desktop.ui.tools.sam_click import SamClickTool
    from desktop.ui.tools.shapes import ShapeMaskTool

    return {
        "brush": MaskBrushTool("paint"),
        "eraser": MaskBrushTool("erase"),
        "sam": SamClickTool(lambda points, labels: window.controller.segment_click(points, labels)),
        "box": ShapeMaskTool("box"),
        "ellipse": ShapeMaskTool("ellipse"),
        "lasso": LassoMaskTool(),
        "move_layer": MoveTool(window.active_layer),
        "paint": PaintTool(window.active_layer),
        "remove": RemoveBrushTool(lambda since=None: window.controller.quick_remove(window.instruction_panel.params(),
                                                                                    since=since)),
    }


def brushes(tools: dict) -> list:
    """``(name, tool)`` of the tools with a round brush (size and hardness kept in settings)."""
    return [(name, tool) for name, tool in tools.items() if hasattr(tool, "hardness")]


def restore(tools: dict, settings) -> None:
    """The brushes' sizes and hardness and the paint colour and opacity of the last session."""
    for name, tool in brushes(tools):
        try:
            tool.size = int(settings.value(f"tools/{name}/size", tool.size))
            tool.hardness = float(settings.value(f"tools/{name}/hardness", tool.hardness))
        except (TypeError, ValueError):
            pass  # a hand-edited settings file: keep the defaults
    try:
        paint = tools["paint"]
        paint.color = [int(c) for c in settings.value("tools/paint/color", list(paint.color))]
        paint.opacity = float(settings.value("tools/paint/opacity", paint.opacity))
    except (TypeError, ValueError):
        pass


def save(tools: dict, settings) -> None:
    """What :func:`restore` reads, for the next session."""
    for name, tool in brushes(tools):
        settings.setValue(f"tools/{name}/size", tool.size)
        settings.setValue(f"tools/{name}/hardness", tool.hardness)
    settings.setValue("tools/paint/color", list(tools["paint"].color))
    settings.setValue("tools/paint/opacity", tools["paint"].opacity)


def fit_brushes(tools: dict, old_side: int | None, new_side: int) -> None:
    """Brush sizes follow the image (a size in image pixels from a 6000 px photo would cover a
    small one whole, its cursor out of view): scaled by the change of the long side, and never
    over a quarter of it."""
    for _name, tool in brushes(tools):
        size = tool.size * new_side / old_side if old_side else tool.size
        tool.size = max(1, min(size, max(1, new_side // 4)))
