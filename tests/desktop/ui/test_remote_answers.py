"""The engine answers the editor's questions: on a studio server, model status, model-path checks
and the parse behind Run are the server's answers (about its disk, with its parser), never this
computer's; on this computer, asking does not start the engine."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.engine_client import (
    EngineClient,
    ModelEntry,
    ModelPathRequest,
    ModelPathStatus,
    ModelStatusReport,
    ModelStatusRequest,
    ParsedInstruction,
    ParseRequest,
    default_service_factory,
    model_path_status,
)
from engine.connect import answer_locally
from tests.fakes.fake_engine import FakeEngineService


@pytest.fixture
def empty_disk(tmp_path, monkeypatch):
    """This computer has no models at all (an empty app folder and Hugging Face cache)."""
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-hf-cache"))
    for name in ("SAM_VIT_H", "SAM_VIT_L", "SAM_VIT_B"):
        monkeypatch.delenv("BRUSHEDIT_MODEL_" + name, raising=False)
    assert not model_path_status("sam", "").usable


SERVER_SAM = ModelPathStatus(True, "Found automatically: sam-vit-b (the server's models folder)", "sam-vit-b")


class FakeRemote(FakeEngineService):
    """A studio server's engine as the client sees it (a ``client_id``), with a disk of its own."""

    client_id = "fake-remote-client"

    def __init__(self, on_message, sam: ModelPathStatus = SERVER_SAM, **kw):
        super().__init__(on_message, steps=2, step_delay=0.001, **kw)
        self.sam = sam

    def answer(self, query):
        self.answered.append(query)
        if isinstance(query, ModelPathRequest):
            if query.path:
                return ModelPathStatus(False, f"Not usable on the server: no {query.path} there")
            return self.sam if query.model_kind == "sam" else ModelPathStatus(False, "Not on the server")
        if isinstance(query, ModelStatusRequest):
            return ModelStatusReport((
                ModelEntry("sam-vit-b", 10, True, "installed (server)", "select", "", False, "sam"),
                ModelEntry("grounding-dino-tiny", 10, True, "installed (server)", "find", "", True, "grounding"),
                ModelEntry("brushnet-x", 10, False, "missing (server)", "paint", "", True, "brushnet"),
            ))
        if isinstance(query, ParseRequest):
            return ParsedInstruction("removal", "teapot", caption="the server's background", confident=True)
        return answer_locally(query)


def remote_client(**kw) -> EngineClient:
    def factory(on_message):
        return FakeRemote(on_message, **kw)

    factory.remote = True  # as remote_service_factory marks its factories
    return EngineClient(factory)


@pytest.fixture
def remote():
    client = remote_client()
    yield client
    client.shutdown()


def test_a_local_client_answers_without_starting_the_engine():
    client = EngineClient(default_service_factory())
    try:
        assert not client.remote
        status = client.model_path_status("sam", "/no/such/sam.pth")
        assert not status.usable and "no such file" in status.text
        assert client.parse_instruction("remove the cat").target == "cat"
        assert client.service is None  # no engine thread, no engine.service import for a question
    finally:
        client.shutdown()


def test_a_remote_client_asks_its_server_even_before_a_job(remote):
    assert remote.remote and remote.service is None
    assert remote.model_path_status("sam") == SERVER_SAM
    assert [e.status for e in remote.model_entries()][0] == "installed (server)"
    assert remote.parse_instruction("remove the cat").caption == "the server's background"
    assert [type(q) for q in remote.service.answered] == [ModelPathRequest, ModelStatusRequest, ParseRequest]


def test_preferences_model_checks_are_the_servers(make_window, remote, empty_disk):
    w = make_window(client=remote)
    w.show_preferences()
    dialog = w._prefs_dialog
    row = dialog.model_rows["sam"]
    assert row.status.text() == SERVER_SAM.text and row.usable  # this computer has none
    assert not dialog.models_where.isHidden() and "studio server" in dialog.models_where.text()
    row.edit.setText("/srv/models/sam_vit_b.pth")
    row.edit.editingFinished.emit()
    assert row.status.text() == "Not usable on the server: no /srv/models/sam_vit_b.pth there"
    assert ModelPathRequest("sam", "/srv/models/sam_vit_b.pth") in remote.service.answered
    dialog.close()


