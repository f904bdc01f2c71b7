"""One region (a hole, or holes close together): the boundary statistics, the robust membrane and the
corrected pixels. The method and its reasons are in ``docs/design/harmonize.md``.

Everything that costs the photo's resolution runs in strips of rows (bounded memory at 24 MP);
the field itself lives on a grid of at most ``FIELD_SIDE`` cells a side.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.harmonize import membrane

FIELD_SIDE = 64  # cells on the field's long side: a cast is low-frequency, detail is never touched
BAND = 4  # px: the bands just inside and just outside the hole's edge whose colours are compared
ALONG = 8.0  # px: at least this far along the edge is averaged into one boundary difference
EDGE_SIGMA = 10.0  # dE: across a step this large between cells of the painting the stiffness falls to e^-1/2
EDGE_FLOOR = 0.05  # ... but never below this, so an object enclosed in the hole still follows a cast
CONTINUITY = 12.0  # dE: the photo's own step across the edge beyond which a boundary difference counts for nothing
ROBUST = 4.685  # Tukey's cut-off, in robust standard deviations, of a boundary difference's residual
SCALE_FLOOR = 1.5  # dE: the residual spread is never taken as smaller than this
IRLS_ROUNDS = 3  # reweighted solves: spikes (a new object at the edge, a shifted edge) lose their say
RING_TAU = 6.0  # dE: a difference beyond the hole much larger than this is the painter's content, not a cast
CHROMA_KAPPA = 3.0  # chroma units added to both means of the gain's ratio: near-grey bands stay at 1
GAIN_SCALE_FLOOR = 0.05  # log units: the spread of the chroma gain's residuals is never taken as smaller
GAIN_DEADZONE = 0.03  # log units: a chroma gain within ~3 % of 1 is not applied
MAX_LOG_GAIN = 0.7  # the chroma gain stays within 0.5 .. 2
DEADZONE = 0.75  # dE: a correction well below a just-noticeable difference is not applied
STRIP_ROWS = 512  # rows per strip (rounded to whole cells)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (any leading shape, last axis 3) -> float32 CIELAB (L 0..100)."""
    flat = rgb.reshape(-1, 1, 3).astype(np.float32) * np.float32(1.0 / 255.0)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """float32 CIELAB -> uint8 RGB, rounded and clipped."""
    rgb = cv2.cvtColor(lab.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_Lab2RGB).reshape(lab.shape)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _block_sum(a: np.ndarray, f: int, gw: int) -> np.ndarray:
    """Sum ``a`` (rows x w x C) over f x f blocks, zero-padded to whole blocks."""
    r, w = a.shape[:2]
    pad_r, pad_c = (-r) % f, gw * f - w
    if pad_r or pad_c:
        a = np.pad(a, ((0, pad_r), (0, pad_c), (0, 0)))
    return a.reshape(a.shape[0] // f, f, gw, f, a.shape[2]).sum(axis=(1, 3), dtype=np.float64)


def _scatter(s_acc: np.ndarray, n_acc: np.ndarray, gy: np.ndarray, gx: np.ndarray, values: np.ndarray,
             weights: np.ndarray) -> None:
    """Add ``values`` (N x 3) and ``weights`` (N) into the cells ``(gy, gx)`` of the accumulators."""
    gh, gw = n_acc.shape[:2]
    idx = gy * gw + gx
    for c in range(values.shape[1]):
        s_acc[..., c] += np.bincount(idx, values[:, c], minlength=gh * gw).reshape(gh, gw)
    n_acc[..., 0] += np.bincount(idx, weights, minlength=gh * gw).reshape(gh, gw)


def _normalized_blur(s: np.ndarray, n: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian normalized convolution: the local weighted mean ``G*s / G*n`` and ``G*n``."""
    k = 2 * int(math.ceil(3 * sigma)) + 1
    gs = cv2.GaussianBlur(s.astype(np.float32), (k, k), sigma, borderType=cv2.BORDER_CONSTANT)
    gn = cv2.GaussianBlur(n.astype(np.float32), (k, k), sigma, borderType=cv2.BORDER_CONSTANT)
    if gs.ndim == 2:
        gs = gs[..., None]
    return gs / np.maximum(gn, 1e-6)[..., None], gn


def _garrote(c: np.ndarray, t: float) -> np.ndarray:
    """Non-negative garrote on the colour vector: ~0 below ``t`` dE, nearly unchanged well above it."""
    mag2 = (c * c).sum(axis=-1, keepdims=True)
    return c * np.maximum(0.0, 1.0 - (t * t) / np.maximum(mag2, 1e-12))


def _robust_weights(d: np.ndarray, fit: np.ndarray, base: np.ndarray, floor: float) -> np.ndarray:
    """Tukey biweights of the data cells (``base > 0``) on the residual ``|d - fit|``: a difference
    far from the fit (a new object at the edge) gets no say at all, however much of the edge it holds."""
    r = np.sqrt(((d - fit) ** 2).sum(axis=-1))
    on = base > 0
    scale = max(floor, 1.4826 * float(np.median(r[on]))) if on.any() else floor
    return base * np.clip(1.0 - (r / (ROBUST * scale)) ** 2, 0.0, 1.0) ** 2


def _with_chroma(lab: np.ndarray) -> np.ndarray:
    """N x 3 CIELAB -> N x 4 with the chroma ``sqrt(a^2 + b^2)`` appended."""
    return np.concatenate([lab, np.sqrt(lab[:, 1:2] ** 2 + lab[:, 2:3] ** 2)], axis=1)


def _robust_membrane(d: np.ndarray, base: np.ndarray, domain: np.ndarray, edges, floor: float) -> np.ndarray:
    """The membrane through the data ``d`` (weights ``base``), reweighted: start from the median
    difference, then from each fit (``IRLS_ROUNDS`` solves)."""
    fit = np.broadcast_to(np.median(d[base > 0], axis=0), d.shape)
    field = np.zeros(d.shape, np.float32)
    for _ in range(IRLS_ROUNDS):
        field = membrane.solve(domain, d, _robust_weights(d, fit, base, floor), *edges, x0=field)
        fit = field
    return field


def correct_region(original: np.ndarray, painted: np.ndarray, hole: np.ndarray, blocked: np.ndarray,
                   ring: np.ndarray, strength: float, out: np.ndarray) -> None:
    """Write the harmonized pixels of one region into ``out`` (its view of the result).

    Parameters
    ----------
    original, painted : np.ndarray
        ``h x w x 3`` uint8 crops.
    hole : np.ndarray
        ``h x w`` bool: this region's repainted pixels.
    blocked : np.ndarray
        ``h x w`` bool: other regions' holes (their original pixels are not "the photo around").
    ring : np.ndarray
        ``h x w`` bool: the feather beyond ``hole`` (where the blend will still use ``painted``).
    strength : float
        0..1, the fraction of the correction applied.
    out : np.ndarray
        ``h x w x 3`` uint8, written at ``hole | ring`` only.
    """
    h, w = hole.shape
    f = max(1, math.ceil(max(h, w) / FIELD_SIDE))
    gh, gw = math.ceil(h / f), math.ceil(w / f)
    hole8 = hole.astype(np.uint8)
    # cv2.erode pads with the maximum: the picture's border is not an edge of the hole.
    inner = hole & (cv2.erode(hole8, _disk(BAND)) == 0)
    outer = (cv2.dilate(hole8, _disk(BAND)) > 0) & ~hole & ~blocked

    # 1. Statistics per cell, strip by strip.
    s_out = np.zeros((gh, gw, 3)); n_out = np.zeros((gh, gw, 1))
    s_oin = np.zeros((gh, gw, 4)); s_pin = np.zeros((gh, gw, 4)); n_in = np.zeros((gh, gw, 1))
    s_ring = np.zeros((gh, gw, 3)); n_ring = np.zeros((gh, gw, 1))
    s_rgb = np.zeros((gh, gw, 3)); n_px = np.zeros((gh, gw, 1)); n_hole = np.zeros((gh, gw, 1))
    rows = max(f, STRIP_ROWS // f * f)
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        g0, g1 = r0 // f, math.ceil(r1 / f)
        sl = slice(r0, r1)
        s_rgb[g0:g1] += _block_sum(painted[sl].astype(np.float32), f, gw)
        n_hole[g0:g1] += _block_sum(hole[sl, :, None].astype(np.float32), f, gw)
        n_px[g0:g1] += _block_sum(np.ones((r1 - r0, w, 1), np.float32), f, gw)
        ys, xs = np.nonzero(outer[sl])
        if ys.size:
            _scatter(s_out, n_out, (r0 + ys) // f, xs // f, to_lab(original[sl][ys, xs]), np.ones(ys.size))
        ys, xs = np.nonzero(inner[sl])
        if ys.size:
            gy, gx = (r0 + ys) // f, xs // f
            _scatter(s_oin, n_in, gy, gx, _with_chroma(to_lab(original[sl][ys, xs])), np.ones(ys.size))
            _scatter(s_pin, n_in, gy, gx, _with_chroma(to_lab(painted[sl][ys, xs])), np.zeros(ys.size))
        ys, xs = np.nonzero(ring[sl])
        if ys.size:
            d = to_lab(original[sl][ys, xs]) - to_lab(painted[sl][ys, xs])
            wr = 1.0 / (1.0 + (np.sqrt((d * d).sum(axis=-1)) / RING_TAU) ** 2)
            _scatter(s_ring, n_ring, (r0 + ys) // f, xs // f, d * wr[:, None], wr)

    # 2. The boundary differences, as local means along the edge (normalized convolution) in the cells
    #    holding the inner band: the painting against the photo it replaced there, trusted as far as
    #    that photo continued the photo just outside (the painter was asked to continue it; where the
    #    edge of the hole runs along an edge of the photo, or an old object filled the band, it did not).
    sigma = max(1.0, ALONG / f)
    o_out, gn_out = _normalized_blur(s_out, n_out[..., 0], sigma)
    o_in, _ = _normalized_blur(s_oin, n_in[..., 0], sigma)
    p_in, _ = _normalized_blur(s_pin, n_in[..., 0], sigma)
    jump = np.sqrt(((o_out - o_in[..., :3]) ** 2).sum(axis=-1))
    # Tukey's biweight: a band the photo did not continue into carries no say at all, so a hole whose
    # whole edge is an old object's outline (a tight mask) gets no correction rather than its colour.
    trust = np.clip(1.0 - (jump / CONTINUITY) ** 2, 0.0, 1.0) ** 2
    base = (((n_in[..., 0] > 0) & (gn_out > 0.05)) * trust).astype(np.float32)

    has_hole = n_hole[..., 0] > 0
    domain = cv2.dilate(has_hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    field = np.zeros((gh, gw, 3), np.float32)
    gain = np.ones((gh, gw, 1), np.float32)
    if base.any():
        cell_rgb = np.clip(s_rgb / np.maximum(n_px, 1.0), 0, 255).astype(np.float32)
        cell_lab = cv2.cvtColor(cell_rgb / 255.0, cv2.COLOR_RGB2Lab)
        dx = ((cell_lab[:, 1:] - cell_lab[:, :-1]) ** 2).sum(-1)
        dy = ((cell_lab[1:] - cell_lab[:-1]) ** 2).sum(-1)
        edges = (EDGE_FLOOR + (1 - EDGE_FLOOR) * np.exp(-dx / (2 * EDGE_SIGMA ** 2)),
                 EDGE_FLOOR + (1 - EDGE_FLOOR) * np.exp(-dy / (2 * EDGE_SIGMA ** 2)))
        # 3a. Chroma gain (a desaturated or oversaturated painting): the log ratio of mean chroma,
        #     scaling a*b* about the neutral axis; an offset cast is left to 3b.
        on = (base > 0)[..., None]
        log_gain = np.log((o_in[..., 3:] + CHROMA_KAPPA) / (p_in[..., 3:] + CHROMA_KAPPA)) * on
        log_gain = _robust_membrane(log_gain, base, domain, edges, GAIN_SCALE_FLOOR)
        log_gain = np.clip(_garrote(log_gain, GAIN_DEADZONE), -MAX_LOG_GAIN, MAX_LOG_GAIN) * np.float32(strength)
        gain = np.exp(log_gain).astype(np.float32)
        # 3b. The additive CIELAB field on the gain-corrected painting.
        p_fixed = np.concatenate([p_in[..., :1], p_in[..., 1:3] * gain], axis=-1)
        d = (o_in[..., :3] - p_fixed) * on
        field = _garrote(_robust_membrane(d, base, domain, edges, SCALE_FLOOR), DEADZONE) * np.float32(strength)

    ring_field = np.zeros((gh, gw, 3), np.float32)
    if n_ring.any():
        ring_mean, gn_ring = _normalized_blur(s_ring, n_ring[..., 0], sigma)
        ring_field = _garrote(ring_mean * (gn_ring > 1e-3)[..., None], DEADZONE) * np.float32(strength)

    if not field.any() and not ring_field.any() and not (gain != 1).any():
        return  # nothing cast: the painting as it is, bit for bit

    # 4. Apply, strip by strip: the field upsampled (bilinear) and added in CIELAB.
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        target = hole[r0:r1] | ring[r0:r1]
        if not target.any():
            continue
        c0, c1 = max(0, r0 // f - 1), min(gh, math.ceil(r1 / f) + 1)
        ys, xs = np.nonzero(target)
        lab = to_lab(painted[r0:r1][ys, xs])
        off = r0 - c0 * f
        inside = hole[r0:r1][ys, xs]

        def sample(fld: np.ndarray, where: np.ndarray) -> np.ndarray:
            up = cv2.resize(fld[c0:c1], (gw * f, (c1 - c0) * f), interpolation=cv2.INTER_LINEAR)
            return up.reshape(up.shape[0], up.shape[1], -1)[ys[where] + off, xs[where]]

        if inside.any() and (gain != 1).any():
            lab[inside, 1:] *= sample(gain, inside)
        for fld, where in ((field, inside), (ring_field, ~inside)):
            if fld.any() and where.any():
                lab[where] += sample(fld, where)
        out[r0:r1][ys, xs] = from_lab(lab)
