"""The model layer on the real in-process engine (EngineService), not the fake: Run without Plan on a
computer without BrushEdit's weights says so before anything is planned (issue 25 item 8: the editor
planned with GroundingDINO/SAM first, and only then said the painter was missing)."""

from __future__ import annotations

import numpy as np


def test_run_without_plan_refuses_before_planning_on_the_real_engine(qapp, qtbot, no_installed_models, monkeypatch):
    from skimage import data

    from desktop.document import Document
    from desktop.engine_client import EngineClient, default_service_factory, engine_config
    from desktop.model.edit_model import EditModel

    import desktop.model.run_text as run_text

    # GroundingDINO and SAM count as installed (they would plan for a minute); BrushEdit's weights do not.
    monkeypatch.setattr(run_text, "auto_mask_missing", lambda client=None: [])
    client = EngineClient(default_service_factory(engine_config(device="cpu")))
    try:
        doc = Document.from_array(np.ascontiguousarray(data.astronaut()[::4, ::4]))
        model = EditModel(client, lambda: doc)
        errors, started = [], []
        model.error.connect(lambda message, hint: errors.append((message, hint)))
        client.queued.connect(lambda *args: started.append(args))
        model.run_text("make the sky a sunset and remove the cat")  # two steps: Run plans each
        assert errors, "no refusal"
        message, hint = errors[0]
        assert "brushnet-x" in message + hint and "download" in (message + hint).lower()
        assert not client.busy and not model.busy
        qtbot.wait(50)
        assert started == []  # no plan ran: GroundingDINO/SAM were never asked
    finally:
        client.shutdown()
