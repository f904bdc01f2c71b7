"""Export suggests ``NAME-edited.png`` every time, never the open file itself (issue 25 item 6: after
saving the project as NAME.ora beside the photo, Export suggested NAME.png, the photo; Enter and Yes
overwrote it)."""

from __future__ import annotations

import shutil

from tests.desktop.ui.test_polish_state import _ask_save


def test_export_never_suggests_the_photo_or_the_project(make_window, photo_path, monkeypatch):
    original = photo_path.read_bytes()
    w = make_window()
    w.open_path(photo_path)
    w.document.mask_op("box", rect=(10, 10, 20, 20))
    asked = _ask_save(monkeypatch, lambda start: start)  # the user accepts every suggestion
    w.actions["export"].trigger()
    w.actions["export"].trigger()
    w.save_as(photo_path.with_suffix(".ora"))  # the project beside the photo: chelsea.ora
    w.actions["export"].trigger()
    w.actions["export"].trigger()
    edited = str(photo_path.with_name("chelsea-edited.png"))
    assert [a[0] for a in asked] == [edited] * 4
    assert photo_path.read_bytes() == original


def test_an_opened_export_is_not_suggested_over_itself(make_window, photo_path, monkeypatch):
    exported = photo_path.with_name("chelsea-edited.png")
    shutil.copy(photo_path, exported)
    w = make_window()
    w.open_path(exported)
    asked = _ask_save(monkeypatch, lambda start: None)  # the user cancels
    w.actions["export"].trigger()
    assert asked[0][0] == str(photo_path.with_name("chelsea-edited-2.png"))
