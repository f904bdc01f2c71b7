"""A studio server answers model questions with its own model options (``brushedit serve --sam F``):
an editor that leaves the path or the folders open means the ones this server's jobs use."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("websockets")

from engine import api, connect  # noqa: E402
from engine.server.routes import as_this_server_sees_it  # noqa: E402


@pytest.fixture
def sam_file(tmp_path):
    path = tmp_path / "my-sam" / "sam_vit_b_01ec64.pth"
    path.parent.mkdir()
    with open(path, "wb") as fh:
        fh.write(b"PK\x03\x04")  # a torch.save zip's start: a zero-filled file is corrupt (issue 25)
        fh.truncate(375_042_383)  # the manifest's size, sparse: the check reads headers only
    return path


def test_open_questions_take_the_servers_model_options(sam_file, tmp_path):
    from engine.dispatch import EngineConfig

    config = EngineConfig(device="cpu", sam_path=sam_file, model_dirs={"brushnet-x": str(tmp_path)})
    assert as_this_server_sees_it(api.ModelPathRequest("sam", ""), config) == api.ModelPathRequest("sam", str(sam_file))
    asked = api.ModelPathRequest("sam", "/elsewhere/sam.pth")
    assert as_this_server_sees_it(asked, config) is asked  # a path the user typed is checked as typed
    assert as_this_server_sees_it(api.ModelStatusRequest(), config).model_dirs == (("brushnet-x", str(tmp_path)),)
    assert as_this_server_sees_it(api.ParseRequest("remove the cat"), config) == api.ParseRequest("remove the cat")
    assert as_this_server_sees_it(api.ModelPathRequest("sam", ""), None) == api.ModelPathRequest("sam", "")


def test_a_server_started_with_a_sam_checkpoint_says_sam_is_usable(sam_file, tmp_path, monkeypatch):
    from engine.dispatch import EngineConfig
    from engine.server.app import ServerSettings
    from engine.server.client import RemoteEngine
    from tests.fakes.servers import ThreadServer, gate_workers

    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(tmp_path / "none"))  # nothing found automatically
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-cache"))
    settings = ServerSettings(config=EngineConfig(device="cpu", sam_path=sam_file))
    with ThreadServer(settings, gate_workers()) as server:
        engine = RemoteEngine(lambda message: None, server.url)
        try:
            status = engine.answer(api.ModelPathRequest("sam", ""))
            assert status.usable and status.name == "sam-vit-b"
        finally:
            engine.shutdown(2)
    assert not connect.answer_locally(api.ModelPathRequest("sam", "")).usable  # the automatic search finds none
