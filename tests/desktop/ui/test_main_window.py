"""The main window driven for real (offscreen): open, title, save/re-open .ora, export, recent files,
unsaved-changes prompt, drag-and-drop, paste, persisted settings, non-blocking errors."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QDockWidget

from desktop.document import Document


def _paint(doc, x=100, y=100):
    doc.begin_mask_stroke("paint", 30, 0.8)
    doc.mask_stroke_to(x, y)
    doc.mask_stroke_to(x + 60, y + 10)
    doc.end_mask_stroke()


def test_window_has_the_docks_status_bar_and_titled_actions(make_window):
    w = make_window()
    titles = {d.windowTitle() for d in w.findChildren(QDockWidget)}
    assert {"Layers", "History", "Instruction", "Tool options", "Job queue"} <= titles
    for label in (w.zoom_label, w.size_label, w.engine_label, w.gpu_label):
        assert label.isVisible()
    assert w.gpu_label.text() == "GPU: —"
    assert w.actions["brush"].toolTip() == "Brush (B)"
    assert w.actions["redo"].shortcuts()[1].toString() == "Ctrl+Y"
    assert all(not a.icon().isNull() for a in w.actions.values())
    assert w.controller is not None


def test_open_photo_sets_title_size_layers_and_recent(make_window, photo_path):
    w = make_window()
    assert w.open_path(photo_path)
    assert w.document.size == (451, 300)
    assert "chelsea.png" in w.windowTitle() and not w.isWindowModified()
    assert w.size_label.text().startswith("451 × 300")
    assert w.layers_panel.tree.topLevelItemCount() == 1
    assert w.recent_files()[0].endswith("chelsea.png")
    _paint(w.document)
    assert w.isWindowModified()


def test_a_bad_file_gives_a_clear_message_and_keeps_the_document(make_window, tmp_path, photo_path):
    w = make_window()
    w.open_path(photo_path)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    assert not w.open_path(bad)
    assert w.document is not None and w.document.title == "chelsea.png"
    title, text = w.messages[-1]
    assert title == "Cannot open file" and "\n" not in text and text


def test_save_reopen_and_export(make_window, photo_path, tmp_path):
    w = make_window()
    w.open_path(photo_path)
    _paint(w.document)
    w.document.add_edit(np.full((40, 50, 3), (10, 200, 30), np.uint8), offset=(20, 30))
    project = tmp_path / "out" / "cat"
    project.parent.mkdir()
    assert w.save_as(project)  # the .ora suffix is added
    assert (tmp_path / "out" / "cat.ora").exists()
    assert not w.isWindowModified() and "cat.ora" in w.windowTitle()
    for ext in ("png", "jpg", "webp"):
        assert w.export(tmp_path / f"flat.{ext}")
        with Image.open(tmp_path / f"flat.{ext}") as im:
            assert im.size == (451, 300)
    flat = np.asarray(Image.open(tmp_path / "flat.png").convert("RGB"))
    assert tuple(flat[50, 40]) == (10, 200, 30)
    assert w.open_path(tmp_path / "out" / "cat.ora")
    assert len(w.document.layers) == 2
    assert w.document.mask.max() == 255
    assert w.save()  # saves in place now that it is a project


def test_unsaved_changes_prompt(make_window, photo_path, tmp_path):
    w = make_window(unsaved="cancel")
    w.open_path(photo_path)
    _paint(w.document)
    assert not w.close()  # cancel keeps the window and the document
    assert w.isVisible() and w.document.dirty
    assert not w.open_path(photo_path)
    w.unsaved_answer = "discard"
    assert w.open_path(photo_path) and not w.document.dirty
    _paint(w.document)
    w.unsaved_answer = "save"
    w.save_as = lambda path=None: type(w).save_as(w, tmp_path / "kept.ora")
    assert w.close()
    assert (tmp_path / "kept.ora").exists()


def test_settings_persist_recent_files_tools_and_layout(make_window, photo_path, ini_settings):
    w = make_window()
    w.open_path(photo_path)
    w.set_tool("eraser")
    w.tools["brush"].size = 123
    w.close()
    ini_settings.sync()
    w2 = make_window()
    assert w2.recent_files()[0].endswith("chelsea.png")
    assert w2.recent_menu.actions()[0].text().endswith("chelsea.png")
    assert w2.tools["brush"].size == 123
    assert w2.current_tool().name == "eraser"
    assert ini_settings.value("window/state") is not None


def test_drop_and_paste_open_images(make_window, photo_path, photo_array):
    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_path))])
    ev = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    w.dropEvent(ev)
    assert w.document is not None and w.document.title == "chelsea.png"
    img = QImage(64, 32, QImage.Format_RGB888)
    img.fill(Qt.red)
    QApplication.clipboard().setImage(img)
    assert w.paste_as_new_image()
    assert w.document.size == (64, 32)
    assert tuple(w.document.flatten()[5, 5][:3]) == (255, 0, 0)
    w.close_document()
    assert w.paste_image()  # Ctrl+V with no document open: a new one as well
    assert w.document is not None and w.document.size == (64, 32)


def test_ctrl_v_pastes_a_layer_centred_and_copy_pastes_back_in_place(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)  # 451 x 300
    doc = w.document
    img = QImage(40, 20, QImage.Format_RGB888)
    img.fill(Qt.blue)
    QApplication.clipboard().setImage(img)
    w.actions["paste"].trigger()
    assert len(doc.layers) == 2 and doc.layers[-1].name == "Pasted" and doc.layers[-1].offset == (205, 140)
    assert doc.history.entries[-1] == "Add layer" and tuple(doc.flatten()[150, 220, :3]) == (0, 0, 255)
    # copy the masked part of the photo, paste: it lands where it was copied from
    mask = np.zeros((doc.height, doc.width), np.uint8)
    mask[10:60, 30:90] = 255
    doc.set_mask(mask)
    w.layers_panel.select_layer(doc.layers[0])
    w.actions["copy"].trigger()
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (60, 50)
    w.actions["paste"].trigger()
    pasted = doc.layers[-1]
    assert pasted.offset == (30, 10) and np.array_equal(pasted.pixels[..., :3], doc.layers[0].pixels[10:60, 30:90, :3])
    # copy merged takes the blue layer too; nothing under the mask says so
    mask[:] = 0
    mask[140:150, 200:230] = 255
    doc.set_mask(mask)
    w.actions["copy_merged"].trigger()
    merged = QApplication.clipboard().image()
    assert merged.pixelColor(10, 5).blue() == 255 and merged.pixelColor(2, 5).blue() != 255
    qtbot.waitUntil(lambda: len(w.layers_panel.layer_items()) == 3)
    w.layers_panel.select_layer(pasted)
    assert w.layers_panel.current_layer() is pasted
    assert not w.copy_image()
    assert "Nothing to copy" in w.statusBar().currentMessage()


def test_undo_redo_shortcuts_and_history(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    _paint(w.document)
    assert w.document.mask.max() == 255
    w.actions["undo"].trigger()
    assert w.document.mask.max() == 0
    w.actions["redo"].trigger()
    assert w.document.mask.max() == 255
    assert w.history_panel.list.count() == 2
    assert w.history_panel.list.currentRow() == 1


def test_missing_models_failure_shows_what_each_feature_needs(make_window):
    w = make_window()
    w.banner.hide()
    w._on_job_failed(1, "missing model weights: brushnet-x", "run: brushedit models download brushnet-x", "missing-models")
    assert w.banner.isVisible()
    # The failure and its fix, short; what each feature needs is in the tooltip.
    assert "brushnet-x" in w.banner_text.text() and "SAM" not in w.banner_text.text()
    assert "SAM" in w.banner_text.toolTip() and "fill" in w.banner_text.toolTip()


def test_first_window_with_a_document_from_array(make_window, photo_array):
    w = make_window()
    w.set_document(Document.from_array(photo_array))
    assert w.windowTitle().startswith("Untitled")
    w.set_gpu_memory(3 * 2**30, 24 * 2**30)
    assert w.gpu_label.text() == "GPU: 3.0 / 24 GiB"


def test_crash_recovery_is_offered_and_stays_unsaved_until_saved(make_window, photo_path, tmp_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    _paint(w.document)
    qtbot.waitUntil(lambda: w._autosaver is not None)
    assert w._autosaver.save_now() is not None
    w.hide()  # "crash": no clean close, the autosave stays
    w2 = make_window()
    qtbot.waitUntil(lambda: getattr(w2, "recovery_box", None) is not None, timeout=3000)
    assert w2.messages[-1][0] == "Recover unsaved work?"
    w2.recovery_box.accept()
    assert w2.document is not None and w2.document.mask.max() == 255
    assert w2.windowTitle().startswith("Recovered work") and w2.isWindowModified()
    assert not any("autosave" in p for p in w2.recent_files())
    w2.save_as = lambda path=None: type(w2).save_as(w2, tmp_path / "rescued.ora")
    assert w2.save()  # goes to a project of the user's, not into the autosave folder
    assert (tmp_path / "rescued.ora").exists() and not w2.isWindowModified()


def test_the_window_opens_without_importing_torch(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from PySide6.QtCore import QSettings\n"
        "from desktop.ui.app import _application\n"
        "app = _application([])\n"
        "from desktop.ui.main_window import MainWindow\n"
        f"w = MainWindow(settings=QSettings({str(tmp_path / 's.ini')!r}, QSettings.IniFormat))\n"
        "w.show(); app.processEvents()\n"
        "print('torch' in sys.modules, 'diffusers' in sys.modules)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[3]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["False", "False"]


def test_candidate_previews_reach_the_canvas_and_progress_the_status_bar(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    doc = w.document
    w.controller.preview_changed.emit(np.zeros((doc.height, doc.width, 3), np.uint8))
    assert w.canvas.previewing
    w.controller.preview_changed.emit(None)
    assert not w.canvas.previewing
    doc.mask_op("box", rect=(100, 80, 120, 90))
    states = []
    w.controller.progress_changed.connect(lambda *a: states.append(w.engine_label.text()))
    w.controller.run("a red hat")
    qtbot.waitUntil(lambda: len(w.controller.candidates) == 1, timeout=20000)
    assert any(s.startswith("Engine: ") and s != "Engine: idle" for s in states)
    qtbot.waitUntil(lambda: w.engine_label.text() == "Engine: idle", timeout=5000)


def test_first_run_notice_can_be_dismissed_for_good(make_window, monkeypatch, qtbot):
    import desktop.engine_client as ec

    entry = ec.ModelEntry(name="sam-vit-b", size_bytes=1, installed=False, status="missing", enables="select",
                          description="")
    monkeypatch.setattr(ec, "model_entries", lambda: [entry])
    w = make_window()
    qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=3000)
    w.dismiss_banner()
    w2 = make_window()
    qtbot.wait(50)
    assert not w2.banner.isVisible()


def test_models_dialog_opens_without_blocking(make_window):
    w = make_window()
    w.actions["models"].trigger()
    dialog = w._models_dialog
    assert dialog.isVisible() and not dialog.isModal()
    dialog.close()


def test_engine_status_shows_gpu_memory_or_cpu(qtbot, ini_settings):
    from desktop.engine_client import EngineStatus
    from tests.fakes.fake_engine import fake_engine_client
    from desktop.ui.main_window import MainWindow

    gpu = EngineStatus("cuda", "NVIDIA RTX 4090", int(3.1 * 2**30), 24 * 2**30)
    client, services = fake_engine_client(steps=2, step_delay=0.002, status=gpu)
    w = MainWindow(client=client, settings=ini_settings)
    qtbot.addWidget(w)
    w.ask_unsaved = lambda: "discard"
    doc = Document.from_array(np.zeros((64, 64, 3), np.uint8))
    w.set_document(doc)
    doc.mask_op("box", rect=(10, 10, 20, 20))
    with qtbot.waitSignal(client.status, timeout=10000):
        w.controller.run("a hat")
    assert w.gpu_label.text() == "GPU: 3.1 / 24 GiB"
    assert "NVIDIA RTX 4090" in w.engine_label.toolTip()
    services[0].status = EngineStatus("cpu")
    with qtbot.waitSignal(client.status, timeout=10000):
        w.controller.run("a hat")
    assert w.gpu_label.text() == "CPU"
    assert "CPU" in w.engine_label.toolTip()
    client.shutdown()


def test_instruction_parameters_persist_across_windows(make_window, ini_settings):
    w = make_window()
    panel = w.instruction_panel
    panel.candidates.setValue(3)
    panel.steps.setValue(20)
    panel.engine.setCurrentIndex(panel.engine.findData("fill"))
    panel.seed.setValue(1234)
    panel.seed_lock.setChecked(True)
    w.close()
    ini_settings.sync()
    p2 = make_window().instruction_panel
    params = p2.params()
    assert (params.num_candidates, params.steps, params.engine, params.seed) == (3, 20, "fill", 1234)


def test_missing_weights_show_in_the_banner_not_in_a_box(make_window, photo_path, qtbot):
    from PySide6.QtWidgets import QMessageBox

    w = make_window()
    w.open_path(photo_path)
    w.banner.hide()
    hint = "run: brushedit models download brushnet-x sd15-realistic-vision"
    w.client.failed.emit(99, "this edit needs BrushEdit and its weights are missing: brushnet-x", hint,
                         "missing-models")
    w.controller.error.emit("this edit needs BrushEdit and its weights are missing: brushnet-x", hint)
    assert w.banner.isVisible()
    assert "Engine ▸ Models…" in w.banner_text.text() and "brushedit models" not in w.banner_text.text()
    assert not any(b.isVisible() for b in w.findChildren(QMessageBox))
    assert w.messages[-1][0] == "Models needed"
    w.controller.error.emit("out of memory: CUDA", "try fewer candidates")
    assert w.messages[-1] == ("The edit did not run", "Out of memory: CUDA\nTry fewer candidates")


def test_the_instruction_panel_scrolls_instead_of_growing_the_window(make_window, photo_path, qtbot):
    w = make_window()
    w.open_path(photo_path)
    height = w.height()
    panel = w.instruction_panel
    panel.params_toggle.setChecked(True)
    panel.instruction.setPlainText("make the sky a sunset")
    with qtbot.waitSignal(w.controller.plan_ready, timeout=5000):
        panel.request_plan()
    qtbot.wait(100)
    assert w.height() == height
    assert panel.details.widget().width() <= panel.details.viewport().width()  # no clipped fields
    assert w.candidate_strip.accept_button.isVisible()


def test_a_sam_click_without_sam_leaves_no_marker(make_window, photo_path):
    w = make_window()
    w.open_path(photo_path)
    w.tools["sam"].points.append((10.0, 10.0))
    w.tools["sam"].labels.append(1)
    w.controller.error.emit("missing model weights: sam-vit-h", "run: brushedit models download sam-vit-h")
    assert w.tools["sam"].points == []


def test_plan_and_run_wait_for_a_photo(make_window, photo_path):
    w = make_window()
    panel = w.instruction_panel
    assert not panel.run_button.isEnabled() and not panel.plan_button.isEnabled()
    assert "Open a photo" in panel.stage.text()
    w.open_path(photo_path)
    assert panel.run_button.isEnabled() and panel.plan_button.isEnabled()
    assert panel.stage.text() == "Ready"


def test_document_actions_are_greyed_out_without_a_photo(make_window, photo_path):
    w = make_window()
    for name in ("save", "save_as", "export", "close", "undo", "redo"):
        assert not w.actions[name].isEnabled(), name
    w.open_path(photo_path)
    assert all(w.actions[n].isEnabled() for n in ("save", "save_as", "export", "close"))


def test_no_two_actions_share_a_shortcut(make_window):
    """An ambiguous shortcut does nothing in Qt (it only warns): every key must name one action."""
    from collections import Counter

    from PySide6.QtGui import QAction, QKeySequence

    w = make_window()
    keys = Counter(seq.toString(QKeySequence.PortableText)
                   for action in w.findChildren(QAction) for seq in action.shortcuts())
    assert keys and {k: n for k, n in keys.items() if n > 1} == {}
    for key in ("Del", "Ctrl+J", "Ctrl+]", "Ctrl+["):
        assert keys[key] == 1


def test_ctrl_c_and_ctrl_v_in_the_instruction_box_stay_text(make_window, photo_path, qtbot):
    """The window's Copy/Paste image actions must not steal the keys from a text field."""
    from PySide6.QtTest import QTest

    w = make_window()
    w.open_path(photo_path)
    box = w.instruction_panel.instruction
    box.setPlainText("remove the cat")
    box.selectAll()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    QTest.keyClick(box, Qt.Key_C, Qt.ControlModifier)
    assert QApplication.clipboard().text() == "remove the cat"
    box.moveCursor(box.textCursor().MoveOperation.End)
    QTest.keyClick(box, Qt.Key_V, Qt.ControlModifier)
    assert box.toPlainText() == "remove the catremove the cat" and len(w.document.layers) == 1
