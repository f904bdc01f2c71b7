"""Preferences ▸ Engine ▸ "Where the engine runs": this computer, or a studio server (URL + token).

The choice and the URL are saved in the window's ``QSettings``; the token never is. It goes to the
system keyring when one exists (``keyring``, failing soft: no keyring, a locked one, a headless
session) and otherwise stays in memory while the app runs. It never appears in ``repr`` or the log.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.lazy_engine import default_service_factory, remote_service_factory, test_server_connection

log = logging.getLogger(__name__)

MODE_KEY = "engine/where"  # "local" or "server"
URL_KEY = "engine/server_url"
KEYRING_SERVICE = "brushedit-studio"
DEFAULT_URL = "http://127.0.0.1:8765"


class TokenStore:
    """The studio server token: the system keyring when it works, else this process's memory."""

    def __init__(self, use_keyring: bool = True) -> None:
        self._memory: dict[str, str] = {}
        self._use_keyring = use_keyring

    def _keyring(self) -> Any:
        if not self._use_keyring:
            return None
        try:
            import keyring

            return keyring
        except Exception:  # not installed or broken: memory only
            return None

    def get(self, url: str) -> str:
        if url in self._memory:
            return self._memory[url]
        ring = self._keyring()
        if ring is not None:
            try:
                return ring.get_password(KEYRING_SERVICE, url) or ""
            except Exception:  # no usable backend (headless, locked): fail soft
                log.info("no usable system keyring; the server token stays in memory")
        return ""

    def set(self, url: str, token: str) -> bool:
        """Keep ``token`` for ``url``; True when the keyring holds it (else it is in memory only)."""
        self._memory[url] = token
        ring = self._keyring()
        if ring is None:
            return False
        try:
            if token:
                ring.set_password(KEYRING_SERVICE, url, token)
            else:
                try:
                    ring.delete_password(KEYRING_SERVICE, url)
                except Exception:  # nothing stored
                    pass
            return True
        except Exception:
            log.info("no usable system keyring; the server token stays in memory")
            return False


TOKENS = TokenStore()


@dataclass
class EngineLocation:
    """Where the engine runs: ``mode`` "local" (this computer) or "server" (``url`` + ``token``)."""

    mode: str = "local"
    url: str = DEFAULT_URL
    token: str = field(default="", repr=False, compare=False)

    @classmethod
    def load(cls, settings: Any, tokens: TokenStore = TOKENS) -> "EngineLocation":
        mode = str(settings.value(MODE_KEY) or "local")
        url = str(settings.value(URL_KEY) or DEFAULT_URL)
        return cls("server" if mode == "server" else "local", url, tokens.get(url))

    @classmethod
    def for_engine(cls, settings: Any, tokens: TokenStore = TOKENS) -> "EngineLocation":
        """:meth:`load` for building the engine: the token is read only when a server will use it.
        (Reading it imports ``keyring``, whose backend discovery cost ~0.1-0.16 s of every start
        on this computer's engine, where the token is never used.)"""
        if str(settings.value(MODE_KEY) or "local") == "server":
            return cls.load(settings, tokens)
        return cls("local", str(settings.value(URL_KEY) or DEFAULT_URL))

    def save(self, settings: Any, tokens: TokenStore = TOKENS) -> None:
        """Mode and URL to the settings; the token to the keyring (or memory), never to the settings."""
        settings.setValue(MODE_KEY, self.mode)
        settings.setValue(URL_KEY, self.url)
        tokens.set(self.url, self.token)

    def service_factory(self, config: Any = None) -> Callable:
        """The ``EngineClient`` factory for this location."""
        if self.mode == "server":
            return remote_service_factory(self.url, self.token or None)
        return default_service_factory(config)


class _Probe(QObject):
    done = Signal(bool, str)


class StudioServerBox(QGroupBox):
    """The "Where the engine runs" group: This computer / Studio server, URL, token, Test connection."""

    changed = Signal(object)  # EngineLocation, on apply

    def __init__(self, location: EngineLocation, parent: QWidget | None = None,
                 tester: Callable[[str, str], tuple[bool, str]] | None = None) -> None:
        super().__init__("Where the engine runs", parent)
        self.setObjectName("studioServerBox")
        self._tester = tester or (lambda url, token: test_server_connection(url, token or None))
        self.local = QRadioButton("This computer")
        self.server = QRadioButton("Studio server")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)
        self.url = QLineEdit()
        self.url.setPlaceholderText(DEFAULT_URL)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("the server's token (kept in the system keyring)")
        self.test_button = QPushButton("Test connection")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self._probe = _Probe(self)
        self._probe.done.connect(self._show_result)

        layout = QVBoxLayout(self)
        choice = QHBoxLayout()
        choice.addWidget(self.local)
        choice.addWidget(self.server)
        choice.addStretch(1)
        layout.addLayout(choice)
        form = QFormLayout()
        form.addRow("Server URL", self.url)
        form.addRow("Token", self.token)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)
        form.addRow("", test_row)
        layout.addLayout(form)
        self.server.toggled.connect(self._update)
        self.test_button.clicked.connect(self.test_connection)
        self.set_location(location)

    def location(self) -> EngineLocation:
        return EngineLocation("server" if self.server.isChecked() else "local",
                              self.url.text().strip() or DEFAULT_URL, self.token.text().strip())

    def set_location(self, location: EngineLocation) -> None:
        (self.server if location.mode == "server" else self.local).setChecked(True)
        self.url.setText(location.url)
        self.token.setText(location.token)
        self._update()

    def apply(self) -> None:
        self.changed.emit(self.location())

    def test_connection(self) -> None:
        """Ask the server in a background thread (the dialog stays responsive), show one line."""
        self.test_button.setEnabled(False)
        self.result.setText("Connecting…")
        url, token = self.url.text().strip() or DEFAULT_URL, self.token.text().strip()

        def probe() -> None:
            try:
                ok, text = self._tester(url, token)
            except Exception as exc:  # a bad URL: say so
                ok, text = False, f"Not connected: {exc}"
            self._probe.done.emit(ok, text)

        threading.Thread(target=probe, name="brushedit-test-connection", daemon=True).start()

    def _show_result(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(self.server.isChecked())
        self.result.setText(("✓ " if ok else "✗ ") + text)

    def _update(self) -> None:
        remote = self.server.isChecked()
        for widget in (self.url, self.token, self.test_button):
            widget.setEnabled(remote)


def add_studio_server_box(layout: QVBoxLayout, settings: Any) -> StudioServerBox:
    """Add the group to the Engine page's ``layout``, loaded from ``settings``."""
    box = StudioServerBox(EngineLocation.load(settings) if settings is not None else EngineLocation())
    layout.addWidget(box)
    return box
