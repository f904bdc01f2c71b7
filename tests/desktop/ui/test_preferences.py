"""Edit ▸ Preferences…: saved in the window's settings, sent to the engine as an EngineConfig, the API
key kept in memory only, model folders checked, and the dialog never blocks the engine."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialogButtonBox

SECRET = "sk-test-PREFS-7f3a9c1e"


@pytest.fixture(autouse=True)
def no_user_models(tmp_path, monkeypatch):
    """Keep the automatic search away from this machine's model folders and caches."""
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "app-models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    for name in ("BRUSHEDIT_API_KEY", "OPENAI_API_KEY", "BRUSHEDIT_MODEL_BRUSHNET_X"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "app-models"


def brushnet_folder(path, complete=True):
    """A folder with BrushNet's layout: config.json and (when complete) a small safetensors file."""
    from safetensors.numpy import save_file

    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps({"_class_name": "BrushNetModel"}))
    if complete:
        save_file({"conv_in.weight": np.zeros((4, 5), np.float32)}, str(path / "diffusion_pytorch_model.safetensors"))
    return path


def open_prefs(window):
    window.actions["preferences"].trigger()
    dialog = window._prefs_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def click(dialog, which):
    dialog.buttons.button(which).click()


def test_preferences_open_from_the_edit_menu_without_blocking_the_engine(make_window, qtbot, photo_path):
    w = make_window()
    action = w.actions["preferences"]
    edit_menu = {a.text(): a.menu() for a in w.menuBar().actions()}["&Edit"]
    assert action in edit_menu.actions()
    assert action.shortcut().matches(QKeySequence("Ctrl+,")) == QKeySequence.SequenceMatch.ExactMatch
    assert not action.icon().isNull()

    w.open_path(photo_path)
    dialog = open_prefs(w)
    assert not dialog.isModal()
    # The engine's messages still arrive while the dialog is open: a whole edit runs and ends.
    w.document.set_mask(np.pad(np.ones((40, 40), np.uint8), ((100, 160), (200, 211))), label="mask")
    w.controller.run("a red hat")
    qtbot.waitUntil(lambda: len(w.controller.candidates) == 1, timeout=20000)
    assert dialog.isVisible()
    # Asking again raises the same dialog rather than stacking a second one.
    w.actions["preferences"].trigger()
    assert w._prefs_dialog is dialog
    click(dialog, QDialogButtonBox.StandardButton.Cancel)
    assert not dialog.isVisible()


def test_values_persist_across_two_windows(make_window, ini_settings, fake_client, tmp_path, qtbot):
    folder = brushnet_folder(tmp_path / "my-brushnet")
    w = make_window()
    dialog = open_prefs(w)
    dialog.device.setCurrentIndex(dialog.device.findData("cuda"))
    dialog.cpu_offload.setChecked(True)
    dialog.model_rows["brushnet"].set_path(str(folder))
    dialog.instructor.setCurrentIndex(dialog.instructor.findData("openai"))
    dialog.base_url.setText("http://localhost:11434/v1")
    dialog.model_name.setText("qwen2.5-vl")
    dialog.autosave.setValue(7)
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    assert not dialog.isVisible()
    w.close()

    w2 = make_window(settings=QSettings(ini_settings.fileName(), QSettings.IniFormat))
    p = w2.preferences
    assert (p.device, p.cpu_offload, p.instructor, p.base_url, p.model, p.autosave_minutes) == (
        "cuda", True, "openai", "http://localhost:11434/v1", "qwen2.5-vl", 7)
    assert p.model_paths == {"brushnet": str(folder)}
    assert w2.instruction_panel.instructor.currentData() == "openai"
    qtbot.waitUntil(lambda: w2._autosaver is not None, timeout=3000)  # started once the window shows
    assert w2._autosaver.timer.interval() == 7 * 60 * 1000
    # The saved preferences reach the engine of the new window at start.
    config = fake_client.service.config
    assert (config.device, config.cpu_offload, config.instructor) == ("cuda", True, "openai")
    assert config.model_dirs == {"brushnet-x": str(folder)}
    d2 = open_prefs(w2)
    assert d2.model_rows["brushnet"].path() == str(folder) and d2.device.currentData() == "cuda"
    assert d2.model_name.text() == "qwen2.5-vl"


