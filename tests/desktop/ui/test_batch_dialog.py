"""File > Batch...: the dialog runs the batch through the engine client, shows each photo, cancels, opens."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from desktop.engine_client import EngineClient
from desktop.ui.dialogs.batch_dialog import BatchDialog
from tests.fakes.fake_engine import FakeEngineService


def _folder(tmp_path, n: int = 3):
    from skimage import data

    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir()
    masks.mkdir()
    cat = data.chelsea()
    for i in range(n):
        Image.fromarray(np.ascontiguousarray(cat[i * 10:i * 10 + 160, i * 20:i * 20 + 240])).save(photos / f"p{i}.png")
        mask = np.zeros((160, 240), np.uint8)
        mask[40:110, 60:150] = 255
        Image.fromarray(mask).save(masks / f"p{i}.png")
    (photos / "broken.png").write_text("not an image")
    Image.fromarray(mask).save(masks / "broken.png")
    return photos, masks


@pytest.fixture
def client_of():
    clients = []

    def make(**kw):
        client = EngineClient(lambda on_message: FakeEngineService(on_message, **kw))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown()


def _dialog(qtbot, client, photos, masks, out, opened=None):
    dialog = BatchDialog(client, opened.append if opened is not None else None)
    qtbot.addWidget(dialog)
    dialog.in_dir.setText(str(photos))
    dialog.masks.setText(str(masks))
    dialog.out_dir.setText(str(out))
    dialog.seed.setValue(4)
    return dialog


def test_the_batch_runs_through_the_client_and_opens_a_result(qtbot, tmp_path, client_of):
    photos, masks = _folder(tmp_path)
    client = client_of(steps=2, step_delay=0.001)
    opened: list = []
    dialog = _dialog(qtbot, client, photos, masks, tmp_path / "out", opened)
    dialog.ora.setChecked(True)
    dialog.show()
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.summary is not None and dialog.start_button.isEnabled(), timeout=60_000)
    assert (dialog.summary.ok, dialog.summary.failed) == (3, 1)
    assert dialog.table.rowCount() == 4 and dialog.progress.value() == 4
    statuses = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(4)}
    assert statuses == {"broken.png": "bad-input", "p0.png": "ok", "p1.png": "ok", "p2.png": "ok"}
    assert "3 of 4 photos edited" in dialog.status.text() and "1 not" in dialog.status.text()
    # The photos were painted by the client's engine (the fake tints the mask), one inpaint job each.
    painted = [r for r in client.service.submitted if type(r).__name__ == "InpaintRequest"]
    assert len(painted) == 3
    out = tmp_path / "out"
    before, after = (np.asarray(Image.open(d / "p1.png").convert("RGB")) for d in (photos, out))
    assert not np.array_equal(before[60, 100], after[60, 100]) and np.array_equal(before[5, 5], after[5, 5])
    report = [json.loads(x) for x in (out / "report.jsonl").read_text().splitlines()]
    assert [x["key"] for x in report] == ["broken.png", "p0.png", "p1.png", "p2.png"]
    # Open a result as a document: the .ora kept for it.
    row = next(r for r in range(4) if dialog.table.item(r, 0).text() == "p2.png")
    dialog.table.setCurrentCell(row, 0)
    assert dialog.open_button.isEnabled()
    dialog.open_button.click()
    assert opened == [str(out / "p2.ora")]
    assert dialog.sheet_button.isEnabled() and (out / "index.html").is_file()


def test_start_twice_says_how_to_continue_in_the_dialogs_words(qtbot, tmp_path, client_of):
    """A second Start on the same output folder is refused in the dialog's words (the CLI's '-o' and
    '--resume' mean nothing here), with the last run's bar cleared, and nothing is overwritten."""
    photos, masks = _folder(tmp_path)
    dialog = _dialog(qtbot, client_of(steps=2, step_delay=0.001), photos, masks, tmp_path / "out", [])
    dialog.show()
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.summary is not None and dialog.start_button.isEnabled(), timeout=60_000)
    report = (tmp_path / "out" / "report.jsonl").read_bytes()
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    text = dialog.status.text()
    assert "holds a batch already" in text and "Resume a stopped batch" in text
    assert "--resume" not in text and "-o " not in text
    assert dialog.progress.value() == -1 and dialog.start_button.isEnabled()  # reset, not 4/4
    assert (tmp_path / "out" / "report.jsonl").read_bytes() == report


