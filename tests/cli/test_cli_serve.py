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
