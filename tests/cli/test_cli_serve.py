"""``brushedit serve`` options, and ``edit|plan --server`` against a real server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cli import build_parser
from cli.errors import CliError

pytest.importorskip("fastapi")


def _args(*argv):
    return build_parser().parse_args(["serve", *argv])


def test_serve_defaults_are_loopback_8765_and_no_token(monkeypatch):
    from cli.serve import settings_from

    monkeypatch.delenv("BRUSHEDIT_SERVER_TOKEN", raising=False)
    settings = settings_from(_args("--device", "cpu"))
    assert (settings.host, settings.port, settings.token) == ("127.0.0.1", 8765, None)
    assert settings.config.device == "cpu"


def test_a_public_bind_without_a_token_is_refused_in_one_line(monkeypatch):
    from cli.serve import settings_from

    monkeypatch.delenv("BRUSHEDIT_SERVER_TOKEN", raising=False)
    with pytest.raises(CliError, match="refusing to serve on 0.0.0.0 without a token"):
        settings_from(_args("--host", "0.0.0.0"))
    monkeypatch.setenv("BRUSHEDIT_SERVER_TOKEN", "from-env")
    assert settings_from(_args("--host", "0.0.0.0")).token == "from-env"


def test_the_token_file_wins_and_an_empty_one_is_an_error(tmp_path, monkeypatch):
    from cli.serve import settings_from

    monkeypatch.setenv("BRUSHEDIT_SERVER_TOKEN", "from-env")
    (tmp_path / "t").write_text("from-file\nignored\n")
    assert settings_from(_args("--token-file", str(tmp_path / "t"))).token == "from-file"
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(CliError, match="empty"):
        settings_from(_args("--token-file", str(tmp_path / "empty")))


def test_ray_options_parse_as_the_design_says():
    args = _args("--ray", "--replicas", "2", "--gpus-per-replica", "0", "--address", "127.0.0.1:6379")
    assert (args.ray, args.replicas, args.gpus_per_replica, args.address) == (True, 2, 0.0, "127.0.0.1:6379")


def test_edit_and_plan_with_server_run_there_and_edit_json_names_the_worker(tmp_path, monkeypatch):
    from PIL import Image
    from skimage import data

    from tests.fakes.servers import child_server, free_port

    image = np.ascontiguousarray(data.astronaut()[::4, ::4])
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[40:80, 40:90] = 255
    Image.fromarray(image).save(tmp_path / "in.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    port = free_port()
    env_token = "cli-test-token"
    with child_server(port, token=env_token) as proc:
        import os

        env = dict(os.environ, BRUSHEDIT_SERVER_TOKEN=env_token, PYTHONPATH=os.getcwd())
        base = [sys.executable, "main.py", "edit", str(tmp_path / "in.png"), "remove it", "--mask",
                str(tmp_path / "mask.png"), "--engine", "fill", "--seed", "3", "--json", "-q"]
        cmd = base + ["-o", str(tmp_path / "out.png"), "--server", f"http://127.0.0.1:{port}"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout)
        assert summary["worker"]["pid"] == proc.pid and summary["worker"]["device"] == "cpu"
        assert summary["engine"] == "fill"
        bad = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, BRUSHEDIT_SERVER_TOKEN="no"),
                             timeout=120)
        assert bad.returncode != 0 and "refused the token" in bad.stderr
        plan = subprocess.run([sys.executable, "main.py", "plan", str(tmp_path / "in.png"), "make it look like winter",
                               "--server", f"http://127.0.0.1:{port}", "--json", "-q",
                               "--mask-out", str(tmp_path / "plan-mask.png")],
                              capture_output=True, text=True, env=env, timeout=120)
        assert plan.returncode == 0, plan.stderr
        assert json.loads(plan.stdout)["category"] == "global"
        missing = subprocess.run(plan.args[:4] + ["remove the person"] + plan.args[5:], capture_output=True,
                                 text=True, env=env, timeout=120)
        assert missing.returncode == 3 and "GroundingDINO" in missing.stderr  # the server's failure, same exit code
    local = subprocess.run(base + ["-o", str(tmp_path / "local.png")], capture_output=True, text=True, env=env,
                           timeout=120)
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout)["worker"]["pid"] != proc.pid
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png")), np.asarray(Image.open(tmp_path / "local.png")))


def test_the_new_limits_parse_and_are_refused_when_nonsense(monkeypatch):
    from cli.serve import settings_from

    monkeypatch.delenv("BRUSHEDIT_SERVER_TOKEN", raising=False)
    s = settings_from(_args("--result-ttl", "4", "--max-queued-per-client", "3", "--models-root", "/srv/models"))
    assert (s.result_ttl, s.max_queued_per_client, s.model_roots) == (4.0, 3, ("/srv/models",))
    fresh = settings_from(_args())
    assert fresh.result_ttl == 300 and fresh.max_queued_per_client == 8 and fresh.client_grace == 30
    assert fresh.max_request_pixels == 2 * fresh.max_pixels and fresh.max_client_pixels == 4 * fresh.max_pixels
    for bad in (("--max-queued-per-client", "0"), ("--result-ttl", "0")):
        with pytest.raises(CliError):
            settings_from(_args(*bad))


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_acceptance_ttl_429_4xx_no_oracle_and_a_graceful_sigterm():
    """``serve --result-ttl 4 --max-queued-per-client 3`` (with a gate engine whose jobs run ~4 s)."""
    import http.client
    import signal
    import threading

    from engine import api, wire
    from engine.server.client import RemoteEngine, health
    from tests.engine.server.test_server_hostile import MALFORMED, _inpaint_dict
    from tests.fakes.servers import child_server, free_port, wait_for

    port = free_port()

    def post(path, body, client):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers={"X-BrushEdit-Client": client,
                                                           "Content-Type": "application/x-brushedit-frame"})
            response = conn.getresponse()
            return response.status, response.getheader("Retry-After"), response.read()
        finally:
            conn.close()

    with child_server(port, "--steps", "3", "--step-delay", "0.01", "--result-ttl", "4",
                      "--max-queued-per-client", "3", gate=True) as proc:
        for i in range(3):  # clients that post and vanish
            assert post("/v1/jobs", wire.pack({"request": _inpaint_dict()}), f"vanished-{i:04d}")[0] == 202
        wait_for(lambda: health(f"127.0.0.1:{port}")["jobs_done"] == 3, 30, "the vanished clients' jobs")
        wait_for(lambda: health(f"127.0.0.1:{port}")["held"] == 0, 8, "their results to be dropped (TTL 4 s)")
        for name, frame in MALFORMED:
            status = post("/v1/jobs", frame, "client-bad-01")[0]
            assert 400 <= status < 500, (name, status)
        answers = {path: api.from_dict(wire.unpack(post("/v1/answer", wire.pack({"query": api.to_dict(
            api.ModelPathRequest("sam", path))}), "client-ask-01")[2])["answer"]) for path in
            ("/etc/shadow", "/no/such/file.pth")}
        assert answers["/etc/shadow"] == answers["/no/such/file.pth"]
    with child_server(port, "--steps", "100000", "--step-delay", "0.02", "--max-queued-per-client", "3",
                      gate=True) as proc:
        inbox, lock = [], threading.Lock()

        def on_message(message):
            with lock:
                inbox.append(message)

        client = RemoteEngine(on_message, f"http://127.0.0.1:{port}")
        try:
            client.start()
            wait_for(client.connected.is_set, 10, "the websocket")
            jobs = [client.submit(api.InpaintRequest(**_request_fields(seed))) for seed in range(3)]
            wait_for(lambda: any(isinstance(m, api.Progress) for m in list(inbox)), 30, "the first job to run")
            wait_for(lambda: health(f"127.0.0.1:{port}")["queue"] == 3, 10, "all three jobs on the server")
            status, retry_after, _ = post("/v1/jobs", wire.pack({"request": _inpaint_dict("fourth")}),
                                          client.client_id)
            assert status == 429 and int(retry_after) >= 1
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
            assert not _listening(port)
            ends = {m.job_id: m for m in list(inbox) if isinstance(m, api.JobFailed)}
            assert set(ends) == set(jobs), inbox[-5:]
            assert all(m.kind == "server-stopping" and "shutting down" in m.error for m in ends.values())
        finally:
            client.shutdown(2)


def _request_fields(seed):
    image = np.full((32, 32, 3), 100, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[4:12, 4:12] = 255
    from engine import api

    return {"image": image, "mask": mask, "params": api.EditParams(engine="fill", seed=seed)}


def test_sigterm_to_a_plain_serve_leaves_nothing_listening():
    import signal

    from tests.fakes.servers import child_server, free_port

    port = free_port()
    with child_server(port) as proc:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        assert not _listening(port)
