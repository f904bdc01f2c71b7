"""Who may talk to the server: the bearer token (compared in constant time) and the client id."""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from pathlib import Path

TOKEN_ENV = "BRUSHEDIT_SERVER_TOKEN"
CLIENT_HEADER = "x-brushedit-client"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def token_allows(expected: str | None, authorization: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``expected`` (no token set: everyone may)."""
    if not expected:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))


def client_id_of(value: str | None) -> str | None:
    """A well-formed client id (8..64 of ``[A-Za-z0-9_-]``), else ``None``."""
    return value if value and _CLIENT_ID.match(value) else None


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(token_file: str | None = None, environ: dict | None = None) -> str | None:
    """The server token: the first line of ``token_file``, else ``$BRUSHEDIT_SERVER_TOKEN``, else none."""
    environ = os.environ if environ is None else environ
    if token_file:
        text = Path(token_file).expanduser().read_text("utf-8").strip().splitlines()
        token = text[0].strip() if text else ""
        if not token:
            raise ValueError(f"the token file {token_file} is empty")
        return token
    token = (environ.get(TOKEN_ENV) or "").strip()
    return token or None