def test_apply_sends_the_expected_engine_config(make_window, fake_client, tmp_path, qtbot):
    from desktop.engine_client import engine_config

    folder = brushnet_folder(tmp_path / "bn")
    w = make_window()
    qtbot.waitUntil(lambda: w._autosaver is not None, timeout=3000)
    dialog = open_prefs(w)
    dialog.cpu_offload.setChecked(True)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    assert not dialog.cpu_offload.isEnabled()  # offloading to the CPU means nothing on the CPU
    dialog.model_rows["brushnet"].set_path(str(folder))
    dialog.model_rows["sd15-base"].set_path(str(tmp_path / "nowhere"))
    dialog.instructor.setCurrentIndex(dialog.instructor.findData("openai"))
    dialog.base_url.setText("http://127.0.0.1:8000/v1")
    dialog.model_name.setText("local-vlm")
    dialog.api_key.setText(SECRET)
    dialog.autosave.setValue(2)
    click(dialog, QDialogButtonBox.StandardButton.Apply)

    assert dialog.isVisible()  # Apply keeps the dialog open
    expected = engine_config(
        device="cpu", cpu_offload=False, instructor="openai",
        instructor_settings={"base_url": "http://127.0.0.1:8000/v1", "model": "local-vlm", "api_key": SECRET},
        model_dirs={"brushnet-x": str(folder), "sd15-realistic-vision": str(tmp_path / "nowhere")},
        brushnet_model="brushnet-x", base_model="sd15-realistic-vision",
    )
    assert fake_client.service.config == expected
    assert w._autosaver.timer.interval() == 2 * 60 * 1000
    assert w.instruction_panel.instructor.currentData() == "openai"

    # Back to the defaults: every model found automatically again, the auto instructor (issue 19).
    click(dialog, QDialogButtonBox.StandardButton.RestoreDefaults)
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    config = fake_client.service.config
    assert (config.device, config.instructor, config.model_dirs) == ("auto", "auto", {})
    assert config.instructor_settings == {"api_key": SECRET}  # the session's key is kept


def test_the_models_dialog_sees_the_chosen_folders(make_window, tmp_path, qtbot):
    folder = brushnet_folder(tmp_path / "bn")
    w = make_window()
    dialog = open_prefs(w)
    dialog.model_rows["brushnet"].set_path(str(folder))
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    w.actions["models"].trigger()
    entries = {e.name: e for e in w._models_dialog.entries}
    assert entries["brushnet-x"].installed and not entries["sd15-realistic-vision"].installed
    w._models_dialog.close()


def test_the_real_engine_service_takes_the_config(tmp_path):
    """The preferences' config is one the real service and engine accept (no fake in between)."""
    from desktop.engine_client import EngineClient, default_service_factory
    from desktop.ui.dialogs.preferences_store import Preferences

    prefs = Preferences(device="cpu", model_paths={"brushnet": str(brushnet_folder(tmp_path / "bn"))},
                        instructor="local")
    client = EngineClient(default_service_factory())
    try:
        client.set_config(prefs.engine_config())
        assert client.service.config.device == "cpu"
        assert client.service.config.model_dirs == {"brushnet-x": str(tmp_path / "bn")}
    finally:
        client.shutdown()


def test_the_api_key_is_never_saved_or_logged(make_window, ini_settings, fake_client, caplog, qtbot):
    caplog.set_level(logging.DEBUG)
    w = make_window()
    dialog = open_prefs(w)
    dialog.instructor.setCurrentIndex(dialog.instructor.findData("openai"))
    assert dialog.api_key.echoMode() == dialog.api_key.EchoMode.Password
    dialog.api_key.setText(SECRET)
    click(dialog, QDialogButtonBox.StandardButton.Apply)
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    # In memory, for the engine:
    assert fake_client.service.config.instructor_settings["api_key"] == SECRET
    assert SECRET not in repr(w.preferences) and SECRET not in repr(fake_client.service.config)
    w.close()  # saves the window's settings
    ini_settings.sync()
    saved = open(ini_settings.fileName(), "rb").read()
    assert b"openai" in saved and b"preferences" in saved  # the preferences were written...
    assert SECRET.encode() not in saved  # ...but never the key
    assert SECRET not in caplog.text
    # A new window does not know the key: it was for that session only.
    w2 = make_window(settings=QSettings(ini_settings.fileName(), QSettings.IniFormat))
    assert w2.preferences.api_key == ""
    assert "api_key" not in fake_client.service.config.instructor_settings


