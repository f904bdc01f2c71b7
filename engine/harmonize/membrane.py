"""A weighted, edge-aware membrane on a small grid, solved matrix-free (numpy only).

Minimises, per channel, ``sum_i w_i (c_i - d_i)^2 + lam * sum_(i~j) e_ij (c_i - c_j)^2 + eps * sum_i c_i^2``
over the cells of ``domain``: the data term pulls the field towards the boundary differences where
they were measured (``w > 0``), the membrane term interpolates it smoothly everywhere else (the
harmonic interpolant of the boundary values, as in Poisson/mean-value cloning), and ``e_ij`` lowers
the stiffness across strong edges of the painted content so a correction does not flow across them.
``eps`` keeps a part of the domain without any data at zero. The normal equations are symmetric
positive definite; they are solved by Jacobi-preconditioned conjugate gradients on the grid.
"""

from __future__ import annotations

import numpy as np


def solve(domain: np.ndarray, data: np.ndarray, weight: np.ndarray, edge_x: np.ndarray, edge_y: np.ndarray,
          *, lam: float = 1.0, eps: float = 1e-3, x0: np.ndarray | None = None, tol: float = 1e-3,
          max_iter: int = 400) -> np.ndarray:
    """The membrane field over ``domain``.

    Parameters
    ----------
    domain : np.ndarray
        ``h x w`` bool: the cells solved for (the field is 0 elsewhere).
    data, weight : np.ndarray
        ``h x w x C`` targets and ``h x w`` non-negative weights of the data term.
    edge_x, edge_y : np.ndarray
        ``h x (w-1)`` and ``(h-1) x w`` stiffness between horizontal and vertical neighbours, in 0..1.
    lam, eps : float
        Membrane stiffness and the pull towards zero.
    x0 : np.ndarray, optional
        Starting field (``h x w x C``).

    Returns
    -------
    np.ndarray
        ``h x w x C`` float32 field, 0 outside ``domain``.
    """
    dom = domain.astype(np.float32)
    ex = (lam * edge_x * dom[:, 1:] * dom[:, :-1]).astype(np.float32)[..., None]
    ey = (lam * edge_y * dom[1:, :] * dom[:-1, :]).astype(np.float32)[..., None]
    wd = (weight * dom).astype(np.float32)[..., None]
    diag = wd + eps
    diag[:, 1:] += ex
    diag[:, :-1] += ex
    diag[1:, :] += ey
    diag[:-1, :] += ey
    inside = dom[..., None]

    def apply(x: np.ndarray) -> np.ndarray:
        y = (wd + eps) * x
        gx = ex * (x[:, 1:] - x[:, :-1])
        gy = ey * (x[1:, :] - x[:-1, :])
        y[:, 1:] += gx
        y[:, :-1] -= gx
        y[1:, :] += gy
        y[:-1, :] -= gy
        return y * inside

    b = (wd * data).astype(np.float32) * inside
    x = np.zeros_like(b) if x0 is None else (x0.astype(np.float32) * inside)
    r = b - apply(x)
    z = r / diag
    p = z.copy()
    rz = (r * z).sum(axis=(0, 1))
    bnorm = np.sqrt((b * b).sum(axis=(0, 1))) + 1e-12
    for _ in range(max_iter):
        if np.all(np.sqrt((r * r).sum(axis=(0, 1))) <= tol * bnorm):
            break
        ap = apply(p)
        alpha = rz / np.maximum((p * ap).sum(axis=(0, 1)), 1e-20)
        x += alpha * p
        r -= alpha * ap
        z = r / diag
        rz_new = (r * z).sum(axis=(0, 1))
        p = z + (rz_new / np.maximum(rz, 1e-30)) * p
        rz = rz_new
    return x * inside
