"""The canvas's camera on plain numbers: no widget, no display (and, checked in a fresh process, no Qt)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop.ui.canvas.camera import (
    FIT_MARGIN,
    MAX_ZOOM,
    MIN_ZOOM,
    Camera,
    centred_offset,
    fit_zoom,
)

ROOT = Path(__file__).resolve().parents[4]


def test_importing_the_camera_imports_no_qt():
    code = ("import sys; import desktop.ui.canvas.camera; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_fit_centres_the_image_inside_the_margin():
    cam = Camera()
    cam.set_zoom(3.0, (10, 10))  # zoomed by hand: no longer fitted
    assert not cam.fit_mode
    zoom = cam.fit((900, 640), (451, 300))
    assert cam.fit_mode and zoom == cam.zoom == pytest.approx(min((900 - 2 * FIT_MARGIN) / 451, (640 - 2 * FIT_MARGIN) / 300))
    x, y, w, h = cam.rect_to_view((0, 0, 451, 300))
    assert (x + w / 2, y + h / 2) == pytest.approx((450, 320))  # centred
    assert min(x, y, 900 - (x + w), 640 - (y + h)) == pytest.approx(FIT_MARGIN)  # the margin on the tight side
    assert cam.offset == centred_offset(900, 640, 451, 300, zoom)


def test_fit_without_an_image_is_100_percent_at_the_corner():
    cam = Camera(zoom=4.0, offset=(-30.0, 12.0))
    assert cam.fit((800, 600), None) == 1.0
    assert cam.offset == (0.0, 0.0) and cam.fit_mode


def test_fit_zoom_is_clamped_for_tiny_views_and_huge_images():
    assert fit_zoom(10, 10, 1, 1) == pytest.approx(1.0)  # the view minus its margins is at least 1 px
    assert fit_zoom(4000, 4000, 1, 1) == MAX_ZOOM
    assert fit_zoom(100, 100, 10**6, 10**6) == MIN_ZOOM


@pytest.mark.parametrize("zoom,offset", [(1.0, (0.0, 0.0)), (0.37, (12.5, -40.0)), (5.0, (-800.0, 33.0))])
def test_view_and_image_points_map_back_and_forth(zoom, offset):
    cam = Camera(zoom, offset)
    for point in ((0, 0), (451, 300), (123.25, 77.5), (-10, 999)):
        vx, vy = cam.to_view(*point)
        assert (vx, vy) == pytest.approx((point[0] * zoom + offset[0], point[1] * zoom + offset[1]))
        assert cam.to_image(vx, vy) == pytest.approx(point)


def test_zoom_keeps_the_anchor_still_and_is_clamped():
    cam = Camera()
    cam.fit((800, 600), (2000, 1000))
    anchor = (613.0, 211.0)
    under = cam.to_image(*anchor)
    assert cam.set_zoom(2.0, anchor) == 2.0
    assert cam.to_image(*anchor) == pytest.approx(under)  # the point under the cursor stays put
    assert not cam.fit_mode
    assert cam.set_zoom(1000.0, anchor) == MAX_ZOOM
    assert cam.to_image(*anchor) == pytest.approx(under)
    assert cam.set_zoom(0.0, anchor) == MIN_ZOOM


def test_pan_moves_the_image_and_leaves_fit_mode():
    cam = Camera(2.0, (10.0, 20.0))
    before = cam.to_image(100, 100)
    cam.pan_by(30, -8)
    assert cam.offset == (40.0, 12.0) and not cam.fit_mode
    assert cam.to_image(130, 92) == pytest.approx(before)  # the same image point moved with the pan
    assert cam.transform == (2.0, 40.0, 12.0)


def test_neighbouring_rects_share_their_edges_in_the_view():
    cam = Camera(0.3, (7.1, 3.3))
    a = cam.rect_to_view((0, 0, 256, 256))
    b = cam.rect_to_view((256, 0, 256, 256))
    assert a[0] + a[2] == b[0]  # exactly: tiles drawn side by side leave no seam


def test_the_image_rect_under_a_view_box_is_whole_pixels_clipped_to_the_image():
    cam = Camera(2.0, (100.0, 50.0))  # image pixel (0, 0) covers view (100..102, 50..52)
    size = (451, 300)
    assert cam.image_rect_under(0, 0, 800, 600, size) == (0, 0, 350, 275)  # the view sees x < 350, y < 275
    assert cam.image_rect_under(101, 51, 104.5, 52, size) == (0, 0, 3, 1)  # partial pixels count whole
    assert cam.image_rect_under(0, 0, 100, 50, size) is None  # left of and above the image
    assert cam.image_rect_under(2000, 0, 2100, 600, size) is None  # right of it
    cam.fit((800, 600), size)
    assert cam.image_rect_under(0, 0, 800, 600, size) == (0, 0, 451, 300)  # fitted: all of it
