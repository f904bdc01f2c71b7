"""``brushedit serve`` under careless and hostile clients, on loopback: malformed frames answer 4xx with
one line (HTTP and websocket, which stays open), per-client limits answer 429, vanished clients' results
are dropped after the TTL, half-sent requests are dropped, path checks are no oracle for the disk."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import zlib

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("websockets")

from engine import api, wire  # noqa: E402
from engine.dispatch import EngineConfig  # noqa: E402
from engine.server.app import ServerSettings  # noqa: E402
from tests.fakes.servers import GateEngine, ThreadServer, gate_workers, wait_for  # noqa: E402

TOKEN = "hostile-test-token"
CLIENT = "client-hostile-1"
FRAME = "application/x-brushedit-frame"


def _post(server, path, body, content_type=FRAME, client=CLIENT):
    conn = http.client.HTTPConnection("127.0.0.1", server.settings.port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Authorization": f"Bearer {TOKEN}",
                                                       "X-BrushEdit-Client": client, "Content-Type": content_type})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _health(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.settings.port, timeout=10)
    try:
        conn.request("GET", "/v1/health")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def _png_header_only(width, height, interlace=0, channels=3):
    """A PNG whose IHDR declares ``width x height`` and whose data is a few bytes (a bomb's header)."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    colour = {1: 0, 3: 2, 4: 6}[channels]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, interlace)
    return (wire.PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def _inpaint_dict(job_id="job-x", size=16):
    image = np.full((size, size, 3), 90, np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[2:6, 2:6] = 255
    return api.to_dict(api.InpaintRequest(image, mask, "", api.EditParams(engine="fill", seed=1), job_id=job_id))


def _malformed_frames():
    """(name, frame) of every kind of frame the issue saw answered with a 500."""
    frames = []
    d = _inpaint_dict()
    d["image"] = {"$array": "png", "data": _png_header_only(30000, 30000, interlace=1), "dtype": "uint8",
                  "shape": [30000, 30000, 3]}
    frames.append(("interlaced 30000x30000 PNG", wire.pack({"request": d})))
    d = _inpaint_dict()
    d["image"] = {"$array": "png", "data": _png_header_only(30000, 30000, interlace=1), "dtype": "uint8",
                  "shape": [16, 16, 3]}
    frames.append(("30000x30000 PNG declared 16x16", wire.pack({"request": d})))
    d = _inpaint_dict()
    d["image"] = wire.encode_array(np.zeros((20, 20, 3), np.uint8))
    d["image"]["shape"] = [16, 16, 3]
    frames.append(("PNG size differs from its shape", wire.pack({"request": d})))
    d = _inpaint_dict()
    d["image"]["shape"] = ["sixteen", 16, 3]
    frames.append(("shape holding a string", wire.pack({"request": d})))
    blob = wire.pack({"request": _inpaint_dict()}, "json")
    (length,) = struct.unpack(">I", blob[4:8])
    header = blob[8:8 + length].replace(b'"$blob":[0,', b'"$blob":["0",', 1)
    frames.append(("blob offset as a string", wire.MAGIC + struct.pack(">I", len(header)) + header
                   + blob[8 + length:]))
    d = _inpaint_dict()
    d["prompt"] = {"$dict": 5}
    frames.append(("malformed $dict", wire.pack({"request": d})))
    deep = b"[" * 100_000 + b"]" * 100_000
    frames.append(("JSON nested 100,000 deep", wire.MAGIC + struct.pack(">I", len(deep)) + deep))
    frames.append(("msgpack nested 100,000 deep", wire.MAGIC2 + b"\x91" * 100_000 + b"\xc0"))
    d = _inpaint_dict()
    d["params"] = 5
    frames.append(("params = 5", wire.pack({"request": d})))
    d = _inpaint_dict()
    d["params"]["engine"] = "os.system"
    frames.append(("an unknown painter", wire.pack({"request": d})))
    frames.append(("not a frame", b"GET / HTTP/1.1"))
    frames.append(("truncated msgpack", wire.pack({"request": _inpaint_dict()})[:-7]))
    return frames


MALFORMED = _malformed_frames()


@pytest.fixture
def gate():
    engine = GateEngine()
    yield engine
    engine.release.set()


def _settings(**kw):
    base = dict(config=EngineConfig(device="cpu"), token=TOKEN, max_request_bytes=4_000_000,
                max_pixels=300 * 300, max_queued_per_client=3)
    base.update(kw)
    return ServerSettings(**base)


@pytest.fixture
def server(gate):
    with ThreadServer(_settings(), gate_workers(gate)) as running:
        yield running


@pytest.mark.parametrize("name, frame", MALFORMED, ids=[n for n, _ in MALFORMED])
def test_each_malformed_frame_gets_a_4xx_with_one_line_and_no_traceback(server, gate, name, frame, caplog):
    caplog.set_level(logging.DEBUG)
    status, _, body = _post(server, "/v1/jobs", frame)
    assert 400 <= status < 500, (name, status, body)
    detail = json.loads(body)["detail"]
    assert isinstance(detail, str) and "\n" not in detail and len(detail) <= 300, detail
    assert "Traceback" not in detail and "object has no attribute" not in detail
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert gate.handled == [] and server.board.queue_length == 0


def test_params_5_names_the_field_and_is_never_queued(server):
    d = _inpaint_dict()
    d["params"] = 5
    status, _, body = _post(server, "/v1/jobs", wire.pack({"request": d}))
    assert status == 422 and json.loads(body)["detail"].startswith("malformed 'inpaint': params")


def test_the_content_type_is_checked(server):
    frame = wire.pack({"request": _inpaint_dict()})
    for content_type in ("application/json", "text/plain", ""):
        assert _post(server, "/v1/jobs", frame, content_type)[0] == 415
    assert _post(server, "/v1/jobs", frame)[0] == 202


def test_an_old_clients_json_frames_are_read_and_answered_in_kind(server):
    status, _, _ = _post(server, "/v1/jobs", wire.pack({"request": _inpaint_dict("old-1")}, "json"))
    assert status == 202
    status, _, body = _post(server, "/v1/answer", wire.pack({"query": api.to_dict(api.ParseRequest("remove the dog"))},
                                                            "json"))
    assert status == 200 and body[:4] == wire.MAGIC
    assert api.from_dict(wire.unpack(body)["answer"]).target == "dog"


def test_the_fourth_queued_job_of_one_client_gets_429_with_retry_after(server):
    for i in range(3):
        assert _post(server, "/v1/jobs", wire.pack({"request": _inpaint_dict(f"q{i}")}))[0] == 202
    status, headers, body = _post(server, "/v1/jobs", wire.pack({"request": _inpaint_dict("q3")}))
    assert status == 429 and int(headers["retry-after"]) >= 1 and "3 jobs" in json.loads(body)["detail"]
    assert _post(server, "/v1/jobs", wire.pack({"request": _inpaint_dict("o0")}), client="another-client")[0] == 202


def test_decoded_pixels_are_limited_per_request(server):
    d = _inpaint_dict(size=300)  # 300 x 300 image + mask: each within the image limit, twice over together
    mask = wire.encode_array(np.zeros((300, 300), np.uint8))
    d["params"] = api.EditParams(engine="fill").to_dict()
    tree = {"request": d}
    server.settings.max_request_pixels = 300 * 300
    d["mask"] = mask
    status, _, body = _post(server, "/v1/jobs", wire.pack(tree))
    assert status == 413 and "per request" in json.loads(body)["detail"]


def test_a_half_sent_request_is_dropped_after_the_header_timeout_and_a_stalled_body_gets_408(gate):
    with ThreadServer(_settings(header_timeout=0.5, body_timeout=0.5), gate_workers(gate)) as server:
        with socket.create_connection(("127.0.0.1", server.settings.port), timeout=10) as sock:
            sock.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nX-BrushEdit-")  # and nothing more
            assert sock.recv(4096) == b""  # the server closed it (recv would time out after 10 s otherwise)
        with socket.create_connection(("127.0.0.1", server.settings.port), timeout=10) as sock:
            sock.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nX-BrushEdit-Client: " + CLIENT.encode()
                         + b"\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\nContent-Type: " + FRAME.encode()
                         + b"\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            assert sock.recv(4096).startswith(b"HTTP/1.1 408")
        assert server.board.queue_length == 0


def test_results_of_vanished_clients_are_dropped_after_the_ttl(gate):
    gate.release.set()  # jobs run to the end at once
    with ThreadServer(_settings(result_ttl=0.5, client_grace=0.5), gate_workers(gate)) as server:
        for i in range(3):  # clients that post and never listen
            assert _post(server, "/v1/jobs", wire.pack({"request": _inpaint_dict()}), client=f"vanished-{i:04d}")[0] == 202
        wait_for(lambda: server.board.jobs_done == 3, 30, "the three jobs")
        wait_for(lambda: _health(server)["held"] == 0, 10, "held results to be dropped")
        assert server.board.clients == {}


def test_a_killed_clients_running_job_is_cancelled_after_the_grace(gate):
    from websockets.sync.client import connect

    from engine.server.codec import decode_message

    with ThreadServer(_settings(result_ttl=0.5, client_grace=0.5), gate_workers(gate)) as server:
        url = server.url.replace("http://", "ws://") + "/v1/ws"
        with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}", "X-BrushEdit-Client": CLIENT}) as ws:
            ws.send(wire.pack({"op": "submit", "request": _inpaint_dict("long")}))
            assert isinstance(decode_message(ws.recv(10)), api.JobQueued)
            wait_for(gate.started.is_set, 10, "the job to run")
            ws.socket.shutdown(socket.SHUT_RDWR)  # killed: no close frame
        wait_for(lambda: server.board.queue_length == 0, 10, "the job to be cancelled")
        wait_for(lambda: _health(server)["held"] == 0, 10, "its end to be dropped")
        assert server.board.jobs_done == 1 and not gate.release.is_set()


def test_the_websocket_refuses_malformed_frames_stays_open_and_takes_the_next(server, gate, caplog):
    from websockets.sync.client import connect

    from engine.server.codec import decode_message

    caplog.set_level(logging.DEBUG)
    url = server.url.replace("http://", "ws://") + "/v1/ws"
    headers = {"Authorization": f"Bearer {TOKEN}", "X-BrushEdit-Client": CLIENT, "X-BrushEdit-Frames": "msgpack"}
    with connect(url, additional_headers=headers, max_size=None) as ws:
        for name, frame in MALFORMED:
            ws.send(wire.pack({"op": "submit", "request": wire.unpack(frame)["request"]})
                    if _unpackable(frame) else frame)
            refused = decode_message(ws.recv(10))
            assert isinstance(refused, api.JobFailed) and refused.kind == "bad-input", (name, refused)
            assert "\n" not in refused.error and "refused a frame" in refused.error
        ws.send("a text frame")
        assert decode_message(ws.recv(10)).kind == "bad-input"
        ws.send(wire.pack({"op": "submit", "request": _inpaint_dict("good")}))
        queued = decode_message(ws.recv(10))
        assert isinstance(queued, api.JobQueued) and queued.job_id == "good"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _unpackable(frame):
    try:
        tree = wire.unpack(frame)
    except wire.WireError:
        return False
    return isinstance(tree, dict) and "request" in tree


def test_a_duplicate_job_id_on_the_websocket_is_refused_without_touching_the_running_job(server, gate):
    from websockets.sync.client import connect

    from engine.server.codec import decode_message

    url = server.url.replace("http://", "ws://") + "/v1/ws"
    with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}", "X-BrushEdit-Client": CLIENT}) as ws:
        ws.send(wire.pack({"op": "submit", "request": _inpaint_dict("dup")}))
        wait_for(gate.started.is_set, 10, "the job to run")
        ws.send(wire.pack({"op": "submit", "request": _inpaint_dict("dup")}))
        seen = []
        while not (seen and isinstance(seen[-1], api.JobFailed)):
            message = decode_message(ws.recv(10))
            seen.append(message)
        refused = seen[-1]
        assert refused.job_id == "" and "dup" in refused.error and "already" in refused.error
        assert server.board.jobs_of(CLIENT) == [{"job_id": "dup", "kind": "inpaint", "state": "running"}]
        gate.release.set()
        while not isinstance(seen[-1], api.JobFinished):
            seen.append(decode_message(ws.recv(10)))
        assert seen[-1].job_id == "dup"


def test_an_old_client_on_the_websocket_gets_json_frames(server):
    from websockets.sync.client import connect

    url = server.url.replace("http://", "ws://") + "/v1/ws"
    with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}", "X-BrushEdit-Client": CLIENT}) as ws:
        ws.send(wire.pack({"op": "cancel", "job_id": "none"}, "json"))
        ws.send(wire.pack({"op": "submit", "request": _inpaint_dict("j1")}, "json"))
        frame = ws.recv(10)
        assert frame[:4] == wire.MAGIC and api.from_dict(wire.unpack(frame)["message"]).job_id == "j1"