def test_the_models_dialog_and_the_sam_tool_show_the_servers_models(make_window, remote, empty_disk, qtbot):
    w = make_window(client=remote)
    qtbot.waitUntil(lambda: remote.service is not None
                    and any(isinstance(q, ModelPathRequest) for q in remote.service.answered), timeout=3000)
    assert w.actions["sam"].isEnabled()  # the server has SAM; this computer does not
    w.actions["models"].trigger()
    dialog = w._models_dialog
    assert [(e.name, e.status) for e in dialog.entries][0] == ("sam-vit-b", "installed (server)")
    assert dialog.table.item(0, 2).text() == "installed (server)"
    # This computer's Preferences path is no setting of the server's: not offered there.
    assert dialog.use_file_button.isHidden()
    dialog.close()


def test_a_server_without_sam_greys_the_sam_tool_with_its_reason(make_window, qtbot, empty_disk):
    client = remote_client(sam=ModelPathStatus(False, "Not installed on the server: sam-vit-h"))
    try:
        w = make_window(client=client)
        qtbot.waitUntil(lambda: not w.actions["sam"].isEnabled(), timeout=3000)
        assert "not installed on the server" in w.actions["sam"].toolTip()
    finally:
        client.shutdown()


def test_run_reads_the_instruction_with_the_servers_parser(make_window, remote, photo_path, qtbot):
    w = make_window(client=remote)
    w.open_path(photo_path)
    panel = w.instruction_panel
    errors = []
    w.controller.error.connect(lambda m, h: errors.append(m))
    panel.instruction.setPlainText("remove the teapot")
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)  # nothing masked: the server's models decide
    assert "press Plan" in errors[-1]  # the server has GroundingDINO + SAM (this computer may not)
    w.document.mask_op("box", rect=(100, 100, 60, 60))
    with qtbot.waitSignal(w.controller.candidates_changed, timeout=5000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    request = remote.service.submitted[-1]
    assert request.prompt == "the server's background" and request.target == "teapot"
    assert any(isinstance(q, ParseRequest) for q in remote.service.answered)


def test_a_server_that_cannot_parse_leaves_run_to_this_computers_parser(remote):
    remote.start()
    remote.service.answer = lambda query: (_ for _ in ()).throw(OSError("connection refused"))
    assert remote.parse_instruction("remove the cat").target == "cat"


def test_a_real_servers_disk_answers_the_window(make_window, qtbot, tmp_path, empty_disk):
    """A studio server whose models folder holds SAM, and an editor whose computer has none."""
    pytest.importorskip("fastapi")
    pytest.importorskip("websockets")
    from desktop.engine_client import remote_service_factory
    from tests.fakes.servers import child_server, free_port

    folder = tmp_path / "server-models"
    (folder / "sam-vit-b").mkdir(parents=True)
    with open(folder / "sam-vit-b" / "sam_vit_b_01ec64.pth", "wb") as fh:
        fh.write(b"PK\x03\x04")  # a torch.save zip's start: a zero-filled file is corrupt (issue 25)
        fh.truncate(375_042_383)  # the manifest's size (a sparse file: the check reads headers only)
    port = free_port()
    client = EngineClient(remote_service_factory(f"http://127.0.0.1:{port}"))
    try:
        with child_server(port, gate=True, env_extra={"BRUSHEDIT_MODELS_DIR": str(folder)}):
            w = make_window(client=client)
            qtbot.waitUntil(lambda: w.actions["sam"].isEnabled(), timeout=5000)
            w.show_preferences()
            assert w._prefs_dialog.model_rows["sam"].status.text().startswith("Found automatically: sam-vit-b")
            w._prefs_dialog.close()
            w.actions["models"].trigger()
            sam = {e.name: e for e in w._models_dialog.entries}["sam-vit-b"]
            assert sam.installed and sam.status == "installed"
            w._models_dialog.close()
        assert not model_path_status("sam", "").usable  # this computer's own answer is unchanged
    finally:
        client.shutdown()


def test_the_panels_prompt_takes_the_parse_it_is_given():
    from desktop.ui.panels.instruction_panel import prompt_from_text

    def parse(text):
        return ParsedInstruction("local", "cat", caption="a tiger", confident=True)

    assert prompt_from_text("turn the cat into a tiger", parse) == ("a tiger", "local", "cat")
    assert prompt_from_text("a wooden bench") == ("a wooden bench", "", None)
