"""The model layer's tests: the fake engine and a document, and no widget (each test fails if one
was made; test_no_widgets.py also runs the model under a QCoreApplication alone)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def no_widgets(qapp):
    """Fail a test that made a widget (the model layer is QtCore only)."""
    from PySide6.QtWidgets import QApplication

    before = {id(w) for w in QApplication.allWidgets()}
    yield
    made = [type(w).__name__ for w in QApplication.allWidgets() if id(w) not in before]
    assert not made, f"the model made widgets: {made}"


@pytest.fixture
def make_model(qapp):
    """``make_model(**fake_options)`` -> ``(model, doc, service)``: an EditModel over a 128 px astronaut
    document, on a fake engine made with ``fake_options`` (started, so ``service`` exists)."""
    from skimage import data

    from desktop.document import Document
    from desktop.model.edit_model import EditModel
    from tests.fakes.fake_engine import fake_engine_client

    clients = []

    def make(**options):
        options = {"steps": 2, "step_delay": 0.002} | options
        client, services = fake_engine_client(**options)
        client.start()
        clients.append(client)
        doc = Document.from_array(np.ascontiguousarray(data.astronaut()[::4, ::4]))
        return EditModel(client, lambda: doc), doc, services[0]

    yield make
    for client in clients:
        client.shutdown()
