"""The editor on a studio server: Preferences ▸ Engine, the token's home, a server that dies, and
the GUI thread while a remote job streams previews."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("websockets")

from desktop.engine_client import EngineClient, remote_service_factory  # noqa: E402
from desktop.ui.dialogs.studio_server import EngineLocation, StudioServerBox, TokenStore  # noqa: E402
from tests.fakes.servers import child_server, free_port  # noqa: E402


class _Ring:
    def __init__(self, fail=False):
        self.store, self.fail = {}, fail

    def get_password(self, service, user):
        if self.fail:
            raise RuntimeError("no backend")
        return self.store.get((service, user))

    def set_password(self, service, user, value):
        if self.fail:
            raise RuntimeError("no backend")
        self.store[(service, user)] = value

    def delete_password(self, service, user):
        self.store.pop((service, user), None)


@pytest.fixture
def ring(monkeypatch):
    ring = _Ring()
    monkeypatch.setitem(sys.modules, "keyring", types.SimpleNamespace(
        get_password=ring.get_password, set_password=ring.set_password, delete_password=ring.delete_password))
    return ring


def test_the_token_goes_to_the_keyring_never_to_the_settings(ini_settings, ring, tmp_path):
    tokens = TokenStore()
    EngineLocation("server", "http://studio:8765", "tok-123").save(ini_settings, tokens)
    ini_settings.sync()
    assert ring.store == {("brushedit-studio", "http://studio:8765"): "tok-123"}
    assert "tok-123" not in (tmp_path / "settings.ini").read_text()
    again = EngineLocation.load(ini_settings, TokenStore())  # a new run: read back from the keyring
    assert (again.mode, again.url, again.token) == ("server", "http://studio:8765", "tok-123")
    assert "tok-123" not in repr(again)


def test_without_a_working_keyring_the_token_stays_in_memory(ini_settings, monkeypatch, tmp_path):
    ring = _Ring(fail=True)
    monkeypatch.setitem(sys.modules, "keyring", ring)
    tokens = TokenStore()
    EngineLocation("server", "http://studio:8765", "tok-456").save(ini_settings, tokens)
    ini_settings.sync()
    assert "tok-456" not in (tmp_path / "settings.ini").read_text()
    assert EngineLocation.load(ini_settings, tokens).token == "tok-456"  # same run: memory
    assert EngineLocation.load(ini_settings, TokenStore()).token == ""  # next run: asked again


def test_the_box_tests_the_connection_without_blocking(qtbot):
    port = free_port()
    with child_server(port, gate=True, token="right"):
        box = StudioServerBox(EngineLocation("server", f"http://127.0.0.1:{port}", "wrong"))
        qtbot.addWidget(box)
        box.test_connection()
        qtbot.waitUntil(lambda: box.test_button.isEnabled(), timeout=10000)
        assert box.result.text().startswith("✗") and "token" in box.result.text()
        box.token.setText("right")
        box.test_connection()
        qtbot.waitUntil(lambda: box.test_button.isEnabled(), timeout=10000)
        assert box.result.text().startswith("✓ Connected")
    box.local.setChecked(True)
    assert not box.url.isEnabled() and box.location().mode == "local"


def test_preferences_switch_the_window_to_a_studio_server(make_window, ring, monkeypatch):
    w = make_window()
    w.show_preferences()
    dialog = w._prefs_dialog
    dialog.studio.set_location(EngineLocation("server", "http://127.0.0.1:9", "t"))
    dialog.apply()
    assert w.client._factory.__qualname__.startswith("remote_service_factory")
    assert w.settings.value("engine/where") == "server"
    dialog.studio.local.setChecked(True)
    dialog.apply()
    assert w.client._factory.__qualname__.startswith("default_service_factory")
    dialog.close()


def _photo_and_mask(size=(384, 512)):
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut()[: size[0], : size[1]])
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[100:250, 150:350] = 255
    return photo, mask


def test_a_server_that_dies_mid_job_fails_it_and_leaves_the_document_alone(make_window, qtbot):
    from desktop.document import Document
    from desktop.engine_client import EditParams

    port = free_port()
    client = EngineClient(remote_service_factory(f"http://127.0.0.1:{port}"))
    try:
        with child_server(port, gate=True) as proc:
            w = make_window(client=client)
            photo, mask = _photo_and_mask()
            w.set_document(Document.from_array(photo))
            doc = w.document
            doc.set_mask(mask, label="Box")
            before = doc.flatten().copy()
            layers = len(doc.layers)
            failures = []
            client.failed.connect(lambda job, error, hint, kind: failures.append((kind, error)))
            previews = []
            client.preview.connect(lambda job, image: previews.append(job))
            w.controller.run("a planet", EditParams(seed=1, engine="fill"))
            qtbot.waitUntil(lambda: bool(previews), timeout=20000)
            proc.kill()
            qtbot.waitUntil(lambda: bool(failures), timeout=5000)
        assert failures[0][0] == "server-gone" and "lost the studio server" in failures[0][1]
        assert not client.busy and len(doc.layers) == layers
        assert np.array_equal(doc.flatten(), before) and not w.controller.candidates
    finally:
        client.shutdown()


def test_the_gui_thread_stays_responsive_while_a_remote_job_streams_previews(
        make_window, qtbot, capsys, record_property):
    from desktop.document import Document
    from desktop.engine_client import EditParams
    from tests.desktop.ui.test_responsiveness import BOUND_MS, TickRecorder, report_latency

    port = free_port()
    client = EngineClient(remote_service_factory(f"http://127.0.0.1:{port}"))
    try:
        with child_server(port, "--steps", "60", "--step-delay", "0.03", "--preview-size", "512",
                          gate=True) as proc:
            w = make_window(client=client)
            photo, mask = _photo_and_mask()
            w.set_document(Document.from_array(np.ascontiguousarray(np.tile(photo, (4, 4, 1)))))
            big_mask = np.zeros((w.document.height, w.document.width), np.uint8)
            big_mask[300:900, 500:1300] = 255
            w.document.set_mask(big_mask, label="Box")
            with TickRecorder() as idle:  # the same timer idle: machine noise, not ours
                qtbot.wait(500)
            report_latency(capsys, record_property, "idle window (baseline, same run)", idle.gaps_ms())
            previews = []
            client.preview.connect(lambda job, image: previews.append(image.shape))
            w.controller.run("a planet", EditParams(seed=1, engine="fill"))
            with TickRecorder() as rec:
                qtbot.waitUntil(lambda: bool(w.controller.candidates), timeout=60000)
        gaps = rec.gaps_ms()
        stats = report_latency(capsys, record_property, "remote job streaming previews", gaps,
                               f"({len(previews)} JPEG previews of 512 px over the websocket)")
        assert len(previews) >= 30 and previews[0] == (512, 512, 3)
        assert gaps.size > 100
        assert stats["max_ms"] < BOUND_MS
        (layer,) = w.controller.accept([0])  # the layer records which server process painted it
        worker = layer.provenance.extra["worker"]
        assert worker["pid"] == proc.pid and worker["device"] == "cpu" and worker["host"]
    finally:
        client.shutdown()


def test_the_client_asks_the_server_for_model_status(qtbot):
    from desktop.engine_client import ModelEntry, model_entries
    from tests.fakes.servers import ThreadServer

    with ThreadServer() as server:
        client = EngineClient(remote_service_factory(server.url))
        try:
            entries = client.model_entries()
            assert entries and all(isinstance(e, ModelEntry) for e in entries)
            assert {e.name for e in entries} == {e.name for e in model_entries()}  # the same manifest
        finally:
            client.shutdown()
