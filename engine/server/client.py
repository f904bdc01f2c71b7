"""The editor's and the CLI's side of a studio server: :class:`RemoteEngine`, an
:class:`engine.api.EngineBackend` that runs jobs on ``brushedit serve`` instead of in this process.

It needs the standard library and the ``websockets`` package only (never FastAPI, Ray or torch), and it
never blocks its caller: :meth:`RemoteEngine.submit` queues the request for a sender thread (``POST
/v1/jobs``), a receiver thread holds the websocket and delivers the server's messages to
``on_message`` (on that thread, as the in-process service does on its worker).

When the server goes away (the websocket closes, or pings go unanswered: noticed within 5 s, one
warning line, websockets' own tracebacks only at DEBUG) every job in flight fails at once with kind
``"server-gone"``; the receiver keeps trying to reconnect, and
jobs submitted after the server is back run normally. The token goes into the ``Authorization``
header only: it is never logged.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import secrets
import threading
import urllib.parse
from typing import Any, Callable

from engine import api, wire

log = logging.getLogger("brushedit.remote")

FRAME_TYPE = "application/x-brushedit-frame"
CLIENT_HEADER = "X-BrushEdit-Client"
FORMS_HEADER = "X-BrushEdit-Frames"  # tells the server this client reads msgpack frames
GONE_HINT = "the job was not finished; run it again when the server is back (the editor reconnects by itself)"


def normalize_url(url: str) -> str:
    """``host:port`` or ``http(s)://host:port[/]`` -> ``http(s)://host:port``."""
    url = (url or "").strip().rstrip("/")
    if not url:
        raise ValueError("no server URL")
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a server URL: {url!r} (expected http://host:port)")
    return f"{parts.scheme}://{parts.netloc}"


class ServerError(api.EngineError):
    """The server answered with an error (``status`` is the HTTP status, 0 when unreachable)."""

    def __init__(self, message: str, status: int = 0, hint: str = "", kind: str = "server") -> None:
        super().__init__(message, hint, kind)
        self.status = status


class _Http:
    """One keep-alive HTTP connection (not thread-safe: one per thread)."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        self._cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self._netloc, self._headers, self._timeout = parts.netloc, headers, timeout
        self._conn: http.client.HTTPConnection | None = None
        self.retry_after = 0.0  # the last answer's Retry-After (seconds), 0 when none

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = FRAME_TYPE) -> tuple[int, bytes]:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = content_type
        reused = self._conn is not None
        try:
            return self._once(method, path, body, headers)
        except (http.client.HTTPException, OSError):
            self.close()
            if not reused:
                raise
        # The server closed the idle keep-alive connection: once more on a new one.
        return self._once(method, path, body, headers)

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = self._cls(self._netloc, timeout=self._timeout)
        try:
            self._conn.request(method, path, body=body, headers=headers)
            response = self._conn.getresponse()
            try:
                self.retry_after = float(response.getheader("Retry-After") or 0)
            except ValueError:
                self.retry_after = 0.0
            return response.status, response.read()
        except http.client.HTTPException as exc:
            raise OSError(str(exc)) from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body.decode("utf-8")).get("detail")
    except (ValueError, AttributeError, UnicodeDecodeError):
        detail = None
    return str(detail) if detail else body[:200].decode("utf-8", "replace")


class _WebsocketsLog(logging.LoggerAdapter):
    """websockets' own logger for the receiver: its tracebacks (a dropped network's "keepalive ping
    failed") go to DEBUG; the receiver says what happened in one line itself."""

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if level >= logging.WARNING and not self.logger.isEnabledFor(logging.DEBUG):
            level, kwargs["exc_info"] = logging.DEBUG, None
        super().log(level, msg, *args, **kwargs)


def _failure(job_id: str, status: int, body: bytes, url: str) -> api.JobFailed:
    if status == 401:
        return api.JobFailed(job_id, f"the studio server at {url} refused the token",
                             "check the token in Preferences ▸ Engine (or BRUSHEDIT_SERVER_TOKEN)", "unauthorized")
    if status == 413:
        return api.JobFailed(job_id, "the image is too large for the studio server: " + _detail(body),
                             "use a smaller image or ask for a higher --max-request-mb", "bad-input")
    if status == 429:
        return api.JobFailed(job_id, "the studio server is busy with your jobs: " + _detail(body),
                             "wait for your queued jobs to finish, then run it again", "busy")
    if status == 503:
        return api.JobFailed(job_id, "the studio server is shutting down: " + _detail(body),
                             "run it again when the server is back", "server-stopping")
    if status in (400, 408, 409, 415, 422):
        return api.JobFailed(job_id, "the studio server refused the job: " + _detail(body),
                             "check the image, the mask and the parameters", "bad-input")
    return api.JobFailed(job_id, f"the studio server answered {status}: {_detail(body)}", "see the server's log",
                         "error")


class RemoteEngine:
    """An engine on a studio server; see the module docstring.

    Parameters
    ----------
    on_message : callable
        Receives every :mod:`engine.api` message, on the receiver thread.
    url : str
        ``http://host:port`` of ``brushedit serve`` (``https://`` behind a TLS proxy).
    token : str, optional
        The server's bearer token.
    client_id : str, optional
        This client's id on the server (default: a random one; the server shows a client only its jobs).
    timeout : float
        Seconds to wait for the server to answer a call.
    ping_interval, ping_timeout : float
        Websocket keep-alive: a server that stops answering pings for ``ping_timeout`` counts as gone.
    """

    def __init__(self, on_message: Callable[[Any], None], url: str, token: str | None = None, *,
                 client_id: str | None = None, timeout: float = 10.0, ping_interval: float = 1.5,
                 ping_timeout: float = 2.5, reconnect_delay: float = 0.2) -> None:
        self.on_message = on_message
        self.url = normalize_url(url)
        self._token = token or None
        self.client_id = client_id or secrets.token_hex(16)
        self.timeout, self.ping_interval, self.ping_timeout = timeout, ping_interval, ping_timeout
        self.reconnect_delay = reconnect_delay
        self.config: Any = None
        self._inflight: dict[str, Any] = {}
        self._deferred: set[str] = set()  # jobs the server asked us to send again later (429)
        self._lock = threading.Lock()
        self._outbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._ws: Any = None
        self._threads: list[threading.Thread] = []
        self._form: str | None = None  # the frame form the server reads (see _frame_form)

    def _frame_form(self) -> str:
        """``"msgpack"`` (``BEW2``) when the server's ``/v1/health`` lists it among the frames it reads,
        else ``"json"`` (``BEW1``): a server from before msgpack frames answered them 4xx. Asked once."""
        if self._form is None:
            try:
                frames = health(self.url, self.timeout).get("frames") or ()
            except (ServerError, ValueError, OSError):
                return "msgpack"  # not reachable now: the request fails on its own; ask again next time
            self._form = "msgpack" if "BEW2" in frames else "json"
        return self._form

    def __repr__(self) -> str:  # never show the token
        return f"RemoteEngine({self.url!r}, client_id={self.client_id!r})"

    # --- EngineBackend -------------------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for target, name in ((self._receive, "brushedit-remote-receive"), (self._send, "brushedit-remote-send")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, request: Any) -> str:
        if self._stop.is_set():
            raise RuntimeError("the remote engine is shut down")
        self.start()
        job_id = str(request.job_id)
        with self._lock:
            if job_id in self._inflight:  # the server would refuse it; the running job stays as it is
                raise ValueError(f"job {job_id} is already running or queued")
            self._inflight[job_id] = request
        self._outbox.put(("submit", request))
        return job_id

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            known = job_id in self._inflight
            deferred = job_id in self._deferred
            self._deferred.discard(job_id)
        if deferred:  # not on the server yet: it ends here
            if self._end(job_id) is not None:
                self._post(api.JobCancelled(job_id))
        elif known:
            self._outbox.put(("cancel", job_id))
        return known

    def set_config(self, config: Any) -> None:
        self.config = config  # the server runs with its own configuration

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._inflight)

    def answer(self, query: Any) -> Any:
        """Ask the server a query (its own disk's model status, ...), synchronously."""
        http_ = _Http(self.url, self._headers(), self.timeout)
        try:
            status, body = http_.request("POST", "/v1/answer",
                                         wire.pack({"query": api.to_dict(query)}, self._frame_form()))
        except OSError as exc:
            raise ServerError(f"cannot reach the studio server at {self.url}: {exc}", 0,
                              "check the URL and that `brushedit serve` runs there", "server-gone") from None
        finally:
            http_.close()
        if status != 200:
            failed = _failure("", status, body, self.url)
            raise ServerError(failed.error, status, failed.hint, failed.kind)
        return api.from_dict(wire.unpack(body)["answer"])

    def health(self) -> dict[str, Any]:
        """``GET /v1/health`` (no token needed)."""
        return health(self.url, self.timeout)

    def shutdown(self, timeout: float = 5.0) -> bool:
        with self._lock:
            left = list(self._inflight)
        for job_id in left:
            self._outbox.put(("cancel", job_id))
        self._outbox.put(("stop", None))
        for thread in self._threads[1:]:
            thread.join(min(timeout, 2.0))  # the sender passes the cancels on first
        self._stop.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:  # already gone
                pass
        for job_id in left:
            if self._end(job_id):
                self._post(api.JobCancelled(job_id))
        for thread in self._threads:
            thread.join(timeout)
        alive = any(t.is_alive() for t in self._threads)
        self._threads = []
        return not alive

    # --- threads -------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {CLIENT_HEADER: self.client_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _post(self, message: Any) -> None:
        try:
            self.on_message(message)
        except Exception:  # a broken listener must not kill the connection
            log.exception("remote engine listener failed on %s", type(message).__name__)

    def _end(self, job_id: str) -> Any:
        """Forget a job; its request when it was in flight (so each job ends exactly once)."""
        with self._lock:
            return self._inflight.pop(job_id, None)

    def _fail_all(self, error: str) -> None:
        with self._lock:
            ids = list(self._inflight)
        for job_id in ids:
            if self._end(job_id) is not None:
                self._post(api.JobFailed(job_id, error, GONE_HINT, "server-gone"))

    def _send(self) -> None:
        http_ = _Http(self.url, self._headers(), self.timeout)
        try:
            while True:
                op, value = self._outbox.get()
                if op == "stop":
                    return
                try:
                    if op == "submit":
                        self._send_job(http_, value)
                    elif op == "cancel":
                        http_.request("DELETE", "/v1/jobs/" + urllib.parse.quote(value, safe=""))
                except OSError as exc:
                    if op == "submit" and self._end(str(value.job_id)) is not None:
                        self._post(api.JobFailed(str(value.job_id),
                                                 f"cannot reach the studio server at {self.url}: {exc}",
                                                 "check that `brushedit serve` runs there and the URL", "server-gone"))
                except wire.WireError as exc:  # a request that cannot travel fails alone; the sender goes on
                    if op == "submit" and self._end(str(value.job_id)) is not None:
                        self._post(api.JobFailed(str(value.job_id), f"the request cannot be sent: {exc}",
                                                 "check the image and the parameters", "bad-input"))
        finally:
            http_.close()

    def _send_job(self, http_: _Http, request: Any) -> None:
        job_id = str(request.job_id)
        with self._lock:
            if job_id not in self._inflight:
                return  # it already ended here (the connection dropped before it was sent)
        frame = wire.pack({"request": api.to_dict(request)}, self._frame_form())
        status, body = http_.request("POST", "/v1/jobs", frame)
        if status == 429 and self._defer(request, http_.retry_after):
            return
        if status != 202 and self._end(job_id) is not None:
            self._post(_failure(job_id, status, body, self.url))

    def _defer(self, request: Any, retry_after: float) -> bool:
        """The server has enough of this client's jobs (429): send ``request`` again after its
        Retry-After, as long as it is neither cancelled nor ended (it stays "queued" meanwhile)."""
        job_id = str(request.job_id)
        if self._stop.is_set():
            return False
        with self._lock:
            if job_id not in self._inflight:
                return True
            self._deferred.add(job_id)

        def again() -> None:
            with self._lock:
                still = job_id in self._deferred and job_id in self._inflight
                self._deferred.discard(job_id)
            if still and not self._stop.is_set():
                self._outbox.put(("submit", request))

        timer = threading.Timer(min(max(retry_after, 0.5), 30.0), again)
        timer.daemon = True
        timer.start()
        return True

    def _receive(self) -> None:
        try:
            from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
            from websockets.sync.client import connect
        except ImportError:  # pragma: no cover - the [studio] extra is missing
            self._fail_all("the `websockets` package is missing: pip install 'brushedit-studio[studio]'")
            return
        parts = urllib.parse.urlsplit(self.url)
        ws_url = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}/v1/ws"
        delay = self.reconnect_delay
        while not self._stop.is_set():
            try:
                headers = dict(self._headers(), **{FORMS_HEADER: "msgpack"})
                with connect(ws_url, additional_headers=headers, open_timeout=self.timeout,
                             ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
                             max_size=None, close_timeout=0.5,
                             logger=_WebsocketsLog(logging.getLogger("websockets.client"), {})) as ws:
                    self._ws = ws
                    self.connected.set()
                    delay = self.reconnect_delay
                    log.info("connected to the studio server at %s", self.url)
                    for frame in ws:
                        self._deliver(frame)
            except InvalidStatus as exc:
                status = getattr(getattr(exc, "response", None), "status_code", 0)
                log.warning("the studio server at %s refused the connection (%s)", self.url, status)
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError, EOFError) as exc:
                if self.connected.is_set():
                    log.warning("lost the studio server at %s: %s", self.url, exc)
            except Exception:  # pragma: no cover - keep reconnecting whatever went wrong
                log.exception("studio server connection failed")
            was_connected = self.connected.is_set()
            self.connected.clear()
            self._ws = None
            if was_connected and not self._stop.is_set():
                self._fail_all(f"lost the studio server at {self.url} during the job")
            if self._stop.wait(delay):
                break
            delay = min(2.0, delay * 2)

    def _deliver(self, frame: Any) -> None:
        if isinstance(frame, str):
            return
        try:
            from engine.server.codec import decode_message

            message = decode_message(frame)
        except (wire.WireError, KeyError, TypeError) as exc:
            log.warning("dropped a malformed frame from the server: %s", exc)
            return
        job_id = getattr(message, "job_id", None)
        if job_id is None:
            self._post(message)
            return
        with self._lock:
            request = self._inflight.get(job_id)
        if request is None:
            return  # a job this client already ended (failed when the connection dropped) or never sent
        if isinstance(message, (api.JobFinished, api.JobFailed, api.JobCancelled)):
            if self._end(job_id) is None:
                return
            if isinstance(message, api.JobFinished) and isinstance(message.result, api.EditResult) \
                    and message.result.request is None:
                import dataclasses

                message = api.JobFinished(job_id, dataclasses.replace(message.result, request=request))
        self._post(message)


