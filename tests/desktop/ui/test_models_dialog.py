"""ModelsDialog: the manifest with sizes and status; downloads as engine jobs with progress and cancel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.engine_client import EngineClient, ModelEntry, model_entries
from tests.fakes.fake_engine import FakeEngineService
from desktop.ui.dialogs.models_dialog import ModelsDialog, human_size


def _entries(installed=()):
    return [
        ModelEntry("brushnet-x", 2_900_000_000, "brushnet-x" in installed, "installed" if "brushnet-x" in installed else "missing",
                   "paint a masked region", "BrushNetX", default=True),
        ModelEntry("sam-vit-b", 375_042_383, False, "missing", "select an object by clicking it", "SAM ViT-B"),
        ModelEntry("sam-vit-h", 2_564_550_879, False, "missing", "select an object by clicking it", "SAM ViT-H", default=True),
    ]


@pytest.fixture
def client(qtbot):
    services = []

    def factory(on_message):
        services.append(FakeEngineService(on_message, steps=5, step_delay=0.01))
        return services[-1]

    c = EngineClient(factory)
    c.services = services
    yield c
    c.shutdown()


def test_table_shows_each_entry_with_size_status_and_feature(client, qtbot):
    dialog = ModelsDialog(client, entries=lambda: _entries(installed={"brushnet-x"}))
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 3
    row = [dialog.table.item(0, c).text() for c in range(4)]
    assert row == ["brushnet-x (default)", "2.9 GB", "installed", "paint a masked region"]
    assert dialog.table.item(1, 1).text() == "375.0 MB"
    # Nothing selected: the button offers the missing defaults only.
    assert dialog.to_download() == ["sam-vit-h"]
    assert dialog.download_button.text() == "Download 1 (2.6 GB)"
    dialog.table.selectRow(1)
    assert dialog.to_download() == ["sam-vit-b"]


def test_download_runs_as_an_engine_job_with_progress_then_refreshes(client, qtbot):
    state = {"installed": set()}
    dialog = ModelsDialog(client, entries=lambda: _entries(state["installed"]))
    qtbot.addWidget(dialog)
    values = []
    dialog.progress.valueChanged.connect(values.append)
    with qtbot.waitSignal(client.started, timeout=5000):
        qtbot.mouseClick(dialog.download_button, Qt.LeftButton)
    request = client.services[0].submitted[-1]
    assert request.names == ("brushnet-x", "sam-vit-h")
    assert not dialog.download_button.isEnabled() and dialog.cancel_button.isEnabled()
    state["installed"] = {"brushnet-x"}
    with qtbot.waitSignal(client.finished, timeout=5000):
        pass
    assert 5 in values or dialog.progress.value() == 1
    assert dialog.status.text() == "Download finished"
    assert dialog.table.item(0, 2).text() == "installed"
    assert dialog.job_id is None and not dialog.cancel_button.isEnabled()


def test_cancel_download(client, qtbot):
    client.start()
    client.services[0].steps = 1000
    dialog = ModelsDialog(client, entries=_entries)
    qtbot.addWidget(dialog)
    dialog.download(["sam-vit-b"])
    qtbot.waitUntil(lambda: client.running_job() is not None, timeout=5000)
    with qtbot.waitSignal(client.cancelled, timeout=3000):
        qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert dialog.status.text() == "Download cancelled" and dialog.download_button.isEnabled()


def test_download_failure_is_shown(client, qtbot):
    client.start()
    client.services[0].fail_with = RuntimeError("no network")
    dialog = ModelsDialog(client, entries=_entries)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(client.failed, timeout=3000):
        dialog.download_selected()
    assert dialog.status.text().startswith("Download failed: RuntimeError: no network")


def test_the_real_manifest_opens_in_the_dialog(client, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    entries = model_entries()
    names = {e.name for e in entries}
    assert {"brushnet-x", "sd15-realistic-vision", "sam-vit-h"} <= names
    assert all(e.size_bytes and e.size_bytes > 0 and e.enables for e in entries)
    dialog = ModelsDialog(client)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(entries)
    assert set(dialog.to_download()) == {e.name for e in entries if e.default and not e.installed}


def test_human_size():
    assert human_size(None) == "?" and human_size(512) == "512 B" and human_size(3 * 10**9) == "3.0 GB"


def test_the_dialog_and_models_list_give_one_size_per_model():
    """Found under Xvfb: the dialog said sam-vit-h 2.4 GB (GiB) where `brushedit models list` said 2.6 GB."""
    from cli.models_cmd import _gb

    for n in (2_564_550_879, 16_600_000_000, 2_900_000_000):
        assert human_size(n) == _gb(n)


def test_a_long_failure_wraps_and_keeps_the_dialog_on_screen(client, qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    dialog = ModelsDialog(client, entries=lambda: _entries())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.job_id = 7
    long_error = "download of sam-vit-h failed: " + "HTTPSConnectionPool(host='huggingface.co', port=443) " * 40
    client.failed.emit(7, long_error, "retry (it resumes); behind a proxy set HTTPS_PROXY", "missing-models")
    qtbot.wait(10)
    screen = dialog.screen().availableGeometry()
    assert dialog.sizeHint().width() <= 900 and dialog.width() <= screen.width()
    assert "HTTPSConnectionPool" in dialog.status.text()
    close = dialog.findChild(QDialogButtonBox)
    assert dialog.rect().contains(close.geometry())


def test_download_retries_show_in_the_dialog(client, qtbot):
    dialog = ModelsDialog(client, entries=lambda: _entries())
    qtbot.addWidget(dialog)
    dialog.job_id = 3
    client.progress.emit(3, 10, 100, "sam-vit-h: connection problem, retry 2/5 in 8 s")
    assert "retry 2/5" in dialog.status.text()


def test_use_a_file_i_already_have_checks_and_keeps_the_path(client, qtbot, tmp_path):
    from desktop.engine_client import ModelPathStatus

    kept, checked = [], []
    ckpt = tmp_path / "sam_vit_b_01ec64.pth"
    ckpt.write_bytes(b"not really a checkpoint")

    def status(kind, path):
        checked.append((kind, path))
        return ModelPathStatus(path.endswith(".pth"), "Usable: SAM ViT-B" if path.endswith(".pth")
                               else "Not usable: choose the checkpoint", "sam-vit-b")

    dialog = ModelsDialog(client, entries=_entries, on_model_path=lambda k, p: kept.append((k, p)),
                          status_fn=status)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.use_file_button.isVisible()
    qtbot.mouseClick(dialog.use_file_button, Qt.LeftButton)  # nothing selected yet
    assert "Select the model" in dialog.status.text()
    dialog.table.selectRow(1)  # sam-vit-b
    assert dialog.kind_of("sam-vit-b") == "sam"
    qtbot.mouseClick(dialog.use_file_button, Qt.LeftButton)
    picker = dialog._file_dialog
    assert picker.isVisible() and dialog.isVisible()  # open(): nothing blocks
    picker.fileSelected.emit(str(tmp_path / "notes.txt"))
    assert not kept and "Cannot use" in dialog.status.text()
    picker.fileSelected.emit(str(ckpt))
    assert kept == [("sam", str(ckpt))] and "Using" in dialog.status.text()
    assert checked[-1] == ("sam", str(ckpt))
    picker.close()


def test_the_window_keeps_the_chosen_model_path_in_its_preferences(make_window, tmp_path):
    w = make_window()
    w.show_models_dialog()
    dialog = w._models_dialog
    assert dialog.use_file_button.isVisible()
    w.use_model_path("sam", str(tmp_path / "sam_vit_b.pth"))
    assert w.preferences.model_paths["sam"] == str(tmp_path / "sam_vit_b.pth")
    assert w.settings.value("preferences/models/sam") == str(tmp_path / "sam_vit_b.pth")
    dialog.close()