def test_a_chosen_folder_that_is_incomplete_shows_as_not_usable(make_window, tmp_path, no_user_models, qtbot):
    w = make_window()
    dialog = open_prefs(w)
    row = dialog.model_rows["brushnet"]
    assert not row.usable and "Not installed" in row.status.text()  # nothing found automatically

    row.set_path(str(brushnet_folder(tmp_path / "half", complete=False)))
    assert not row.usable
    assert "Not usable" in row.status.text() and "diffusion_pytorch_model.safetensors" in row.status.text()

    row.set_path(str(tmp_path / "does-not-exist"))
    assert not row.usable and "no such" in row.status.text()

    row.set_path(str(brushnet_folder(tmp_path / "whole")))
    assert row.usable and row.status.text().startswith("Usable")

    sam = dialog.model_rows["sam"]
    (tmp_path / "sam_vit_b_01ec64.pth").write_bytes(b"PK\x03\x04 truncated download")
    sam.set_path(str(tmp_path / "sam_vit_b_01ec64.pth"))
    assert not sam.usable and "truncated" in sam.status.text()

    # Emptied again: the automatic search, which now finds a copy in the app's models folder.
    brushnet_folder(no_user_models / "brushnet-x")
    row.set_path("")
    assert row.usable and "Found automatically: brushnet-x" in row.status.text()


def test_the_instruction_panel_and_the_dialog_are_one_setting(make_window, ini_settings, fake_client, qtbot):
    w = make_window()
    panel = w.instruction_panel
    panel.instructor.setCurrentIndex(panel.instructor.findData("local"))
    assert w.preferences.instructor == "local"
    assert fake_client.service.config.instructor == "local"
    assert ini_settings.value("instruction/instructor") == "local"
    dialog = open_prefs(w)
    assert dialog.instructor.currentData() == "local"
    panel.instructor.setCurrentIndex(panel.instructor.findData("offline"))  # followed while open
    assert dialog.instructor.currentData() == "offline"
    dialog.instructor.setCurrentIndex(dialog.instructor.findData("openai"))
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    assert panel.instructor.currentData() == "openai"
    assert fake_client.service.config.instructor == "openai"


def test_bad_saved_values_fall_back_to_the_defaults(tmp_path):
    from desktop.ui.dialogs.preferences_store import Preferences

    s = QSettings(str(tmp_path / "bad.ini"), QSettings.IniFormat)
    s.setValue("preferences/device", "tpu")
    s.setValue("preferences/autosave_minutes", "soon")
    s.setValue("instruction/instructor", "oracle")
    p = Preferences.load(s)
    assert (p.device, p.autosave_minutes, p.instructor) == ("auto", 3, "auto")
    assert p.engine_config().device == "auto"


def test_screenshot_of_the_dialog(make_window, tmp_path, qtbot):
    """The dialog renders with the window's dark palette (for the README and a human's look)."""
    from desktop.ui.theme import apply_dark_theme
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    sheet, palette = app.styleSheet(), app.palette()
    apply_dark_theme(app)
    try:
        w = make_window()
        dialog = open_prefs(w)
        for row in range(dialog.pages_list.count()):
            dialog.pages_list.setCurrentRow(row)
            image = dialog.grab().toImage()
            assert image.width() > 600 and image.height() > 400
            # Dark theme: the empty page background (above the buttons) is dark.
            assert image.pixelColor(image.width() - 30, image.height() - 90).lightness() < 90
            image.save(str(tmp_path / f"prefs-{row}.png"))
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)


def test_the_local_instructor_choice_reaches_the_engine_and_persists(make_window, ini_settings, fake_client, qtbot):
    w = make_window()
    dialog = open_prefs(w)
    assert dialog.local_model.currentData() == "auto:auto" and not dialog.local_model.isEnabled()
    dialog.instructor.setCurrentIndex(dialog.instructor.findData("local"))
    assert dialog.local_model.isEnabled()
    dialog.local_model.setCurrentIndex(dialog.local_model.findData("qwen2-vl-7b:4bit"))
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    config = fake_client.service.config
    assert (config.instructor, config.instructor_model, config.instructor_precision) == (
        "local", "qwen2-vl-7b", "4bit")
    w.close()
    w2 = make_window(settings=QSettings(ini_settings.fileName(), QSettings.IniFormat))
    assert (w2.preferences.instructor_model, w2.preferences.instructor_precision) == ("qwen2-vl-7b", "4bit")
    assert open_prefs(w2).local_model.currentData() == "qwen2-vl-7b:4bit"


def test_a_bad_saved_local_instructor_falls_back_to_auto(tmp_path):
    from desktop.ui.dialogs.preferences_store import Preferences

    s = QSettings(str(tmp_path / "bad.ini"), QSettings.IniFormat)
    s.setValue("preferences/instructor_model", "qwen2-vl-72b")
    s.setValue("preferences/instructor_precision", "4bit")
    p = Preferences.load(s)
    assert (p.instructor_model, p.instructor_precision) == ("auto", "auto")
    assert p.engine_config().instructor_model == "auto"