def test_pillow_never_sees_a_bomb_and_its_errors_are_wire_errors():
    bomb = {"$array": "png", "data": _png_header_only(30000, 30000, interlace=1), "dtype": "uint8",
            "shape": [30000, 30000, 3]}
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.decode_array(bomb, max_pixels=64_000_000)  # refused from the shape, before Pillow
    with pytest.raises(wire.WireError):
        wire.decode_array(bomb)  # no limit given: Pillow's own bomb check, as a WireError
    broken = dict(bomb, data=_png_header_only(8, 8, interlace=1), shape=[8, 8, 3])
    with pytest.raises(wire.WireError, match="undecodable"):
        wire.decode_array(broken)  # an interlaced PNG with no real data: Pillow's error, as a WireError
    for bad in ({"$dict": 5}, {"$dict": [[1, 2, 3]]}, {"$dict": [[[{"$dict": []}], 2]]},
                {"$bytes": "text"}, {"$path": 5}):
        with pytest.raises(wire.WireError, match="malformed"):
            wire.decode_value(bad, {})


def _ask(server, query):
    status, _, body = _post(server, "/v1/answer", wire.pack({"query": api.to_dict(query)}))
    assert status == 200, body
    return api.from_dict(wire.unpack(body)["answer"])


def test_path_checks_answer_only_inside_the_servers_model_folders(tmp_path, monkeypatch, gate):
    models = tmp_path / "models"
    (models / "sam-vit-b").mkdir(parents=True)
    monkeypatch.setenv("BRUSHEDIT_MODELS_DIR", str(models))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    (models / "sam-vit-b" / "passwd").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    (models / "escape").symlink_to(outside)
    with ThreadServer(_settings(), gate_workers(gate)) as server:
        answers = {path: _ask(server, api.ModelPathRequest("sam", path)) for path in (
            "/etc/shadow", "/etc/passwd", "/no/such/file.pth", str(outside), str(models / "escape"),
            str(models / "sam-vit-b" / ".." / ".." / "secret.txt"), str(models / "missing.pth"))}
        assert len({(a.usable, a.text, a.name) for a in answers.values()}) == 1, answers
        assert not answers["/etc/shadow"].usable and "only its model folders" in answers["/etc/shadow"].text
        inside = _ask(server, api.ModelPathRequest("sam", str(models / "sam-vit-b" / "passwd")))
        assert not inside.usable and "none of the sam checkpoints" in inside.text  # checked, not trusted by name
        folder = _ask(server, api.FolderCheckRequest("sam-vit-b", "/etc"))
        assert not folder.ok and folder.reason == answers["/etc/shadow"].text
        assert _ask(server, api.ModelStatusRequest((("sam-vit-b", "/etc"),))).entries  # answered, /etc ignored


