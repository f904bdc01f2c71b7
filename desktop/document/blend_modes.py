"""Layer blend modes, as Krita composites the ones OpenRaster names (``composite-op``).

Each mode is a separable function ``B(src, dst)`` of one colour channel in 0..1 (src = the layer,
dst = what is below). It enters the W3C "general formula" for straight alpha, which is also what
Krita's generic composite op does::

    ao = as + ab - as * ab
    co = (cs * as * (1 - ab) + cb * ab * (1 - as) + as * ab * B(cs, cb)) / ao

where ``as`` already holds the layer's opacity. Where they differ from the W3C text we follow
Krita, because the file has to look the same there: colour dodge of a white source is white
even over black, and ``svg:plus`` is Krita's "Addition" (clamped ``src + dst`` in the formula
above), not Porter-Duff plus. ``svg:soft-light`` is the W3C soft light, which is the op Krita
loads it as ("soft_light_svg"); Krita's own "Soft light" (pegtop-like, sqrt throughout) is a
different op that OpenRaster has no name for.
"""

from __future__ import annotations

import numpy as np

# Our name -> OpenRaster composite-op, in the order the Layers panel lists them.
ORA_OPS = {
    "normal": "svg:src-over",
    "multiply": "svg:multiply",
    "screen": "svg:screen",
    "overlay": "svg:overlay",
    "darken": "svg:darken",
    "lighten": "svg:lighten",
    "color-dodge": "svg:color-dodge",
    "color-burn": "svg:color-burn",
    "hard-light": "svg:hard-light",
    "soft-light": "svg:soft-light",
    "difference": "svg:difference",
    "addition": "svg:plus",
}
BLEND_MODES = tuple(ORA_OPS)
_FROM_ORA = {op: name for name, op in ORA_OPS.items()}
_FROM_ORA.update({"svg:add": "addition", "krita:add": "addition", "krita:multiply": "multiply",
                  "krita:screen": "screen", "krita:overlay": "overlay", "krita:darken": "darken",
                  "krita:lighten": "lighten", "krita:dodge": "color-dodge",
                  "krita:burn": "color-burn", "krita:hard_light": "hard-light",
                  "krita:soft_light_svg": "soft-light", "krita:diff": "difference"})

TITLES = {name: name.replace("-", " ").capitalize() for name in BLEND_MODES}
TITLES.update({"color-dodge": "Colour dodge", "color-burn": "Colour burn"})


def from_ora(op: str | None) -> str:
    """Our mode for an OpenRaster ``composite-op`` (anything we cannot draw: normal)."""
    return _FROM_ORA.get((op or "").strip(), "normal")


def to_ora(mode: str) -> str:
    return ORA_OPS.get(mode, "svg:src-over")


# ------------------------------------------------------------------------ the channel functions
def _multiply(s, d):
    return s * d


def _screen(s, d):
    return s + d - s * d


def _hard_light(s, d):
    s2 = 2.0 * s
    return np.where(s > 0.5, _screen(s2 - 1.0, d), s2 * d)


def _overlay(s, d):
    return _hard_light(d, s)  # overlay is hard light with the layers swapped


def _darken(s, d):
    return np.minimum(s, d)


def _lighten(s, d):
    return np.maximum(s, d)


def _color_dodge(s, d):
    inv = 1.0 - s
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.minimum(1.0, d / np.where(inv > 0, inv, 1.0))
    return np.where(inv <= 0, 1.0, out)  # Krita: a white source gives white, even over black


def _color_burn(s, d):
    inv = 1.0 - d
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - np.minimum(1.0, inv / np.where(s > 0, s, 1.0))
    out = np.where(s < inv, 0.0, out)
    return np.where(d >= 1.0, 1.0, out)


def _soft_light(s, d):
    lift = np.where(d > 0.25, np.sqrt(d), ((16.0 * d - 12.0) * d + 4.0) * d)
    return np.where(s > 0.5, d + (2.0 * s - 1.0) * (lift - d), d - (1.0 - 2.0 * s) * d * (1.0 - d))


def _difference(s, d):
    return np.abs(s - d)


def _addition(s, d):
    return np.minimum(1.0, s + d)


FUNCTIONS = {
    "multiply": _multiply, "screen": _screen, "overlay": _overlay, "darken": _darken,
    "lighten": _lighten, "color-dodge": _color_dodge, "color-burn": _color_burn,
    "hard-light": _hard_light, "soft-light": _soft_light, "difference": _difference,
    "addition": _addition,
}


def blend(mode: str, src: np.ndarray, dst: np.ndarray, opacity: float = 1.0,
          dst_opaque: bool = False) -> np.ndarray:
    """``src`` (the layer, ``h x w x 4`` uint8 straight alpha) composited onto ``dst`` with ``mode``.

    Parameters
    ----------
    mode : str
        One of :data:`BLEND_MODES` other than ``"normal"`` (which compositing does itself).
    src, dst : ndarray
        Same-shape ``h x w x 4`` uint8 arrays.
    opacity : float
        The layer's opacity, multiplied into its alpha.
    dst_opaque : bool
        Treat ``dst`` as fully opaque whatever its alpha band holds.

    Returns
    -------
    ndarray
        ``h x w x 4`` uint8, straight alpha.
    """
    fn = FUNCTIONS[mode]
    s = src.astype(np.float32) * np.float32(1 / 255)
    d = dst.astype(np.float32) * np.float32(1 / 255)
    sa = s[..., 3:4] * np.float32(opacity)
    cs, cb = s[..., :3], d[..., :3]
    mixed = fn(cs, cb).astype(np.float32)
    out = np.empty_like(dst)
    if dst_opaque:
        co = cb * (1.0 - sa) + sa * mixed
        out[..., :3] = np.clip(np.rint(co * 255.0), 0, 255)
        out[..., 3] = 255
        return out
    da = d[..., 3:4]
    ao = sa + da - sa * da
    co = cs * sa * (1.0 - da) + cb * da * (1.0 - sa) + sa * da * mixed
    co = co / np.where(ao > 0, ao, 1.0)
    out[..., :3] = np.clip(np.rint(co * 255.0), 0, 255)
    out[..., 3:] = np.clip(np.rint(ao * 255.0), 0, 255)
    return out