def health(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """A server's ``/v1/health``; raises :class:`ServerError` when it does not answer."""
    http_ = _Http(normalize_url(url), {}, timeout)
    try:
        status, body = http_.request("GET", "/v1/health")
    except OSError as exc:
        raise ServerError(f"cannot reach {normalize_url(url)}: {exc}", 0, kind="server-gone") from None
    finally:
        http_.close()
    if status != 200:
        raise ServerError(f"{normalize_url(url)} answered {status}", status)
    return json.loads(body.decode("utf-8"))


def test_connection(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[bool, str]:
    """Whether the server at ``url`` answers and takes ``token``: ``(ok, one line for the user)``."""
    try:
        info = health(url, timeout)
        http_ = _Http(normalize_url(url), RemoteEngine(lambda m: None, url, token)._headers(), timeout)
        try:
            status, _ = http_.request("GET", "/v1/jobs")
        finally:
            http_.close()
    except (ServerError, ValueError, OSError) as exc:
        return False, f"Not connected: {exc}"
    if status == 401:
        return False, "The server answers, but refused the token"
    if status != 200:
        return False, f"The server answered {status}"
    return True, (f"Connected: BrushEdit {info.get('version', '?')} on {info.get('device', '?')}, "
                  f"{info.get('queue', 0)} job(s) in its queue")


test_connection.__test__ = False  # not a pytest test