def test_cancel_stops_the_batch_and_resume_finishes_it(qtbot, tmp_path, client_of):
    photos, masks = _folder(tmp_path, n=4)
    slow = client_of(steps=400, step_delay=0.01)  # a photo takes seconds: cancel lands mid-photo
    dialog = _dialog(qtbot, slow, photos, masks, tmp_path / "out")
    dialog.start()
    qtbot.waitUntil(lambda: slow.service is not None
                    and any(type(r).__name__ == "InpaintRequest" for r in slow.service.submitted),
                    timeout=30_000)
    qtbot.waitUntil(lambda: "/400" in dialog.stage.text(), timeout=30_000)  # the photo in hand's steps
    dialog.cancel()
    qtbot.waitUntil(lambda: dialog.summary is not None and dialog.start_button.isEnabled(), timeout=30_000)
    assert dialog.summary.cancelled and dialog.summary.ok < 4
    assert "Cancelled" in dialog.status.text() and dialog.start_button.isEnabled()
    assert not list((tmp_path / "out").rglob("*.part"))

    quick = client_of(steps=2, step_delay=0.001)
    again = _dialog(qtbot, quick, photos, masks, tmp_path / "out")
    again.resume.setChecked(True)
    again.start()
    qtbot.waitUntil(lambda: again.summary is not None and again.start_button.isEnabled(), timeout=60_000)
    assert again.summary.ok == 4 and again.summary.failed == 1


def test_bad_form_says_what_is_missing(qtbot, tmp_path, client_of):
    dialog = BatchDialog(client_of())
    qtbot.addWidget(dialog)
    dialog.start()
    assert not dialog.running and "photos folder" in dialog.status.text()
    photos, _ = _folder(tmp_path, n=1)
    dialog.in_dir.setText(str(photos))
    dialog.out_dir.setText(str(photos))
    dialog.instruction.setText("remove the cat")
    dialog.start()
    qtbot.waitUntil(lambda: "could not run" in dialog.status.text(), timeout=30_000)
    assert "input folder" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=30_000)


def test_file_menu_has_batch(make_window, qtbot):
    window = make_window()
    file_menu = window.menuBar().actions()[0].menu()
    assert window.actions["batch"] in file_menu.actions()
    window.actions["batch"].trigger()
    dialog = window._batch_dialog
    assert dialog.isVisible() and dialog.client is window.client
    dialog.close()


def test_closing_while_running_cancels_then_closes(qtbot, tmp_path, client_of):
    photos, masks = _folder(tmp_path, n=3)
    slow = client_of(steps=400, step_delay=0.01)
    dialog = _dialog(qtbot, slow, photos, masks, tmp_path / "out")
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: slow.service is not None
                    and any(type(r).__name__ == "InpaintRequest" for r in slow.service.submitted), timeout=30_000)
    dialog.close()
    assert dialog.isVisible() and "Cancelling" in dialog.status.text()  # not closed under a running batch
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    assert not dialog.running and dialog.summary is not None and dialog.summary.cancelled


def test_quitting_abandons_the_wait_for_the_engine(qtbot, tmp_path, client_of):
    photos, masks = _folder(tmp_path, n=3)
    slow = client_of(steps=100_000, step_delay=0.01)
    dialog = _dialog(qtbot, slow, photos, masks, tmp_path / "out")
    dialog.start()
    qtbot.waitUntil(lambda: slow.service is not None
                    and any(type(r).__name__ == "InpaintRequest" for r in slow.service.submitted), timeout=30_000)
    dialog.shutdown()  # the GUI thread delivers nothing now: the batch must still end, and at once
    assert not dialog.running
    assert not list((tmp_path / "out").rglob("*.part")) and (tmp_path / "out" / "report.jsonl").is_file()
