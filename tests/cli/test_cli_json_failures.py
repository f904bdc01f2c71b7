"""``--json`` that cannot finish prints one JSON object on stdout: the error and the fix (issue 25 item
9: ``plan --json`` printed nothing on stdout, only a line on stderr, exit 3)."""

from __future__ import annotations

import json


def test_plan_json_without_detectors_prints_the_error_and_the_fix(brushedit, photos):
    r = brushedit("plan", photos / "cat.png", "remove the cat", "--json")
    assert r.code == 3, r
    failure = json.loads(r.out)
    assert failure["ok"] is False and failure["exit_code"] == 3
    assert "GroundingDINO" in failure["error"]
    assert failure["fix"].startswith("run: brushedit models download") and "sam-vit-h" in failure["fix"]
    assert len(r.err_lines) == 1  # the one line on stderr stays


def test_edit_json_with_a_usage_error_prints_json(brushedit, photos, tmp_path):
    r = brushedit("edit", photos / "cat.png", "remove the cat", "-o", tmp_path / "out.gif", "--json")
    assert r.code == 2, r
    failure = json.loads(r.out)
    assert failure == {"ok": False, "error": failure["error"], "fix": None, "exit_code": 2}
    assert "unknown output type" in failure["error"]


def test_without_json_stdout_stays_empty_on_failure(brushedit, photos):
    r = brushedit("plan", photos / "cat.png", "remove the cat")
    assert r.code == 3 and r.out == "", r