def test_the_sam_check_checks_size_and_header_for_a_name_it_does_not_know(tmp_path):
    from engine.queries import model_path_status

    size = 375_042_383  # the manifest's sam-vit-b size
    sparse = tmp_path / "renamed.pth"
    with open(sparse, "wb") as fh:
        fh.truncate(size)
    assert not model_path_status("sam", str(sparse)).usable  # right size, not a torch zip
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0\n")
    status = model_path_status("sam", str(passwd))
    assert not status.usable and "size or header" in status.text
    known = tmp_path / "sam_vit_b_01ec64.pth"
    with open(known, "wb") as fh:
        fh.truncate(size - 1)
    assert "truncated" in model_path_status("sam", str(known)).text


def test_a_client_over_its_share_waits_its_turn_instead_of_failing(gate):
    import threading

    from engine.server.client import RemoteEngine

    messages, lock = [], threading.Lock()

    def inbox(message):
        with lock:
            messages.append(message)

    def ends():
        with lock:
            return {m.job_id: m for m in messages if isinstance(m, (api.JobFinished, api.JobFailed, api.JobCancelled))}

    with ThreadServer(_settings(), gate_workers(gate)) as server:
        client = RemoteEngine(inbox, server.url, TOKEN)
        try:
            jobs = [client.submit(api.InpaintRequest(**_fields(seed))) for seed in range(5)]
            wait_for(lambda: server.board.queue_length == 3, 10, "three jobs on the server")
            wait_for(lambda: len(client._deferred) == 2, 10, "two jobs told to come back later")
            assert client.cancel(jobs[4])  # one that never reached the server ends here
            assert isinstance(ends()[jobs[4]], api.JobCancelled)
            gate.release.set()
            wait_for(lambda: len(ends()) == 5, 30, "every job to end")
            assert all(isinstance(ends()[j], api.JobFinished) for j in jobs[:4]), ends()
        finally:
            client.shutdown(2)


def _fields(seed):
    image = np.full((16, 16, 3), 90, np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    mask[2:6, 2:6] = 255
    return {"image": image, "mask": mask, "params": api.EditParams(engine="fill", seed=seed)}


def test_a_request_that_cannot_travel_fails_alone_and_the_next_one_is_sent(server, gate):
    import threading

    from engine.server.client import RemoteEngine

    messages, lock = [], threading.Lock()

    def inbox(message):
        with lock:
            messages.append(message)

    client = RemoteEngine(inbox, server.url, TOKEN)
    try:
        bad = client.submit(api.InpaintRequest(**dict(_fields(1), params=api.EditParams(engine="fill", seed=2**70))))
        good = client.submit(api.InpaintRequest(**_fields(2)))
        wait_for(lambda: any(isinstance(m, api.JobFailed) and m.job_id == bad for m in list(messages)), 10, "bad")
        wait_for(lambda: server.board.jobs_of(client.client_id), 10, "the good job on the server")
        assert server.board.jobs_of(client.client_id)[0]["job_id"] == good
    finally:
        gate.release.set()
        client.shutdown(2)
