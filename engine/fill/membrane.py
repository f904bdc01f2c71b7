"""Colour adaptation: the mismatch on the ring around the hole spread over it as a membrane
(harmonic interpolation, as in gradient-domain cloning), so copied patches leave no seam."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from engine.fill.nnf import Level

MEMBRANE_SWEEPS = 30  # Jacobi sweeps per level of the colour-adaptation membrane


def adapt_colours(lv: "Level", img: np.ndarray) -> np.ndarray:
    """The fill plus a smooth correction that makes it meet the surroundings without a seam.

    Copied patches keep their own brightness and colour, which need not match where they land
    (light falls off, a gradient crosses the hole). On the 1 px ring around the hole the fill
    says what the known pixels "should" be; the difference from what they are is spread over
    the hole as a membrane (a harmonic interpolation: the Laplace equation with those values on
    the ring), as in gradient-domain (Poisson) cloning.
    """
    nh = lv.Nh
    fill = lv.voted[:nh]
    ry, rx = lv.hy[nh:], lv.hx[nh:]
    hy, hx = lv.hy[:nh], lv.hx[:nh]
    out = img.copy()
    if ry.size:
        diff = img[ry, rx].astype(np.float32) - lv.voted[nh:]
        y0, y1 = int(min(hy.min(), ry.min())), int(max(hy.max(), ry.max())) + 1
        x0, x1 = int(min(hx.min(), rx.min())), int(max(hx.max(), rx.max())) + 1
        values = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
        fixed = np.zeros((y1 - y0, x1 - x0), bool)
        values[ry - y0, rx - x0] = diff
        fixed[ry - y0, rx - x0] = True
        fill = fill + membrane(values, fixed)[hy - y0, hx - x0]
    out[hy, hx] = np.clip(np.rint(fill), 0, 255).astype(np.uint8)
    return out


_LAPLACE = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


def membrane(values: np.ndarray, fixed: np.ndarray, sweeps: int = MEMBRANE_SWEEPS,
              top_sweeps: int | None = None) -> np.ndarray:
    """Harmonic interpolation of ``values`` where ``fixed``: coarse to fine Jacobi relaxation.

    Each level starts from the coarser level's solution, so a few dozen sweeps per level suffice
    for the smooth correction this is used for (``top_sweeps``: fewer on the finest level, when
    it is a big one).
    """
    h, w = fixed.shape
    if min(h, w) > 8 and fixed.any():
        ph, pw = h % 2, w % 2
        wv = cv2.copyMakeBorder(values * fixed[..., None], 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        wf = cv2.copyMakeBorder(fixed.astype(np.float32), 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=0)
        H2, W2 = wf.shape[0] // 2, wf.shape[1] // 2
        sv = wv.reshape(H2, 2, W2, 2, 3).sum(axis=(1, 3))
        sf = wf.reshape(H2, 2, W2, 2).sum(axis=(1, 3))
        coarse_fixed = sf > 0
        coarse = membrane(sv / np.maximum(sf, 1e-6)[..., None], coarse_fixed, sweeps)
        x = cv2.resize(coarse, (W2 * 2, H2 * 2), interpolation=cv2.INTER_LINEAR)[:h, :w]
        n = sweeps if top_sweeps is None else top_sweeps
    else:  # the coarsest level: start from the mean and relax for longer
        mean = values[fixed].mean(axis=0) if fixed.any() else np.zeros(3, np.float32)
        x = np.broadcast_to(mean, values.shape).astype(np.float32)
        n = 4 * sweeps
    x = np.ascontiguousarray(x, dtype=np.float32)
    x[fixed] = values[fixed]
    for _ in range(n):
        x = cv2.filter2D(x, -1, _LAPLACE, borderType=cv2.BORDER_REPLICATE)
        x[fixed] = values[fixed]
    return x
