"""What the editor shows and enables for a layer, computed from the document alone (no Qt):
the provenance text of an edit layer, and what a layer can do now (napari computes its
enablement context keys off the model the same way).
"""

from __future__ import annotations

import html


def is_edit_layer(layer) -> bool:
    return getattr(layer, "provenance", None) is not None


def provenance_text(layer, rich: bool = True, inline: bool = False) -> str:
    """A short description of how an edit layer was made ("" for other layers): one line per item,
    or with ``inline`` (rich) the items in a row that wraps, for the inspector under the list."""
    prov = getattr(layer, "provenance", None)
    if prov is None:
        return ""
    rows = []
    # The fill engine has no steps or guidance: listing the defaults it ignored would mislead.
    diffusion_only = ("steps", "guidance") if getattr(prov, "engine", "") in ("fill", "lama") else ()
    for key, title in (
        ("instruction", "Instruction"),
        ("category", "Category"),
        ("target", "Target"),
        ("prompt", "Caption"),
        ("seed", "Seed"),
        ("model", "Model"),
        ("engine", "Engine"),
        ("steps", "Steps"),
        ("guidance", "Guidance"),
    ):
        value = getattr(prov, key, None)
        if value not in (None, "") and key not in diffusion_only:
            rows.append((title, str(value)))
    if getattr(prov, "engine", "") == "fill" and getattr(prov, "category", "") != "removal":
        # The fill engine copied the surroundings: the prompt was asked for, never painted.
        rows = [("Prompt (not painted by the fill engine)" if t == "Caption" else t, v) for t, v in rows]
    if inline:  # a model folder or a caption without spaces wraps in the box, never runs past it
        rows = [(t, _breakable(v)) for t, v in rows]
    rows = [(t, html.escape(v)) for t, v in rows] if rich else rows
    if not rich:
        return "  ·  ".join(f"{t}: {v}" for t, v in rows)
    return (" · " if inline else "<br>").join(f"<b>{t}</b>: {v}" for t, v in rows)


_ZWSP = "\u200b"  # a zero-width space: where Qt may wrap a word
_LONG_WORD = 16


def _breakable(text: str) -> str:
    """``text`` with a wrap chance after each ``/ _ - .`` and every 16 characters of a longer word."""
    out = []
    for word in text.split(" "):
        if len(word) > _LONG_WORD:
            for ch in "/_-.":
                word = word.replace(ch, ch + _ZWSP)
            parts, run = [], 0
            for ch in word:
                run = 0 if ch == _ZWSP else run + 1
                parts.append(ch)
                if run >= _LONG_WORD:
                    parts.append(_ZWSP)
                    run = 0
            word = "".join(parts)
        out.append(word)
    return " ".join(out)


def abilities(document, layer) -> dict[str, bool]:
    """What ``layer`` can do now in ``document`` (None: no document), by the Layers panel's button
    names, plus ``selected`` (it is a layer of the document), ``merge_down`` and ``flatten``: the
    panel's buttons and the window's Layer menu grey out from this one answer."""
    layers = document.layers if document is not None else []
    n = len(layers)
    index = next((i for i, item in enumerate(layers) if item is layer), -1) if layer is not None else -1
    has, edit = index >= 0, index >= 0 and is_edit_layer(layer)
    return {"selected": has, "up": has and index < n - 1, "down": index > 0, "duplicate": has, "delete": has and n > 1,
            "new_seed": edit, "new_prompt": edit, "show_mask": edit,
            "merge_down": index > 0 and layer.visible and layers[index - 1].visible, "flatten": n > 1}
